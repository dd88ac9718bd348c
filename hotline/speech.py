"""Prompt audio: what to render, what is rendered, and what a call plays.

`hotline audio build` renders every spoken text of every language (gTTS where it has the
language, espeak-ng offline) into audio/<lang>/, named by message id and a hash of
language, engine and text, listed in audio/manifest.json. A human recording
(audio/recordings/<lang>/<id>.*, imported with `hotline audio import`) overrides
text-to-speech while the text it was made for is unchanged, and is reported stale after.

At call time a prompt is played when a file speaks exactly its current text; otherwise it
is said with <Say> in the language's Twilio voice. A language Twilio cannot speak (Dari,
Pashto, Tigrinya) is offered by voice only when every prompt of it has audio; its prompts
with values (a town, an amount) play the fixed words from audio and say the values.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .content import Script, rules
from .content.script import REFERENCE_LANG
from .text import FRENCH_MARK, plain  # noqa: F401 (plain: used by the channels)
from .text import PLACEHOLDER as _PLACEHOLDER

log = logging.getLogger("hotline.speech")
MANIFEST = "manifest.json"
RECORDINGS = "recordings"
RECORDINGS_INDEX = "recordings/index.json"

_WORDS = re.compile(r"[^\W_]", re.UNICODE)


def text_sha(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()[:16]


def file_hash(lang: str, engine: str, text: str) -> str:
    return hashlib.sha256(f"{lang}\0{engine}\0{text.strip()}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Unit:
    """One piece of speech to have audio for: a whole message, the fixed words of a message
    with values, or a value (an amount) in a language Twilio cannot speak."""

    id: str
    kind: str  # "message" | "segment" | "value"
    text: str


@dataclass(frozen=True)
class Part:
    kind: str  # "play" | "say"
    value: str  # the /audio/ path, or the words (French names marked, see `french_spans`)
    say_lang: str | None = None  # a language code of the script, for <Say>
    text: str = ""  # what a "play" part says: lets a reply <Say> it all in one voice


# French names kept on purpose in other languages ("sécurité sociale", "attestation", a
# street) are marked `[fr:...]` in the message text, so every voice says them in French:
# <lang xml:lang="fr-FR"> in Twilio's <Say>, the French voice in audio files. SMS and the
# French voice itself drop the marks (`plain`).
FRENCH = FRENCH_MARK  # defined with `plain` in text.py (the content check uses them too)
# Values that are French names: said in French too (digits, amounts stay in the language).
FRENCH_VALUES = frozenset({"town", "address", "name", "departement"})


def french_spans(text: str) -> list[tuple[str, bool]]:
    """The text cut into (words, is_french) pieces, in order, marks removed."""
    out: list[tuple[str, bool]] = []
    last = 0
    for m in FRENCH.finditer(text):
        if m.start() > last:
            out.append((text[last:m.start()], False))
        out.append((m.group(1), True))
        last = m.end()
    if last < len(text):
        out.append((text[last:], False))
    return [(words, french) for words, french in out if words]


def mark_french(value: str) -> str:
    """A value (a town, an address) marked as French words."""
    clean = value.replace("[", "(").replace("]", ")")
    return f"[fr:{clean}]" if clean.strip() else clean


MAX_HOUSEHOLD = 20  # flow/quiz.yaml quiz.q5 max


def segments(template: str) -> list[str | tuple[str]]:
    """A template cut at its placeholders: fixed texts, and ("name",) for each value."""
    out: list[str | tuple[str]] = []
    last = 0
    for m in _PLACEHOLDER.finditer(template):
        out.append(template[last:m.start()])
        out.append((m.group(1),))
        last = m.end()
    out.append(template[last:])
    return [p for p in out if isinstance(p, tuple) or _WORDS.search(p)]


def numeric_values(script: Script, today: dt.date) -> list[str]:
    """Every amount or count a prompt can say today: reference amounts (some with cents,
    written 2,80), the ceilings and forfaits logement of every household size the
    questionnaire accepts on both territories, household sizes."""
    if "ceiling_base" not in script.parameters:
        return []
    sizes = range(1, MAX_HOUSEHOLD + 1)
    values: set[str] = {str(v) for v in sizes}
    values.update(str(v) for v in rules.reference_amounts(script.parameters, today).values())
    for territory in ("metro", "dom"):
        for size in sizes:
            for housing in ("free", "benefit"):
                facts = {"territory": territory, "household": size, "housing": housing}
                c = rules.compute(script.parameters, facts, today)
                values.update(str(c[k]) for k in ("ceiling_free_month", "ceiling_part_month",
                                                  "forfait_month", "css_cost_min",
                                                  "css_cost_max", "css_cost_min_am",
                                                  "css_cost_max_am") if k in c)
    return sorted(values, key=lambda v: (float(v.replace(",", ".")), v))


def speech_units(script: Script, lang: str, today: dt.date) -> list[Unit]:
    """What must have audio for `lang` to be spoken without Twilio's <Say>."""
    language = script.languages[lang]
    units: list[Unit] = []
    for msg_id in script.messages[REFERENCE_LANG]:
        msg = script.message(lang, msg_id)
        if msg is None:
            continue
        text = msg.text("voice").strip()
        if not text:
            continue
        if not _PLACEHOLDER.search(text):
            units.append(Unit(msg_id, "message", text))
        elif not language.say_language:
            for i, part in enumerate(segments(text)):
                if isinstance(part, str):
                    units.append(Unit(f"{msg_id}#{i}", "segment", part.strip()))
    if not language.say_language:
        units.extend(Unit(f"value-{v}", "value", v) for v in numeric_values(script, today))
    return units


