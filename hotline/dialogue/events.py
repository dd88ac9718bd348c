"""What happened in a step, besides the reply: the engine's output events.

As in goflow, the step says what happened and the adapters act on it: the usage counters,
the SMS copy and the connected call all come from these. Each event names the daily
counter it adds to (`counters`); none holds anything that identifies a person.
"""
from __future__ import annotations

from dataclasses import dataclass

from .model import Say


@dataclass(frozen=True)
class Event:
    def counters(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class ConversationStarted(Event):
    """A call came in, or a text came from someone with no conversation going."""

    channel: str
    lang: str | None

    def counters(self) -> tuple[str, ...]:
        return (f"conversation.{self.channel}",) + ((f"lang.{self.lang}",) if self.lang else ())


@dataclass(frozen=True)
class LanguageChanged(Event):
    lang: str

    def counters(self) -> tuple[str, ...]:
        return (f"lang.{self.lang}",)


@dataclass(frozen=True)
class OptedOut(Event):
    def counters(self) -> tuple[str, ...]:
        return ("optout",)


@dataclass(frozen=True)
class OptedIn(Event):
    def counters(self) -> tuple[str, ...]:
        return ("optin",)


@dataclass(frozen=True)
class NodeEntered(Event):
    node: str

    def counters(self) -> tuple[str, ...]:
        return (f"node.{self.node}",)


@dataclass(frozen=True)
class QuestionAnswered(Event):
    """A question or a number prompt got a valid answer (the key, or the number)."""

    node: str
    answer: str


@dataclass(frozen=True)
class OutcomeReached(Event):
    """The questionnaire gave its answer."""

    node: str
    code: str

    def counters(self) -> tuple[str, ...]:
        return (f"outcome.{self.code}",)


@dataclass(frozen=True)
class CopyRequested(Event):
    """Text these messages to the caller (the answer just heard), in this language."""

    says: tuple[Say, ...]
    lang: str

    def counters(self) -> tuple[str, ...]:
        return ("copy.requested",)


@dataclass(frozen=True)
class DialRequested(Event):
    """Connect the caller to this number (a Comede line that is open)."""

    number: str

    def counters(self) -> tuple[str, ...]:
        return ("dial.requested",)


@dataclass(frozen=True)
class InputNotUnderstood(Event):
    channel: str
    node: str | None

    def counters(self) -> tuple[str, ...]:
        return (f"invalid.{self.channel}",)


@dataclass(frozen=True)
class PostcodeFound(Event):
    """A postcode led to a caisse; only its département is counted."""

    departement: str

    def counters(self) -> tuple[str, ...]:
        return (f"postcode.{self.departement}",)
