"""Twilio's status callbacks and outbound SMS feed the daily counters, once each."""
from __future__ import annotations

import datetime as dt

import responses as rsps

from hotline.outbound import Outbox
from hotline.sms_segments import count
from hotline.store import Store

from .conftest import TOKEN
from .harness import HOTLINE_NUMBER, post

DAY = dt.date(2026, 11, 27)
ACCOUNT = "AC" + "1" * 32


def stats(redis_client) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in redis_client.hgetall(Store.stats_key(DAY)).items()}


def call_ended(client, caller, status="completed", duration="95"):
    params = {"CallSid": caller.call_sid, "From": caller.number, "To": HOTLINE_NUMBER,
              "CallStatus": status, "CallDuration": duration}
    return post(client, TOKEN, "/voice/status", params)


def test_a_completed_call_counts_its_seconds_and_where_it_ended_once(client, caller,
                                                                      redis_client):
    caller.call()
    caller.press("1")  # French: the main menu
    assert call_ended(client, caller).status_code == 204
    assert call_ended(client, caller).status_code == 204  # Twilio retries: counted once
    counters = stats(redis_client)
    assert counters["call.count"] == 1
    assert counters["call.seconds"] == 95
    assert counters["left.main"] == 1
    assert not any("698765432" in name for name in counters)


def test_an_unsigned_status_callback_is_refused_and_not_counted(client, caller, redis_client):
    caller.call()
    response = client.post("/voice/status", data={"CallSid": caller.call_sid,
                                                  "CallStatus": "completed",
                                                  "CallDuration": "30"})
    assert response.status_code == 403
    assert "call.count" not in stats(redis_client)


def test_junk_durations_and_statuses_count_nothing_wrong(client, caller, redis_client):
    caller.call()
    assert call_ended(client, caller, status="ringing").status_code == 204
    assert call_ended(client, caller, status="busy", duration="x" * 50).status_code == 204
    counters = stats(redis_client)
    assert counters["call.count"] == 1 and "call.seconds" not in counters
    assert not any(name.startswith("left.") for name in counters)


def test_sms_statuses_are_counted_once_per_message_and_status(client, redis_client):
    def status(sid: str, value: str) -> int:
        params = {"MessageSid": sid, "MessageStatus": value, "To": "+33612345678",
                  "From": HOTLINE_NUMBER}
        return post(client, TOKEN, "/sms/status", params).status_code

    assert status("SM1", "sent") == 204
    assert status("SM1", "delivered") == 204
    assert status("SM1", "delivered") == 204
    assert status("SM2", "failed") == 204
    assert status("SM3", "<script>") == 204
    counters = stats(redis_client)
    assert counters["sms.status.sent"] == 1
    assert counters["sms.status.delivered"] == 1
    assert counters["sms.status.failed"] == 1
    assert len([n for n in counters if n.startswith("sms.status.")]) == 3


def test_outbound_sms_are_counted_with_their_segments(redis_client):
    bodies = ["Votre caisse: CPAM 93", "Ваша касса: " + "х" * 100]
    outbox = Outbox(redis_client, ACCOUNT, "token", b"s3cret", inline=True, today=lambda: DAY)
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    with rsps.RequestsMock() as mock:
        mock.add(rsps.POST, url, json={"sid": "SM" + "9" * 32}, status=201)
        outbox.send("+33612345678", HOTLINE_NUMBER, bodies)
        outbox.last_thread.join(10)
    counters = stats(redis_client)
    assert counters["sms.out.messages"] == 2
    assert counters["sms.out.segments"] == sum(count(b).segments for b in bodies) == 3
