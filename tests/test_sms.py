"""Conversations by text message, through the signed /sms webhook and a real Redis."""
from __future__ import annotations

import pytest

from hotline.sms_segments import count


def test_first_text_gets_the_language_menu_in_each_languages_own_script(texter):
    menu = texter.says("Bonjour")
    for line in ["1 Français", "2 English", "3 العربية", "4 دری / فارسی", "5 پښتو",
                 "6 ትግርኛ", "7 Русский", "8 Українська"]:
        assert line in menu


def test_choosing_french_gives_the_main_menu_with_emergency_numbers(texter):
    texter.send("Salut")
    menu = texter.says("1")
    assert "1 Vos droits" in menu and "3 Trouver ma CPAM" in menu
    assert "15 ou 112" in menu


def test_choosing_english_then_texting_ame(texter):
    texter.send("hi")
    assert "Reply with a number" in texter.says("2")
    answer = texter.says("ame")
    assert answer.startswith("AME (aide médicale de l'État)")
    assert "3 months" in answer and "in person" in answer


def test_a_command_as_first_text_is_answered_after_the_language_choice(texter):
    menu = texter.says("AME")
    assert "2 English" in menu
    answer = texter.says("2")
    assert answer.startswith("AME (aide médicale")
    assert "care paid 100%" in answer


@pytest.mark.parametrize("word,start", [
    ("PUMA", "PUMA (sécurité sociale)"), ("secu", "PUMA (sécurité sociale)"),
    ("Ame", "AME (aide médicale"), ("css", "CSS ou C2S (complémentaire"),
    ("VITALE", "Carte Vitale"), ("carte", "Carte Vitale"), ("docs", "Documents PUMA"),
    ("documents", "Documents PUMA"), ("  aide ", "Mots-clés"), ("HELP", "Mots-clés"),
    ("?", "Mots-clés"), ("menu", "Répondez par un chiffre"), ("0", "Répondez par un chiffre"),
])
def test_commands_ignore_case_accents_and_spaces(french_texter, word, start):
    assert french_texter.says(word).startswith(start)


def test_topics_by_number_back_and_repeat(french_texter):
    assert "5 Documents" in french_texter.says("2")
    assert french_texter.says("4").startswith("Carte Vitale")
    assert french_texter.says("9").startswith("Carte Vitale")
    assert "5 Documents" in french_texter.says("*")
    assert "1 Vos droits" in french_texter.says("*")


def test_a_digit_after_an_answer_picks_from_the_menu_it_came_from(french_texter):
    french_texter.send("2")
    assert french_texter.says("1").startswith("PUMA")
    assert french_texter.says("3").startswith("CSS")


def test_language_commands(french_texter):
    assert "8 Українська" in french_texter.says("LANGUE")
    assert "Reply with a number" in french_texter.says("2")
    assert french_texter.says("LANG fr").startswith("Langue: francais")
    assert "Language: English" in french_texter.says("language en")
    assert french_texter.says("langue 1").startswith("Langue: francais")


def test_stop_confirms_once_then_silence_until_start(french_texter):
    assert "START" in french_texter.says("STOP")
    assert french_texter.send("AME") == []
    assert french_texter.send("arrêt") == []
    assert french_texter.send("STOP") == []
    assert "réactivés" in french_texter.says("start")
    assert french_texter.says("AME").startswith("AME")


@pytest.mark.parametrize("word", ["ARRET", "Arrêt", "stopall", "UNSUBSCRIBE"])
def test_every_stop_word_opts_out(french_texter, word):
    assert french_texter.send(word)
    assert french_texter.send("aide") == []


def test_stop_from_an_unknown_number_is_confirmed_and_respected(texter):
    assert "START" in texter.says("STOP")
    assert texter.send("Bonjour") == []


def test_anything_else_gets_the_short_help(french_texter):
    assert french_texter.says("je ne sais pas").startswith("Message non compris")
    assert french_texter.says("🙂🙂").startswith("Message non compris")


def test_an_invalid_key_at_a_menu_says_so_and_shows_the_menu(french_texter):
    answer = french_texter.says("7")
    assert answer.startswith("Réponse non comprise") and "1 Vos droits" in answer


def test_language_is_remembered_across_sessions(french_texter, redis_client):
    for key in redis_client.scan_iter("hl:*:session:*"):
        redis_client.delete(key)  # the conversation expired; the preference stays
    assert french_texter.says("aide").startswith("Mots-clés")


@pytest.mark.parametrize("lang,first", [("1", "Bonjour"), ("2", "Hello")])
@pytest.mark.parametrize("word", ["PUMA", "AME", "CSS", "VITALE", "DOCS", "AIDE"])
def test_each_answer_fits_three_gsm7_segments(texter, lang, first, word):
    texter.send(first)
    texter.send(lang)
    for body in texter.send(word):
        segments = count(body)
        assert segments.encoding == "GSM-7", body
        assert segments.segments <= 3, (word, segments)


def test_french_sms_are_folded_to_gsm7_but_keep_their_meaning(french_texter):
    answer = french_texter.says("VITALE")
    assert "être" not in answer and count(answer).encoding == "GSM-7"
    assert "mise à jour" in answer.lower()  # à is GSM-7 and stays


def test_preferences_of_an_earlier_version_hold_through_the_webhook(app, texter, redis_client):
    """Preferences an earlier version stored as a hash: the opt-out holds from the first
    text after the upgrade, and the language stays chosen."""
    store = app.extensions["hotline"].store
    redis_client.hset(store.prefs_key(store.pid(texter.number)),
                      mapping={"opted_out": "1", "lang": "ti"})
    assert texter.send("AME") == []
    assert texter.send("aide") == []
    assert "START" not in "".join(texter.send("STOP"))  # still out: nothing to confirm
    texter.send("START")
    assert store.load(store.pid(texter.number), "sms", None)[0].lang == "ti"
