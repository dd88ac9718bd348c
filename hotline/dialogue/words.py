"""A text message in: opt-out and opt-in first, then the first contact's language, then
the SMS words (AIDE, AME, CPAM 93200, LANG ar...), else an answer to the current prompt."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..content.code_messages import M
from ..content.schema import NumberNode, PostcodeNode
from ..content.script import Command
from ..text import as_key, as_postcode, fold
from .events import LanguageChanged, OptedIn, OptedOut
from .model import Reply, Say
from .nodes import choose_language, lookup_postcode

if TYPE_CHECKING:
    from .engine import Turn

Match = tuple[Command, str, "str | None"]  # the command, the word after it, its language


def on_text(t: Turn) -> Reply:
    s, text = t.s, t.input.value
    match = command_in(t, text)
    if s.opted_out and match is None and fold(text) in t.script.opted_out_words:
        # YES opts back in only a person who opted out; elsewhere it answers a question
        match = (t.script.commands[t.script.opted_out_words[fold(text)]], "", None)
    if match and match[0].action == "opt_out":
        if s.opted_out:
            return Reply(silent=True, expect=None)
        s.opted_out = True
        t.emit(OptedOut())
        return Reply([Say.of(M.STOP_CONFIRM, lang=s.lang or match[2] or "fr")], expect=None)
    if match and match[0].action == "opt_in":
        was_out = s.opted_out
        s.opted_out = False
        if was_out:
            t.emit(OptedIn())
        s.lang = s.lang or match[2] or "fr"
        return t.enter(t.script.main, push=False, says=[Say.of(M.START_CONFIRM)])
    if s.opted_out:
        return Reply(silent=True, expect=None)
    if s.lang is None:
        return first_contact(t, text, match)
    if match:
        return run(t, match)
    if not text:
        return t.with_first([Say.of(M.HELP_SHORT)], t.present_current())
    return t.answer(text)


def first_contact(t: Turn, text: str, match: Match | None) -> Reply:
    """No language yet: the language menu; a command waits for the choice."""
    s, script = t.s, t.script
    if match and match[0].takes == "language":
        code = language_named(t, match[1])
        if code:
            return choose_language(t, code)
    if s.node == script.language_node:
        key = as_key(text)
        code = script.by_key(key) if key else None
        if code:
            return choose_language(t, code)
        if match:
            s.lang = match[2] or "fr"
            t.emit(LanguageChanged(s.lang))
            return run(t, match)
    elif match or as_postcode(text):
        s.pending["after_language"] = text
    if s.node != script.language_node:
        t.arrive(script.language_node, push=False)
    return t.present(script.nodes[script.language_node])


def command_in(t: Turn, text: str) -> Match | None:
    """The SMS command a text is, if any (a bare postcode is `CPAM <postcode>`)."""
    script = t.script
    node = script.node(t.s.node)
    match = script.match_command(text)
    if match and match[0].goto == script.main and fold(text) == "0" and node is not None \
            and node.zero and node.zero != script.main:
        return None  # here 0 leads elsewhere (urgent care in the questionnaire)
    if match is None and not isinstance(node, (NumberNode, PostcodeNode)):
        postcode = as_postcode(text)
        if postcode and "cpam" in script.commands:
            return script.commands["cpam"], postcode, None
    return match


def words_at_a_prompt(t: Turn, text: str) -> Reply | None:
    """An SMS word typed where a number is awaited ("AME" at the income question)."""
    match = command_in(t, text) if t.policy.takes_words else None
    return run(t, match) if match else None


def run(t: Turn, match: Match) -> Reply:
    cmd, arg, _ = match
    if cmd.takes == "language":
        code = language_named(t, arg) if arg else None
        if code:
            t.s.lang = code
            t.emit(LanguageChanged(code))
            return t.enter(t.script.main, push=False, says=[Say.of(M.LANGUAGE_CHANGED)])
        return t.enter(t.script.language_node)
    assert cmd.goto is not None  # the schema: a command without action goes somewhere
    if cmd.takes == "postcode" and arg:
        return lookup_postcode(t, arg, t.script.nodes[cmd.goto])
    return t.enter(cmd.goto)


def language_named(t: Turn, word: str) -> str | None:
    wanted = fold(word)
    for lang in t.script.languages.values():
        if wanted in (fold(lang.code), lang.key, fold(lang.name), fold(lang.english_name)):
            return lang.code
    return None
