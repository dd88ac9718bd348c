"""Issue 13, the dialogue engine's part (implemented in hotline/dialogue/engine.py by the
engine's rewrite): opt-out and opt-in words agreed with Twilio's, YES opting in only a
person who opted out, no promise of an SMS copy to whom none can go, Pashto and Tigrinya
named in the voice language menu. Signed webhooks, like the other tests."""
from __future__ import annotations

import datetime as dt

import pytest
import responses as rsps

from hotline.audio_build import build
from hotline.content.script import shared_script

from .conftest import TOKEN
from .harness import Caller, Texter

ACCOUNT = "AC" + "0" * 32
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
LANDLINE = "+33145213840"
# What the engine's rewrite implements; strict: remove the mark once it passes.


@pytest.mark.parametrize("word", ["STOP", "stopall", "Unsubscribe", "CANCEL", "END", "QUIT",
                                  "REVOKE", "OPTOUT", "ARRET", "Arrêt", "توقف", "СТОП"])
def test_every_opt_out_word_opts_out_once_then_silence(french_texter, word):
    assert "START" in french_texter.says(word)
    assert french_texter.send("AME") == []


@pytest.mark.parametrize("word", ["START", "UNSTOP", "YES", "yes"])
def test_start_unstop_and_yes_opt_back_in(french_texter, word):
    french_texter.send("STOP")
    assert french_texter.send(word) != []
    assert "AME" in french_texter.says("AME")


def test_yes_from_a_person_who_did_not_opt_out_answers_the_question(english_texter):
    english_texter.send("TEST")
    english_texter.send("1")  # metropolitan France
    after = english_texter.says("YES")  # "a child under 18?" yes
    assert "reactivated" not in after.lower() and "Messages" not in after.split()[0]
    assert "child" in after.lower()


def _topic_answer(caller: Caller):
    caller.call()
    caller.press("1")
    caller.press("2")
    return caller.press("2")  # the AME answer, with its footer


def test_a_landline_caller_is_not_offered_an_sms_copy(make_app):
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT)
    answer = _topic_answer(Caller(app.test_client(), TOKEN, LANDLINE))
    assert "SMS" not in answer.texts[-1] and "tapez 9" in answer.texts[-1]


def test_a_withheld_caller_is_not_offered_an_sms_copy(make_app):
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT)
    answer = _topic_answer(Caller(app.test_client(), TOKEN, "anonymous"))
    assert "SMS" not in answer.texts[-1]


def test_a_person_who_opted_out_is_not_offered_an_sms_copy(make_app):
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT)
    client = app.test_client()
    texter = Texter(client, TOKEN, "+33612345678")
    texter.send("Bonjour")
    texter.send("1")
    texter.send("STOP")
    caller = Caller(client, TOKEN, "+33612345678")
    caller.call()  # French remembered: the main menu
    caller.press("2")
    answer = caller.press("2")
    assert "SMS" not in answer.texts[-1]
    with rsps.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(rsps.POST, MESSAGES_URL, json={"sid": "SM" + "1" * 32}, status=201)
        turn = caller.press("1")
        assert not mock.calls
    assert "Nous vous envoyons" not in turn.text


def test_a_landline_caller_choosing_pashto_is_told_to_text_not_promised_an_sms(make_app):
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT)
    caller = Caller(app.test_client(), TOKEN, LANDLINE)
    caller.call()
    with rsps.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(rsps.POST, MESSAGES_URL, json={"sid": "SM" + "1" * 32}, status=201)
        end = caller.press("5")
        assert not mock.calls
    assert "Nous vous envoyons" not in end.text and "AIDE" in end.text


@pytest.mark.skipif(not __import__("shutil").which("espeak-ng"), reason="needs espeak-ng")
def test_the_voice_language_menu_names_pashto_and_tigrinya_in_a_voice_they_understand(
        make_app, tmp_path):
    build(shared_script(), tmp_path, dt.date(2026, 11, 27), offline=True, langs=["ps", "ti"])
    app = make_app(HOTLINE_AUDIO_DIR=str(tmp_path))
    turn = Caller(app.test_client(), TOKEN).call()
    assert any("/audio/ps/language.sms_option-" in url for url in turn.plays)
    assert any("/audio/ti/language.sms_option-" in url for url in turn.plays)
