"""The dialogue core on its own: no Flask, no Twilio, no Redis."""
from __future__ import annotations

import datetime as dt

import pytest

from hotline.content import rules
from hotline.content.script import shared_script
from hotline.dialogue.engine import step
from hotline.dialogue.model import Input, Session, World
from hotline.text import as_key, as_number, as_postcode, clean, fold


@pytest.fixture(scope="module")
def script():
    return shared_script()


WORLD = World(today=dt.date(2026, 11, 27), voice_languages=("fr", "en"))


def run(script, session, channel, *inputs):
    replies = []
    for value in inputs:
        kind = "start" if value is None else ("text" if channel == "sms" else "keys")
        session, reply, _ = step(script, session, Input(channel, kind, value or ""), WORLD)
        replies.append(reply)
    return session, replies


def ids(reply):
    return [s.id for s in reply.says]


def test_step_is_pure_and_does_not_touch_its_input(script):
    session = Session(lang="fr", node="main")
    before = session.to_dict()
    first = step(script, session, Input("sms", "text", "2"), WORLD)
    second = step(script, session, Input("sms", "text", "2"), WORLD)
    assert session.to_dict() == before
    assert first[0] == second[0] and ids(first[1]) == ids(second[1]) == ["topics.menu"]


def test_a_session_copy_has_every_field_and_shares_no_container():
    """Session.copy lists the fields by hand (dataclasses.replace is slow on every turn): a
    field added to Session and forgotten there fails here."""
    import dataclasses

    values = {"lang": "ar", "opted_out": True, "node": "quiz.q2", "stack": ["main"],
              "facts": {"q1": "yes"}, "misses": 2, "step": 7, "pending": {"resume": "x"}}
    assert set(values) == {f.name for f in dataclasses.fields(Session)}
    original = Session(**values)
    copy = original.copy()
    assert copy == original
    for name in ("stack", "facts", "pending"):
        assert getattr(copy, name) is not getattr(original, name)


def test_every_step_advances_the_step_counter(script):
    session, _ = run(script, Session(lang="fr"), "sms", "AIDE", "MENU", "2")
    assert session.step == 3


def test_back_stack_is_bounded(script):
    session = Session(lang="fr", node="main")
    for _ in range(100):
        session, _ = run(script, session, "sms", "2", "1")
    assert len(session.stack) <= 30


def test_resume_after_a_dropped_call(script):
    session = Session(lang="fr", node="quiz.q3", stack=["main", "quiz.q1", "quiz.q2"],
                      facts={"territory": "metro"})
    session, (offer,) = run(script, session, "voice", None)
    assert ids(offer) == ["resume.offer"]
    session, (back,) = run(script, session, "voice", "1")
    assert ids(back) == ["quiz.q3"] and session.facts == {"territory": "metro"}


def test_resume_declined_starts_again(script):
    session = Session(lang="fr", node="quiz.q3", facts={"territory": "metro"})
    session, (offer, fresh) = run(script, session, "voice", None, "2")
    assert ids(fresh) == ["welcome", "main.menu"] and session.facts == {}


def test_a_call_in_a_language_without_voice_starts_at_the_language_menu(script):
    session, (reply,) = run(script, Session(lang="ps"), "voice", None)
    assert [(s.id, s.lang) for s in reply.says] == [
        ("language.option", "fr"), ("language.option", "en"),
        ("language.sms_only", "fr"), ("language.sms_only", "en")]


def test_opted_out_is_silent_until_start(script):
    session, replies = run(script, Session(lang="en"), "sms", "STOP", "AME", "START")
    assert ids(replies[0]) == ["stop.confirm"] and replies[0].expect is None
    assert replies[1].silent
    assert ids(replies[2])[0] == "start.confirm" and not session.opted_out


@pytest.mark.parametrize("text,expected", [
    ("1200", 1200), ("1 200 €", 1200), ("1.200 euros", 1200), ("850,50", 850),
    ("0", 0), ("۱۲۰۰", 1200), ("١٢٠٠ €", 1200), ("1200/mois", 1200), ("abc", None),
    ("12a", None), ("-5", None), ("", None), ("1" * 12, None),
])
def test_numbers_as_people_type_them(text, expected):
    assert as_number(clean(text)) == expected


def test_keys_postcodes_and_folding():
    assert as_key(" 1. ") == "1" and as_key("*") == "*" and as_key("12") is None
    assert as_postcode("93 200") == "93200" and as_postcode("932000") is None
    assert fold("  Arrêt ") == "ARRET" and fold("éàù") == "EAU"
    assert clean("a\x00b\u200bc\nd") == "abc d" and len(clean("x" * 10000)) == 1600


def test_ceilings_follow_the_coefficients_and_the_date():
    params = shared_script().parameters
    spring = rules.ceilings(params, "metro", 1, dt.date(2026, 3, 31))
    april = rules.ceilings(params, "metro", 1, dt.date(2026, 4, 1))
    assert spring["ceiling_free_year"] == 10339 and spring["ceiling_confirmed"]
    assert april["ceiling_free_year"] == 10421 and not april["ceiling_confirmed"]
    assert rules.ceilings(params, "metro", 5, dt.date(2026, 4, 1))["ceiling_free_year"] == 26052
    assert rules.ceilings(params, "metro", 2, dt.date(2025, 6, 1))["ceiling_free_year"] == 15508
    assert rules.ceilings(params, "dom", 1, dt.date(2026, 4, 1))["ceiling_free_year"] == 11598
    assert rules.ceilings(params, "metro", 1, dt.date(2026, 4, 1))["ceiling_part_year"] == 14068


def test_conditions():
    facts = {"a": 5, "b": 10, "path": "ame_check"}
    assert rules.holds(["a", "<=", "$b"], facts)
    assert rules.holds(["b", "<=", "$a*2"], facts)
    assert not rules.holds(["missing", "<", 3], facts)
    assert rules.holds({"all": [["path", "==", "ame_check"], {"any": [["a", ">", 9], ["b", ">", 9]]}]}, facts)
    with pytest.raises(ValueError):
        rules.holds({"none": []}, facts)


def test_a_say_carries_only_the_values_its_words_use(script):
    """Two people who get the same words get equal Says, whatever else they told us: the
    channels reuse what they rendered for a Say, so stray facts would defeat that."""
    after_quiz = Session(lang="fr", node="main", facts={"household": 3, "income": 700,
                                                         "territory": "metro"})
    stranger = Session(lang="fr", node="main")
    _, [ame_a] = run(script, after_quiz, "sms", "AME")
    _, [ame_b] = run(script, stranger, "sms", "AME")
    assert ame_a.says == ame_b.says
    [topic] = [s for s in ame_a.says if "ceiling_month" in s.values]
    # this year's amounts (mainland and overseas), nothing else
    assert set(topic.values) == {"ceiling_month", "ceiling_month_dom"}
    _, [help_a] = run(script, after_quiz, "sms", "AIDE")
    assert all(not s.params for s in help_a.says)
