"""`hotline content check`: prove ivr_scripts/ sound before a caller meets it.

Faults (exit 1): unreachable nodes, dangling links, a message missing, empty or untranslated
in a language, placeholders that differ from French, an SMS form over its segment budget,
a factual message without source or review date, a stale review, audio missing or stale
for a language the voice menu offers. Notes (exit 0): known data gaps to fix some day.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..sms_segments import count, fold_for_sms
from ..text import PLACEHOLDER, fill
from . import freshness, rules
from .code_messages import CODE_MESSAGES
from .schema import OutcomeNode
from .script import REFERENCE_LANG, Script, read_script

FACTUAL = ("topic.", "quiz.out.", "quiz.add.")
STALE_AFTER = dt.timedelta(days=548)  # 18 months: the rules change every April
SAMPLE = "1234"  # a person's value (household, ceiling for their size): four characters


@dataclass
class Report:
    faults: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    segments: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    timings: list = field(default_factory=list)  # timing.LanguageTiming per voiced language
    sms_costs: list = field(default_factory=list)  # sms_cost.SmsCost per language

    @property
    def ok(self) -> bool:
        return not self.faults


def reachable(script: Script) -> set[str]:
    seen: set[str] = set()
    todo = [*script.places.model_dump().values(),
            *(c.goto for c in script.commands.values() if c.goto)]
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id not in script.nodes:
            continue
        seen.add(node_id)
        todo.extend(script.nodes[node_id].targets())
    return seen


def sms_form(script: Script, lang: str, text: str, amounts: dict[str, str]) -> str:
    """The SMS as sent: this year's amounts as they are, other values as SAMPLE."""
    text = fill(text, amounts, missing=SAMPLE)
    return fold_for_sms(text) if script.languages[lang].sms_fold else text


def check_content(root: Path | str | None, today: dt.date, directory=None,
                  speech_for=None) -> Report:
    """Everything: the faults that stop the script loading (schema, links), then `check`.
    `speech_for(script)` gives the audio coverage to check, when wanted."""
    script, faults = read_script(root)
    report = Report(faults=[str(f) for f in faults])
    if script is None or faults:
        return report  # the rest is checked once these are fixed
    later = check(script, today, directory, speech_for(script) if speech_for else None)
    report.faults += later.faults
    report.notes += later.notes
    report.segments.update(later.segments)
    report.timings, report.sms_costs = later.timings, later.sms_costs
    return report