# A language with no voice yet (Pashto, Tigrinya) still names itself in the language menu,
# with the SMS route: this line, rendered in its `menu_voice` (languages.yaml).
MENU_LINE = "language.sms_option"


def menu_voices(script: Script) -> dict[str, dict[str, str]]:
    """languages.yaml `menu_voice`: language -> {engine: voice} for its language-menu line."""
    return {code: dict(lang.menu_voice) for code, lang in script.languages.items()
            if lang.menu_voice}


def voice_of(script: Script, lang: str, engine: str) -> str | None:
    """The engine's voice name for a language (languages.yaml `tts:`), or None."""
    raw = getattr(script.languages[lang], "tts", None) or {}
    return raw.get(engine)


class Speech:
    """The audio a call can play, read once from audio/manifest.json at start-up."""

    def __init__(self, script: Script, audio_dir: Path, enabled: bool = True,
                 today: Callable[[], dt.date] = dt.date.today):
        self.script = script
        self.audio_dir = Path(audio_dir)
        self.enabled = enabled
        self.today = today
        self.by_text: dict[tuple[str, str], str] = {}
        self.entries: list[dict] = []
        self._seconds: dict[tuple[Any, Any], Any] = {}
        manifest = self.audio_dir / MANIFEST
        if enabled and manifest.exists():
            try:
                self.entries = json.loads(manifest.read_text(encoding="utf-8")).get("prompts", [])
                for entry in self.entries:
                    self.by_text[(entry["lang"], entry["text_sha"])] = entry["file"]
            except (ValueError, KeyError, TypeError, AttributeError):
                log.warning("audio/manifest.json is unreadable: prompts are said with <Say>")
                self.entries, self.by_text = [], {}
        self._menu_languages: tuple[str, ...] | None = None
        self._voice_languages = tuple(
            code for code, lang in script.languages.items()
            if (lang.say_language or self.missing(code) == []))

    # -- at call time --------------------------------------------------------
    def voice_languages(self) -> tuple[str, ...]:
        return self._voice_languages

    def menu_languages(self) -> tuple[str, ...]:
        """Languages a call cannot be held in whose language-menu line (MENU_LINE, with the
        SMS route) has audio: the voice language menu names them too (World's
        `sms_menu_languages`)."""
        if self._menu_languages is None:
            out = []
            for code in self.script.languages:
                msg = self.script.message(code, MENU_LINE)
                if code not in self._voice_languages and msg is not None and \
                        self.url(code, msg.text("voice")):
                    out.append(code)
            self._menu_languages = tuple(out)
        return self._menu_languages

    def url(self, lang: str, text: str) -> str | None:
        file = self.by_text.get((lang, text_sha(text))) if self.enabled else None
        return f"/audio/{file}" if file else None

    def parts(self, lang: str, template: str, params: dict[str, str]) -> list[Part]:
        """How to speak one message: files to play and words to say, in order. Words to
        say keep their French marks (a town or an address is marked French too)."""
        if lang == REFERENCE_LANG:
            values = params
        else:
            values = {k: mark_french(v) if k in FRENCH_VALUES else v for k, v in params.items()}
        full = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template).strip()
        has_say = bool(self.script.languages[lang].say_language)
        if not _PLACEHOLDER.search(template) or has_say:
            url = self.url(lang, full) if not _PLACEHOLDER.search(template) else None
            return [Part("play", url, lang, full)] if url else [Part("say", full, lang)]
        parts: list[Part] = []
        for piece in segments(template):
            if isinstance(piece, tuple):
                value = params.get(piece[0], "")
                url = self.url(lang, value)
                # a town or an address is French: the French voice says it best
                parts.append(Part("play", url, lang, value) if url
                             else Part("say", value, REFERENCE_LANG))
            else:
                url = self.url(lang, piece)
                parts.append(Part("play", url, lang, piece) if url
                             else Part("say", piece.strip(), lang))
        return [p for p in parts if p.value]

    def seconds(self, lang: str, text: str) -> float | None:
        """How long the rendered audio of this exact text plays, when it was measured."""
        if not self._seconds:
            self._seconds = {(e.get("lang"), e.get("text_sha")): e.get("seconds")
                             for e in self.entries}
        found = self._seconds.get((lang, text_sha(text)))
        return float(found) if isinstance(found, (int, float)) else None

    # -- coverage ------------------------------------------------------------
    def missing(self, lang: str) -> list[Unit]:
        units = speech_units(self.script, lang, self.today())
        return [u for u in units if (lang, text_sha(u.text)) not in self.by_text]

    def coverage(self) -> dict[str, dict[str, int]]:
        """Per language: prompts rendered by an engine, recorded by a person, stale
        recordings, and prompts with no audio."""
        stale = stale_recordings(self.script, self.audio_dir)
        table = {}
        for code in self.script.languages:
            units = speech_units(self.script, code, self.today())
            kinds = [self._kind(code, u) for u in units]
            table[code] = {"rendered": kinds.count("tts"), "recorded": kinds.count("recorded"),
                           "stale": sum(1 for s in stale if s[0] == code),
                           "missing": kinds.count(None), "total": len(units)}
        return table

    def _kind(self, lang: str, unit: Unit) -> str | None:
        file = self.by_text.get((lang, text_sha(unit.text)))
        if file is None:
            return None
        return "recorded" if file.startswith(RECORDINGS + "/") else "tts"

    def coverage_faults(self) -> list[str]:
        """Faults for the content check: files listed but gone, stale recordings, and a
        language offered by voice that lacks audio Twilio cannot replace."""
        faults = []
        for entry in self.entries:
            if not (self.audio_dir / entry["file"]).exists():
                faults.append(f"audio {entry['lang']} {entry['id']}: {entry['file']} is missing")
        for lang, msg_id in stale_recordings(self.script, self.audio_dir):
            faults.append(f"audio {lang} {msg_id}: the recording was made for another text "
                          f"(record it again, or `hotline audio script {lang}`)")
        for code in self._voice_languages:
            if not self.script.languages[code].say_language:
                for unit in self.missing(code):
                    faults.append(f"audio {code} {unit.id}: missing (the voice menu offers {code})")
        return faults


