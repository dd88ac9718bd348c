"""The script: menu tree, questionnaire, messages and parameters, loaded from ivr_scripts/.

Loaded once at start-up and read-only afterwards; `load_script` fails loudly on a broken
reference so a bad edit never reaches a caller.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from ..dialogue.text import fold

REFERENCE_LANG = "fr"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


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
    direction: str
    say_language: str | None
    say_voice: str | None
    speech_language: str | None
    tts: Mapping[str, str] = field(default_factory=dict)  # engine -> its voice name


@dataclass(frozen=True)
class Message:
    sms: str
    voice: str | None
    source: str | None
    checked: dt.date | None
    review: str | None
    budget: int | None  # SMS segments allowed, when the message has its own

    def text(self, channel: str) -> str:
        return self.voice if channel == "voice" and self.voice else self.sms


@dataclass(frozen=True)
class Option:
    next: str
    set: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    section: str
    prompt: str | None = None
    options: Mapping[str, Option] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)


@dataclass(frozen=True)
class Command:
    id: str
    goto: str | None
    action: str | None
    takes: str | None  # "postcode" | "language": a word after the command


NODE_TYPES = {"menu", "answer", "question", "number", "branch", "outcome", "postcode",
              "caisse", "comede", "language", "resume", "help"}


@dataclass
class Script:
    root: Path
    languages: dict[str, Language]
    nodes: dict[str, Node]
    messages: dict[str, dict[str, Message]]
    commands: dict[str, Command]
    words: dict[str, tuple[str, str | None]]  # folded word -> (command id, language or None)
    yes_no: dict[str, dict[str, str]]  # lang -> folded word -> "1" | "2"
    parameters: dict[str, Any]
    settings: dict[str, Any]
    budgets: dict[str, Any]
    _placeholders: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    # -- where things are -------------------------------------------------
    @property
    def main(self) -> str:
        return self.settings["main"]

    @property
    def language_node(self) -> str:
        return self.settings["language"]

    @property
    def urgent_node(self) -> str:
        return self.settings["urgent"]

    def node(self, node_id: str | None) -> Node | None:
        return self.nodes.get(node_id) if node_id else None

    def by_key(self, key: str) -> str | None:
        for lang in self.languages.values():
            if lang.key == key:
                return lang.code
        return None

    # -- messages ---------------------------------------------------------
    def message(self, lang: str, msg_id: str) -> Message | None:
        return self.messages.get(lang, {}).get(msg_id)

    def placeholders(self, msg_id: str) -> frozenset[str]:
        """The {names} a message uses, in any language or channel (the check keeps them
        the same everywhere)."""
        names = self._placeholders.get(msg_id)
        if names is None:
            found = set()
            for by_id in self.messages.values():
                msg = by_id.get(msg_id)
                if msg is not None:
                    found.update(_PLACEHOLDER.findall(msg.sms))
                    found.update(_PLACEHOLDER.findall(msg.voice or ""))
            names = self._placeholders[msg_id] = frozenset(found)
        return names

    def text(self, lang: str, msg_id: str, channel: str,
             params: Mapping[str, str] | None = None) -> str:
        """The words of a message in a language, placeholders filled.

        A missing translation falls back to French and is reported by the content check;
        a caller never gets an error for it.
        """
        msg = self.message(lang, msg_id) or self.message(REFERENCE_LANG, msg_id)
        if msg is None:
            return ""
        values = params or {}
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), msg.text(channel))

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


# libyaml's C loader when PyYAML has it: ten times faster, and start-up is mostly this
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=_LOADER) or {}


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _messages(raw: Mapping[str, Any], file_review: str | None) -> dict[str, Message]:
    out = {}
    for msg_id, body in (raw or {}).items():
        if isinstance(body, str):
            body = {"sms": body}
        out[str(msg_id)] = Message(
            sms=str(body.get("sms") or ""),
            voice=body.get("voice"),
            source=body.get("source"),
            checked=_as_date(body.get("checked")),
            review=body.get("review", file_review),
            budget=body.get("budget"),
        )
    return out


def _node(node_id: str, raw: Mapping[str, Any], section: str) -> Node:
    options = {}
    for key, target in (raw.get("options") or {}).items():
        if isinstance(target, str):
            options[str(key)] = Option(next=target)
        else:
            options[str(key)] = Option(next=target["next"], set=target.get("set") or {})
    data = {k: v for k, v in raw.items() if k not in ("type", "prompt", "options")}
    return Node(id=node_id, type=raw["type"], section=section, prompt=raw.get("prompt"),
                options=options, data=data)


def node_targets(node: Node) -> Iterable[str]:
    """Every node id this node can lead to (for validation and reachability)."""
    for option in node.options.values():
        yield option.next
    for name in ("next", "else", "confirm", "on_error"):
        if isinstance(node.get(name), str):
            yield node.get(name)
    for case in node.get("cases") or []:
        yield case["next"]


def node_messages(node: Node) -> Iterable[str]:
    """Every message id a node may say."""
    if node.prompt:
        yield node.prompt
    for name in ("message", "error", "confirm_prompt", "intro"):
        if isinstance(node.get(name), str):
            yield node.get(name)
    for add in node.get("adds") or []:
        yield add["message"]
    for case in node.get("cases") or []:
        if case.get("message"):
            yield case["message"]


def load_script(root: Path | str | None = None) -> Script:
    root = Path(root) if root else default_script_dir()
    problems: list[str] = []

    lang_raw = _load_yaml(root / "languages.yaml")
    languages = {}
    for entry in lang_raw["languages"]:
        say = entry.get("say") or {}
        languages[entry["code"]] = Language(
            code=entry["code"], key=str(entry["key"]), name=entry["name"],
            english_name=entry.get("english_name", entry["name"]),
            sms_fold=bool(entry.get("sms_fold")), direction=entry.get("direction", "ltr"),
            say_language=say.get("language"), say_voice=say.get("voice"),
            speech_language=entry.get("speech"), tts=dict(entry.get("tts") or {}),
        )

    nodes: dict[str, Node] = {}
    for path in sorted((root / "flow").glob("*.yaml")):
        for node_id, raw in (_load_yaml(path).get("nodes") or {}).items():
            if node_id in nodes:
                problems.append(f"{path.name}: node {node_id} defined twice")
            nodes[node_id] = _node(node_id, raw, path.stem)

    messages: dict[str, dict[str, Message]] = {}
    words: dict[str, tuple[str, str | None]] = {}
    yes_no: dict[str, dict[str, str]] = {}
    command_raw = _load_yaml(root / "commands.yaml")
    commands = {
        cid: Command(id=cid, goto=c.get("goto"), action=c.get("action"), takes=c.get("takes"))
        for cid, c in command_raw["commands"].items()
    }

    def add_word(word: str, cid: str, lang: str | None) -> None:
        key = fold(str(word))
        if cid not in commands:
            problems.append(f"word {word!r} names unknown command {cid}")
            return
        if key in words and words[key][0] != cid:
            problems.append(f"word {word!r} means both {words[key][0]} and {cid}")
            return
        if key in words and words[key][1] != lang:
            lang = None  # the same word in two languages says nothing of the language
        words[key] = (cid, lang)

    for cid, c in command_raw["commands"].items():
        for word in c.get("words") or []:
            add_word(word, cid, None)

    for code in languages:
        path = root / "messages" / f"{code}.yaml"
        if not path.exists():
            problems.append(f"messages/{code}.yaml is missing")
            continue
        raw = _load_yaml(path)
        messages[code] = _messages(raw.get("messages"), raw.get("review"))
        for cid, ws in (raw.get("commands") or {}).items():
            for word in ws or []:
                if not isinstance(word, (str, int)) or isinstance(word, bool):
                    problems.append(f"messages/{code}.yaml: command word {word!r} of {cid} "
                                    f"is not text (quote it: YAML reads YES/NO/ON as true/false)")
                    continue
                add_word(word, cid, code)
        for name in ("yes", "no"):
            if name not in raw and any(isinstance(k, bool) for k in raw):
                problems.append(f"messages/{code}.yaml: quote the key {name!r} (YAML reads it as a boolean)")
            for word in raw.get(name) or []:
                if isinstance(word, bool):
                    problems.append(f"messages/{code}.yaml: {name} word {word!r} is not text: quote it")
        yes_no[code] = {fold(str(w)): "1" for w in raw.get("yes") or []}
        yes_no[code].update({fold(str(w)): "2" for w in raw.get("no") or []})

    settings = command_raw.get("settings") or {}
    params_path = root / "parameters.yaml"
    parameters = _load_yaml(params_path) if params_path.exists() else {}
    for spec in parameters.values():
        for entry in (spec or {}).get("values") or []:
            entry["effective_from"] = _as_date(entry.get("effective_from"))

    script = Script(root=root, languages=languages, nodes=nodes, messages=messages,
                    commands=commands, words=words, yes_no=yes_no, parameters=parameters,
                    settings=settings, budgets=command_raw.get("budgets") or {})
    problems.extend(structural_problems(script))
    if problems:
        raise ContentError(problems)
    return script


def structural_problems(script: Script) -> list[str]:
    """Faults that would break a conversation: unknown node types, dangling links."""
    problems = []
    for name in ("main", "language", "urgent"):
        if script.settings.get(name) not in script.nodes:
            problems.append(f"settings.{name} does not name a node")
    for cmd in script.commands.values():
        if cmd.goto and cmd.goto not in script.nodes:
            problems.append(f"command {cmd.id} goes to unknown node {cmd.goto}")
    ref = script.messages.get(REFERENCE_LANG, {})
    for node in script.nodes.values():
        if node.type not in NODE_TYPES:
            problems.append(f"node {node.id}: unknown type {node.type}")
        for target in node_targets(node):
            if target not in script.nodes:
                problems.append(f"node {node.id} leads to unknown node {target}")
        for msg_id in node_messages(node):
            if msg_id not in ref:
                problems.append(f"node {node.id} says unknown message {msg_id}")
    return problems
