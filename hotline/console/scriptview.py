"""The console's only window on the loaded Script: nodes, their links and texts.

Everything the console shows of the flow and its messages goes through this module, so a
change of the Script's shape (hotline/content/script.py) is absorbed here.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..content.script import REFERENCE_LANG, node_messages, node_targets

QUESTIONNAIRE = "questionnaire"  # the flow (its `name:`) of the eligibility questionnaire
STEP_TYPES = ("question", "number")
PASS_THROUGH = ("branch",)  # nodes the engine passes through without stopping


@dataclass(frozen=True)
class NodeView:
    id: str
    type: str
    section: str
    edges: tuple[tuple[str, str], ...]  # (key or condition, target node id)
    messages: tuple[str, ...]  # message ids the node may say
    outcome: str | None  # the outcome code an outcome node counts under


@dataclass(frozen=True)
class Text:
    lang: str
    sms: str
    voice: str | None
    review: str | None


def nodes(script: Any) -> list[NodeView]:
    """Every node of the flow, in the order the files define them."""
    out = []
    for node in script.nodes.values():
        edges = [(str(key), option.next) for key, option in getattr(node, "options", {}).items()]
        if isinstance(getattr(node, "next", None), str):
            edges.append(("next", node.next))
        for case in getattr(node, "cases", []):
            edges.append(("if" if case.when is not None else "else", case.next))
        if getattr(node, "else_", None):
            edges.append(("else", node.else_))
        seen = {target for _, target in edges}
        # 0 (urgent care in the questionnaire) leads from every prompt: not drawn each time
        edges += [("", t) for t in node_targets(node) if t not in seen and t != node.zero]
        code = getattr(node, "code", None)
        out.append(NodeView(id=node.id, type=node.type, section=node.flow,
                            edges=tuple(edges), messages=tuple(dict.fromkeys(node_messages(node))),
                            outcome=str(code) if code else None))
    return out


def languages(script: Any) -> list[tuple[str, str, str, str]]:
    """(code, name in itself, English name, keypad key) in menu order."""
    return [(lang.code, lang.name, lang.english_name, lang.key)
            for lang in script.languages.values()]


def texts(script: Any, msg_id: str) -> list[Text]:
    """A message in every language (empty strings where a translation is missing)."""
    out = []
    for code in script.languages:
        msg = script.message(code, msg_id)
        out.append(Text(code, msg.sms if msg else "", msg.voice if msg else None,
                        msg.review if msg else None))
    return out


def short_text(script: Any, msg_id: str | None, width: int = 60) -> str:
    """The French words of a message, cut to `width` characters (a label)."""
    msg = script.message(REFERENCE_LANG, msg_id) if msg_id else None
    words = " ".join((msg.sms if msg else "").split())
    return words if len(words) <= width else words[:width - 1].rstrip() + "…"


def review_states(script: Any) -> dict[str, dict[str, int]]:
    """Per language: how many texts are `reviewed` by a native speaker, how many `drafted`."""
    table = {}
    for code in script.languages:
        states = [m.review or "drafted" for m in script.messages.get(code, {}).values()]
        table[code] = {"reviewed": states.count("reviewed"), "drafted": states.count("drafted"),
                       "total": len(states)}
    return table


def sources(script: Any) -> list[tuple[str, dt.date | None, list[str]]]:
    """Each source the French messages and the parameters cite: (source, the oldest date it
    was checked, what cites it), oldest first."""
    cited: dict[str, tuple[dt.date | None, list[str]]] = {}

    def add(source: Any, checked: Any, what: str) -> None:
        if not source:
            return
        date = checked if isinstance(checked, dt.date) else None
        old, names = cited.get(str(source), (date, []))
        if old is None or (date is not None and date < old):
            old = date
        cited[str(source)] = (old, names + [what])

    for msg_id, msg in script.messages.get(REFERENCE_LANG, {}).items():
        add(msg.source, msg.checked, msg_id)
    for name, spec in script.parameters.items():
        if isinstance(spec, dict):
            checked = spec.get("checked")
            if isinstance(checked, str):
                try:
                    checked = dt.date.fromisoformat(checked)
                except ValueError:
                    checked = None
            add(spec.get("source"), checked, f"parameter {name}")
            for entry in spec.get("values") or []:
                add(entry.get("source"), checked, f"parameter {name}")
    return sorted(((s, d, names) for s, (d, names) in cited.items()),
                  key=lambda row: (row[1] or dt.date.min, row[0]))


@dataclass(frozen=True)
class Step:
    id: str
    label: str
    next_ids: tuple[str, ...]  # nodes where a person goes on to (branches passed through)


def questionnaire_steps(script: Any) -> list[Step]:
    """The questionnaire's questions in flow order (each after every question that can
    lead to it), each with the nodes that follow it (steps or outcomes, through branches)."""
    views = {view.id: view for view in nodes(script)}
    section = [v.id for v in views.values() if v.section == QUESTIONNAIRE]
    if not section:
        return []
    depth = {section[0]: 0}
    todo = [section[0]]
    while todo:  # longest path from the first node; a loop back cannot raise it past the size
        node_id = todo.pop(0)
        for _, target in views[node_id].edges:
            if (target in views and views[target].section == QUESTIONNAIRE
                    and depth.get(target, -1) < depth[node_id] + 1 <= len(section)):
                depth[target] = depth[node_id] + 1
                todo.append(target)
    order = sorted(section, key=lambda n: (depth.get(n, len(section) + 1), section.index(n)))

    def following(node_id: str, seen: set[str]) -> list[str]:
        out = []
        for _, target in views[node_id].edges:
            if target in seen or target not in views:
                continue
            seen.add(target)
            if views[target].type in PASS_THROUGH:
                out += following(target, seen)
            elif target != node_id:
                out.append(target)
        return out

    steps = []
    for node_id in order:
        view = views[node_id]
        if view.type in STEP_TYPES:
            label = short_text(script, view.messages[0] if view.messages else None)
            steps.append(Step(node_id, label, tuple(following(node_id, {node_id}))))
    return steps


def outcome_codes(script: Any) -> dict[str, str]:
    """outcome node id -> the outcome code it is counted under."""
    return {v.id: v.outcome for v in nodes(script) if v.outcome}
