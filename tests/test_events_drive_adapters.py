"""The channels act on the engine's events: the usage counters and the SMS copy after a
call come from them (real webhooks, real redis-server); the connected call is tested in
test_where_to_go.py."""
from __future__ import annotations

import datetime as dt
import re

import responses as rsps

from hotline.store import Store

from .conftest import TOKEN
from .harness import Caller

DAY = dt.date(2026, 11, 27)
MESSAGES_URL = "https://api.twilio.com/2010-04-01/Accounts/AC" + "0" * 32 + "/Messages.json"


def counters(redis_client, day=DAY) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in redis_client.hgetall(Store.stats_key(day)).items()}


def test_a_text_conversation_is_counted_from_its_events(texter, redis_client):
    for text in ["Bonjour", "1", "TEST", "1", "2", "4", "1", "1", "1", "700", "CPAM 93200",
                 "n'importe quoi", "STOP", "START"]:
        texter.send(text)
    got = counters(redis_client)
    assert got["sms.text"] == 14
    assert got["conversation.sms"] == 1 and got["lang.fr"] == 1
    assert got["node.quiz.q1"] == 1 and got["node.quiz.q6"] == 1
    assert got["outcome.AME"] == 1 and got["postcode.93"] == 1
    assert got["optout"] == 1 and got["optin"] == 1
    assert got["invalid.sms"] == 1
    assert got["sms.hour.14"] == 14  # the tests' clock says 14:00 in Paris
    assert not [k for k in got if re.search(r"\d{6}", k)]  # no phone number, no postcode


def test_repeating_an_answer_does_not_count_the_outcome_twice(caller, redis_client):
    caller.call()
    for key in ["1", "1", "3"]:  # French, questionnaire, Mayotte
        caller.press(key)
    caller.press("9")
    got = counters(redis_client)
    assert got["outcome.MAY"] == 1 and got["call.hour.14"] == 1


def test_the_copy_after_a_call_comes_from_the_copy_event(make_app, redis_client):
    app = make_app(TWILIO_ACCOUNT_SID="AC" + "0" * 32)
    app.extensions["hotline"].outbox.inline = True
    caller = Caller(app.test_client(), TOKEN)
    caller.call()
    for key in ["1", "2", "2"]:  # French, information, AME
        caller.press(key)
    with rsps.RequestsMock() as mock:
        mock.add(rsps.POST, MESSAGES_URL, json={"sid": "SM" + "5" * 32}, status=201)
        heard = caller.press("1")
        app.extensions["hotline"].outbox.last_thread.join(timeout=10)
        assert "par SMS" in heard.text
        [call] = mock.calls
        assert "AME" in call.request.body
    assert counters(redis_client)["copy.requested"] == 1
