"""The `hotline` command: serve, simulate, content, audio, stats, console, worker, forget."""
from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

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
    import signal

    from . import create_app
    from .embedded_redis import stop_shared

    def stop(signum, frame) -> None:
        raise SystemExit(128 + signum)  # unwinds to the `finally` below

    # SIGINT is KeyboardInterrupt already; SIGTERM (systemd, docker stop, kill) and SIGHUP
    # (the terminal closed) would otherwise end the process without stopping redis-server.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    try:
        app = create_app()
        click.echo(f"Hotline on http://{host}:{port}  (try: hotline simulate sms --url "
                   f"http://{host}:{port})")
        app.run(host=host, port=port, threaded=True, use_reloader=False)
    except KeyboardInterrupt:
        pass
    finally:
        stop_shared()  # the embedded redis-server and its folder, if one was started


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
    from .content.check import check_content, format_report
    from .content.script import default_script_dir
    from .directory import Directory
    from .speech import Speech

    config = Config.load()
    today = config.clock().date()
    report = check_content(config.scripts_dir, today,
                           Directory.load((config.scripts_dir or default_script_dir()) / "directory"),
                           lambda script: Speech(script, config.audio_dir, today=lambda: today))
    for line in format_report(report):
        click.echo(line)
    sys.exit(0 if report.ok else 1)


