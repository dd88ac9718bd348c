"""How long a call takes to listen to: per voiced language, the longest path from the call's
start to each answer, the longest menu or question, the longest spoken answer.

A prompt's length is the length of its rendered audio when `hotline audio build` made it
(the manifest keeps each file's seconds), else its text: its characters at the language's
speaking rate (`settings.yaml` `voice_time.rates`, characters per second) plus a pause at each
':', '.', ',', '?' and the like (`voice_time.pause`, seconds each): a terse menu has many
pauses per character, which a rate alone undercounts. Both are fitted to rendered audio
(`fit`, `hotline audio fit`). The path is what a
first-time caller hears when listening to every prompt: the language menu, the welcome and
the main menu, then each menu or question on the way, then the answer (an outcome with every
addition the facts on that way allow: the engine says all that hold; without the footer
that says which keys do what).
Budgets are in `settings.yaml` `voice_time`; the content check turns an excess into a fault.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..text import FRENCH_MARK, fill, plain
from . import paths, rules
from .code_messages import M
from .schema import (
    AnswerNode,
    CaisseNode,
    ComedeNode,
    LanguageNode,
    NodeBase,
    NumberNode,
    OutcomeNode,
    PostcodeNode,
    WithOptions,
)
from .script import REFERENCE_LANG, Script

# Values said inside messages, as long as typical ones (a caisse, a Comede centre)
SAMPLES = {"town": "Saint-Denis", "departement": "Seine-Saint-Denis", "postcode": "93200",
           "name": "CPAM de la Seine-Saint-Denis", "phone": "01 45 21 38 40",
           "address": "CPAM 93, CS 60300, 93018 Bobigny Cedex", "hours": "lundi à vendredi"}

# where a voice pauses: sentence and clause marks, Latin and Arabic-script (، ؛ ؟), and the
# full stop of Ethiopic script (።, ፣)
PAUSES = re.compile(r"[.:,;?!…،؛؟።፣]+")

Seconds = Callable[[str, str], "float | None"]  # (lang, spoken text) -> seconds of its audio


@dataclass
class LanguageTiming:
    lang: str
    # "audio" when every message measured has rendered audio, "text" when none has, else
    # "audio (N of M messages by their text)" (messages with amounts filled in are said with no audio file)
    source: str
    longest_path: float = 0.0
    longest_path_to: str = ""
    path: list[str] = field(default_factory=list)
    longest_prompt: float = 0.0
    longest_prompt_id: str = ""
    longest_answer: float = 0.0
    longest_answer_id: str = ""
    paths: dict[str, float] = field(default_factory=dict)  # answer node -> seconds to hear it


class Clock:
    """Seconds of a message in a language: its audio when rendered, else its text."""

    def __init__(self, script: Script, today: dt.date, audio_seconds: Seconds | None = None):
        self.script, self.audio_seconds = script, audio_seconds
        rates = script.voice_time.rates if script.voice_time else {}
        self.rates = rates
        self.pause = script.voice_time.pause if script.voice_time else {}
        self.values = {**SAMPLES, **{k: str(v) for k, v in
                                     rules.reference_amounts(script.parameters, today).items()}}
        self.values.update(_ceilings(script, today))
        self.from_text: set[str] = set()
        self.from_audio: set[str] = set()

    def seconds(self, lang: str, msg_id: str) -> float:
        msg = self.script.message(lang, msg_id) or self.script.message("fr", msg_id)
        if msg is None:
            return 0.0
        text = fill(msg.text("voice"), self.values, missing="1234").strip()
        if self.audio_seconds is not None:
            found = self.audio_seconds(lang, text)
            if found is not None:
                self.from_audio.add(msg_id)
                return found
        self.from_text.add(msg_id)
        return self.estimate(lang, text)

    def estimate(self, lang: str, text: str) -> float:
        """Seconds to say a text, from its characters and its pauses."""
        rate = self.rates.get(lang) or self.rates.get("other") or 14.0
        french = self.rates.get(REFERENCE_LANG) or rate
        pause = self.pause.get(lang, self.pause.get("other", 0.0))
        own, marked, pauses = features(text)
        return own / rate + marked / french + pauses * pause


def features(text: str) -> tuple[int, int, int]:
    """(characters said in the language's voice, characters said by the French voice (marked
    [fr:...]; the marks are not said), pauses)."""
    marked = sum(len(m.group(1)) for m in FRENCH_MARK.finditer(text))
    said = plain(text)
    return len(said) - marked, marked, len(PAUSES.findall(said))


def fit(samples: Iterable[tuple[str, float]], french_rate: float | None = None
        ) -> tuple[float, float, float]:
    """Least-squares fit of seconds = characters / rate + pauses * pause over (text, seconds
    of its audio) samples of one language; French-marked characters are taken at
    `french_rate` (the French fit's) and subtracted first. Returns (rate, pause, the mean
    absolute error in seconds)."""
    rows = []
    for text, seconds in samples:
        own, marked, pauses = features(text)
        if marked and french_rate:
            seconds -= marked / french_rate
        else:
            own += marked
        rows.append((own, pauses, seconds))
    # normal equations of the two-term model without intercept
    sxx = sum(c * c for c, _, _ in rows)
    sxp = sum(c * p for c, p, _ in rows)
    spp = sum(p * p for _, p, _ in rows)
    sxy = sum(c * y for c, _, y in rows)
    spy = sum(p * y for _, p, y in rows)
    det = sxx * spp - sxp * sxp
    if not rows or det == 0:
        raise ValueError("too few samples to fit a rate and a pause")
    per_char = (sxy * spp - spy * sxp) / det
    pause = (sxx * spy - sxp * sxy) / det
    error = sum(abs(c * per_char + p * pause - y) for c, p, y in rows) / len(rows)
    return 1 / per_char, pause, error


def _ceilings(script: Script, today: dt.date) -> dict[str, str]:
    if "ceiling_base" not in script.parameters:
        return {}
    c = rules.ceilings(script.parameters, "metro", 2, today)
    return {k: str(v) for k, v in c.items()}


def answer_messages(node: NodeBase) -> list[list[str]]:
    """The forms an answer can take (an outcome's additions are added on each way, where
    the facts say which can hold together)."""
    if isinstance(node, OutcomeNode):
        return [[node.message]]
    if isinstance(node, AnswerNode):
        return [[node.message]]
    if isinstance(node, CaisseNode):
        return [[M.CPAM_TOWN, M.CPAM_CAISSE, M.CPAM_CHECK]]
    if isinstance(node, ComedeNode):
        return [[node.message, M.COMEDE_CONTACT, M.COMEDE_CHECK]]
    return []


def prompt_of(node: NodeBase) -> str | None:
    if isinstance(node, (WithOptions, NumberNode, PostcodeNode)):
        return node.prompt
    return None


def sms_menu_languages(script: Script, voiced: tuple[str, ...]) -> tuple[str, ...]:
    """Languages a call cannot be held in that the language menu names (with the SMS
    route) in a voice of their own (`menu_voice`), as `Speech.menu_languages` does once
    their line is rendered."""
    return tuple(c for c, lang in script.languages.items() if c not in voiced and lang.menu_voice)


def language_menu_seconds(script: Script, clock: Clock, voiced: tuple[str, ...],
                          by_sms: tuple[str, ...] = ()) -> float:
    """The language menu as `dialogue.nodes.Language` says it by voice."""
    node = script.nodes[script.language_node]
    assert isinstance(node, LanguageNode)
    total = sum(clock.seconds(c, node.prompt) for c in voiced)
    total += sum(clock.seconds(c, M.LANGUAGE_SMS_OPTION) for c in by_sms)
    if any(c not in voiced and c not in by_sms for c in script.languages):
        total += sum(clock.seconds(c, M.LANGUAGE_SMS_ONLY) for c in ("fr", "en") if c in voiced)
    return total


def timing(script: Script, lang: str, clock: Clock, voiced: tuple[str, ...],
           by_sms: tuple[str, ...] | None = None) -> LanguageTiming:
    """The listening times of one language."""
    clock.from_text, clock.from_audio = set(), set()
    result = LanguageTiming(lang=lang, source="audio")
    if by_sms is None:
        by_sms = sms_menu_languages(script, voiced)
    start = language_menu_seconds(script, clock, voiced, by_sms)
    start += clock.seconds(lang, M.WELCOME)
    prompts: dict[str, float] = {}
    for node in script.nodes.values():
        prompt = prompt_of(node)
        if prompt:
            prompts[node.id] = clock.seconds(lang, prompt)
    prompts[script.language_node] = language_menu_seconds(script, clock, voiced, by_sms)
    result.longest_prompt_id, result.longest_prompt = max(prompts.items(), key=lambda kv: kv[1])

    answers: dict[str, float] = {}
    for node in script.nodes.values():
        forms = answer_messages(node)
        if forms:
            answers[node.id] = max(sum(clock.seconds(lang, m) for m in form) for form in forms)
    # the longest way to each answer, from the main menu, with the facts known on the way
    # (`paths.ways`: a branch the answers so far decide goes one way only)
    for path, facts in paths.ways(script, script.main, ends=answers):
        end = path[-1]
        if end not in answers:
            continue
        heard = start
        for node_id in path[:-1]:
            heard += prompts.get(node_id, 0.0)
            if isinstance(script.nodes[node_id], PostcodeNode):
                heard += clock.seconds(lang, M.POSTCODE_CONFIRM)
        node = script.nodes[end]
        if isinstance(node, OutcomeNode):
            # every addition these facts allow, as the engine says all that hold
            said = clock.seconds(lang, node.message) + sum(
                clock.seconds(lang, a) for a in paths.possible_adds(script, node, facts))
            answers[end] = max(answers[end], said)
            heard += said
        else:
            heard += answers[end]
        if heard > result.paths.get(end, -1.0):
            result.paths[end] = heard
            if heard > result.longest_path:
                result.longest_path, result.longest_path_to = heard, end
                result.path = [script.language_node] + path
    if answers:
        result.longest_answer_id, result.longest_answer = max(answers.items(),
                                                             key=lambda kv: kv[1])
    if clock.from_text:
        result.source = (f"audio ({len(clock.from_text)} of "
                         f"{len(clock.from_text | clock.from_audio)} messages by their text)"
                         if clock.from_audio else "text")
    return result


def faults(script: Script, timings: list[LanguageTiming]) -> list[str]:
    """The listening times over their budgets (settings.yaml `voice_time`)."""
    budget = script.voice_time
    if budget is None:
        return []
    out = []
    for t in timings:
        limit = budget.longest_path.get(t.lang, budget.longest_path.get("other"))
        if limit is not None and t.longest_path > limit:
            out.append(f"voice {t.lang}: the longest path to an answer ({t.longest_path_to}) "
                       f"takes {t.longest_path:.0f} s to hear, budget {limit} s: "
                       f"shorten the prompts on it ({' > '.join(t.path)})")
        if budget.prompt is not None and t.longest_prompt > budget.prompt:
            out.append(f"voice {t.lang}: {t.longest_prompt_id} takes {t.longest_prompt:.0f} s "
                       f"to hear, budget {budget.prompt} s for a menu or a question")
        if budget.answer is not None and t.longest_answer > budget.answer:
            out.append(f"voice {t.lang}: the answer {t.longest_answer_id} takes "
                       f"{t.longest_answer:.0f} s to hear, budget {budget.answer} s: say the "
                       f"details (documents, addresses) after it, by SMS or on a key")
    return out


def format_timings(timings: list[LanguageTiming]) -> list[str]:
    lines = []
    for t in timings:
        lines.append(f"voice {t.lang}: longest path {t.longest_path:.0f} s (to "
                     f"{t.longest_path_to}), longest prompt {t.longest_prompt:.0f} s "
                     f"({t.longest_prompt_id}), longest answer {t.longest_answer:.0f} s "
                     f"({t.longest_answer_id}), from {t.source}")
    return lines
