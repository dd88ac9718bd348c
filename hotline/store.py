"""Conversation state in Redis: sessions, preferences, retry answers, rate limits, counters.

The only module that knows Redis. A person is the HMAC of their phone number (`pid`), never
the number; every key of one person shares the hash tag `{pid}` so the same code runs on
Redis Cluster. Sessions and cached answers expire after 30 minutes of silence; preferences
(language, opt-out) stay until `forget`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any, Iterable

import redis

from .dialogue.model import Session

SESSION_TTL = 30 * 60
# Twilio retries (opt-in) and the fallback URL come within seconds of the first request:
# an answer kept for a retry need not live as long as the conversation.
ANSWER_TTL = 5 * 60
STATS_TTL = 400 * 24 * 3600  # a little over a year of daily counters
PREFIX = "hl"


def pseudonym(secret: bytes, phone: str) -> str:
    """A stable stand-in for a phone number: HMAC-SHA256 with HOTLINE_SECRET, 32 hex chars."""
    normalised = "".join(c for c in (phone or "") if c.isdigit() or c == "+")
    return hmac.new(secret, normalised.encode(), hashlib.sha256).hexdigest()[:32]


class Store:
    def __init__(self, client: "redis.Redis", secret: bytes, session_ttl: int = SESSION_TTL):
        self.redis = client
        self.secret = secret
        self.session_ttl = session_ttl

    def pid(self, phone: str) -> str:
        return pseudonym(self.secret, phone)

    # keys -----------------------------------------------------------------
    @staticmethod
    def session_key(pid: str, channel: str) -> str:
        return f"{PREFIX}:{{{pid}}}:session:{channel}"

    @staticmethod
    def prefs_key(pid: str) -> str:
        return f"{PREFIX}:{{{pid}}}:prefs"

    @staticmethod
    def answer_key(pid: str, request_id: str) -> str:
        digest = hashlib.sha256(request_id.encode()).hexdigest()[:24]
        return f"{PREFIX}:{{{pid}}}:answer:{digest}"

    @staticmethod
    def outbound_key(pid: str) -> str:
        return f"{PREFIX}:{{{pid}}}:outbound"

    @staticmethod
    def stats_key(day: dt.date) -> str:
        return f"{PREFIX}:stats:{day.isoformat()}"

    # one round trip in, one out ---------------------------------------------
    def load(self, pid: str, channel: str, request_id: str | None) -> tuple[Session, str | None]:
        """The person's session (with preferences) and the answer already given to this
        request, if Twilio is retrying it."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(self.session_key(pid, channel))
        pipe.hgetall(self.prefs_key(pid))
        if request_id:
            pipe.get(self.answer_key(pid, request_id))
        results = pipe.execute()
        raw_session, prefs = results[0], results[1]
        cached = results[2] if request_id else None
        prefs = {_s(k): _s(v) for k, v in (prefs or {}).items()}
        data = _json(raw_session)
        session = Session.from_dict(data, lang=prefs.get("lang") or None,
                                    opted_out=prefs.get("opted_out") == "1")
        return session, _s(cached) if cached is not None else None

    def save(self, pid: str, channel: str, session: Session, request_id: str | None,
             answer: str | None, counters: Iterable[str] = (), today: dt.date | None = None,
             prefs_changed: bool = True) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(self.session_key(pid, channel), json.dumps(session.to_dict(), separators=(",", ":")),
                 ex=self.session_ttl)
        if prefs_changed:
            prefs = {"opted_out": "1" if session.opted_out else "0"}
            if session.lang:
                prefs["lang"] = session.lang
            pipe.hset(self.prefs_key(pid), mapping=prefs)
        if request_id and answer is not None:
            pipe.set(self.answer_key(pid, request_id), answer, ex=ANSWER_TTL)
        self._count(pipe, counters, today)  # same round trip
        pipe.execute()

    def _count(self, pipe, counters: Iterable[str], today: dt.date | None) -> None:
        """Daily usage counters (no person in them): what operators watch."""
        counters = list(counters)
        if counters:
            key = self.stats_key(today or dt.date.today())
            for name in counters:
                pipe.hincrby(key, name, 1)
            pipe.expire(key, STATS_TTL)

    def stats(self, day: dt.date) -> dict[str, int]:
        return {_s(k): int(v) for k, v in self.redis.hgetall(self.stats_key(day)).items()}

    def allow_outbound(self, pid: str, limit: int, window: int = 3600) -> bool:
        """Count one SMS sent to this person; False past `limit` in the window."""
        key = self.outbound_key(pid)
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        used, _ = pipe.execute()
        return int(used) <= limit

    def forget(self, pid: str) -> int:
        """Erase everything kept about one person; returns how many keys went."""
        keys = list(self.redis.scan_iter(match=f"{PREFIX}:{{{pid}}}:*", count=500))
        for key in keys:
            self.redis.delete(key)
        return len(keys)

    def ping(self) -> bool:
        return bool(self.redis.ping())


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _json(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, TypeError):
        return None  # a damaged session is dropped rather than breaking the call
    return data if isinstance(data, dict) else None
