"""Nothing a caller sends gives a 5xx; no phone number is kept in clear; conversations expire."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.store import SESSION_TTL

from .conftest import TOKEN
from .harness import Caller, Texter, post, redis_text
from .twiml_check import parse

settings.register_profile("hotline", deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile("hotline")


@given(body=st.text(max_size=300))
def test_any_unicode_text_gets_valid_twiml(client, body):
    params = {"From": "+33622222222", "Body": body, "MessageSid": "SMfuzz"}
    response = post(client, TOKEN, "/sms", dict(params, MessageSid=f"SM{hash(body)}"))
    assert response.status_code == 200
    parse(response.data)


@given(digits=st.text(alphabet="0123456789*#abc ", max_size=30),
       speech=st.text(max_size=50))
def test_any_keys_or_speech_get_valid_twiml(client, digits, speech):
    caller = Caller(client, TOKEN, number="+33633333333")
    caller.call()
    caller.press(digits or "1")
    turn = caller.speak(speech or "?", confidence=0.2)
    assert turn.gather or turn.hangup


@pytest.mark.parametrize("body", [
    "x" * 5000, "\x00\x01\x02AME\x7f", "\u202eAME", "A\u0301ME", "🙂" * 800, "",
    "CPAM " + "9" * 400, "LANG " + "z" * 100, "%s%s%n", "<Response/>", "]]>", "\ufffd\ufffe\uffff",
])
def test_hostile_bodies(french_texter, body):
    assert isinstance(french_texter.send(body), list)


@pytest.mark.parametrize("path,params", [
    ("/sms", {}), ("/sms", {"Body": "AME"}), ("/sms", {"From": "+33611"}),
    ("/voice", {}), ("/voice/input", {}), ("/voice/input?s=x&n=nowhere&l=zz", {"Digits": "1"}),
    ("/voice/input", {"From": "+336", "Digits": "9" * 1000}),
    ("/voice/input", {"From": "+336", "Confidence": "abc", "SpeechResult": "oui"}),
    ("/voice/../../etc/passwd", {"From": "+336"}), ("/voice/%00", {"From": "+336"}),
])
def test_missing_or_odd_parameters_never_5xx(client, path, params):
    response = post(client, TOKEN, path, params)
    assert response.status_code == 200
    parse(response.data)


def test_huge_request_is_refused_not_crashed(client):
    params = {"From": "+336", "Body": "a" * 300_000}
    assert post(client, TOKEN, "/sms", params).status_code < 500


def test_no_phone_number_in_clear_in_redis(client, redis_client):
    texter = Texter(client, TOKEN, number="+33687654321")
    for body in ["Bonjour", "1", "AME", "CPAM 93200", "2", "STOP", "START"]:
        texter.send(body)
    caller = Caller(client, TOKEN, number="+33687654321")
    caller.call()
    caller.press("1")
    caller.press("2")
    needles = ["687654321", "33687654321", "06 87 65 43 21", "0687654321"]
    stored = redis_text(redis_client)
    assert stored
    for key, value in stored.items():
        assert not any(n in key or n in value for n in needles), (key, value)


def test_conversation_keys_expire_and_preferences_stay(french_texter, caller, redis_client):
    caller.call()
    caller.press("1")
    sessions = list(redis_client.scan_iter("hl:*:session:*"))
    answers = list(redis_client.scan_iter("hl:*:answer:*"))
    assert len(sessions) == 2 and answers
    for key in sessions + answers:
        assert 0 < redis_client.ttl(key) <= SESSION_TTL
    for key in redis_client.scan_iter("hl:*:prefs"):
        assert redis_client.ttl(key) == -1
    for key in redis_client.scan_iter("hl:stats:*"):
        assert redis_client.ttl(key) > 0


def test_every_key_of_one_person_shares_one_hash_tag(french_texter, redis_client):
    tags = {k.split(b"}")[0] for k in redis_client.scan_iter("hl:{*")}
    assert len(tags) == 1


def test_forget_erases_everything_about_a_number(app, french_texter, redis_client):
    from hotline.services import Hotline

    hl: Hotline = app.extensions["hotline"]
    assert hl.store.forget(hl.store.pid(french_texter.number)) >= 2
    assert not list(redis_client.scan_iter("hl:{*"))
    assert "2 English" in french_texter.says("AME")  # a stranger again: the language menu


def test_stats_command_shows_daily_usage_without_numbers(french_texter, redis_server, monkeypatch):
    from click.testing import CliRunner

    from hotline.cli import main

    french_texter.send("AME")
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    result = CliRunner().invoke(main, ["stats", "--days", "400"])
    assert result.exit_code == 0, result.output
    assert "node.topic.ame" in result.output and "lang.fr" in result.output
    assert "612345678" not in result.output


def test_forget_command(french_texter, redis_server, redis_client, monkeypatch):
    from click.testing import CliRunner

    from hotline.cli import main

    from .conftest import SECRET

    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("HOTLINE_SECRET", SECRET)
    result = CliRunner().invoke(main, ["forget", french_texter.number])
    assert result.exit_code == 0 and "erased" in result.output
    assert not list(redis_client.scan_iter("hl:{*"))
