"""Where to go: the caisse by postcode, Comede, the note to show at the counter."""
from __future__ import annotations

import csv
import shutil

import pytest
import responses as rsps

from hotline.directory import DEFAULT_FOLDER, Directory
from hotline.sms_segments import count

from .conftest import TOKEN, paris
from .harness import Caller, said

ACCOUNT = "AC" + "0" * 32
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"


@pytest.mark.parametrize("text", ["CPAM 93200", "cpam 93 200", "93200", " 93200 "])
def test_caisse_by_postcode(french_texter, text):
    answer = french_texter.says(text)
    assert "93200 Saint-Denis (Seine-Saint-Denis)" in answer
    assert "CPAM de la Seine-Saint-Denis" in answer and "BOBIGNY" in answer
    assert "36 46" in answer


def test_multi_caisse_departement_lists_them_all_and_sends_to_36_46(french_texter):
    answer = french_texter.says("CPAM 59000")
    assert "plusieurs caisses" in answer
    assert "Roubaix-Tourcoing" in answer and "Hainaut" in answer
    assert "36 46" in answer


def test_unconfirmed_address_says_check_by_calling_36_46(french_texter):
    answer = french_texter.says("CPAM 69001")
    assert said("fr", "cpam.check", "sms") in answer and "36 46" in answer
    assert "(liste de 2014)" in answer  # the source's date is said with the address


@pytest.mark.parametrize("code,expected", [
    ("20000", "Corse-du-Sud"), ("20200", "Haute-Corse"), ("97100", "Guadeloupe"),
    ("97200", "Martinique"), ("97300", "Guyane"), ("97400", "Réunion"), ("97600", "Mayotte"),
    ("97150", "Saint-Martin"),
])
def test_corsica_and_overseas(french_texter, code, expected):
    answer = french_texter.says(f"CPAM {code}")
    assert expected in answer, answer


def test_a_caisse_without_a_number_gets_none_made_up(french_texter):
    answer = french_texter.says("CPAM 97200")  # no phone in the data for Martinique
    assert "Tél" not in answer


@pytest.mark.parametrize("text,expected", [
    ("CPAM 93018", "pas connu"), ("CPAM 00000", "pas connu"), ("CPAM 98000", "ne connait pas"),
    ("CPAM 9320", "5 chiffres"), ("CPAM abc", "5 chiffres"),
])
def test_cedex_unknown_monaco_and_garbage(french_texter, text, expected):
    answer = french_texter.says(text)
    assert expected in answer and "code postal" in answer


def test_cpam_without_a_postcode_asks_for_it(french_texter):
    assert "Envoyez le code postal" in french_texter.says("CPAM")
    assert "CPAM de la Seine-Saint-Denis" in french_texter.says("93200")


def test_comede_by_sms(french_texter):
    answer = french_texter.says("COMEDE")
    assert "Comede: association" in answer and "78 rue du Général Leclerc" in answer
    assert "PIMMS" in answer and "travailleurs sociaux" in answer  # the other free help
    # no number could be verified: none is given (the 2005 one is not said as if right)
    assert "38 40" not in answer and "pas encore de numéro de téléphone vérifié" in answer


def test_comede_after_a_postcode_gives_the_nearest_first(french_texter):
    french_texter.send("94270")
    answer = french_texter.says("comede")
    # the nearest centre has no verified number: nothing is dialled or read out as one
    assert "Le plus proche de chez vous" not in answer and "38 40" not in answer
    assert "pas encore de numéro de téléphone vérifié" in answer


def test_voice_postcode_is_read_back_then_the_caisse_is_said_slowly(caller):
    caller.call()
    caller.press("1")
    prompt = caller.press("3")
    assert "cinq chiffres" in prompt.text and prompt.gather["numDigits"] == "5"
    check = caller.press("93200")
    assert "Saint-Denis, Seine-Saint-Denis" in check.text and check.gather["numDigits"] == "1"
    again = caller.press("2")
    assert "cinq chiffres" in again.text
    caller.press("93200")
    caisse = caller.press("1")
    assert "CPAM de la Seine-Saint-Denis" in caisse.text
    assert "9 3 0 1 8" in caisse.text and "3 6, 4 6" in caisse.text
    assert caller.press("9").texts == caisse.texts


