"""The hotline command: simulate, content check/export, audio script."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline.cli import main
from hotline.content.script import shared_script
from hotline.embedded_redis import EmbeddedRedis, free_port

from .harness import said

REPO = Path(__file__).resolve().parents[1]


def run(args, input=None, env=None):
    result = CliRunner().invoke(main, args, input=input, env=env, catch_exceptions=False)
    return result


def test_simulate_sms_holds_a_conversation_through_signed_webhooks(redis_server):
    result = run(["simulate", "sms"], input="Bonjour\n2\nAME\n",
                 env={"REDIS_URL": redis_server.url, "TWILIO_AUTH_TOKEN": "sim-token"})
    assert result.exit_code == 0
    assert "2 English" in result.output and "Reply with a number" in result.output
    assert "AME (aide médicale" in result.output


def test_simulate_call_by_keypad(redis_server):
    result = run(["simulate", "call"], input="1\n2\n5\nhangup\n",
                 env={"REDIS_URL": redis_server.url, "TWILIO_AUTH_TOKEN": "sim-token"})
    assert result.exit_code == 0
    assert "[fr-FR] " + said("fr", "language.option") in result.output
    assert "Pour la sécurité sociale, envoyez" in result.output
    assert "(you hang up)" in result.output


def test_content_check_passes_and_fails_on_a_fault(tmp_path):
    assert run(["content", "check"]).exit_code == 0
    broken = tmp_path / "ivr_scripts"
    shutil.copytree(shared_script().root, broken)
    uk = broken / "messages" / "uk.yaml"
    uk.write_text(uk.read_text().replace("{ceiling_month}", "870", 1))
    result = run(["content", "check"], env={"HOTLINE_SCRIPTS": str(broken)})
    assert result.exit_code == 1 and "placeholders differ" in result.output
    (broken / "flow" / "menus.yaml").write_text(
        (broken / "flow" / "menus.yaml").read_text().replace('"5": topic.docs', '"5": nowhere'))
    result = run(["content", "check"], env={"HOTLINE_SCRIPTS": str(broken)})
    assert result.exit_code == 1 and "leads to 'nowhere'" in result.output


def test_content_export_and_audio_script():
    exported = run(["content", "export", "ti"]).output
    assert exported.startswith("id,form,french,translation,review")
    assert "ትግርኛ" in exported
    script = run(["audio", "script", "ps"]).output
    assert script.startswith("file name,text to read") and "language.option.wav" in script
    assert run(["content", "export", "xx"]).exit_code != 0


# --------------------------------------------------------------------------- hotline serve
def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _serve(tmp_path, **env_extra: str) -> tuple[subprocess.Popen, int]:
    """`python3 -m hotline.cli serve` with REDIS_URL unset and TMPDIR in tmp_path."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "REDIS_URL"))}
    env.update(TMPDIR=str(tmp_path), **env_extra)
    process = subprocess.Popen([sys.executable, "-m", "hotline.cli", "serve", "--port", str(port)],
                               cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    return process, port


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_serve_stops_its_redis_server_and_removes_its_folder(tmp_path, signum):
    process, port = _serve(tmp_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    assert json.load(r)["redis"] == "ok"
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        servers = [pid for pid in _children(process.pid)
                   if b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(servers) == 1 and list(tmp_path.glob("hotline-redis-*"))
        process.send_signal(signum)  # to the hotline only, as systemd or `kill` do
        assert process.wait(timeout=20) is not None
        deadline = time.monotonic() + 5
        while _alive(servers[0]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(servers[0])
        assert not list(tmp_path.glob("hotline-redis-*"))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_failed_start_of_the_embedded_redis_leaves_nothing(tmp_path, monkeypatch):
    """A redis-server that exits at once (here: one that refuses its arguments)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(RuntimeError, match="redis-server exited"):
        EmbeddedRedis(binary="/bin/false")
    assert not list(tmp_path.iterdir())

    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "redis-server").write_text("#!/bin/sh\necho 'cannot start' >&2\nexit 1\n")
    (fake / "redis-server").chmod(0o755)
    (tmp_path / "tmp").mkdir()
    process, _ = _serve(tmp_path / "tmp", PATH=f"{fake}:{os.environ['PATH']}")
    assert process.wait(timeout=60) != 0
    assert not list((tmp_path / "tmp").iterdir())
