"""Conversation state in Redis: sessions, preferences, retry answers, rate limits, counters.

The only module that knows Redis. A person is the HMAC of their phone number (`pid`), never
the number; every key of one person shares the hash tag `{pid}` so the same code runs on
Redis Cluster. Sessions and cached answers expire after 30 minutes of silence; preferences
(language, opt-out) stay until `forget`.
"""
from __future__ import annotations

import collections
import datetime as dt
import enum
import hashlib
import hmac
import logging
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
import redis
from redis.cluster import RedisCluster

from .dialogue.model import Session
from .identity import normalise
from .redis_conn import real_client

log = logging.getLogger("hotline.store")

SESSION_TTL = 30 * 60
# Twilio retries (opt-in) and the fallback URL come within seconds of the first request:
# an answer kept for a retry need not live as long as the conversation.
ANSWER_TTL = 5 * 60
STATS_TTL = 400 * 24 * 3600  # a little over a year of daily counters
PREFIX = "hl"

# Handled request ids (a MessageSid, a call step) are remembered this long, in a key much
# smaller than the answer: a retry or a replay within a day changes nothing.
CLAIM_TTL = 24 * 3600


def _read_prefs(key: str) -> str:
    """Lua: `prefs` read from `key`; preferences written as a hash by earlier versions are
    turned into today's JSON string there and then (`converted`)."""
    return f"""
local prefs, converted = redis.pcall('GET', {key}), false
if type(prefs) == 'table' and prefs.err then
  local fields = redis.call('HGETALL', {key})
  local old = {{}}
  for i = 1, #fields, 2 do old[fields[i]] = fields[i + 1] end
  prefs = cjson.encode({{lang = old.lang or false, opted_out = old.opted_out == '1'}})
  redis.call('SET', {key}, prefs)
  converted = true
end
"""


# KEYS: prefs. Returns the preferences as stored (nil when absent), converted first if an
# earlier version wrote them as a hash.
CONVERT_PREFS_SCRIPT = _read_prefs("KEYS[1]") + """
return prefs
"""

# KEYS: session, prefs[, answer, claim]. ARGV: session JSON, its TTL, prefs JSON ("":
# unchanged), check ("1": only if session and prefs still hold ARGV[5] and ARGV[6], ""
# for absent) [, answer, its TTL, the claim's TTL]. Returns {1} saved, {0, first answer}
# when another delivery of the same request claimed it first, {-1} when the state changed
# since it was loaded, or preferences of an earlier version were converted (the turn is
# computed again on the fresh state). All keys share the person's hash tag: one slot, also
# on a cluster. Commands of Redis 2.6, nothing newer.
SAVE_SCRIPT = """
if KEYS[4] and redis.call('EXISTS', KEYS[4]) == 1 then
  return {0, redis.call('GET', KEYS[3])}
end
""" + _read_prefs("KEYS[2]") + """
if ARGV[4] == '1' and (converted or (redis.call('GET', KEYS[1]) or '') ~= ARGV[5]
                       or (prefs or '') ~= ARGV[6]) then
  return {-1}
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[3]) end
if KEYS[3] then
  redis.call('SET', KEYS[3], ARGV[7], 'EX', ARGV[8])
  redis.call('SET', KEYS[4], '1', 'EX', ARGV[9])
end
return {1}
"""


# KEYS: prefs. Marks the person opted out, keeping their language (converting a hash
# written by earlier versions).
OPT_OUT_SCRIPT = _read_prefs("KEYS[1]") + """
local data = {lang = false}
if prefs then data = cjson.decode(prefs) end
data.opted_out = true
redis.call('SET', KEYS[1], cjson.encode(data))
return 1
"""


@dataclass
class Loaded:
    """One person's state as read for a turn."""

    session: Session
    answer: str | None  # the answer already given to this request (a Twilio retry)
    handled: bool  # this request id was handled before (its answer may have expired)
    raw: tuple[bytes, bytes]  # the stored session and preferences (b"": absent), as read
    keys: list[str]  # session, prefs[, answer, claim]: the save writes the same keys


class Saved(enum.Enum):
    SAVED = 1  # this delivery claimed the request and its state is written
    DUPLICATE = 0  # another delivery of the same request came first
    CONFLICT = -1  # the person's state changed since it was loaded: nothing written


_SAVED = {outcome.value: outcome for outcome in Saved}  # the script's answer, without Enum()
_SAVE_SHA = hashlib.sha1(SAVE_SCRIPT.encode()).hexdigest()


# E.164 as identity.py writes it, a named client, a withheld call's state key
_KEYED = re.compile(r"\+[1-9][0-9]{6,14}|client:\S+|withheld-call:\S+")


