"""SMS copies through RQ: the job holds no phone number in clear, a worker sends it."""
from __future__ import annotations

import responses as rsps
from rq import Queue, SimpleWorker

from hotline.outbound import QUEUE, Outbox, seal, unseal

ACCOUNT = "AC" + "1" * 32
URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"


def test_sealed_numbers_round_trip_and_depend_on_the_secret():
    token = seal(b"secret", "+33612345678")
    assert "33612345678" not in token
    assert unseal(b"secret", token) == "+33612345678"


def test_a_queued_copy_is_sent_by_a_worker_and_redis_never_sees_the_number(
        redis_client, monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "token")
    monkeypatch.setenv("HOTLINE_SECRET", "s3cret")
    outbox = Outbox(redis_client, ACCOUNT, "token", b"s3cret", inline=False)
    outbox.send("+33612345678", "+33100000000", ["first part", "second part"])
    queue = Queue(QUEUE, connection=redis_client)
    assert queue.count == 1
    for key in redis_client.scan_iter("*"):
        kind = redis_client.type(key)
        blobs = [redis_client.dump(key)]
        if kind == b"hash":
            blobs += list(redis_client.hgetall(key).values())
        assert not any(b"612345678" in blob for blob in blobs if blob), key
    with rsps.RequestsMock() as mock:
        mock.add(rsps.POST, URL, json={"sid": "SM" + "9" * 32}, status=201)
        SimpleWorker([queue], connection=redis_client).work(burst=True)
        bodies = [c.request.body for c in mock.calls]
    assert len(bodies) == 2
    assert "To=%2B33612345678" in bodies[0] and "Body=first+part" in bodies[0]
    assert "Body=second+part" in bodies[1]


def test_nothing_is_queued_without_an_account(redis_client):
    outbox = Outbox(redis_client, None, None, b"s", inline=False)
    outbox.send("+33612345678", "+33100000000", ["x"])
    assert Queue(QUEUE, connection=redis_client).count == 0


def queue_and_work(redis_url: str, connection, monkeypatch) -> list[str]:
    """Queue one copy as the web process does, run `hotline worker --burst --simple` on
    REDIS_URL, and return the bodies it posted to Twilio."""
    from click.testing import CliRunner

    from hotline.cli import main

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "token")
    monkeypatch.setenv("HOTLINE_SECRET", "s3cret")
    Outbox(connection, ACCOUNT, "token", b"s3cret", inline=False).send(
        "+33612345678", "+33100000000", ["your caisse: CPAM 93"])
    with rsps.RequestsMock() as mock:
        mock.add(rsps.POST, URL, json={"sid": "SM" + "9" * 32}, status=201)
        result = CliRunner().invoke(main, ["worker", "--burst", "--simple"])
        assert result.exit_code == 0, result.output
        return [c.request.body for c in mock.calls]


def test_the_hotline_worker_command_sends_what_the_web_queued(redis_server, redis_client,
                                                              monkeypatch):
    [body] = queue_and_work(redis_server.url, redis_client, monkeypatch)
    assert "To=%2B33612345678" in body and "CPAM+93" in body
    assert Queue(QUEUE, connection=redis_client).count == 0
    # the worker counts what it sent in the hotline's Redis (today, Paris time)
    import datetime as dt

    from hotline.config import PARIS
    from hotline.store import Store

    counters = redis_client.hgetall(Store.stats_key(dt.datetime.now(PARIS).date()))
    assert counters[b"sms.out.messages"] == b"1" and counters[b"sms.out.segments"] == b"1"
