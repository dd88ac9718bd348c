"""Editing mistakes a social worker can make in ivr_scripts/, each caught by the content
check with the file, the line and what to do; and behaviour that no file name drives."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from hotline.content.check import check_content
from hotline.content.script import ContentError, default_script_dir, load_script, read_script
from hotline.dialogue.engine import step
from hotline.dialogue.model import Input, Session, World

TODAY = dt.date(2026, 11, 27)
LANGS = ("fr", "en", "ar", "fa", "ps", "ti", "ru", "uk")


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    """A copy of ivr_scripts/'s YAML files to break."""
    root = default_script_dir()
    for path in root.rglob("*.yaml"):
        target = tmp_path / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return tmp_path


def edit(root: Path, name: str, old: str, new: str, count: int = 1) -> None:
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}: the test needs updating"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def faults(root: Path) -> list[str]:
    return check_content(root, TODAY).faults


def line_of(root: Path, name: str, needle: str) -> int:
    lines = (root / name).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


# (file, text, replacement, what the fault must say)
MISTAKES = [
    ("flow/menus.yaml", "topic.puma: {type: answer, message: topic.puma}",
     "topic.puma: {type: answer, mesage: topic.puma}", "unknown key `mesage`"),
    ("flow/menus.yaml", '"5": topic.docs', '"5": topic.dosc', "leads to 'topic.dosc'"),
    ("flow/menus.yaml", "prompt: main.menu", "prompt: main.menuu", "says 'main.menuu'"),
    ("flow/menus.yaml", '      "4": comede\n', '      "4": comede\n      "4": topics\n',
     "`4` is written twice"),
    ("flow/quiz.yaml", "min: 1\n    max: 20", "min: 30\n    max: 20", "`min` (30) is above `max` (20)"),
    ("flow/quiz.yaml", "min: 1\n", "min: one\n", "`min`"),
    ("flow/quiz.yaml", "    type: question\n    prompt: quiz.q1", "    type: questoin\n    prompt: quiz.q1",
     "unknown node type 'questoin'"),
    ("flow/quiz.yaml", "    else: quiz.out.ame_over\n", "\n", "no way out"),
    ("flow/quiz.yaml", '"3": {set: {territory: mayotte}, next: quiz.out.may}',
     '"3": {set: {territory: mayotte}, nxt: quiz.out.may}', "unknown key `nxt`"),
    ("flow/quiz.yaml", '[income_year, "<=", $ceiling_free_year]', '[income_year, "=<", $ceiling_free_year]',
     "when"),
    ("flow/menus.yaml", "  topic.docs: {type: answer, message: topic.docs}",
     "  topic.docs: {type: answer, message: topic.docs}\n  topic.old: {type: answer, message: topic.docs}",
     "topic.old cannot be reached"),
    ("settings.yaml", "main: main ", "main: mian ", "places.main: there is no node 'mian'"),
    ("settings.yaml", "  other: {gsm7: 3, ucs2: 5}", "", "`other`"),
    ("commands.yaml", "goto: topic.ame", "goto: topic.amee", "goes to 'topic.amee'"),
    ("commands.yaml", "  css:      {words: [CSS], goto: topic.css}",
     "  css:      {words: [CSS], goto: topic.css, also: 1}", "unknown key `also`"),
    ("messages/fr.yaml", '"yes": [OUI', "yes: [OUI", "in quotes"),
    ("messages/fr.yaml", "  sms.queued:", "  sms.queud:", "message 'sms.queued' is missing"),
    ("messages/fr.yaml", "  help.short:\n    sms:", "  help.short:\n    smss:", "unknown key `smss`"),
    ("messages/en.yaml", "\"yes\": [\"YES\"", "\"yes\": [YES", "in quotes"),
    ("messages/fr.yaml", "  goodbye:\n", "  goodbye:\n    voise: x\n", "unknown key `voise`"),
    ("messages/en.yaml", 'sms: "2 English"', 'sms: "2 English', "cannot be read"),
    ("languages.yaml", "sms_fold: true", "sms_fold: maybe", "sms_fold"),
]


@pytest.mark.parametrize("name,old,new,says", MISTAKES, ids=[m[3][:40] for m in MISTAKES])
def test_an_editing_mistake_is_a_fault_with_its_file(scripts, name, old, new, says):
    edit(scripts, name, old, new)
    found = faults(scripts)
    assert any(says in f and name in f for f in found), found


def test_a_fault_names_the_line_to_fix(scripts):
    edit(scripts, "flow/menus.yaml", "topic.puma: {type: answer, message: topic.puma}",
         "topic.puma: {type: answer, mesage: topic.puma}")
    line = line_of(scripts, "flow/menus.yaml", "mesage")
    assert any(f.startswith(f"flow/menus.yaml:{line}: ") for f in faults(scripts))


def test_messages_the_code_needs_deleted_in_every_language_stop_the_load(scripts):
    for lang in LANGS:
        edit(scripts, f"messages/{lang}.yaml", "  cpam.town:", "  cpam.towns:")
    with pytest.raises(ContentError, match="'cpam.town' is missing"):
        load_script(scripts)


def test_a_message_missing_in_one_language_is_a_fault(scripts):
    edit(scripts, "messages/ru.yaml", "  sms.queued:", "  sms.queuedd:")
    assert any("ru sms.queued: missing" in f for f in faults(scripts))


def test_a_message_nothing_says_is_reported(scripts):
    text = (scripts / "messages/fr.yaml").read_text(encoding="utf-8")
    (scripts / "messages/fr.yaml").write_text(text + '  old.unused: "Plus utilisé."\n',
                                                 encoding="utf-8")
    report = check_content(scripts, TODAY)
    assert any("old.unused: nothing says this message" in n for n in report.notes)


def test_the_real_content_has_no_fault():
    script, found = read_script()
    assert script is not None and found == []


def _zero_in_the_questionnaire(root: Path) -> list[str]:
    script = load_script(root)
    session = Session(lang="fr", node="main")
    world = World(today=TODAY)
    for text in ("TEST", "1", "0"):
        session, reply, _ = step(script, session, Input("sms", "text", text), world)
    return [s.id for s in reply.says]


def test_renaming_a_flow_file_changes_nothing_callers_get(scripts):
    before = _zero_in_the_questionnaire(scripts)
    (scripts / "flow/quiz.yaml").rename(scripts / "flow/zz-eligibility.yaml")
    (scripts / "flow/menus.yaml").rename(scripts / "flow/a-main.yaml")
    assert faults(scripts) == []
    assert _zero_in_the_questionnaire(scripts) == before == ["quiz.out.urg"]


def test_what_zero_means_is_an_attribute_of_the_flow(scripts):
    edit(scripts, "flow/quiz.yaml", "zero: quiz.out.urg", "zero: main")
    assert _zero_in_the_questionnaire(scripts) == ["main.menu"]
