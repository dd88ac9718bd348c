"""Conversation state in Redis: sessions, preferences, retry answers, rate limits, counters.

The only module that knows Redis. A person is the HMAC of their phone number (`pid`), never
the number; every key of one person shares the hash tag `{pid}` so the same code runs on
Redis Cluster. Sessions and cached answers expire after 30 minutes of silence; preferences
(language, opt-out) stay until `forget`.
"""
from __future__ import annotations

import collections
import datetime as dt
import hashlib
import hmac
import json
import logging
import threading
import time
from typing import Any, Iterable

import redis
from redis.cluster import RedisCluster

from .dialogue.model import Session

log = logging.getLogger("hotline.store")

SESSION_TTL = 30 * 60
# Twilio retries (opt-in) and the fallback URL come within seconds of the first request:
# an answer kept for a retry need not live as long as the conversation.
ANSWER_TTL = 5 * 60
STATS_TTL = 400 * 24 * 3600  # a little over a year of daily counters
PREFIX = "hl"

# KEYS: session, prefs[, answer] -> their values (nil when absent). Preferences written as
# a hash by earlier versions are turned into today's JSON string on the way.
LOAD_SCRIPT = """
local prefs = redis.pcall('GET', KEYS[2])
if type(prefs) == 'table' and prefs.err then
  local fields = redis.call('HGETALL', KEYS[2])
  local old = {}
  for i = 1, #fields, 2 do old[fields[i]] = fields[i + 1] end
  prefs = cjson.encode({lang = old.lang or false, opted_out = old.opted_out == '1'})
  redis.call('SET', KEYS[2], prefs)
end
local answer = false
if KEYS[3] then answer = redis.call('GET', KEYS[3]) end
return {redis.call('GET', KEYS[1]), prefs, answer}
"""

