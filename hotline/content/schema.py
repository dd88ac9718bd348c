"""The schema of ivr_scripts/: one typed model per node type, per message, per file.

Validated with pydantic (v2): its models are plain typed classes, `extra="forbid"` refuses
unknown keys, a `type` field picks the node model (a discriminated union), and its errors
carry the path of the wrong value, which `yaml_lines` turns into a file line. The YAML is
read by a loader that remembers the line of every key and refuses a key written twice
(PyYAML would silently keep the last).

Faults are written for the social worker who edits the files: file, line, what is wrong,
how to fix it.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

# -- YAML with lines and without silent duplicates ---------------------------------------

_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, when PyYAML has it


class LineDict(dict[Any, Any]):
    """A YAML mapping that remembers the line of itself and of each of its keys."""

    line: int = 0
    lines: dict[Any, int]


class _Loader(_BASE_LOADER):  # type: ignore[misc, valid-type]
    def __init__(self, stream: Any):
        super().__init__(stream)
        self.duplicates: list[tuple[Any, int, int]] = []  # key, line, first line

    def construct_yaml_linemap(self, node: yaml.MappingNode) -> Any:
        data = LineDict()
        data.line = node.start_mark.line + 1
        data.lines = {}
        yield data
        # a key written twice by hand (a merge `<<:` may be overridden on purpose)
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                self.duplicates.append((key, line, seen[key]))
            seen.setdefault(key, line)
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            data[key] = self.construct_object(value_node, deep=True)
            data.lines[key] = key_node.start_mark.line + 1


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_linemap)


class Fault(Exception):
    """One problem in a content file, said so that a social worker can fix it."""

    def __init__(self, file: str, line: int | None, what: str):
        super().__init__(f"{file}:{line}: {what}" if line else f"{file}: {what}")
        self.file, self.line, self.what = file, line, what


def load_yaml(path: Path, root: Path) -> tuple[Any, list[Fault]]:
    """A content file's data and its faults (syntax, keys written twice)."""
    name = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        with path.open(encoding="utf-8") as f:
            loader = _Loader(f)
            try:
                data = loader.get_single_data()
            finally:
                loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        return None, [Fault(name, mark.line + 1 if mark else None,
                            f"the file cannot be read ({error.problem}); check the quotes, "
                            f"colons and indentation on this line or the one before")]
    faults = [Fault(name, line, f"`{key}` is written twice (first on line {first}): "
                    f"only one is used; keep one and delete the other")
              for key, line, first in loader.duplicates]
    return (data if data is not None else LineDict()), faults


def line_of(data: Any, loc: tuple[Any, ...]) -> int | None:
    """The line of the value at a pydantic error location, as deep as the data goes."""
    line = getattr(data, "line", None) or None
    for part in loc:
        if isinstance(data, dict) and part in data:
            line = data.lines.get(part, line) if isinstance(data, LineDict) else line
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
            line = getattr(data, "line", None) or line
        # else: a name pydantic adds (the node type of a union): stay where we are
    return line


def explain(error: ValidationError, data: Any, file: str, where: str, model: Any) -> list[Fault]:
    """pydantic's errors in words a content editor understands."""
    faults = []
    for e in error.errors():
        loc = tuple(e["loc"])
        if e["type"] in ("model_type", "dict_type") and isinstance(e["input"], list):
            continue  # a condition written as a list: the list form's error says it better
        path = ".".join(str(p) for p in loc if not _type_name(p))
        kind, field = e["type"], str(loc[-1]) if loc else ""
        if kind == "extra_forbidden":
            what = (f"unknown key `{field}`: a spelling mistake? Keys this allows: "
                    f"{', '.join(_known_keys(model, loc))}")
        elif kind == "missing":
            what = f"`{field}` is missing: add it"
        elif kind == "union_tag_invalid":
            tag = (e.get("ctx") or {}).get("tag", e["input"])
            what = f"unknown node type {tag!r}: use one of {', '.join(sorted(NODE_TYPES))}"
        elif kind == "union_tag_not_found":
            what = f"`type` is missing: say what kind of node this is ({', '.join(sorted(NODE_TYPES))})"
        elif kind.startswith(("int_", "bool_", "string_", "date_", "float_", "dict_", "list_",
                              "literal_")):
            what = f"`{path or field}` {e['msg'].lower()} (found {e['input']!r})"
        else:
            what = f"`{path or field}`: {e['msg']}" if path else e["msg"]
            what = what.replace("Value error, ", "")
        faults.append(Fault(file, line_of(data, loc), f"{where}: {what}" if where else what))
    return faults


