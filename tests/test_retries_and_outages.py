"""Twilio retries answer the same and advance once; a Redis outage still answers TwiML."""
from __future__ import annotations

import pytest

from hotline.embedded_redis import free_port

from .conftest import TOKEN
from .harness import Caller, Texter, post, read_turn, said


def test_the_same_message_sid_twice_gives_the_same_answer_and_advances_once(french_texter):
    french_texter.send("2")  # topics
    first = french_texter.send("1", sid="SMretry0000000000000000000000001")
    again = french_texter.send("1", sid="SMretry0000000000000000000000001")
    assert first == again and first[0].startswith("PUMA")
    # advanced once: * goes back to the topics menu, not further
    assert "5 Documents" in french_texter.says("*")


def test_the_same_call_step_twice_gives_the_same_answer_and_advances_once(caller, client):
    caller.call()
    turn = caller.press("1")
    action = turn.gather["action"].replace("http://localhost", "")
    params = {"CallSid": caller.call_sid, "From": caller.number, "To": "+33100000000",
              "Digits": "2"}
    first = post(client, TOKEN, action, params).data
    second = post(client, TOKEN, action, params).data
    assert first == second
    topics = read_turn(first)
    assert "Carte Vitale: 4" in topics.text
    # the session moved once: pressing 2 on the topics menu gives AME
    caller.turn = topics
    assert "L'aide médicale de l'État" in caller.press("2").text


def test_the_same_call_start_twice_is_answered_the_same(caller, client):
    params = {"CallSid": "CA" + "7" * 32, "From": caller.number, "To": "+33100000000"}
    assert post(client, TOKEN, "/voice", params).data == post(client, TOKEN, "/voice", params).data


@pytest.fixture
def app_without_redis(make_app):
    return make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")


def test_redis_down_sms_still_answers_valid_twiml(app_without_redis):
    texter = Texter(app_without_redis.test_client(), TOKEN)
    assert "2 English" in texter.says("Bonjour")  # the language menu, stateless
    assert texter.says("AME").startswith("AME (aide médicale")
    assert texter.says("HELP").startswith("Keywords")
    assert "Reply with a number" in texter.says("2")


def test_redis_down_voice_still_answers_and_navigates_from_the_url(app_without_redis):
    caller = Caller(app_without_redis.test_client(), TOKEN)
    assert said("en", "language.option") in caller.call().texts
    assert said("en", "welcome") in caller.press("2").text
    assert "PUMA: press 1" in caller.press("2").text


def test_redis_down_healthz_is_503_with_the_reason(app_without_redis):
    response = app_without_redis.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert "unreachable" in response.json["redis"]


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["status"] == "ok"
    assert response.json["redis"] == "ok"
    assert response.json["outbound_sms"].startswith("off")


def test_an_unreachable_cluster_at_start_up_still_answers(make_app):
    app = make_app(REDIS_URL=f"redis+cluster://127.0.0.1:{free_port()}")
    texter = Texter(app.test_client(), TOKEN)
    assert "2 English" in texter.says("Bonjour")
    assert app.test_client().get("/healthz").status_code == 503
