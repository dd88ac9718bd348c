"""Translations: every language complete, CSV export and import for reviewers, words and
digits of each language, segment budgets."""
from __future__ import annotations

import csv
import io
import shutil
import unicodedata

import pytest

from hotline.content import load_script
from hotline.content.check import check, format_report
from hotline.content.script import shared_script
from hotline.content.translations import export_csv, import_csv

SCRIPT = shared_script()
SCRIPTS = {"ar": "ARABIC", "fa": "ARABIC", "ps": "ARABIC", "ti": "ETHIOPIC",
           "ru": "CYRILLIC", "uk": "CYRILLIC", "fr": "LATIN", "en": "LATIN"}


def writes_in(text: str, system: str) -> bool:
    """Whether a text is written in `system` beside the Latin keywords it lists."""
    return sum(1 for ch in text if ch.isalpha() and unicodedata.name(ch, "").startswith(system)) >= 20


def script_of(text: str) -> str:
    """The writing system most letters of a text belong to."""
    counts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "").split(" ")[0]
            counts[name] = counts.get(name, 0) + 1
    return max(counts, key=counts.get) if counts else ""


def test_the_content_check_passes():
    import datetime as dt

    report = check(SCRIPT, dt.date(2026, 11, 27))
    assert report.ok, "\n".join(format_report(report))


def test_export_then_import_round_trips(tmp_path):
    folder = tmp_path / "ivr_scripts"
    shutil.copytree(SCRIPT.root, folder)
    script = load_script(folder)
    exported = export_csv(script, "ar")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert {r["form"] for r in rows} == {"sms", "voice", "copy"}  # copy: the SMS after a call
    assert all(r["french"] for r in rows)
    for row in rows:
        if row["id"] == "invalid":
            row["review"] = "reviewed"
            if row["form"] == "sms":
                row["translation"] = "لم أفهم الإجابة."
        if row["id"] == "goodbye" and row["form"] == "sms":
            row["review"] = "reviewed"  # its voice form stays drafted
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path, taken = import_csv(script, "ar", out.getvalue())
    again = load_script(folder)
    assert again.message("ar", "invalid").sms == "لم أفهم الإجابة."
    assert again.message("ar", "invalid").review == "reviewed"
    assert again.message("ar", "goodbye").review == "drafted"
    assert again.message("ar", "topic.ame").sms == script.message("ar", "topic.ame").sms
    assert set(again.words) == set(script.words)  # command words kept


def test_import_refuses_french_and_unknown_ids():
    from hotline.content.translations import ImportError_

    with pytest.raises(ImportError_):
        import_csv(SCRIPT, "fr", "id,form,french,translation,review\n")
    with pytest.raises(ImportError_):
        import_csv(SCRIPT, "ar", "id,form,french,translation,review\nnope,sms,x,y,\n")


@pytest.mark.parametrize("key,lang", [("3", "ar"), ("4", "fa"), ("5", "ps"), ("6", "ti"),
                                      ("7", "ru"), ("8", "uk")])
def test_a_whole_sms_conversation_in_each_language(texter, key, lang):
    texter.send("Bonjour")
    menu = texter.says(key)
    assert script_of(menu) == SCRIPTS[lang], menu
    for word in ["AME", "DOCS"]:
        assert script_of(texter.says(word)) == SCRIPTS[lang]
    assert writes_in(texter.says("AIDE"), SCRIPTS[lang])  # a list of Latin keywords, glossed
    texter.send("TEST")
    for answer in ["1", "2", "4", "1", "1", "1"]:
        texter.send(answer)
    outcome = texter.says("700")
    assert script_of(outcome) == SCRIPTS[lang] and "AME" in outcome
    caisse = texter.says("CPAM 93200")
    assert "CPAM de la Seine-Saint-Denis" in caisse
    assert script_of(caisse.split("\n")[-1]) in (SCRIPTS[lang], "LATIN")


@pytest.mark.parametrize("lang", [l for l in SCRIPT.languages if l not in ("fr", "en")])
def test_each_language_has_its_own_command_words(lang, texter):
    own = [w for w, (cid, l) in SCRIPT.words.items() if l == lang]
    assert own, f"{lang} has no command words of its own"
    texter.send("Bonjour")
    texter.send(SCRIPT.languages[lang].key)
    helps = [w for w in own if SCRIPT.words[w][0] == "help"]
    if helps:
        assert writes_in(texter.says(helps[0]), SCRIPTS[lang])


def test_persian_and_arabic_digits_are_answers(texter):
    texter.send("Bonjour")
    texter.send("۴")  # Persian 4: Dari
    assert script_of(texter.says("AIDE")) == "ARABIC"
    texter.send("TEST")
    for answer in ["١", "٢", "٤", "١", "١", "١"]:  # Arabic-Indic digits
        texter.send(answer)
    assert "AME" in texter.says("۷۰۰")


def test_right_to_left_text_is_sent_as_written(texter):
    texter.send("Bonjour")
    answer = texter.says("3")
    assert SCRIPT.text("ar", "main.menu", "sms") in answer  # not reversed, not folded


@pytest.mark.parametrize("lang", list(SCRIPT.languages))
def test_topic_budgets(lang):
    from hotline.sms_segments import count, fold_for_sms

    for msg_id in ["topic.puma", "topic.ame", "topic.css", "topic.vitale", "topic.docs"]:
        text = SCRIPT.text(lang, msg_id, "sms", {"ceiling_month": "870", "part_month": "1170"})
        if SCRIPT.languages[lang].sms_fold:
            text = fold_for_sms(text)
        seg = count(text)
        assert seg.segments <= (3 if seg.encoding == "GSM-7" else 5), (lang, msg_id, seg)
