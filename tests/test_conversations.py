"""Replays the conversations of tests/conversations/ against the real webhooks."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from .conftest import TOKEN, paris
from .harness import Caller, Texter

FOLDER = Path(__file__).parent / "conversations"
FILES = sorted(FOLDER.glob("*.txt"))


def fold(text: str) -> str:
    from hotline.sms_segments import fold_for_sms

    return fold_for_sms(text)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_conversation(make_app, path):
    lines = [l.rstrip() for l in path.read_text(encoding="utf-8").splitlines()]
    lines = [l for l in lines if l.strip() and not l.startswith("#")]
    header = dict(l.split(": ", 1) for l in lines if l.startswith(("channel:", "date:")))
    day = dt.date.fromisoformat(header.get("date", "2026-11-27"))
    client = make_app(CLOCK=lambda: paris(day.year, day.month, day.day)).test_client()
    texter, caller = Texter(client, TOKEN), Caller(client, TOKEN)
    heard = ""
    for line in lines:
        where = f"{path.name}: {line!r}"
        if line.startswith(("channel:", "date:")):
            continue
        if line.startswith("> "):
            heard = texter.says(line[2:])
        elif line == "call":
            heard = caller.call().text
        elif line.startswith("press "):
            heard = caller.press(line[6:]).text
        elif line == "silence":
            heard = caller.silence().text
        elif line.startswith("say "):
            heard = caller.speak(line[4:]).text
        elif line == "hangs up":
            assert caller.turn.hangup, where
        elif line == "! silence":
            assert heard == "", where
        elif line.startswith("< "):
            expected = line[2:]
            assert expected in heard or fold(expected) in heard, f"{where}\ngot: {heard}"
        else:
            raise AssertionError(f"{where}: not a conversation line")
