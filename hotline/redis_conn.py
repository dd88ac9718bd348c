"""Redis clients for REDIS_URL: one server, Redis Cluster or Sentinel, made lazily.

The web app (through `Store`), the RQ queue and the command line all get their client here.
"""
from __future__ import annotations

from typing import Any

import redis


def redis_client(url: str) -> Any:  # redis.Redis or RedisCluster: the store needs either
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
    options: dict[str, Any] = dict(timeouts, username=unquote(username) or None,
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
        self._client: Any = None

    def get(self):
        """The real client (made now if it is not yet)."""
        if self._client is None:
            try:
                self._client = redis_client(self.url)
            except redis.RedisError:
                raise
            except Exception as error:  # cluster discovery fails with other types
                raise redis.ConnectionError(f"cannot reach Redis: {error}") from error
        return self._client

    def __getattr__(self, name: str):
        return getattr(self.get(), name)


def real_client(client):
    """The client behind a LazyRedis (or the client itself)."""
    return client.get() if isinstance(client, LazyRedis) else client
