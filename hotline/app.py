"""The Flask app factory: configuration, content, store and directory, wired once."""
from __future__ import annotations

import atexit
import functools
import logging
import weakref
from dataclasses import dataclass, field
from typing import Any, Mapping

import redis
from flask import Flask, current_app

from .config import Config
from .content import Script, load_script
from .dialogue.model import World
from .outbound import Outbox
from .store import Store

log = logging.getLogger("hotline")


@dataclass
class Hotline:
    """Everything a request needs, built once per process."""

    config: Config
    script: Script
    store: Store
    outbox: Outbox
    directory: Any
    speech: Any
    rendered_sms: dict = field(default_factory=dict)  # SMS TwiML by (language, messages)
    rendered_voice: dict = field(default_factory=dict)  # voice TwiML pieces, see render_voice

    def world(self) -> World:
        now = self.config.clock()
        return World(today=now.date(), directory=self.directory,
                     now_minutes=now.hour * 60 + now.minute, weekday=now.weekday(),
                     voice_languages=self.speech.voice_languages(),
                     outbound_sms=self.outbox.enabled)


def hotline() -> Hotline:
    return current_app.extensions["hotline"]


def redis_client(url: str) -> "redis.Redis":
    """A Redis client for REDIS_URL, with short timeouts: a webhook must answer well within
    Twilio's 15 s.

    - ``redis://``, ``rediss://``, ``unix://``: one server (``redis.Redis.from_url``).
    - ``redis+cluster://[user:password@]host:port[,host:port...]`` (``rediss+cluster://``
      for TLS), or a ``redis://``/``rediss://`` URL with ``?cluster=1``: Redis Cluster
      (``redis.cluster.RedisCluster``); the hosts are startup nodes, the others are
      discovered. Every key of one person shares the hash tag ``{pid}``, so each of the
      store's pipelines stays in one slot. Database 0 only.
    - ``redis+sentinel://[user:password@]host:port[,host:port...]/service_name[/db]``
      (``rediss+sentinel://`` for TLS to the master; port 26379 by default): the current
      master of ``service_name`` as the Sentinels tell it (``Sentinel(...).master_for``),
      followed across failovers. The password is the master's; Sentinels get none.
    """
    from urllib.parse import parse_qsl, unquote, urlsplit

    timeouts = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    base, _, mode = parts.scheme.lower().partition("+")
    if query.get("cluster", "").lower() in ("1", "true", "yes") and not mode:
        mode = "cluster"
    if not mode:
        return redis.Redis.from_url(url, health_check_interval=30, **timeouts)
    if base not in ("redis", "rediss") or mode not in ("cluster", "sentinel"):
        raise ValueError(f"unsupported REDIS_URL scheme {parts.scheme!r}: use redis://, "
                         "rediss://, unix://, redis+cluster:// or redis+sentinel://")

    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    options = dict(timeouts, username=unquote(username) or None,
                   password=unquote(password) or None)
    if base == "rediss":
        options["ssl"] = True
    default_port = 26379 if mode == "sentinel" else 6379
    nodes = [(node.hostname or "localhost", node.port or default_port)
             for node in (urlsplit(f"//{item}") for item in hosts.split(",") if item)]
    if not nodes:
        raise ValueError("REDIS_URL names no host")

    if mode == "cluster":
        from redis.cluster import ClusterNode, RedisCluster

        if parts.path.strip("/") not in ("", "0") or query.get("db", "0") != "0":
            raise ValueError("Redis Cluster has only database 0")
        return RedisCluster(startup_nodes=[ClusterNode(h, p) for h, p in nodes], **options)

    from redis.sentinel import Sentinel

    path = [unquote(p) for p in parts.path.split("/") if p]
    if len(path) not in (1, 2):
        raise ValueError("a Sentinel URL is redis+sentinel://host:port[,host:port]/service[/db]")
    db = int(path[1] if len(path) == 2 else query.get("db", 0))
    sentinel = Sentinel(nodes, sentinel_kwargs=dict(timeouts), **timeouts)
    return sentinel.master_for(path[0], db=db, health_check_interval=30, **options)


class LazyRedis:
    """The Redis client, made on first use and made again after a failed attempt.

    A cluster or sentinel client connects as soon as it is created; made lazily, an
    unreachable Redis at start-up is a RedisError on each request (answered without
    state, /healthz 503) rather than an app that cannot start."""

    def __init__(self, url: str):
        self.url = url
        self._client = None

    def _get(self):
        if self._client is None:
            try:
                self._client = redis_client(self.url)
            except redis.RedisError:
                raise
            except Exception as error:  # cluster discovery fails with other types
                raise redis.ConnectionError(f"cannot reach Redis: {error}") from error
        return self._client

    def __getattr__(self, name: str):
        return getattr(self._get(), name)


def _flush_at_exit(store_ref: "weakref.ref[Store]") -> None:
    """At exit (a gunicorn worker stopping too), write the usage counters this process
    still holds."""
    store = store_ref()
    if store is None:
        return
    try:
        store.flush_counts()
    except redis.RedisError:
        log.warning("redis unreachable: the last usage counters of this process are lost")


@functools.lru_cache(maxsize=1)
def shared_directory():
    """The office directory, loaded once per process (it takes most of start-up)."""
    from .directory import Directory

    return Directory.load()


def build_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    config = Config.load(overrides)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config.warn()
    if not config.redis_url:
        from .embedded_redis import shared_url

        config.redis_url = shared_url()
        log.info("REDIS_URL is not set: using an embedded redis-server at %s", config.redis_url)

    script = load_script(config.scripts_dir)
    client = LazyRedis(config.redis_url)
    from .speech import Speech

    directory = shared_directory()
    speech = Speech(script, config.audio_dir, enabled=config.audio_enabled,
                    today=lambda: config.clock().date())
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024  # Twilio posts a few kB at most
    store = Store(client, config.secret, count_every=config.stats_every)
    atexit.register(_flush_at_exit, weakref.ref(store))
    app.extensions["hotline"] = Hotline(
        config=config, script=script,
        store=store,
        outbox=Outbox(client, config.account_sid, config.auth_token, config.secret,
                      today=lambda: config.clock().date()),
        directory=directory, speech=speech,
    )
    from .channels import audio, health, sms, voice

    app.register_blueprint(sms.bp)
    app.register_blueprint(voice.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(audio.bp)
    from .console import init_console

    init_console(app, overrides)  # /console: off (404) until HOTLINE_CONSOLE_USERS is set
    return app
