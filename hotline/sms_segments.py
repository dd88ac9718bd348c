"""How many SMS a text costs: GSM-7 or UCS-2 encoding, and the segment count.

GSM-7 (3GPP TS 23.038): 160 characters in one SMS, 153 per part when split; the
extension characters (^ { } \\ [ ~ ] | €) take two. Any other character makes the whole
message UCS-2: 70 in one SMS, 67 per part, characters outside the BMP (emoji) count two.
`fold_for_sms` swaps the few French letters and typographic signs that are not GSM-7 for
their plain form, so one "ê" does not double the price of a message.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

_TYPOGRAPHY = {
    "’": "'", "‘": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
    "…": "...", "–": "-", "—": "-", "\u00a0": " ", "\u202f": " ", "\u2009": " ",
    "œ": "oe", "Œ": "OE", "ç": "c", "•": "-",
}


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" | "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def count(text: str) -> Segments:
    """Encoding and number of SMS segments for `text` as a carrier would send it."""
    if is_gsm7(text):
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        single, part, enc = 160, 153, "GSM-7"
    else:
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
        single, part, enc = 70, 67, "UCS-2"
    if units <= single:
        return Segments(enc, units, 1 if units else 0)
    return Segments(enc, units, -(-units // part))


def fold_for_sms(text: str) -> str:
    """Replace non-GSM-7 letters of Latin-script text by their plain form (ê -> e, ’ -> ')."""
    out = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENSION:
            out.append(ch)
        elif ch in _TYPOGRAPHY:
            out.append(_TYPOGRAPHY[ch])
        else:
            bare = "".join(c for c in unicodedata.normalize("NFKD", ch)
                           if not unicodedata.combining(c))
            out.append(bare if bare and is_gsm7(bare) else ch)
    return "".join(out)


def split(text: str, max_segments: int) -> list[str]:
    """Cut a long text into ordered parts of at most `max_segments` each, at line or word ends,
    numbered "(1/2)" so they read in order whatever order they arrive in."""
    if count(text).segments <= max_segments:
        return [text]
    parts: list[str] = []
    current = ""
    for word in text.replace("\n", "\n ").split(" "):
        candidate = f"{current} {word}".strip(" ") if current else word
        if count("(9/9) " + candidate).segments > max_segments and current:
            parts.append(current.strip())
            current = word
        else:
            current = candidate
    if current.strip():
        parts.append(current.strip())
    total = len(parts)
    return [f"({i}/{total}) {p}" for i, p in enumerate(parts, 1)]
