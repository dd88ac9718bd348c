"""The `hotline` command: serve, simulate, content check, forget."""
from __future__ import annotations

import datetime as dt
import os
import sys

import click

LOCAL_TOKEN = "hotline-local-token"  # signs local requests when no Twilio account is set


@click.group()
def main() -> None:
    """SMS and voice hotline on health coverage in France."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the hotline locally (an embedded Redis when REDIS_URL is unset)."""
    if not os.environ.get("TWILIO_AUTH_TOKEN") and os.environ.get("HOTLINE_SKIP_SIGNATURE") != "1":
        os.environ["TWILIO_AUTH_TOKEN"] = LOCAL_TOKEN
        click.echo(f"TWILIO_AUTH_TOKEN is not set: webhooks check signatures made with the "
                   f"local token {LOCAL_TOKEN!r} (what `hotline simulate` uses).")
    from . import create_app

    app = create_app()
    click.echo(f"Hotline on http://{host}:{port}  (try: hotline simulate sms --url "
               f"http://{host}:{port})")
    app.run(host=host, port=port, threaded=True, use_reloader=False)


@main.group()
def simulate() -> None:
    """Talk to the hotline from a terminal, through the real webhooks (signed requests)."""


def _transport(url: str | None):
    from .simulator import HttpTransport, InProcessTransport

    token = os.environ.get("TWILIO_AUTH_TOKEN") or LOCAL_TOKEN
    if url:
        return HttpTransport(url, token)
    os.environ.setdefault("TWILIO_AUTH_TOKEN", token)
    return InProcessTransport(token)


@simulate.command("sms")
@click.option("--url", help="a running hotline (hotline serve); default: one in this process")
@click.option("--from", "number", default="+33700000001", show_default=True)
def simulate_sms(url: str | None, number: str) -> None:
    """Text the hotline: type a message, read the answer. Ctrl-D ends."""
    from .simulator import sms_session

    sms_session(_transport(url), number, input_lines(), click.echo)


@simulate.command("call")
@click.option("--url", help="a running hotline (hotline serve); default: one in this process")
@click.option("--from", "number", default="+33700000002", show_default=True)
def simulate_call(url: str | None, number: str) -> None:
    """Call the hotline: hear the prompts, type keys (an empty line is silence)."""
    from .simulator import call_session

    call_session(_transport(url), number, input_lines(), click.echo)


def input_lines():
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            click.echo("> ", nl=False)
        line = sys.stdin.readline()
        if not line:
            return
        yield line.rstrip("\n")


@main.group()
def content() -> None:
    """Check the content of ivr_scripts/."""


@content.command("check")
def content_check() -> None:
    """Lint ivr_scripts/: exits 1 on any fault."""
    from .config import Config
    from .content import ContentError, load_script
    from .content.check import check, format_report
    from .directory import Directory
    from .speech import Speech

    config = Config.load()
    try:
        script = load_script(config.scripts_dir)
    except ContentError as error:
        for problem in error.problems:
            click.echo(f"FAULT {problem}")
        sys.exit(1)
    report = check(script, config.clock().date(), Directory.load(),
                   Speech(script, config.audio_dir))
    for line in format_report(report):
        click.echo(line)
    sys.exit(0 if report.ok else 1)


@main.command()
@click.argument("number")
def forget(number: str) -> None:
    """Erase everything kept about a phone number (language, opt-out, conversations)."""
    from .app import redis_client
    from .config import Config
    from .store import Store

    config = Config.load()
    if not config.redis_url:
        raise click.ClickException("set REDIS_URL to the hotline's Redis")
    if config.secret_is_default:
        click.echo("warning: HOTLINE_SECRET is not set; using the development key", err=True)
    store = Store(redis_client(config.redis_url), config.secret)
    removed = store.forget(store.pid(number))
    click.echo(f"erased {removed} key(s)")


if __name__ == "__main__":  # pragma: no cover
    main()
