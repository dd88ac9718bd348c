"""Content health for /console/content: the content check, review state per language,
audio coverage and stale recordings, and how old each cited source's check is."""
from __future__ import annotations

import datetime as dt
from typing import Any

from ..content.check import STALE_AFTER, check
from ..speech import stale_recordings
from . import scriptview


def content_health(hl: Any, today: dt.date) -> dict[str, Any]:
    script = hl.script
    report = check(script, today, hl.directory, hl.speech)
    names = {code: f"{name} ({english})" for code, name, english, _ in scriptview.languages(script)}
    sources = [{"source": source, "checked": checked, "cited_by": cited,
                "age_days": (today - checked).days if checked else None,
                "stale": bool(checked and today - checked > STALE_AFTER)}
               for source, checked, cited in scriptview.sources(script)]
    return {"ok": report.ok, "faults": report.faults, "notes": report.notes,
            "reviews": scriptview.review_states(script), "language_names": names,
            "coverage": hl.speech.coverage(), "voice_languages": hl.speech.voice_languages(),
            "stale_recordings": stale_recordings(script, hl.speech.audio_dir),
            "sources": sources, "stale_after_days": STALE_AFTER.days}
