"""Conversations by phone call, through the signed /voice webhooks and a real Redis."""
from __future__ import annotations

from .conftest import TOKEN
from .harness import Caller, post, said


def test_first_call_offers_each_voiced_language_in_its_own_language(caller):
    turn = caller.call()
    assert turn.gather and turn.gather["numDigits"] == "1"
    assert said("fr", "language.option") in turn.texts
    assert said("en", "language.option") in turn.texts
    assert dict(zip(turn.texts, turn.languages))[said("en", "language.option")] == "en-GB"
    assert "fr-FR" in turn.languages and "en-GB" in turn.languages
    assert turn.gather["actionOnEmptyResult"] == "true"
    assert turn.redirect and "/voice/input" in turn.redirect


def test_choosing_english_welcomes_with_emergency_numbers_and_the_main_menu(caller):
    caller.call()
    turn = caller.press("2")
    assert turn.texts[0] == said("en", "welcome") and "15" in turn.texts[0]
    assert said("en", "main.menu") in turn.text
    assert set(turn.languages) == {"en-GB"}


def test_topic_answer_repeat_and_back(caller):
    caller.call()
    caller.press("1")
    assert "Carte Vitale: 4" in caller.press("2").text
    answer = caller.press("2")
    assert "L'aide médicale de l'État" in answer.text
    # no account to send texts from (TWILIO_ACCOUNT_SID unset): no copy is offered
    assert "tapez 9" in answer.texts[-1] and "SMS" not in answer.texts[-1]
    assert caller.press("9").texts == answer.texts
    assert "Carte Vitale: 4" in caller.press("*").text
    assert said("fr", "main.menu") in caller.press("*").text


def test_returning_caller_is_greeted_in_their_language(caller):
    caller.call()
    caller.press("2")
    turn = caller.call()
    assert turn.text.startswith(said("en", "welcome"))


def test_zero_at_the_main_menu_changes_language(caller):
    caller.call()
    caller.press("1")
    turn = caller.press("0")
    assert said("en", "language.option") in turn.texts
    assert said("en", "welcome") in caller.press("2").text


def test_silence_twice_is_asked_again_then_a_polite_goodbye(caller):
    caller.call()
    caller.press("1")
    first = caller.silence()
    assert first.text.startswith("Je n'ai rien entendu") and first.gather
    second = caller.silence()
    assert second.gather
    last = caller.silence()
    assert last.hangup and last.gather is None and "Au revoir" in last.text


def test_wrong_keys_are_said_and_the_menu_again_never_an_endless_loop(caller):
    caller.call()
    caller.press("1")
    assert caller.press("7").text.startswith("Je n'ai pas compris")
    assert caller.press("#").gather
    assert caller.press("8").hangup


def test_a_good_key_resets_the_count_of_misses(caller):
    caller.call()
    caller.press("1")
    caller.press("7")
    caller.press("7")
    caller.press("2")
    assert caller.press("7").gather


def test_the_redirect_after_gather_is_a_timeout(caller, client):
    caller.call()
    turn = caller.press("1")
    path = turn.redirect.replace("http://localhost", "")
    params = {"CallSid": caller.call_sid, "From": caller.number, "To": "+33100000000"}
    response = post(client, TOKEN, path, params)
    assert b"Je n'ai rien entendu" in response.data


def test_an_unknown_path_under_voice_says_the_current_menu_again(caller, client):
    caller.call()
    caller.press("1")
    params = {"CallSid": caller.call_sid, "From": caller.number, "Digits": "3"}
    response = post(client, TOKEN, "/voice/nowhere/at/all", params)
    assert response.status_code == 200
    assert said("fr", "main.menu").encode() in response.data


def test_status_callbacks_answer_204(client):
    params = {"CallSid": "CA1", "CallStatus": "completed"}
    assert post(client, TOKEN, "/voice/status", params).status_code == 204
    params = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    assert post(client, TOKEN, "/sms/status", params).status_code == 204


def test_a_call_survives_a_lost_session(caller, redis_client):
    caller.call()
    caller.press("2")
    caller.press("2")
    for key in redis_client.scan_iter("hl:*:session:*"):
        redis_client.delete(key)
    # the action URL carries node and language: the caller hears the topics menu again
    assert "PUMA: press 1" in caller.press("9").text


def test_a_language_without_voice_is_served_by_sms(make_app):
    import responses as rsps

    app = make_app(TWILIO_ACCOUNT_SID="AC" + "0" * 32)
    app.extensions["hotline"].outbox.inline = True
    caller = Caller(app.test_client(), TOKEN)
    first = caller.call()
    assert said("fr", "language.sms_only") in first.text
    with rsps.RequestsMock() as mock:
        mock.add(rsps.POST, "https://api.twilio.com/2010-04-01/Accounts/AC" + "0" * 32 +
                 "/Messages.json", json={"sid": "SM" + "5" * 32}, status=201)
        end = caller.press("6")  # Tigrinya: no voice anywhere
        app.extensions["hotline"].outbox.last_thread.join(timeout=10)
        assert end.hangup and "Nous vous envoyons les informations par SMS" in end.text
        assert all(lang in ("fr-FR", "en-GB") for lang in end.languages)
        assert len(mock.calls) == 1


def test_a_language_without_voice_and_no_sms_account_is_told_to_text(caller):
    caller.call()
    end = caller.press("5")
    assert end.hangup and "AIDE" in end.text


def test_callers_at_the_same_menu_share_one_document_but_keep_their_own_action(client):
    """Voice TwiML is built once per (language, prompts) and kept: only the <Gather> action,
    which carries each caller's step, node and language, is put in per request."""
    from urllib.parse import parse_qs, urlsplit

    first, second = Caller(client, TOKEN, "+33698000001"), Caller(client, TOKEN, "+33698000002")
    first.call()
    second.call()
    first.press("1")
    second.press("1")
    first.press("9")  # a repeat: one step further than the second caller
    a, b = first.press("9"), second.press("9")
    assert a.texts == b.texts and a.gather["numDigits"] == b.gather["numDigits"]
    query_a = parse_qs(urlsplit(a.gather["action"]).query)
    query_b = parse_qs(urlsplit(b.gather["action"]).query)
    assert query_a["n"] == query_b["n"] == ["main"] and query_a["l"] == ["fr"]
    assert query_a["s"] != query_b["s"]
    for turn in (a, b):  # the action and the redirect (its "&t=1" escaped in the XML)
        assert turn.redirect == turn.gather["action"] + "&t=1"
        assert b"&amp;t=1" in turn.xml and b"urn:hotline" not in turn.xml