def pseudonym(secret: bytes, phone: str) -> str:
    """A stable stand-in for a person: HMAC-SHA256 with HOTLINE_SECRET, 32 hex chars, of
    the whole `From` normalised (E.164, `client:name`; see identity.py), or of the state key
    of a withheld caller's call."""
    if _KEYED.fullmatch(phone or ""):  # already a key (identity.py made it): as it is
        key = phone
    else:
        key = normalise(phone) or (phone or "")
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()[:32]


class Store:
    def __init__(self, client: redis.Redis, secret: bytes, session_ttl: int = SESSION_TTL,
                 count_every: float = 1.0):
        self.redis = client
        self.secret = secret
        self.session_ttl = session_ttl
        self.count_every = count_every
        self._counts: dict[dt.date, collections.Counter] = {}  # by day, by name
        self._counted_at = time.monotonic()
        self._pids: dict[str, str] = {}
        self._counts_lock = threading.Lock()  # gthread workers share this store

    def pid(self, phone: str) -> str:
        # A person sends several requests in a row: their pseudonym is computed once. Held
        # in this process's memory only, as the request itself is; bounded.
        found = self._pids.get(phone)
        if found is None:
            found = pseudonym(self.secret, phone)
            if len(self._pids) >= 4096:
                self._pids.clear()
            self._pids[phone] = found
        return found

    # keys -----------------------------------------------------------------
    @staticmethod
    def session_key(pid: str, channel: str) -> str:
        return f"{PREFIX}:{{{pid}}}:session:{channel}"

    @staticmethod
    def prefs_key(pid: str) -> str:
        return f"{PREFIX}:{{{pid}}}:prefs"

    @staticmethod
    def request_keys(pid: str, request_id: str) -> tuple[str, str]:
        """The keys of a request's retry answer and of its claim (one digest for both)."""
        digest = hashlib.sha256(request_id.encode()).hexdigest()[:24]
        return f"{PREFIX}:{{{pid}}}:answer:{digest}", f"{PREFIX}:{{{pid}}}:claim:{digest}"

    def answer_key(self, pid: str, request_id: str) -> str:
        return self.request_keys(pid, request_id)[0]

    def claim_key(self, pid: str, request_id: str) -> str:
        return self.request_keys(pid, request_id)[1]

    @staticmethod
    def outbound_key(pid: str) -> str:
        return f"{PREFIX}:{{{pid}}}:outbound"

    @staticmethod
    def stats_key(day: dt.date) -> str:
        return f"{PREFIX}:stats:{day.isoformat()}"

    # one command in, one out ---------------------------------------------
    def _keys(self, pid: str, channel: str, request_id: str | None) -> list[str]:
        keys = [self.session_key(pid, channel), self.prefs_key(pid)]
        if request_id:
            keys += self.request_keys(pid, request_id)
        return keys

    def load_turn(self, pid: str, channel: str, request_id: str | None) -> Loaded:
        """The person's session (with preferences), the answer already given to this
        request if Twilio is retrying it, and whether it was handled before: one MGET (the
        keys share one slot). Preferences an earlier version wrote as a hash read as absent
        here; the save converts them and asks for the turn again (see SAVE_SCRIPT)."""
        keys = self._keys(pid, channel, request_id)
        raw_session, raw_prefs, *claimed = real_client(self.redis).mget(keys)
        answer, claim = claimed or (None, None)
        prefs = _json(raw_prefs) or {}
        lang = prefs.get("lang")
        session = Session.from_dict(_json(raw_session),
                                    lang=lang if isinstance(lang, str) and lang else None,
                                    opted_out=prefs.get("opted_out") is True)
        raw = (raw_session or b"", raw_prefs or b"")
        return Loaded(session, _s(answer) if answer is not None else None, claim is not None,
                      raw, keys)

    def save_turn(self, pid: str, channel: str, loaded: Loaded | None, session: Session,
                  request_id: str | None, answer: str | None,
                  prefs_changed: bool = True) -> tuple[Saved, str | None]:
        """Write the turn in one script call, only if the state is still `loaded`'s (no
        check when it is None) and no other delivery of this request came first; claims
        the request id with its answer. Returns what happened and, for a duplicate, the
        first delivery's answer."""
        args: list[Any] = [
            _dumps(session.to_dict()), self.session_ttl,
            _dumps({"lang": session.lang, "opted_out": session.opted_out}) if prefs_changed else "",
            "1" if loaded is not None else "0", *(loaded.raw if loaded is not None else ("", ""))]
        keys = loaded.keys if loaded is not None else self._keys(pid, channel, request_id)
        if request_id and answer is not None:
            args += [answer, ANSWER_TTL, CLAIM_TTL]
        else:
            keys = keys[:2]
        client = real_client(self.redis)
        try:  # EVALSHA itself: redis-py's Script wrapper costs more than the call
            result = client.evalsha(_SAVE_SHA, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:  # a new or flushed server: load it once
            client.script_load(SAVE_SCRIPT)
            result = client.evalsha(_SAVE_SHA, len(keys), *keys, *args)
        outcome = _SAVED[int(result[0])]
        first = result[1] if len(result) > 1 else None
        return outcome, _s(first) if first is not None else None

    def load(self, pid: str, channel: str, request_id: str | None) -> tuple[Session, str | None]:
        """The person's session and the answer already given to this request, if any
        (preferences an earlier version wrote as a hash converted first)."""
        self.redis.register_script(CONVERT_PREFS_SCRIPT)(keys=[self.prefs_key(pid)])
        loaded = self.load_turn(pid, channel, request_id)
        return loaded.session, loaded.answer

    def save(self, pid: str, channel: str, session: Session, request_id: str | None,
             answer: str | None, counters: Iterable[str] = (), today: dt.date | None = None,
             prefs_changed: bool = True) -> None:
        """Write a session whatever is stored (tools, benchmarks; turns use `save_turn`)
        and add the daily counters to the next batch (see `count`)."""
        self.save_turn(pid, channel, None, session, request_id, answer, prefs_changed)
        try:
            self.count(counters, today)
        except redis.RedisError:  # the state is saved; the counters wait for the next write
            log.warning("redis: usage counters not written yet, kept for the next try")

    def count(self, counters: Iterable[str], today: dt.date | None = None) -> None:
        """Daily usage counters (no person in them): what operators watch. They live in
        one key that is not in the person's slot, so they are added up in this process and
        written at most every `count_every` seconds, in one pipeline: a crash loses at most
        that much of the counts, never a conversation."""
        self.add(counters, today)

    def add(self, amounts: Iterable[str] | dict[str, int], today: dt.date | None = None) -> None:
        """Like `count`, by amounts (the seconds of a call) when given a dict."""
        day = today or dt.date.today()
        with self._counts_lock:
            counts = self._counts.get(day)
            if counts is None:
                counts = self._counts[day] = collections.Counter()
            counts.update(amounts)  # in C, for names or amounts alike
            due = time.monotonic() - self._counted_at >= self.count_every
        if due:
            self.flush_counts()

    def flush_counts(self) -> None:
        """Write the counters added up so far (kept for the next try if Redis fails)."""
        with self._counts_lock:  # one thread takes the batch; others add to a new one
            batch, self._counts = self._counts, {}
            self._counted_at = time.monotonic()
        batch = {day: counts for day, counts in batch.items() if counts}
        if not batch:
            return
        pipe = self.redis.pipeline(transaction=False)
        for day, counts in batch.items():
            for name, n in counts.items():
                pipe.hincrby(self.stats_key(day), name, n)
            pipe.expire(self.stats_key(day), STATS_TTL)
        try:
            pipe.execute()
        except redis.RedisError:
            with self._counts_lock:
                for day, counts in batch.items():
                    self._counts.setdefault(day, collections.Counter()).update(counts)
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
        # SET NX EX then INCR (Redis 2.6.12+): the window starts with the first SMS, without
        # EXPIRE's NX option (Redis 7 only). One round trip; both keys are the same key.
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(key, 0, nx=True, ex=window)
        pipe.incr(key)
        _, used = pipe.execute()
        return int(used) <= limit

    def forget(self, pid: str) -> int:
        """Erase everything kept about one person; returns how many keys went."""
        keys = list(self.redis.scan_iter(match=f"{PREFIX}:{{{pid}}}:*", count=500))
        for key in keys:
            self.redis.delete(key)
        return len(keys)

    def set_opted_out(self, pid: str) -> None:
        """Opt a person out (Twilio refused a send with 21610): the next turn sees it."""
        self.redis.register_script(OPT_OUT_SCRIPT)(keys=[self.prefs_key(pid)])

    def ping(self) -> bool:
        """Whether Redis answers; on a cluster, every primary (each holds some people)."""
        client = real_client(self.redis)
        if isinstance(client, RedisCluster):
            return bool(client.ping(target_nodes=RedisCluster.PRIMARIES))
        return bool(client.ping())


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON (orjson: a tenth of the json module's time, which showed in every
    turn's profile)."""
    return orjson.dumps(value)


def _json(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:  # orjson.JSONDecodeError is a ValueError (invalid UTF-8 too)
        data = orjson.loads(raw)
    except (ValueError, TypeError):
        return None  # a damaged session is dropped rather than breaking the call
    return data if isinstance(data, dict) else None