def test_voice_wrong_postcode_is_asked_again(caller):
    caller.call()
    caller.press("1")
    caller.press("3")
    assert "n'est pas connu" in caller.press("00000").text


@pytest.fixture
def sms_app(make_app):
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT)
    app.extensions["hotline"].outbox.inline = True
    return app


def _sent_bodies(mock) -> list[str]:
    from urllib.parse import parse_qs

    return [parse_qs(call.request.body)["Body"][0] for call in mock.calls]


def _wait(app):
    thread = app.extensions["hotline"].outbox.last_thread
    if thread:
        thread.join(timeout=10)


def test_sms_for_the_counter_after_a_call_in_english_and_french(sms_app):
    caller = Caller(sms_app.test_client(), TOKEN)
    with rsps.RequestsMock() as mock:
        mock.add(rsps.POST, MESSAGES_URL, json={"sid": "SM" + "2" * 32}, status=201)
        caller.call()
        caller.press("2")  # English
        caller.press("1")  # questionnaire
        for key in ["1", "2", "4", "1", "1", "1", "700"]:
            caller.press(key)
        caller.press("3")  # find my CPAM
        caller.press("93200")
        caller.press("1")
        turn = caller.press("1")  # send it to me by SMS
        assert "sending you this message by SMS" in turn.text
        _wait(sms_app)
        bodies = _sent_bodies(mock)
    text = "\n".join(bodies)
    # issue 15: the caisse and the answer's short `copy` form in English, then for the staff
    # the answer's French copy form in an SMS of its own (GSM-7), within 4 segments in all
    french = "1re demande en personne"
    intro = said("en", "counter.intro", "sms")
    assert intro in text and french in text
    assert text.count("CPAM de la Seine-Saint-Denis") == 1
    assert "cerfa 11573" in text
    assert text.index(intro) < text.index(french)
    assert bodies[-1].startswith("AME, 1re demande") and count(bodies[-1]).encoding == "GSM-7"
    assert sum(count(b).segments for b in bodies) <= 4


def test_sms_copies_are_rate_limited_per_number(sms_app):
    caller = Caller(sms_app.test_client(), TOKEN)
    with rsps.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(rsps.POST, MESSAGES_URL, json={"sid": "SM" + "3" * 32}, status=201)
        caller.call()
        caller.press("1")
        caller.press("2")
        caller.press("2")  # AME topic
        for _ in range(5):
            caller.press("1")
            _wait(sms_app)
        sent = len(mock.calls)
    assert sent == 3  # HOTLINE_OUTBOUND_LIMIT


def test_no_account_sid_means_no_sms_and_the_caller_is_told(caller):
    caller.call()
    caller.press("1")
    caller.press("2")
    caller.press("2")
    assert "pas possible" in caller.press("1").text


@pytest.fixture
def open_comede(tmp_path):
    folder = tmp_path / "directory"
    shutil.copytree(DEFAULT_FOLDER, folder)
    rows = list(csv.DictReader((folder / "comede.csv").read_text(encoding="utf-8").splitlines()))
    for row in rows:
        if row["record_id"] == "C01":  # the one data edit an operator makes once verified
            row["phone"] = "01 45 21 38 40"
            row["opening_hours"] = "mon-fri 09:00-17:00"
            row["status"] = "VERIFIED 2026-11-29 (test)"
    with open(folder / "comede.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return Directory.load(folder)


@pytest.mark.parametrize("when,connects", [(paris(2026, 11, 27, 10), True),
                                           (paris(2026, 11, 28, 10), False)])
def test_comede_by_voice_connects_when_open(make_app, open_comede, when, connects):
    app = make_app(CLOCK=lambda: when)
    app.extensions["hotline"].directory = open_comede
    caller = Caller(app.test_client(), TOKEN)
    caller.call()
    caller.press("1")
    turn = caller.press("4")
    assert ("tapez 2" in turn.text) == connects
    if connects:
        end = caller.press("2")
        assert end.gather is None and b"<Dial" in end.xml and b"+33145213840" in end.xml
        stats = app.extensions["hotline"].store.stats(when.date())
        assert stats["dial.requested"] == 1  # counted from the dial event
    else:
        assert "mon-fri 09:00-17:00" in turn.text
        assert caller.press("2").text.startswith("Je n'ai pas compris")