@content.command("export")
@click.argument("lang")
@click.option("--out", type=click.Path(dir_okay=False), help="file to write (default: stdout)")
def content_export(lang: str, out: str | None) -> None:
    """Write LANG's messages beside the French as CSV, for a reviewer with a spreadsheet."""
    from .content import load_script
    from .content.translations import export_csv

    script = load_script()
    if lang not in script.languages:
        raise click.ClickException(f"unknown language {lang!r}: {', '.join(script.languages)}")
    text = export_csv(script, lang)
    if out:
        with open(out, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    else:
        click.echo(text, nl=False)


@content.command("import")
@click.argument("lang")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
def content_import(lang: str, csv_file: str) -> None:
    """Merge a reviewed CSV (from `content export`) into messages/LANG.yaml, then check."""
    from .content import load_script
    from .content.translations import ImportError_, import_csv

    script = load_script()
    try:
        with open(csv_file, encoding="utf-8-sig", newline="") as f:
            path, taken = import_csv(script, lang, f.read())
    except ImportError_ as error:
        raise click.ClickException(str(error))
    click.echo(f"{taken} text(s) written to {path}; now run: hotline content check")


@main.group()
def audio() -> None:
    """Prompt audio: render, import recordings, export the recording script."""


@audio.command("build")
@click.option("--offline", is_flag=True, help="only engines that need no network (espeak-ng)")
@click.option("--lang", "langs", multiple=True, help="only these languages (repeatable)")
def audio_build(offline: bool, langs: tuple[str, ...]) -> None:
    """Render every spoken prompt to audio/ (only what is missing or changed)."""
    from .audio_build import build
    from .config import Config
    from .content import load_script
    from .speech import iter_languages, speech_units

    config = Config.load()
    script = load_script(config.scripts_dir)
    today = config.clock().date()
    try:
        wanted = iter_languages(script, langs)
    except ValueError as error:
        raise click.ClickException(str(error))
    total = sum(len(speech_units(script, code, today)) for code in wanted)
    bar: Any
    with click.progressbar(length=total, label="Rendering prompts", file=sys.stderr) as bar:
        report = build(script, config.audio_dir, today, offline=offline, langs=wanted,
                       progress=lambda lang, unit: bar.update(1))
    click.echo(f"rendered {report.rendered}, unchanged {report.kept}, human recordings "
               f"{report.recorded}, removed {report.removed}")
    for engine, seconds in report.seconds.items():
        n = report.counts[engine]
        click.echo(f"  {engine}: {n} prompt(s), {seconds / n:.2f} s per prompt")
    for lang, size in report.sizes.items():
        click.echo(f"  {lang}: {size / 1024:.0f} KiB")
    for lang, why in report.skipped.items():
        click.echo(f"  {lang}: skipped ({why})")
    for line in report.failed[:20]:
        click.echo(f"  failed: {line}", err=True)
    if report.failed:
        click.echo(f"{len(report.failed)} prompt(s) failed: they are said with <Say> until the "
                   f"next build", err=True)


@audio.command("fit")
@click.option("--lang", "langs", multiple=True, help="only these languages (repeatable)")
def audio_fit(langs: tuple[str, ...]) -> None:
    """Fit each language's speaking rate and pause (settings.yaml `voice_time`) to the
    rendered audio's seconds (least squares over every rendered prompt)."""
    from .config import Config
    from .content import load_script
    from .content.timing import fit
    from .speech import Speech, speech_units

    config = Config.load()
    script = load_script(config.scripts_dir)
    today = config.clock().date()
    speech = Speech(script, config.audio_dir, today=lambda: today)
    samples: dict[str, list[tuple[str, float]]] = {}
    for code in script.languages:
        if langs and code not in langs:
            continue
        for unit in speech_units(script, code, today):
            seconds = speech.seconds(code, unit.text)
            if seconds is not None and unit.kind != "value":
                samples.setdefault(code, []).append((unit.text, seconds))
    if not samples:
        raise click.ClickException(f"no rendered audio in {config.audio_dir}: run "
                                   f"`hotline audio build` first")
    french = None
    if "fr" in samples:
        french = fit(samples["fr"])[0]
    rates, pauses = {}, {}
    for code, rows in samples.items():
        rate, pause, error = fit(rows, french)
        rates[code], pauses[code] = round(rate, 1), round(pause, 2)
        click.echo(f"{code}: {rate:.1f} characters/s, {pause:.2f} s per pause, mean error "
                   f"{error:.2f} s over {len(rows)} prompt(s)")
    click.echo(f"rates: {rates}".replace("'", ""))
    click.echo(f"pause: {pauses}".replace("'", ""))


@audio.command("import")
@click.argument("lang")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
def audio_import(lang: str, folder: str) -> None:
    """Take a volunteer's recordings (files named by message id) for LANG."""
    from .audio_build import import_recordings
    from .config import Config
    from .content import load_script

    config = Config.load()
    try:
        taken = import_recordings(load_script(config.scripts_dir), config.audio_dir, lang,
                                  Path(folder))
    except (ValueError, RuntimeError) as error:
        raise click.ClickException(str(error))
    click.echo(f"imported {len(taken)} recording(s) for {lang}; run `hotline audio build` "
               f"to put them in the manifest")


@audio.command("script")
@click.argument("lang")
def audio_script(lang: str) -> None:
    """Print, as CSV, what a voice volunteer must read for LANG (file name, text)."""
    from .audio_build import recording_script
    from .content import load_script

    script = load_script()
    if lang not in script.languages:
        raise click.ClickException(f"unknown language {lang!r}")
    click.echo(recording_script(script, lang), nl=False)


@main.command()
@click.option("--days", default=7, show_default=True, type=int)
def stats(days: int) -> None:
    """Daily usage: messages, calls, topics opened, outcomes, languages (no person in it)."""
    from .config import Config
    from .redis_conn import redis_client
    from .store import Store

    config = Config.load()
    if not config.redis_url:
        raise click.ClickException("set REDIS_URL to the hotline's Redis")
    store = Store(redis_client(config.redis_url), config.secret)
    today = config.clock().date()
    table: dict[str, dict[dt.date, int]] = {}
    dates = [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
    for day in dates:
        for name, value in store.stats(day).items():
            table.setdefault(name, {})[day] = value
    if not table:
        click.echo("no activity recorded in that period")
        return
    width = max(len(n) for n in table)
    click.echo(" " * width + "".join(f"{d:%d/%m}".rjust(7) for d in dates))
    for name in sorted(table):
        click.echo(name.ljust(width) + "".join(str(table[name].get(d, "")).rjust(7) for d in dates))


@main.group()
def console() -> None:
    """The operators' console (/console)."""


@console.command("add-user")
@click.argument("name")
def console_add_user(name: str) -> None:
    """Print the HOTLINE_CONSOLE_USERS entry for NAME (a password hash, never the password)."""
    from .console.auth import user_line

    password = click.prompt("Password", hide_input=True, default="", show_default=False)
    if click.prompt("Again", hide_input=True, default="", show_default=False) != password:
        raise click.ClickException("the two passwords differ")
    if len(password) < 10:
        raise click.ClickException("use at least 10 characters")
    try:
        line = user_line(name, password)
    except ValueError as error:
        raise click.ClickException(str(error))
    click.echo("Add this to HOTLINE_CONSOLE_USERS (entries separated by commas):", err=True)
    click.echo(line)


@main.command()
@click.option("--burst", is_flag=True, help="send what is queued, then stop")
@click.option("--simple", is_flag=True, help="run jobs in this process (no fork per job)")
def worker(burst: bool, simple: bool) -> None:
    """Send the queued SMS copies (the Procfile's `worker`): an RQ worker on REDIS_URL.

    Unlike `rq worker --url`, it understands every REDIS_URL the hotline does
    (redis+sentinel:// included)."""
    from rq import SimpleWorker, Worker

    from .config import Config
    from .outbound import QUEUE
    from .redis_conn import redis_client

    config = Config.load()
    if not config.redis_url:
        raise click.ClickException("set REDIS_URL to the hotline's Redis")
    connection = redis_client(config.redis_url)
    from redis.cluster import RedisCluster

    if isinstance(connection, RedisCluster):
        # RQ's keys (queue, job, registries) cannot share one hash slot.
        raise click.ClickException(
            "RQ cannot queue on a Redis Cluster: the web processes send SMS copies "
            "themselves; scale the `worker` process to 0")
    if not (config.account_sid and config.auth_token):
        click.echo("warning: TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN are not set: "
                   "queued copies will fail", err=True)
    worker_class = SimpleWorker if simple else Worker
    worker_class([QUEUE], connection=connection).work(burst=burst)


@main.command()
@click.argument("number")
def forget(number: str) -> None:
    """Erase everything kept about a phone number (language, opt-out, conversations)."""
    from .config import Config
    from .redis_conn import redis_client
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
