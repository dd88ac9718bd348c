"""Prompt audio: which rendered or recorded file matches a message's current text.

`audio/manifest.json` (written by `hotline audio build`) maps language and message id to
a file and the hash of the text it speaks. A file is played only while its text is the
current one; otherwise the voice channel falls back to <Say>.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from .content import Script

log = logging.getLogger("hotline.speech")
MANIFEST = "manifest.json"


def text_hash(lang: str, engine: str, text: str) -> str:
    return hashlib.sha256(f"{lang}\0{engine}\0{text}".encode()).hexdigest()[:16]


class Speech:
    def __init__(self, script: Script, audio_dir: Path, enabled: bool = True):
        self.script = script
        self.audio_dir = Path(audio_dir)
        self.enabled = enabled
        self.entries: dict[tuple[str, str], dict] = {}
        manifest = self.audio_dir / MANIFEST
        if enabled and manifest.exists():
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
                for entry in data.get("prompts", []):
                    self.entries[(entry["lang"], entry["id"])] = entry
            except (ValueError, KeyError, TypeError):
                log.warning("audio/manifest.json is unreadable: every prompt is spoken by <Say>")
        self._voice_languages = self._compute_voice_languages()

    def url_for(self, lang: str, msg_id: str, text: str) -> str | None:
        """The /audio/ path of the file speaking exactly `text`, or None."""
        entry = self.entries.get((lang, msg_id))
        if not entry or entry.get("text_sha") != hashlib.sha256(text.encode()).hexdigest()[:16]:
            return None
        return f"/audio/{entry['file']}"

    def voice_languages(self) -> tuple[str, ...]:
        return self._voice_languages

    def _compute_voice_languages(self) -> tuple[str, ...]:
        """Languages a call can be held in: Twilio has a voice, or every prompt has audio."""
        spoken = []
        for code, lang in self.script.languages.items():
            if lang.say_language or self._complete(code):
                spoken.append(code)
        return tuple(spoken)

    def coverage_faults(self) -> list[str]:
        """Audio listed in the manifest whose file is gone: a call would <Play> nothing."""
        faults = []
        for (lang, msg_id), entry in sorted(self.entries.items()):
            if not (self.audio_dir / entry["file"]).exists():
                faults.append(f"audio {lang} {msg_id}: {entry['file']} is missing")
        return faults

    def _complete(self, code: str) -> bool:
        ids = self.script.messages.get("fr", {}).keys()
        return bool(self.entries) and all((code, i) in self.entries for i in ids)
