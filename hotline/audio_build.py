"""`hotline audio build | import | script`: render, record and list the spoken prompts."""
from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .content import Script
from .speech import (
    MANIFEST,
    MENU_LINE,
    RECORDINGS,
    RECORDINGS_INDEX,
    Unit,
    file_hash,
    fresh_recording,
    menu_voices,
    recordings_index,
    safe_name,
    speech_units,
    text_sha,
    write_json,
)
from .tts import ENGINES, EngineUnavailable, duration_seconds, phone_format

AUDIO_SUFFIXES = (".wav", ".mp3")


@dataclass
class BuildReport:
    rendered: int = 0
    kept: int = 0
    recorded: int = 0
    removed: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # lang -> why
    seconds: dict[str, float] = field(default_factory=dict)  # engine -> time spent rendering
    counts: dict[str, int] = field(default_factory=dict)  # engine -> prompts rendered
    sizes: dict[str, int] = field(default_factory=dict)  # lang -> bytes
    failed: list[str] = field(default_factory=list)


def choose_engine(script: Script, lang: str, offline: bool) -> tuple[Any, str | None]:
    """The first engine the language has a voice in (gTTS first unless offline)."""
    return _first_engine(script.languages[lang].tts, offline)


def choose_menu_engine(script: Script, lang: str, offline: bool) -> tuple[Any, str | None]:
    """For a language with no voice: the engine and voice of its language-menu line."""
    return _first_engine(menu_voices(script).get(lang, {}), offline)


def _first_engine(voices: Mapping[str, str], offline: bool) -> tuple[Any, str | None]:
    for name in ("gtts", "espeak"):
        engine: Any = ENGINES[name]()
        if name in voices and (engine.offline or not offline):
            if name == "espeak" and not engine.binary:
                continue
            return engine, voices[name]
    return None, None


def build(script: Script, audio_dir: Path, today: dt.date, offline: bool = False,
          langs: Iterable[str] | None = None,
          progress: Callable[[str, Unit], None] = lambda lang, unit: None) -> BuildReport:
    """Render what is missing or changed, keep the rest, remove what no message uses."""
    audio_dir = Path(audio_dir)
    report = BuildReport()
    manifest_path = audio_dir / MANIFEST
    old = []
    if manifest_path.exists():
        import json

        old = json.loads(manifest_path.read_text(encoding="utf-8")).get("prompts", [])
    wanted = list(langs or script.languages)
    entries = [e for e in old if e["lang"] not in wanted]  # languages not rebuilt stay as they are
    for lang in wanted:
        engine, voice = choose_engine(script, lang, offline)
        only: set[str] | None = None  # unit ids to render, when not all
        if engine is None:  # no voice: at least its line of the language menu
            engine, voice = choose_menu_engine(script, lang, offline)
            only = {MENU_LINE}
        lang_dir = audio_dir / lang
        keep: set[Path] = set()
        for unit in speech_units(script, lang, today):
            progress(lang, unit)
            recording = fresh_recording(script, audio_dir, lang, unit)
            if recording:
                entries.append(_entry(lang, unit, "human", recording, audio_dir))
                report.recorded += 1
                continue
            if engine is None or (only is not None and unit.id not in only):
                report.skipped[lang] = "no text-to-speech voice: human recordings only"
                continue
            name = f"{lang}/{safe_name(unit.id)}-{file_hash(lang, engine.name, unit.text)}{engine.suffix}"
            path = audio_dir / name
            keep.add(path)
            if path.exists() and path.stat().st_size > 0:
                report.kept += 1
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                started = time.perf_counter()
                try:
                    engine.render(unit.text, voice, path)
                except EngineUnavailable as error:
                    report.skipped[lang] = str(error)
                    keep.discard(path)
                    continue
                except Exception as error:  # gTTS blocked (429), network down...: <Say> covers it
                    report.failed.append(f"{lang} {unit.id}: {type(error).__name__}: {error}")
                    keep.discard(path)
                    path.unlink(missing_ok=True)
                    continue
                report.seconds[engine.name] = report.seconds.get(engine.name, 0.0) + \
                    time.perf_counter() - started
                report.counts[engine.name] = report.counts.get(engine.name, 0) + 1
                report.rendered += 1
            entries.append(_entry(lang, unit, engine.name, name, audio_dir))
        if lang_dir.exists():
            for stale in lang_dir.iterdir():
                if stale.suffix in AUDIO_SUFFIXES and stale not in keep:
                    stale.unlink()
                    report.removed += 1
        report.sizes[lang] = sum(p.stat().st_size for p in lang_dir.glob("*")) \
            if lang_dir.exists() else 0
    write_json(manifest_path, {"version": 1, "prompts": entries})
    return report


def _entry(lang: str, unit: Unit, engine: str, file: str, audio_dir: Path) -> dict:
    path = Path(audio_dir) / file
    try:  # how long it plays: the content check adds these up along the menus
        seconds: float | None = round(duration_seconds(path), 2)
    except (EngineUnavailable, OSError, ValueError, subprocess.SubprocessError):
        seconds = None
    return {"lang": lang, "id": unit.id, "kind": unit.kind, "engine": engine, "file": file,
            "text_sha": text_sha(unit.text), "bytes": path.stat().st_size, "seconds": seconds}


def import_recordings(script: Script, audio_dir: Path, lang: str, folder: Path) -> list[str]:
    """Take a volunteer's files named by message id (topic.ame.wav, quiz.q1.mp3...),
    normalise them for the phone, and record which text each was made for."""
    audio_dir, folder = Path(audio_dir), Path(folder)
    if lang not in script.languages:
        raise ValueError(f"unknown language {lang!r}")
    index = recordings_index(audio_dir)
    mine = index.setdefault(lang, {})
    taken = []
    units = {safe_name(u.id): u for u in speech_units(script, lang, dt.date.today())}
    for src in sorted(folder.iterdir()):
        if src.suffix.lower() not in AUDIO_SUFFIXES:
            continue
        unit = units.get(safe_name(src.stem))
        if unit is None:
            raise ValueError(f"{src.name}: no spoken prompt {src.stem!r} in {lang} "
                             f"(see `hotline audio script {lang}`)")
        msg_id = unit.id
        rel = f"{RECORDINGS}/{lang}/{safe_name(msg_id)}.wav"
        dst = audio_dir / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        phone_format(src, dst, trim=True)
        if duration_seconds(dst) <= 0.1:
            raise ValueError(f"{src.name}: no sound left after trimming silence")
        mine[msg_id] = {"file": rel, "text_sha": text_sha(unit.text), "text": unit.text}
        taken.append(msg_id)
    write_json(audio_dir / RECORDINGS_INDEX, index)
    return taken


def recording_script(script: Script, lang: str) -> str:
    """What a voice volunteer reads: one line per prompt, file name to save it under.
    Prompts with values come in pieces (topic.ame_0.wav ...) around the values."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["file name", "text to read"])
    for unit in speech_units(script, lang, dt.date.today()):
        writer.writerow([f"{safe_name(unit.id)}.wav", unit.text])
    return out.getvalue()
