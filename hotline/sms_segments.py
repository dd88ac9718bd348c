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
    numbered "(1/2)" so they read in order whatever order they arrive in. The parts are
    balanced: as few as greedy filling needs, but of even length, never a long part and a
    tiny leftover (the same cost, and the last part is not a stray word)."""
    if count(text).segments <= max_segments:
        return [text]
    words = text.replace("\n", "\n ").split(" ")
    parts = _pack(words, max_segments, None)
    low, high = 1, max(count("(9/9) " + p).units for p in parts)
    while low < high:  # the smallest length per part that needs no more parts
        middle = (low + high) // 2
        if len(_pack(words, max_segments, middle)) <= len(parts):
            high = middle
        else:
            low = middle + 1
    parts = _pack(words, max_segments, high)
    total = len(parts)
    return [f"({i}/{total}) {p}" for i, p in enumerate(parts, 1)]


def _pack(words: list[str], max_segments: int, max_units: int | None) -> list[str]:
    """Fill parts word by word up to `max_segments` (and `max_units`, when given)."""
    parts: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip(" ") if current else word
        size = count("(9/9) " + candidate)
        full = size.segments > max_segments or (max_units is not None and size.units > max_units)
        if full and current:
            parts.append(current.strip())
            current = word
        else:
            current = candidate
    if current.strip():
        parts.append(current.strip())
    return parts
