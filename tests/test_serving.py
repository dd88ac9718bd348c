"""Serving under production's gunicorn.conf.py on 127.0.0.1: slow or malformed clients do
not stall the webhooks, and gunicorn refuses to start without a known public URL.

Every process started here is stopped in a `finally`.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest

from hotline.embedded_redis import free_port

from .conftest import SECRET, TOKEN
from .harness import HOTLINE_NUMBER, sign
from .test_scaling import stop

REPO = Path(__file__).resolve().parents[1]


def start(redis_url: str, *args: str, **env_extra: str) -> tuple[subprocess.Popen, int]:
    """gunicorn with production's settings (-c gunicorn.conf.py), 2 workers, on a free port."""
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HOTLINE_", "TWILIO_", "GUNICORN_", "WEB_CONCURRENCY"))}
    env.update(REDIS_URL=redis_url, TWILIO_AUTH_TOKEN=TOKEN, HOTLINE_SECRET=SECRET,
               HOTLINE_AUDIO="0", HOTLINE_PUBLIC_URL=f"http://127.0.0.1:{port}",
               WEB_CONCURRENCY="2", **env_extra)
    env.update({k: v for k, v in os.environ.items() if k == "HOTLINE_READ_TIMEOUT"})
    log = tempfile.TemporaryFile()  # a pipe nobody reads would fill and block gunicorn
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", *args, "hotline:create_app()"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log)
    process.log = log  # type: ignore[attr-defined]  # closed by stop()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(log.read().decode()[-2000:])
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process, port
        except OSError:
            time.sleep(0.1)
    stop(process)
    raise RuntimeError("gunicorn did not answer in 30 s")


def webhook(port: int, n: int, timeout: float = 5.0) -> float:
    """One signed text message; the seconds it took to be answered (200)."""
    url = f"http://127.0.0.1:{port}/sms"
    params = {"From": f"+3366{n:07d}", "To": HOTLINE_NUMBER, "Body": "AME",
              "MessageSid": f"SMslow{n:026d}"}
    request = urllib.request.Request(url, data=urlencode(params).encode(), headers={
        "X-Twilio-Signature": sign(TOKEN, url, params),
        "Content-Type": "application/x-www-form-urlencoded"})
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=timeout) as response:
        assert response.status == 200
        response.read()
    return time.monotonic() - started


def slow_clients(port: int, count: int) -> list[socket.socket]:
    """Connections that send the start of a request head, then nothing."""
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"POST /sms HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
        held.append(sock)
    return held


@pytest.fixture(scope="module")
def production_server(redis_server):
    process, port = start(redis_server.url)
    try:
        yield port
    finally:
        stop(process)


def test_slow_clients_do_not_stall_the_webhooks(production_server):
    """With gunicorn's `sync` workers, two such connections stall both workers until the
    worker timeout (measured: 3 webhooks answered in 30 s)."""
    held = slow_clients(production_server, 6)
    try:
        time.sleep(0.5)  # the slow heads reach the workers first
        started = time.monotonic()
        took = [webhook(production_server, n) for n in range(40)]
        assert time.monotonic() - started < 10
        assert max(took) < 2.0, sorted(took)[-3:]
    finally:
        for sock in held:
            sock.close()


def test_a_body_announced_as_chunked_but_sent_plain_gets_a_4xx_at_once(production_server):
    """It used to hold a worker until gunicorn's timeout killed it, then a 500."""
    body = urlencode({"From": "+33612345678", "Body": "AME"}).encode()
    with socket.create_connection(("127.0.0.1", production_server), timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /sms HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                     b"X-Twilio-Signature: c2lnbmVk\r\n"  # a signature: the body is read
                     b"Content-Type: application/x-www-form-urlencoded\r\n\r\n" + body)
        answer = sock.recv(4096)
    status = int(answer.split(b" ", 2)[1])
    assert 400 <= status < 500 and time.monotonic() - started < 2, answer[:200]
    assert webhook(production_server, 99) < 2.0  # and the worker serves the next one


def test_gunicorn_refuses_to_start_without_a_public_url_or_trusted_proxy(redis_server):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    env.update(REDIS_URL=redis_server.url, TWILIO_AUTH_TOKEN=TOKEN, HOTLINE_SECRET=SECRET)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind",
         f"127.0.0.1:{port}", "--workers", "1", "hotline:create_app()"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = process.communicate(timeout=60)
    finally:
        stop(process)
    assert process.returncode != 0
    assert b"HOTLINE_PUBLIC_URL" in err and b"HOTLINE_TRUSTED_PROXIES" in err