# KEYS: session, prefs[, answer]. ARGV: session JSON, its TTL, prefs JSON ("": unchanged)
# [, answer, its TTL]. All keys share the person's hash tag: one slot, also on a cluster.
SAVE_SCRIPT = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[3]) end
if KEYS[3] then redis.call('SET', KEYS[3], ARGV[4], 'EX', ARGV[5]) end
return 1
"""


def pseudonym(secret: bytes, phone: str) -> str:
    """A stable stand-in for a phone number: HMAC-SHA256 with HOTLINE_SECRET, 32 hex chars."""
    normalised = "".join(c for c in (phone or "") if c.isdigit() or c == "+")
    return hmac.new(secret, normalised.encode(), hashlib.sha256).hexdigest()[:32]


class Store:
    def __init__(self, client: "redis.Redis", secret: bytes, session_ttl: int = SESSION_TTL,
                 count_every: float = 1.0):
        self.redis = client
        self.secret = secret
        self.session_ttl = session_ttl
        self.count_every = count_every
        self._counts: collections.Counter = collections.Counter()
        self._counted_at = time.monotonic()
        self._load_script = None
        self._save_script = None
        self._counts_lock = threading.Lock()  # gthread workers share this store

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

    # one command in, one out ---------------------------------------------
    def load(self, pid: str, channel: str, request_id: str | None) -> tuple[Session, str | None]:
        """The person's session (with preferences) and the answer already given to this
        request, if Twilio is retrying it: one script call (the keys share one slot)."""
        keys = [self.session_key(pid, channel), self.prefs_key(pid)]
        if request_id:
            keys.append(self.answer_key(pid, request_id))
        if self._load_script is None:  # made on first use: the client may be lazy
            self._load_script = self.redis.register_script(LOAD_SCRIPT)
        raw_session, raw_prefs, answer = self._load_script(keys=keys)
        prefs = _json(raw_prefs) or {}
        lang = prefs.get("lang")
        session = Session.from_dict(_json(raw_session),
                                    lang=lang if isinstance(lang, str) and lang else None,
                                    opted_out=prefs.get("opted_out") is True)
        return session, _s(answer) if answer is not None else None

    def save(self, pid: str, channel: str, session: Session, request_id: str | None,
             answer: str | None, counters: Iterable[str] = (), today: dt.date | None = None,
             prefs_changed: bool = True) -> None:
        """The session, the preferences when they changed and the answer for retries, in
        one script call; the daily counters join the next batch (see `count`)."""
        keys = [self.session_key(pid, channel), self.prefs_key(pid)]
        args = [_dumps(session.to_dict()), self.session_ttl,
                _dumps({"lang": session.lang, "opted_out": session.opted_out})
                if prefs_changed else ""]
        if request_id and answer is not None:
            keys.append(self.answer_key(pid, request_id))
            args += [answer, ANSWER_TTL]
        if self._save_script is None:  # made on first use: the client may be lazy
            self._save_script = self.redis.register_script(SAVE_SCRIPT)
        self._save_script(keys=keys, args=args)
        try:
            self.count(counters, today)
        except redis.RedisError:  # the state is saved; the counters wait for the next write
            log.warning("redis: usage counters not written yet, kept for the next try")

    def count(self, counters: Iterable[str], today: dt.date | None = None) -> None:
        """Daily usage counters (no person in them): what operators watch. They live in
        one key that is not in the person's slot, so they are added up in this process and
        written at most every `count_every` seconds, in one pipeline: a crash loses at most
        that much of the counts, never a conversation."""
        day = today or dt.date.today()
        with self._counts_lock:
            for name in counters:
                self._counts[(day, name)] += 1
            due = bool(self._counts) and time.monotonic() - self._counted_at >= self.count_every
        if due:
            self.flush_counts()

    def add(self, amounts: dict[str, int], today: dt.date | None = None) -> None:
        """Like `count`, by amounts (the seconds of a call)."""
        day = today or dt.date.today()
        with self._counts_lock:
            for name, n in amounts.items():
                self._counts[(day, name)] += n
            due = bool(self._counts) and time.monotonic() - self._counted_at >= self.count_every
        if due:
            self.flush_counts()

    def flush_counts(self) -> None:
        """Write the counters added up so far (kept for the next try if Redis fails)."""
        with self._counts_lock:  # one thread takes the batch; others add to a new one
            counts, self._counts = self._counts, collections.Counter()
            self._counted_at = time.monotonic()
        if not counts:
            return
        pipe = self.redis.pipeline(transaction=False)
        for (day, name), n in counts.items():
            pipe.hincrby(self.stats_key(day), name, n)
        for day in {day for day, _ in counts}:
            pipe.expire(self.stats_key(day), STATS_TTL)
        try:
            pipe.execute()
        except redis.RedisError:
            with self._counts_lock:
                self._counts.update(counts)
            raise

    def stats(self, day: dt.date) -> dict[str, int]:
        self.flush_counts()
        return {_s(k): int(v) for k, v in self.redis.hgetall(self.stats_key(day)).items()}

    def stats_range(self, first: dt.date, last: dt.date) -> dict[dt.date, dict[str, int]]:
        """The daily counters of every day from `first` to `last` (both included), in one
        pipeline: what the console shows."""
        self.flush_counts()
        days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
        pipe = self.redis.pipeline(transaction=False)
        for day in days:
            pipe.hgetall(self.stats_key(day))
        return {day: {_s(k): int(v) for k, v in raw.items()}
                for day, raw in zip(days, pipe.execute())}

    def claim(self, name: str, ttl: int = 24 * 3600) -> bool:
        """True the first time `name` is claimed within `ttl` seconds (SET NX EX): a
        status callback Twilio sends again is counted once."""
        digest = hashlib.sha256(name.encode()).hexdigest()[:32]
        return bool(self.redis.set(f"{PREFIX}:claim:{digest}", 1, nx=True, ex=ttl))

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
        """Whether Redis answers; on a cluster, every primary (each holds some people)."""
        client = getattr(self.redis, "_get", lambda: self.redis)()  # LazyRedis or a client
        if isinstance(client, RedisCluster):
            return bool(client.ping(target_nodes=RedisCluster.PRIMARIES))
        return bool(client.ping())


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _json(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, TypeError):
        return None  # a damaged session is dropped rather than breaking the call
    return data if isinstance(data, dict) else None
