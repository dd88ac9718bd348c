"""`hotline content check`: prove ivr_scripts/ sound before a caller meets it.

Faults (exit 1): unreachable nodes, dangling links, a message missing, empty or untranslated
in a language, placeholders that differ from French, an SMS form over its segment budget,
a factual message without source or review date, a stale review, audio missing or stale
for a language the voice menu offers. Notes (exit 0): known data gaps to fix some day.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Iterable

from ..dialogue import rules
from ..sms_segments import count, fold_for_sms
from . import freshness
from .script import REFERENCE_LANG, Script, node_messages, node_targets

PLACEHOLDER = re.compile(r"\{(\w+)\}")
FACTUAL = ("topic.", "quiz.out.", "quiz.add.")
STALE_AFTER = dt.timedelta(days=548)  # 18 months: the rules change every April
SAMPLE = "1234"  # a person's value (household, ceiling for their size): four characters


@dataclass
class Report:
    faults: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    segments: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.faults


def reachable(script: Script) -> set[str]:
    seen: set[str] = set()
    todo = [script.main, script.language_node, script.urgent_node,
            *(s for s in script.settings.values() if isinstance(s, str) and s in script.nodes),
            *(c.goto for c in script.commands.values() if c.goto)]
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id not in script.nodes:
            continue
        seen.add(node_id)
        todo.extend(node_targets(script.nodes[node_id]))
    return seen


def budget_for(script: Script, msg_id: str) -> dict:
    if msg_id.startswith("topic."):
        return script.budgets.get("topic", {})
    if msg_id.startswith(("quiz.out.", "quiz.add.")):
        return script.budgets.get("outcome", {})
    return script.budgets.get("default", {})


def sms_form(script: Script, lang: str, text: str, amounts: dict[str, str]) -> str:
    """The SMS as sent: this year's amounts as they are, other values as SAMPLE."""
    text = PLACEHOLDER.sub(lambda m: amounts.get(m.group(1), SAMPLE), text)
    return fold_for_sms(text) if script.languages[lang].sms_fold else text


def check(script: Script, today: dt.date, directory=None, speech=None) -> Report:
    report = Report()
    fault, note = report.faults.append, report.notes.append
    amounts = {k: str(v) for k, v in rules.reference_amounts(script.parameters, today).items()}

    # the tree
    alive = reachable(script)
    for node_id in script.nodes:
        if node_id not in alive:
            fault(f"node {node_id} cannot be reached")
    for node in script.nodes.values():
        if node.type == "branch" and not node.get("else") and not any(
                "when" not in c for c in node.get("cases") or []):
            fault(f"branch {node.id} has no way out when no case holds (add `else`)")
        if node.type in ("menu", "question") and not node.options:
            fault(f"{node.type} {node.id} has no options")

    # messages in every language
    ref = script.messages.get(REFERENCE_LANG, {})
    used = {m for n in script.nodes.values() for m in node_messages(n)}
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
            msg = messages.get(msg_id)
            if msg is None:
                fault(f"{lang} {msg_id}: missing")
                continue
            for form in ("sms", "voice"):
                text, base_text = getattr(msg, form), getattr(base, form)
                if form == "voice" and not base_text:
                    continue
                if not (text or "").strip():
                    if form == "sms" or base_text:
                        fault(f"{lang} {msg_id}: empty {form} text")
                    continue
                if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(base_text)):
                    fault(f"{lang} {msg_id}: {form} placeholders differ from French")
                if lang not in (REFERENCE_LANG, "en") and text == base_text and _has_words(text):
                    fault(f"{lang} {msg_id}: {form} text is the French text (untranslated)")
            sms = sms_form(script, lang, msg.sms, amounts)
            seg = count(sms)
            report.segments[(lang, msg_id)] = (seg.encoding, seg.segments)
            budget = msg.budget or budget_for(script, msg_id).get(
                "gsm7" if seg.encoding == "GSM-7" else "ucs2")
            if budget and seg.segments > budget:
                fault(f"{lang} {msg_id}: {seg.segments} {seg.encoding} segments, budget {budget}")
            if script.languages[lang].sms_fold and seg.encoding != "GSM-7":
                bad = sorted({c for c in sms if count(c).encoding != "GSM-7"})
                fault(f"{lang} {msg_id}: characters {''.join(bad)!r} force UCS-2")
        for msg_id in messages:
            if msg_id not in ref:
                note(f"{lang} {msg_id}: not in French, never said")

    # outcomes with each of their additions stay within the outcome budget
    for node in script.nodes.values():
        if node.type != "outcome" or not node.get("adds"):
            continue
        for lang in script.languages:
            main = script.message(lang, node.get("message"))
            for add in node.get("adds"):
                extra = script.message(lang, add["message"])
                if not main or not extra:
                    continue
                seg = count(sms_form(script, lang, main.sms + "\n" + extra.sms, amounts))
                limit = budget_for(script, "quiz.out.").get(
                    "gsm7" if seg.encoding == "GSM-7" else "ucs2")
                if limit and seg.segments > limit:
                    fault(f"{lang} {node.id}: with {add['message']} {seg.segments} "
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


def _has_words(text: str) -> bool:
    return bool(re.search(r"[^\W\d_]{3,}", PLACEHOLDER.sub("", text)))


def format_report(report: Report) -> Iterable[str]:
    for line in report.faults:
        yield f"FAULT {line}"
    for line in report.notes:
        yield f"note  {line}"
    yield (f"{len(report.faults)} fault(s), {len(report.notes)} note(s)"
           + ("" if report.faults else ": content OK"))