# -- recordings ----------------------------------------------------------------
def recordings_index(audio_dir: Path) -> dict[str, dict[str, dict]]:
    path = Path(audio_dir) / RECORDINGS_INDEX
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def stale_recordings(script: Script, audio_dir: Path) -> list[tuple[str, str]]:
    """Recordings whose prompt no longer has the text they were made for."""
    stale = []
    for lang, items in recordings_index(audio_dir).items():
        if lang not in script.languages:
            continue
        current = {u.id: text_sha(u.text) for u in speech_units(script, lang, dt.date.today())}
        for unit_id, info in items.items():
            if current.get(unit_id) != info.get("text_sha"):
                stale.append((lang, unit_id))
    return sorted(stale)


def fresh_recording(script: Script, audio_dir: Path, lang: str, unit: Unit) -> str | None:
    info = recordings_index(audio_dir).get(lang, {}).get(unit.id)
    if info is None:
        return None
    if info and info.get("text_sha") == text_sha(unit.text) and \
            (Path(audio_dir) / info["file"]).exists():
        return info["file"]
    return None


def safe_name(msg_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", msg_id)


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def iter_languages(script: Script, only: Iterable[str] | None) -> list[str]:
    wanted = list(only or script.languages)
    unknown = [c for c in wanted if c not in script.languages]
    if unknown:
        raise ValueError(f"unknown language(s): {', '.join(unknown)}")
    return wanted
