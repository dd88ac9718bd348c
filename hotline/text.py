"""Text helpers shared by content, dialogue, directory and channels: folding case and
accents, digits of every script, numbers, postcodes, and message placeholders."""
from __future__ import annotations

import re
import unicodedata

# Arabic-Indic (٠-٩), Persian/Urdu (۰-۹) and full-width (０-９) digits, as typed on phones
# set to Arabic, Dari or Pashto, read as 0-9; invisible marks that phones add around
# numbers (bidi marks, zero-width, keycap emoji parts) removed. For str.translate.
DIGITS: dict[int, int | None] = {base + i: ord("0") + i
                                 for base in (0x0660, 0x06F0, 0xFF10) for i in range(10)}
DIGITS.update((ord(ch), None) for ch in "\ufe0f\u20e3\u200b\u200c\u200d\u200e\u200f\u2060"
              "\ufeff\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

MAX_TEXT = 1600  # Twilio's limit for one message body; anything beyond is noise


def clean(text: str | None) -> str:
    """Drop control and format characters, fold digits to ASCII, trim, cap the length."""
    if not text:
        return ""
    text = text[:MAX_TEXT * 2].translate(DIGITS)
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co"):
            kept.append(" " if ch in "\n\r\t" else "")
        else:
            kept.append(ch)
    return " ".join("".join(kept).split())[:MAX_TEXT]


def fold(text: str) -> str:
    """Case- and accent-insensitive form used to match command words ("Arrêt" -> "ARRET")."""
    if text.isascii():  # most texts ("1", "AME"): nothing to decompose
        return text.upper().strip()
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.upper().strip()


def as_key(text: str) -> str | None:
    """A single keypad answer ("1", " 2. ", "*", "#") or None."""
    t = text.strip().rstrip(".").strip()
    if len(t) == 1 and (t.isdigit() or t in "*#"):
        return t
    return None


_NUMBER = re.compile(r"^\s*(\d{1,3}(?:[ .\u202f\u00a0]\d{3})+|\d+)(?:[.,]\d{1,2})?\s*"
                     r"(?:€|E|EUR|EUROS?)?\s*(?:/\s*MOIS|PAR MOIS|A MONTH|PER MONTH|/\s*MONTH)?\s*$")


def as_number(text: str) -> int | None:
    """A whole amount typed by SMS or keypad: "1200", "1 200 €", "1.200 euros", "850,50" -> 850."""
    m = _NUMBER.match(fold(text))
    if not m:
        return None
    digits = re.sub(r"\D", "", m.group(1))
    if not digits or len(digits) > 9:
        return None
    return int(digits)


_POSTCODE = re.compile(r"(?<!\d)(\d{2}) ?(\d{3})(?!\d)")


def as_postcode(text: str) -> str | None:
    """A French postcode when the text is nothing else ("93200", "93 200")."""
    t = text.strip()
    m = _POSTCODE.fullmatch(t)
    return m.group(1) + m.group(2) if m else None


PLACEHOLDER = re.compile(r"\{(\w+)\}")


def placeholders(text: str | None) -> set[str]:
    """The {names} a message text uses."""
    return set(PLACEHOLDER.findall(text or ""))


def fill(text: str, values: dict[str, str], missing: str = "") -> str:
    """A message text with its {names} replaced by their values (`missing` for the others)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), missing), text)


# French words kept in another language's voice text: `[fr:sécurité sociale]` (speech.py
# says them with a French voice; an SMS shows them without the marks).
FRENCH_MARK = re.compile(r"\[fr:([^\[\]]+)\]")


def plain(text: str) -> str:
    """The text without its French marks (what an SMS shows)."""
    return FRENCH_MARK.sub(lambda m: m.group(1), text)