def _type_name(part: Any) -> bool:
    """Parts of an error location that name a type, not a key of the file."""
    return isinstance(part, str) and (part in NODE_TYPES or "[" in part
                                      or part in ("AllOf", "AnyOf"))


def _known_keys(model: Any, loc: tuple[Any, ...]) -> list[str]:
    """The keys the model at `loc` (without its last part) accepts."""
    for part in loc[:-1]:
        if isinstance(part, str) and part in NODE_MODELS and model is NODE:
            model = NODE_MODELS[part]
            continue
        fields = getattr(model, "model_fields", None)
        if fields is None:
            continue  # a dict key or a list index under a field: same model
        spec = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
        if spec is None:
            continue
        inner = _model_in(spec.annotation)
        if inner is not None:
            model = inner
    fields = getattr(model, "model_fields", {})
    return sorted(f.alias or n for n, f in fields.items()
                  if n not in ("id", "flow", "line", "file"))


def _model_in(annotation: Any) -> Any:
    """The first pydantic model inside a type (list[Case] -> Case)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


# -- conditions --------------------------------------------------------------------------

OPERATORS = ("==", "!=", "<=", "<", ">=", ">", "in")
Comparison = tuple[str, Literal["==", "!=", "<=", "<", ">=", ">", "in"], Any]


class AllOf(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    all: list[Condition]


class AnyOf(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    any: list[Condition]


# Union, not `|`: AllOf and AnyOf refer to Condition before it exists
Condition = Union[Comparison, AllOf, AnyOf]  # noqa: UP007
AllOf.model_rebuild()
AnyOf.model_rebuild()


def condition_as_data(condition: Condition) -> Any:
    """A condition back in the plain form `rules.holds` reads."""
    if isinstance(condition, AllOf):
        return {"all": [condition_as_data(c) for c in condition.all]}
    if isinstance(condition, AnyOf):
        return {"any": [condition_as_data(c) for c in condition.any]}
    return list(condition)


# -- nodes -------------------------------------------------------------------------------

NodeId = Annotated[str, Field(min_length=1)]
MessageId = Annotated[str, Field(min_length=1)]
Key = Literal["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class OptionSpec(Strict):
    """Where a key leads, and the facts it sets on the way."""

    next: NodeId
    set: dict[str, Any] = Field(default_factory=dict)


def _option(value: Any) -> Any:
    return {"next": value} if isinstance(value, str) else value


class NodeBase(Strict):
    type: str
    id: str = ""
    flow: str = ""  # the `name` of the flow file it is in (never the file's name)
    zero: NodeId | None = None  # where 0 leads at this node (the flow's `zero` by default)
    reset: bool = False  # entering forgets the answers so far (a questionnaire's start)
    line: int = Field(default=0, exclude=True)
    file: str = Field(default="", exclude=True)

    def targets(self) -> list[str]:
        """Every node this node can lead to."""
        return [self.zero] if self.zero else []

    def messages(self) -> list[str]:
        """Every message this node may say."""
        return []


class Prompted(NodeBase):
    prompt: MessageId

    def messages(self) -> list[str]:
        return [self.prompt]


class WithOptions(Prompted):
    options: dict[Key, OptionSpec]

    @field_validator("options", mode="before")
    @classmethod
    def _short_options(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): _option(v) for k, v in value.items()}
        return value

    @field_validator("options")
    @classmethod
    def _some_options(cls, value: dict[str, OptionSpec]) -> dict[str, OptionSpec]:
        if not value:
            raise ValueError("a menu or a question needs at least one option")
        return value

    def targets(self) -> list[str]:
        return [o.next for o in self.options.values()] + super().targets()


class LanguageNode(NodeBase):
    """The language menu: `prompt` is said once per language, in that language."""

    type: Literal["language"]
    prompt: MessageId

    def messages(self) -> list[str]:
        return [self.prompt]


class MenuNode(WithOptions):
    type: Literal["menu"]


class QuestionNode(WithOptions):
    type: Literal["question"]
    yes_no: bool = False  # spoken yes/no (and the language's yes/no words by SMS) work


class NumberNode(Prompted):
    """Waits for a number (digits ended by # on the phone): stores it as `fact`."""

    type: Literal["number"]
    error: MessageId
    fact: str
    min: int = 0
    max: int = 10**9
    next: NodeId

    @model_validator(mode="after")
    def _range(self) -> NumberNode:
        if self.min > self.max:
            raise ValueError(f"`min` ({self.min}) is above `max` ({self.max}): swap them")
        return self

    def targets(self) -> list[str]:
        return [self.next] + super().targets()

    def messages(self) -> list[str]:
        return [self.prompt, self.error]


class Case(Strict):
    when: Condition | None = None
    set: dict[str, Any] = Field(default_factory=dict)
    next: NodeId


class BranchNode(NodeBase):
    """Says nothing: goes on to the first case whose `when` holds, else to `else`."""

    type: Literal["branch"]
    compute: Literal["ceilings"] | None = None  # work out the person's income ceilings first
    cases: list[Case] = Field(default_factory=list)
    else_: NodeId | None = Field(default=None, alias="else")

    @model_validator(mode="after")
    def _way_out(self) -> BranchNode:
        if self.else_ is None and all(c.when is not None for c in self.cases):
            raise ValueError("no way out when no case holds: add `else:` with a node")
        return self

    def targets(self) -> list[str]:
        return [c.next for c in self.cases] + ([self.else_] if self.else_ else []) \
            + super().targets()


class Addition(Strict):
    when: Condition
    message: MessageId


class OutcomeNode(NodeBase):
    """An answer of the questionnaire: its message, and additions whose `when` holds."""

    type: Literal["outcome"]
    code: Annotated[str, Field(pattern=r"^[A-Z0-9-]+$")]
    message: MessageId
    adds: list[Addition] = Field(default_factory=list)
    footer: MessageId | None = None
    # keys that go on from the answer (2 after a child's answer: the adult's own situation)
    options: dict[Key, OptionSpec] = Field(default_factory=dict)

    _short_options = field_validator("options", mode="before")(
        lambda value: {str(k): _option(v) for k, v in value.items()}
        if isinstance(value, dict) else value)

    def targets(self) -> list[str]:
        return [o.next for o in self.options.values()] + super().targets()

    def messages(self) -> list[str]:
        return [self.message, *(a.message for a in self.adds)] + \
            ([self.footer] if self.footer else [])


class AnswerNode(NodeBase):
    """Information: a message, then by voice 1 SMS, 9 repeat, * back."""

    type: Literal["answer", "help"]
    message: MessageId
    footer: MessageId | None = None

    def messages(self) -> list[str]:
        return [self.message] + ([self.footer] if self.footer else [])


class PostcodeNode(Prompted):
    """Waits for a postcode, then goes to `next` (the caisse)."""

    type: Literal["postcode"]
    next: NodeId

    def targets(self) -> list[str]:
        return [self.next] + super().targets()


class CaisseNode(NodeBase):
    """The caisse (CPAM) of the postcode given before."""

    type: Literal["caisse"]
    footer: MessageId | None = None

    def messages(self) -> list[str]:
        return [self.footer] if self.footer else []


class ComedeNode(NodeBase):
    """What Comede is, and its contacts."""

    type: Literal["comede"]
    message: MessageId
    footer: MessageId | None = None

    def messages(self) -> list[str]:
        return [self.message] + ([self.footer] if self.footer else [])


class ResumeNode(Prompted):
    """Offered to a caller who calls back mid-way: 1 go on, 2 start again."""

    type: Literal["resume"]


Node = Annotated[LanguageNode | MenuNode | QuestionNode | NumberNode | BranchNode | OutcomeNode
                 | AnswerNode | PostcodeNode | CaisseNode | ComedeNode | ResumeNode,
                 Field(discriminator="type")]
NODE_MODELS: dict[str, type[NodeBase]] = {
    "language": LanguageNode, "menu": MenuNode, "question": QuestionNode,
    "number": NumberNode, "branch": BranchNode, "outcome": OutcomeNode, "answer": AnswerNode,
    "help": AnswerNode, "postcode": PostcodeNode, "caisse": CaisseNode, "comede": ComedeNode,
    "resume": ResumeNode,
}
NODE_TYPES = frozenset(NODE_MODELS)
NODE: TypeAdapter[Any] = TypeAdapter(Node)


class FlowFile(Strict):
    """One file of flow/: a named part of the tree, and what 0 means in it."""

    name: str
    zero: NodeId | None = None  # where 0 leads at this flow's prompts; unset: the main menu
    source: str | None = None
    checked: dt.date | None = None
    nodes: dict[str, dict[str, Any]]


# -- messages, commands, languages, settings ---------------------------------------------


class MessageSpec(Strict):
    sms: str
    voice: str | None = None
    # the SMS copy texted after a call, where shorter than `sms` (what to ask, the documents)
    copy_: str | None = Field(default=None, alias="copy")
    source: str | None = None
    checked: dt.date | None = None
    review: Literal["drafted", "reviewed"] | None = None
    budget: Annotated[int, Field(ge=1, le=10)] | None = None  # SMS segments, its own


Word = str | int


def _no_booleans(value: Any) -> Any:
    """YAML reads YES, NO, ON, OFF, Y, N unquoted as true/false: refuse them, say how."""
    words = value if isinstance(value, list) else \
        [w for ws in value.values() for w in (ws or [])] if isinstance(value, dict) else []
    if any(isinstance(w, bool) for w in words):
        raise ValueError("a word YAML reads as true/false (YES, NO, ON, OFF, Y, N): "
                         "write it in quotes, e.g. \"YES\"")
    return value


class MessageFile(Strict):
    language: str
    review: Literal["drafted", "reviewed"] = "drafted"
    commands: dict[str, list[Word]] = Field(default_factory=dict)
    yes: list[Word] = Field(default_factory=list, alias="yes")
    no: list[Word] = Field(default_factory=list, alias="no")
    messages: dict[str, MessageSpec | str]

    _words = field_validator("commands", "yes", "no", mode="before")(_no_booleans)

    @field_validator("messages", mode="before")
    @classmethod
    def _plain_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ({"sms": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value


class CommandSpec(Strict):
    words: list[Word] = Field(default_factory=list)
    _words = field_validator("words", "opted_out_only", mode="before")(_no_booleans)
    goto: NodeId | None = None
    action: Literal["opt_out", "opt_in"] | None = None
    takes: Literal["postcode", "language"] | None = None
    # words that do this only for a person who opted out (YES); elsewhere, ordinary answers
    opted_out_only: list[Word] = Field(default_factory=list)

    @model_validator(mode="after")
    def _does_something(self) -> CommandSpec:
        if (self.goto is None) == (self.action is None):
            raise ValueError("a command needs either `goto` (a node) or `action`, not both")
        return self


class CommandFile(Strict):
    commands: dict[str, CommandSpec]


class SayVoice(Strict):
    language: str | None = None
    voice: str | None = None


class LanguageSpec(Strict):
    code: str
    key: int | str
    name: str
    english_name: str | None = None
    direction: Literal["ltr", "rtl"] = "ltr"  # how its script is written (the console shows it so)
    sms_fold: bool = False
    say: SayVoice = Field(default_factory=SayVoice)
    speech: str | None = None
    tts: dict[str, str] = Field(default_factory=dict)
    # until the language is recorded, the voice that reads its line of the language menu
    menu_voice: dict[str, str] = Field(default_factory=dict)


class LanguageFile(Strict):
    languages: list[LanguageSpec]


class Budget(Strict):
    gsm7: Annotated[int, Field(ge=1, le=10)]
    ucs2: Annotated[int, Field(ge=1, le=10)]


class Places(Strict):
    """Where the conversation starts and where fixed keys lead."""

    main: NodeId  # the main menu
    language: NodeId  # the language menu
    resume: NodeId  # offered to a caller who calls back mid-way
    find_cpam: NodeId  # 3 after an outcome, by voice
    caisse: NodeId  # what the counter note (SMS copy after a call) shows of the caisse


BudgetKind = Literal["answer", "outcome", "copy", "other"]


class VoiceTime(Strict):
    """How long a call may take to listen to (seconds), and how fast each language is
    spoken (characters per second of text, for prompts without rendered audio)."""

    rates: dict[str, Annotated[float, Field(gt=1, lt=40)]]
    # seconds of silence a voice adds at each ':', '.', ',', '?'... (timing.PAUSES)
    pause: dict[str, Annotated[float, Field(ge=0, lt=2)]] = Field(default_factory=dict)
    rates_measured: str  # how and when the rates (and pauses) were measured
    # budgets; unset: measured and reported, not enforced
    longest_path: dict[str, Annotated[int, Field(gt=0)]] = Field(default_factory=dict)
    prompt: Annotated[int, Field(gt=0)] | None = None  # a menu or a question
    answer: Annotated[int, Field(gt=0)] | None = None  # a spoken answer, without its footer


class SettingsFile(Strict):
    places: Places
    # SMS segments per message, by what it is: an information `answer`, a questionnaire
    # `outcome` (with each of its additions), the `copy` texted after a call, or `other`
    sms_budgets: dict[BudgetKind, Budget]
    # segments of the whole questionnaire by SMS (every reply from TEST to the outcome on
    # the longest path), per language code or `other`; unset: measured, not enforced
    sms_questionnaire: dict[str, Annotated[int, Field(gt=0)]] = Field(default_factory=dict)
    voice_time: VoiceTime | None = None

    @field_validator("sms_budgets")
    @classmethod
    def _has_default(cls, value: dict[str, Budget]) -> dict[str, Budget]:
        if "other" not in value:
            raise ValueError("add the budget of `other` messages")
        return value


def validate(model: type[BaseModel], data: Any, file: str, where: str = "") -> tuple[Any, list[Fault]]:
    """The data as `model`, or None and its faults."""
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        return None, explain(error, data, file, where, model)


def validate_node(node_id: str, raw: Any, file: str, flow: FlowFile) -> tuple[Any, list[Fault]]:
    if not isinstance(raw, dict):
        return None, [Fault(file, None, f"node {node_id}: write its keys under it "
                            f"(type: ..., prompt: ...)")]
    data = {**raw, "id": node_id, "flow": flow.name}
    if flow.zero and "zero" not in raw:
        data["zero"] = flow.zero
    try:
        node = NODE.validate_python(data)
    except ValidationError as error:
        return None, explain(error, raw, file, f"node {node_id}", NODE)
    line = getattr(raw, "line", 0)
    return node.model_copy(update={"line": line, "file": file}), []
