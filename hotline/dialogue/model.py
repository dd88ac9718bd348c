"""The values the engine works on: session, input, reply, and the world it may consult."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from ..directory import ComedeContact, PostcodeLookup

Channel = Literal["sms", "voice"]
InputKind = Literal["start", "text", "keys", "speech", "timeout", "repeat"]


@dataclass
class Session:
    """Where one person is in one channel's conversation, and what they told us.

    `lang` and `opted_out` are preferences: the store keeps them beyond the session's
    lifetime; everything else expires with the conversation.
    """

    lang: str | None = None
    opted_out: bool = False
    node: str | None = None
    stack: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    misses: int = 0
    step: int = 0
    pending: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "stack": self.stack,
            "facts": self.facts,
            "misses": self.misses,
            "step": self.step,
            "pending": self.pending,
        }

    def copy(self) -> Session:
        """A session the engine may change without changing this one."""
        return Session(self.lang, self.opted_out, self.node, list(self.stack),
                       dict(self.facts), self.misses, self.step, dict(self.pending))

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, lang: str | None = None,
                  opted_out: bool = False) -> Session:
        if not data:
            return cls(lang, opted_out)
        return cls(
            lang=lang,
            opted_out=opted_out,
            node=data.get("node"),
            stack=list(data.get("stack") or ()),
            facts=dict(data.get("facts") or ()),
            misses=int(data.get("misses") or 0),
            step=int(data.get("step") or 0),
            pending=dict(data.get("pending") or ()),
        )


@dataclass(frozen=True)
class Input:
    """Something the person did: a trigger (`start`) or a resume (text, keys, speech, timeout).

    `value` holds the text, the keys pressed or the speech transcript, already stripped of
    control characters and cut to a sane length by the channel.
    """

    channel: Channel
    kind: InputKind
    value: str = ""
    confidence: float | None = None


@dataclass(frozen=True)
class Say:
    """One message of the script, by id, with the values of its placeholders."""

    id: str
    params: tuple[tuple[str, str], ...] = ()
    lang: str | None = None  # set when this message is in another language than the reply's

    @classmethod
    def of(cls, id: str, lang: str | None = None, **params: Any) -> Say:
        if not params:  # most messages have no placeholder
            return cls(id, (), lang)
        return cls(id, tuple(sorted((k, str(v)) for k, v in params.items())), lang)

    @property
    def values(self) -> dict[str, str]:
        return dict(self.params)


@dataclass(frozen=True)
class Expect:
    """What input the reply waits for, so a voice channel can gather it well.

    kind: `key` one keypress; `number` digits ended by `#`; `postcode` five digits.
    `yes_no` allows spoken yes/no.
    """

    kind: Literal["key", "number", "postcode"] = "key"
    yes_no: bool = False


@dataclass
class Reply:
    """What to say or send now, and what comes next.

    `expect` None means the conversation has nothing more to ask: a call hangs up after
    `says`. `silent` means send nothing at all (an opted-out number). What else happens
    (a copy by SMS, a call connected) comes as events beside the reply.
    """

    says: list[Say] = field(default_factory=list)
    expect: Expect | None = field(default_factory=Expect)
    silent: bool = False


class Directory(Protocol):
    """The offices the engine may look up (hotline.directory.Directory)."""

    def lookup(self, text: str) -> PostcodeLookup: ...
    def comede_lines(self) -> tuple[ComedeContact, ...]: ...
    def comede_centres(self) -> tuple[ComedeContact, ...]: ...
    def open_now(self, contact: ComedeContact, weekday: int, minutes: int) -> bool: ...


@dataclass(frozen=True)
class World:
    """What the engine may consult besides the script: today's date and the office directory."""

    today: dt.date
    directory: Directory | None = None
    now_minutes: int | None = None  # minutes since midnight, Paris time, for opening hours
    weekday: int | None = None  # 0 = Monday
    voice_languages: tuple[str, ...] = ()  # languages a call can be held in
    outbound_sms: bool = True  # whether a copy by SMS can be sent after a call
    # whether this caller can get one: a mobile number, an identity, not opted out (a
    # landline or a withheld caller is not offered "1 = SMS")
    can_text: bool = True
    # languages a call cannot be held in whose language-menu line has audio (Pashto in the
    # Dari voice...): the voice language menu should name them, with the SMS route
    sms_menu_languages: tuple[str, ...] = ()
