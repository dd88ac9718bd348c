"""Translations to and from a spreadsheet-friendly CSV, for reviewers without tools.

One CSV per language: id, form (sms, voice, or copy: the SMS copy after a call), the French
text, the translation, its review state. Import writes the translation back into
messages/<lang>.yaml, keeping the file's command words and yes/no words; the French column
is ignored on import.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import yaml

from .script import REFERENCE_LANG, Script

COLUMNS = ["id", "form", "french", "translation", "review"]
REVIEW_STATES = ("drafted", "reviewed")
FORMS = ("sms", "voice", "copy")


def export_csv(script: Script, lang: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for msg_id, french in script.messages[REFERENCE_LANG].items():
        mine = script.message(lang, msg_id)
        for form in FORMS:
            source = getattr(french, form)
            if form != "sms" and not source:
                continue
            text = getattr(mine, form) if mine else ""
            writer.writerow([msg_id, form, source, text or "", (mine.review if mine else "") or ""])
    return out.getvalue()


class ImportError_(ValueError):
    pass


def import_csv(script: Script, lang: str, csv_text: str) -> tuple[Path, int]:
    """Merge a reviewed CSV into messages/<lang>.yaml; returns the file and rows taken."""
    if lang == REFERENCE_LANG:
        raise ImportError_("French is the reference: edit fr.yaml itself")
    if lang not in script.languages:
        raise ImportError_(f"unknown language {lang!r}")
    path = script.root / "messages" / f"{lang}.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    messages = data.setdefault("messages", {}) or {}
    data["messages"] = messages
    reader = csv.DictReader(io.StringIO(csv_text))
    missing = set(COLUMNS) - set(reader.fieldnames or [])
    if missing:
        raise ImportError_(f"the CSV lacks the columns {sorted(missing)}")
    taken = 0
    reviews: dict[str, set[str]] = {}
    for row in reader:
        msg_id, form = row["id"].strip(), row["form"].strip()
        if msg_id not in script.messages[REFERENCE_LANG] or form not in FORMS:
            raise ImportError_(f"unknown message {msg_id!r} / form {form!r}")
        text = row["translation"]
        if not text.strip():
            continue
        entry = messages.get(msg_id)
        if not isinstance(entry, dict):
            entry = {"sms": entry} if isinstance(entry, str) else {}
        entry[form] = text
        review = row["review"].strip()
        if review:
            if review not in REVIEW_STATES:
                raise ImportError_(f"{msg_id}: review must be one of {REVIEW_STATES}")
            reviews.setdefault(msg_id, set()).add(review)
        messages[msg_id] = entry
        taken += 1
    for msg_id, states in reviews.items():
        # a message is reviewed only when all its forms are
        messages[msg_id]["review"] = "reviewed" if states == {"reviewed"} else "drafted"
    header = f"# Messages in {lang}: same ids and placeholders as fr.yaml (imported from CSV).\n"
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)
    path.write_text(header + body, encoding="utf-8")
    return path, taken
