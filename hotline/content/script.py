"""The script: menu tree, questionnaire, messages, commands and settings from ivr_scripts/.

Loaded once at start-up, validated against `schema`, and read-only afterwards.
`load_script` refuses content a caller would trip on (a wrong key, a link to nowhere, a
message the code needs that is missing) with every fault found, file and line.
"""
from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..text import fill, fold, placeholders
from . import schema
from .schema import (
    AnswerNode,
    BranchNode,
    Fault,
    NodeBase,
    NumberNode,
    OutcomeNode,
    QuestionNode,
    WithOptions,
)

REFERENCE_LANG = "fr"

# Every node type, as the engine and the check know it.
Node = NodeBase
__all__ = ["REFERENCE_LANG", "Command", "ContentError", "Language", "Message", "Node",
           "Script", "default_script_dir", "load_script", "node_messages", "node_targets"]


class ContentError(Exception):
    """ivr_scripts/ cannot be used as it is; `problems` lists every fault found."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def default_script_dir() -> Path:
    env = os.environ.get("HOTLINE_SCRIPTS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "ivr_scripts"


@dataclass(frozen=True)
class Language:
    code: str
    key: str
    name: str
    english_name: str
    sms_fold: bool
    say_language: str | None
    say_voice: str | None
    speech_language: str | None
    tts: Mapping[str, str] = field(default_factory=dict)  # engine -> its voice name
    menu_voice: Mapping[str, str] = field(default_factory=dict)  # its menu line, until recorded


@dataclass(frozen=True)
class Message:
    sms: str
    voice: str | None
    source: str | None
    checked: dt.date | None
    review: str | None
    budget: int | None  # SMS segments allowed, when the message has its own
    copy: str | None = None  # the SMS copy after a call, where shorter than `sms`

    def text(self, channel: str) -> str:
        """The words for a channel: `voice`, `sms`, or `copy` (the SMS copy after a call)."""
        if channel == "copy" and self.copy:
            return self.copy
        return self.voice if channel == "voice" and self.voice else self.sms


@dataclass(frozen=True)
class Command:
    id: str
    goto: str | None
    action: str | None
    takes: str | None  # "postcode" | "language": a word after the command
    opted_out_only: bool = False  # this word acts only for a person who opted out (YES)


@dataclass
class Script:
    root: Path
    languages: dict[str, Language]
    nodes: dict[str, NodeBase]
    messages: dict[str, dict[str, Message]]
    commands: dict[str, Command]
    words: dict[str, tuple[str, str | None]]  # folded word -> (command id, language or None)
    opted_out_words: dict[str, str]  # folded word -> command id, only for someone opted out
    yes_no: dict[str, dict[str, str]]  # lang -> folded word -> "1" | "2"
    parameters: dict[str, Any]
    places: schema.Places
    budgets: dict[str, schema.Budget]  # what the message is -> SMS segments
    flows: dict[str, schema.FlowFile] = field(default_factory=dict)
    voice_time: schema.VoiceTime | None = None
    sms_questionnaire: dict[str, int] = field(default_factory=dict)  # language -> segments
    _placeholders: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _said_by: dict[str, str] = field(default_factory=dict, repr=False)

    # -- where things are -------------------------------------------------
    @property
    def main(self) -> str:
        return self.places.main

    @property
    def language_node(self) -> str:
        return self.places.language

    def node(self, node_id: str | None) -> NodeBase | None:
        return self.nodes.get(node_id) if node_id else None

    def by_key(self, key: str) -> str | None:
        for lang in self.languages.values():
            if lang.key == key:
                return lang.code
        return None

    def questionnaire_steps(self, flow: str = "questionnaire") -> list[str]:
        """The questions of a flow in the order they are written (the console's funnel)."""
        return [n.id for n in self.nodes.values()
                if n.flow == flow and isinstance(n, (QuestionNode, NumberNode))]

    # -- messages ---------------------------------------------------------
    @functools.cached_property
    def chosen_facts(self) -> frozenset[str]:
        """The facts only options and branch cases set (`set:`): absent when no step of a
        conversation set them."""
        found: set[str] = set()
        for node in self.nodes.values():
            if isinstance(node, WithOptions):
                for option in node.options.values():
                    found.update(option.set)
            if isinstance(node, BranchNode):
                for case in node.cases:
                    found.update(case.set)
        return frozenset(found)

    def message(self, lang: str, msg_id: str) -> Message | None:
        return self.messages.get(lang, {}).get(msg_id)

    def placeholders(self, msg_id: str) -> frozenset[str]:
        """The {names} a message uses, in any language or channel (the check keeps them
        the same everywhere)."""
        names = self._placeholders.get(msg_id)
        if names is None:
            found: set[str] = set()
            for by_id in self.messages.values():
                msg = by_id.get(msg_id)
                if msg is not None:
                    found |= placeholders(msg.sms) | placeholders(msg.voice) \
                        | placeholders(msg.copy)
            names = self._placeholders[msg_id] = frozenset(found)
        return names

    def text(self, lang: str, msg_id: str, channel: str,
             params: Mapping[str, str] | None = None) -> str:
        """The words of a message in a language, placeholders filled.

        A missing translation falls back to French and is reported by the content check;
        every message exists in French (`load_script` makes sure of it).
        """
        msg = self.message(lang, msg_id) or self.message(REFERENCE_LANG, msg_id)
        if msg is None:
            return ""
        return fill(msg.text(channel), dict(params or {}))

    # -- SMS budgets: one rule for the sender and the check -------------------
    def budget_kind(self, msg_id: str) -> str:
        """What a message is, for its SMS budget: what the node that says it is."""
        return self._said_by.get(msg_id, "other")

    def sms_budget(self, msg_ids: list[str] | tuple[str, ...], encoding: str,
                   kind: str | None = None) -> int:
        """Segments one SMS made of these messages may take: a message's own `budget`, else
        its kind's (settings.yaml `sms_budgets`); the largest of them, or the `kind` given
        (`copy` for the copy texted after a call)."""
        def of(rule: schema.Budget) -> int:
            return rule.gsm7 if encoding == "GSM-7" else rule.ucs2

        if kind is not None:
            return of(self.budgets.get(kind) or self.budgets["other"])
        limits = [1]
        for msg_id in msg_ids:
            msg = self.message(REFERENCE_LANG, msg_id)
            if msg is not None and msg.budget:
                limits.append(msg.budget)
            else:
                limits.append(of(self.budgets.get(self.budget_kind(msg_id))
                                 or self.budgets["other"]))
        return max(limits)

    # -- words ------------------------------------------------------------
    def match_command(self, text: str) -> tuple[Command, str, str | None] | None:
        """The command a text starts with, the rest of the text, and the word's language."""
        folded = fold(text)
        if not folded:
            return None
        hit = self.words.get(folded)
        if hit:
            return self.commands[hit[0]], "", hit[1]
        first, _, rest = folded.partition(" ")
        hit = self.words.get(first)
        if hit and self.commands[hit[0]].takes:
            return self.commands[hit[0]], rest.strip(), hit[1]
        return None

    def yes_no_key(self, lang: str | None, text: str) -> str | None:
        folded = fold(text).strip(" .!")
        for code in ([lang] if lang else []) + [REFERENCE_LANG, "en"]:
            key = self.yes_no.get(code, {}).get(folded)
            if key:
                return key
        return None


def node_targets(node: NodeBase) -> list[str]:
    """Every node id this node can lead to."""
    return node.targets()


def node_messages(node: NodeBase) -> list[str]:
    """Every message id a node may say."""
    return node.messages()


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


class _Faults(list[Fault]):
    def at(self, file: str, line: int | None, what: str) -> None:
        self.append(Fault(file, line, what))


def load_script(root: Path | str | None = None) -> Script:
    """The script in `root` (ivr_scripts/), or ContentError with every fault found."""
    script, faults = read_script(root)
    if faults or script is None:
        raise ContentError([str(f) for f in faults])
    return script


@functools.lru_cache(maxsize=4)
def _cached(root: Path, stamp: tuple[tuple[str, float], ...]) -> Script:
    return load_script(root)


def shared_script(root: Path | str | None = None) -> Script:
    """The script, loaded once per process while its files are unchanged (tests and
    workers build many apps from the same files)."""
    folder = Path(root) if root else default_script_dir()
    stamp = tuple(sorted((str(p), p.stat().st_mtime) for p in folder.rglob("*.yaml")))
    return _cached(folder, stamp)


def read_script(root: Path | str | None = None) -> tuple[Script | None, list[Fault]]:
    """The script and the faults that make it unusable (the check adds the others)."""
    root = Path(root) if root else default_script_dir()
    faults = _Faults()

    def read(name: str, model: type[Any]) -> tuple[Any, Any]:
        path = root / name
        if not path.exists():
            faults.at(name, None, "this file is missing")
            return None, None
        raw, problems = schema.load_yaml(path, root)
        faults.extend(problems)
        if raw is None:
            return None, None
        value, problems = schema.validate(model, raw, name)
        faults.extend(problems)
        return value, raw

    lang_file, _ = read("languages.yaml", schema.LanguageFile)
    languages: dict[str, Language] = {}
    for entry in lang_file.languages if lang_file else []:
        languages[entry.code] = Language(
            code=entry.code, key=str(entry.key), name=entry.name,
            english_name=entry.english_name or entry.name, sms_fold=entry.sms_fold,
            say_language=entry.say.language, say_voice=entry.say.voice,
            speech_language=entry.speech, tts=dict(entry.tts), menu_voice=dict(entry.menu_voice))

    settings, settings_raw = read("settings.yaml", schema.SettingsFile)

    nodes: dict[str, NodeBase] = {}
    broken: set[str] = set()  # defined, but faulty: links to them are not faults again
    flows: dict[str, schema.FlowFile] = {}
    for path in sorted((root / "flow").glob("*.yaml")):
        name = str(path.relative_to(root))
        flow, raw = read(name, schema.FlowFile)
        if flow is None:
            continue
        if flow.name in flows:
            faults.at(name, getattr(raw, "line", None),
                      f"flow name {flow.name!r} is used by another file too: names must differ")
        flows[flow.name] = flow
        for node_id in flow.nodes:
            node_raw = raw["nodes"][node_id]  # as read, with its lines
            line = raw["nodes"].lines.get(node_id)
            if node_id in nodes:
                faults.at(name, line, f"node {node_id} is also defined in {nodes[node_id].file}: "
                          f"rename one of them")
                continue
            node, problems = schema.validate_node(node_id, node_raw, name, flow)
            faults.extend(problems)
            if node is not None:
                nodes[node_id] = node.model_copy(update={"line": line or node.line})
            else:
                broken.add(node_id)

    command_file, _ = read("commands.yaml", schema.CommandFile)
    commands = {cid: Command(id=cid, goto=c.goto, action=c.action, takes=c.takes)
                for cid, c in (command_file.commands.items() if command_file else [])}
    words: dict[str, tuple[str, str | None]] = {}
    opted_out_words: dict[str, str] = {}  # folded word -> command, for opted-out people only

    def add_word(file: str, word: Any, cid: str, lang: str | None) -> None:
        key = fold(str(word))
        if cid not in commands:
            faults.at(file, None, f"word {word!r} is listed under {cid!r}, which is not a "
                      f"command of commands.yaml ({', '.join(sorted(commands))})")
            return
        if key in words and words[key][0] != cid:
            faults.at(file, None, f"the word {word!r} means both {words[key][0]} and {cid}: "
                      f"keep it under one command only")
            return
        if key in words and words[key][1] != lang:
            lang = None  # the same word in two languages says nothing of the language
        words[key] = (cid, lang)

    for cid, c in (command_file.commands.items() if command_file else []):
        for word in c.words:
            add_word("commands.yaml", word, cid, None)
        for word in c.opted_out_only:
            key = fold(str(word))
            if key in opted_out_words or key in words:
                faults.at("commands.yaml", None, f"the word {word!r} is listed twice: keep one")
            opted_out_words[key] = cid

    messages: dict[str, dict[str, Message]] = {}
    yes_no: dict[str, dict[str, str]] = {}
    for code in languages:
        name = f"messages/{code}.yaml"
        mfile, raw = read(name, schema.MessageFile)
        if mfile is None:
            if raw is not None:
                for flag in (k for k in raw if isinstance(k, bool)):
                    faults.at(name, raw.lines.get(flag), f"write the key {str(flag).lower()!r} "
                              f"in quotes (\"yes\": ...): YAML reads it as true/false")
            continue
        if mfile.language != code:
            faults.at(name, raw.lines.get("language"), f"`language: {mfile.language}` should "
                      f"be `language: {code}` in this file")
        by_id = {}
        for msg_id, spec in mfile.messages.items():
            spec = spec if isinstance(spec, schema.MessageSpec) else schema.MessageSpec(sms=spec)
            by_id[str(msg_id)] = Message(sms=spec.sms, voice=spec.voice, source=spec.source,
                                         checked=spec.checked,
                                         review=spec.review or mfile.review, budget=spec.budget,
                                         copy=spec.copy_)
        messages[code] = by_id
        for cid, ws in mfile.commands.items():
            for word in ws:
                add_word(name, word, cid, code)
        for word_list, answer in ((mfile.yes, "1"), (mfile.no, "2")):
            yes_no.setdefault(code, {}).update({fold(str(w)): answer for w in word_list})

    params_path = root / "parameters.yaml"
    parameters: dict[str, Any] = {}
    if params_path.exists():
        raw_params, problems = schema.load_yaml(params_path, root)
        faults.extend(problems)
        parameters = _plain(raw_params or {})
        for spec in parameters.values():
            for entry in (spec or {}).get("values") or [] if isinstance(spec, dict) else []:
                entry["effective_from"] = _as_date(entry.get("effective_from"))

    if settings is None or not languages:
        return None, list(faults)
    script = Script(root=root, languages=languages, nodes=nodes, messages=messages,
                    commands=commands, words=words, opted_out_words=opted_out_words,
                    yes_no=yes_no, parameters=parameters,
                    places=settings.places,
                    budgets=dict(settings.sms_budgets), flows=flows,
                    voice_time=settings.voice_time,
                    sms_questionnaire=dict(settings.sms_questionnaire))
    script._said_by.update(_budget_kinds(nodes))
    faults.extend(_links(script, settings_raw, broken))
    return script, _unique(faults)


def _plain(value: Any) -> Any:
    """LineDicts back to plain dicts (parameters are read by rules.py as data)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _budget_kinds(nodes: dict[str, NodeBase]) -> dict[str, str]:
    """Message id -> the budget it falls under: what the node that says it is."""
    kinds: dict[str, str] = {}
    for node in nodes.values():  # the details an outcome offers on a key: part of it
        if isinstance(node, OutcomeNode):
            for option in node.options.values():
                target = nodes.get(option.next)
                if isinstance(target, AnswerNode):
                    kinds[target.message] = "outcome"
    for node in nodes.values():
        kind = "outcome" if isinstance(node, OutcomeNode) else \
            "answer" if isinstance(node, AnswerNode) and node.type == "answer" else None
        if kind:
            for msg_id in node.messages():
                if msg_id != getattr(node, "footer", None):
                    kinds.setdefault(msg_id, kind)
    return kinds


def _unique(faults: list[Fault]) -> list[Fault]:
    seen: dict[str, Fault] = {}
    for fault in faults:
        seen.setdefault(str(fault), fault)
    return list(seen.values())


def _links(script: Script, settings_raw: Any, broken: set[str]) -> list[Fault]:
    """Every link and every message a node names must exist; the code's messages too."""
    from .code_messages import CODE_MESSAGES

    faults = _Faults()
    ref = script.messages.get(REFERENCE_LANG, {})
    for place, node_id in script.places.model_dump().items():
        if node_id not in script.nodes and node_id not in broken:
            line = schema.line_of(settings_raw, ("places", place))
            faults.at("settings.yaml", line, f"places.{place}: there is no node {node_id!r}")
    for cmd in script.commands.values():
        if cmd.goto and cmd.goto not in script.nodes and cmd.goto not in broken:
            faults.at("commands.yaml", None, f"command {cmd.id} goes to {cmd.goto!r}, "
                      f"which is not a node of flow/")
    for node in script.nodes.values():
        for target in node.targets():
            if target not in script.nodes and target not in broken:
                faults.at(node.file, node.line, f"node {node.id} leads to {target!r}, which is "
                          f"not a node: check the spelling or add that node")
        for msg_id in node.messages():
            if msg_id not in ref:
                faults.at(node.file, node.line, f"node {node.id} says {msg_id!r}, which is not "
                          f"in messages/{REFERENCE_LANG}.yaml: check the spelling or add it")
    for msg_id in sorted(CODE_MESSAGES):
        if msg_id not in ref:
            faults.at(f"messages/{REFERENCE_LANG}.yaml", None,
                      f"message {msg_id!r} is missing: the hotline needs it; add it back")
    return faults
