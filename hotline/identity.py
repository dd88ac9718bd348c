"""Who is calling or texting: the whole `From` value, normalised, or nobody.

A phone number becomes its E.164 form (`phonenumbers`), a Twilio Client caller keeps its
name (`client:alice` and `client:bob` are two people). A withheld number (`anonymous`,
`restricted`, `unknown`, `+266696687`, empty, or anything else) is nobody: a call then
keeps its state for that call only (by CallSid), with no resume, no stored preference and
no SMS. `mobile` says whether an SMS copy can reach the number at all (Twilio refuses
French landlines, error 21614).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

# What carriers and Twilio put in `From` when the number is withheld. +266696687 spells
# "ANONYMOUS" on a keypad (a Lesotho-looking number some carriers send).
WITHHELD = frozenset({"anonymous", "restricted", "unknown", "private", "unavailable",
                      "+266696687", "266696687"})
_CLIENT = re.compile(r"client:[A-Za-z0-9_.@-]{1,121}")
_MOBILE = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
DEFAULT_REGION = "FR"  # a number written without +33 (the simulator, `hotline forget 06...`)


@dataclass(frozen=True)
class Identity:
    """A person as the hotline knows them.

    `key`: the normalised `From` (None: withheld). `state_key`: what their conversation is
    stored under: the key, or for a withheld caller the call itself (None: nothing to keep).
    """

    key: str | None
    state_key: str | None
    mobile: bool = False

    @property
    def known(self) -> bool:
        return self.key is not None


def normalise(raw: str | None) -> str | None:
    """`From` as one stable key: E.164 for a phone number, `client:name` for a Twilio
    Client; None for a withheld or meaningless value."""
    return _read(raw)[0]


def is_mobile(key: str | None) -> bool:
    """Whether an SMS can be sent to this number: a mobile (or a number that may be one)."""
    return _read(key)[1]


def identify(raw: str | None, call_sid: str | None = None) -> Identity:
    """The person behind a webhook's `From`; `call_sid` scopes a withheld caller's state."""
    key, mobile = _read(raw)
    if key is not None:
        return Identity(key=key, state_key=key, mobile=mobile)
    sid = (call_sid or "").strip()
    return Identity(key=None, state_key=f"withheld-call:{sid}" if sid else None)


def _read(raw: str | None) -> tuple[str | None, bool]:
    """The key of a `From` and whether it is a mobile number, parsed once (a webhook's
    costliest step after the signature)."""
    return _read_cached(raw or "")


# A person sends several requests in a row (each key pressed is one): parsing their number
# once saves about a twentieth of a webhook's time. Held in this process's memory only, as
# the request itself is; never written to Redis or the logs; bounded.
@lru_cache(maxsize=4096)
def _read_cached(raw: str) -> tuple[str | None, bool]:
    value = raw.strip()
    if not value or value.lower() in WITHHELD:
        return None, False
    if value.lower().startswith("client:"):
        name = "client:" + value[len("client:"):]
        return (name if _CLIENT.fullmatch(name) else None), False
    number = _parse(value)
    if number is None:
        return None, False
    mobile = phonenumbers.is_valid_number(number) and \
        phonenumbers.number_type(number) in _MOBILE
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), mobile


def _parse(value: str) -> phonenumbers.PhoneNumber | None:
    if not re.fullmatch(r"\+?[0-9 ().-]{4,24}", value):
        return None
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None