def check(script: Script, today: dt.date, directory=None, speech=None) -> Report:
    report = Report()
    fault, note = report.faults.append, report.notes.append
    amounts = {k: str(v) for k, v in rules.reference_amounts(script.parameters, today).items()}

    # the tree
    alive = reachable(script)
    for node_id in script.nodes:
        if node_id not in alive:
            node = script.nodes[node_id]
            fault(f"{node.file}:{node.line}: node {node_id} cannot be reached: no menu, "
                  f"command or setting leads to it (link it, or delete it)")

    # messages in every language
    ref = script.messages.get(REFERENCE_LANG, {})
    used = {m for n in script.nodes.values() for m in n.messages()} | CODE_MESSAGES
    for msg_id in sorted(set(ref) - used):
        note(f"fr {msg_id}: nothing says this message (a node or the code): "
             f"delete it, or link it from a node")
    for msg_id in sorted(ref):
        msg = ref[msg_id]
        if msg_id.startswith(FACTUAL) and msg_id in used:
            if not msg.source or not msg.checked:
                fault(f"fr {msg_id}: a factual message needs `source` and `checked`")
            elif today - msg.checked > STALE_AFTER:
                fault(f"fr {msg_id}: checked {msg.checked}, more than 18 months ago: review it")
    for lang in script.languages:
        messages = script.messages.get(lang, {})
        for msg_id, base in ref.items():
            mine = messages.get(msg_id)
            if mine is None:
                fault(f"{lang} {msg_id}: missing")
                continue
            for form in ("sms", "voice", "copy"):
                text, base_text = getattr(mine, form), getattr(base, form)
                if form != "sms" and not base_text:
                    continue
                if not (text or "").strip():
                    if form == "sms" or base_text:
                        fault(f"{lang} {msg_id}: empty {form} text")
                    continue
                if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(base_text)):
                    fault(f"{lang} {msg_id}: {form} placeholders differ from French")
                if lang not in (REFERENCE_LANG, "en") and text == base_text and _has_words(text):
                    fault(f"{lang} {msg_id}: {form} text is the French text (untranslated)")
            sms = sms_form(script, lang, mine.sms, amounts)
            seg = count(sms)
            report.segments[(lang, msg_id)] = (seg.encoding, seg.segments)
            budget = script.sms_budget([msg_id], seg.encoding)
            if seg.segments > budget:
                fault(f"{lang} {msg_id}: {seg.segments} {seg.encoding} segments, budget {budget}")
            if script.languages[lang].sms_fold and seg.encoding != "GSM-7":
                bad = sorted({c for c in sms if count(c).encoding != "GSM-7"})
                fault(f"{lang} {msg_id}: characters {''.join(bad)!r} force UCS-2")
        for msg_id in messages:
            if msg_id not in ref:
                note(f"{lang} {msg_id}: not in French, never said")

    # outcomes with each of their additions stay within the outcome budget
    for node in script.nodes.values():
        if not isinstance(node, OutcomeNode):
            continue
        for lang in script.languages:
            main = script.message(lang, node.message)
            for add in node.adds:
                extra = script.message(lang, add.message)
                if not main or not extra:
                    continue
                seg = count(sms_form(script, lang, main.sms + "\n" + extra.sms, amounts))
                limit = script.sms_budget([node.message, add.message], seg.encoding)
                if seg.segments > limit:
                    fault(f"{lang} {node.id}: with {add.message} {seg.segments} "
                          f"{seg.encoding} segments, budget {limit}")

    # parameters
    for name, spec in script.parameters.items():
        if not isinstance(spec, dict):
            continue
        if not spec.get("source") and not all(v.get("source") for v in spec.get("values", [])):
            fault(f"parameter {name}: no source")
        if not spec.get("checked"):
            fault(f"parameter {name}: no `checked` date")

    stale, ages = freshness.parameter_freshness(script.parameters, today)  # valid_until / April
    report.faults.extend(stale)
    report.notes.extend(ages + freshness.source_ages(ref, today))
    if directory is not None:
        for problem in directory.problems():
            note(f"directory: {problem}")
    for line in voice_time(script, today, speech, report):
        fault(line)
    for line in sms_cost(script, today, report):
        fault(line)
    if speech is not None:
        for line in speech.coverage_faults():
            fault(line)
        offered = speech.voice_languages()
        for code, row in speech.coverage().items():
            how = ("audio" if not script.languages[code].say_language else "Twilio <Say>") \
                if code in offered else "not offered by voice: SMS"
            note(f"voice {code}: {row['rendered']} rendered, {row['recorded']} recorded, "
                 f"{row['stale']} stale, {row['missing']} missing of {row['total']} ({how})")
    for code in script.languages:
        states = [m.review or "drafted" for m in script.messages.get(code, {}).values()]
        if code != REFERENCE_LANG and states:
            note(f"review {code}: {states.count('reviewed')} reviewed by a native speaker, "
                 f"{states.count('drafted')} drafted")
    return report


def voiced_languages(script: Script) -> tuple[str, ...]:
    """Languages a call can be held in once their audio is built (a voice of Twilio's or a
    speech engine's)."""
    return tuple(code for code, lang in script.languages.items()
                 if lang.say_language or lang.tts)


def voice_time(script: Script, today: dt.date, speech, report: Report) -> list[str]:
    """The listening times per voiced language, as notes; those over budget, as faults."""
    from . import timing

    clock = timing.Clock(script, today, speech.seconds if speech is not None else None)
    voiced = voiced_languages(script)
    offered = speech.voice_languages() if speech is not None else voiced
    by_sms = speech.menu_languages() if speech is not None else None
    timings = [timing.timing(script, lang, clock, tuple(offered), by_sms) for lang in voiced]
    report.timings = timings
    report.notes.extend(timing.format_timings(timings))
    return timing.faults(script, timings)


def sms_cost(script: Script, today: dt.date, report: Report) -> list[str]:
    """The whole questionnaire by SMS and the copy after a call, in segments per language,
    as notes; those over budget, as faults."""
    from . import sms_cost as cost

    costs = cost.measure(script, cost.sample_values(script, today))
    report.sms_costs = costs
    report.notes.extend(cost.format_costs(costs))
    return cost.faults(script, costs)


def _has_words(text: str) -> bool:
    return bool(re.search(r"[^\W\d_]{3,}", PLACEHOLDER.sub("", text)))


def format_report(report: Report) -> Iterable[str]:
    for line in report.faults:
        yield f"FAULT {line}"
    for line in report.notes:
        yield f"note  {line}"
    yield (f"{len(report.faults)} fault(s), {len(report.notes)} note(s)"
           + ("" if report.faults else ": content OK"))
