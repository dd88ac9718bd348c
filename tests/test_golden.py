"""Golden conversations: tests/golden/*.yaml replayed through `step()` alone, compared with
tests/golden/expected/ (`--update-golden` rewrites them; read the diff before committing)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from hotline.app import shared_directory
from hotline.content.script import shared_script
from hotline.dialogue.engine import step
from hotline.dialogue.model import Input, Reply, Session, World

FOLDER = Path(__file__).parent / "golden"
FILES = sorted(FOLDER.glob("*.yaml"))
VOICE_LANGUAGES = ("fr", "en", "ar", "ru", "uk")  # those with a Twilio voice


def world(conversation: dict[str, Any]) -> World:
    day = dt.date.fromisoformat(str(conversation.get("date", "2026-11-27")))
    hours, minutes = (int(x) for x in str(conversation.get("time", "14:00")).split(":"))
    return World(today=day, directory=shared_directory(), now_minutes=hours * 60 + minutes,
                 weekday=day.weekday(), voice_languages=VOICE_LANGUAGES)


def as_input(channel: str, value: str) -> Input:
    if channel == "sms":
        return Input("sms", "text", value)
    if value == "call":
        return Input("voice", "start")
    if value == "silence":
        return Input("voice", "timeout")
    if value.startswith("say:"):
        return Input("voice", "speech", value[4:], confidence=0.9)
    return Input("voice", "keys", value)


def _say(say: Any) -> str:
    values = ", ".join(f"{k}={v}" for k, v in say.params)
    return say.id + (f" [{say.lang}]" if say.lang else "") + (f" {{{values}}}" if values else "")


def _event(event: Any) -> str:
    fields = {k: v for k, v in vars(event).items()}
    if "says" in fields:
        fields["says"] = [_say(s) for s in fields["says"]]
    inner = ", ".join(f"{k}={v}" for k, v in fields.items())
    return f"{type(event).__name__}({inner})"


def transcript(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    script, channel = shared_script(), conversation["channel"]
    session, w = Session(lang=conversation.get("lang")), world(conversation)
    steps = []
    for value in conversation["inputs"]:
        session, reply, events = step(script, session, as_input(channel, str(value)), w)
        steps.append({"in": str(value), "says": [_say(s) for s in reply.says],
                      "waits": _waits(reply), "at": session.node,
                      "events": [_event(e) for e in events]})
    return steps


def _waits(reply: Reply) -> str:
    if reply.silent:
        return "nothing (silent)"
    if reply.expect is None:
        return "nothing (ends)"
    return reply.expect.kind + (" or yes/no" if reply.expect.yes_no else "")


def replay(path: Path) -> list[dict[str, Any]]:
    conversations = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [{"name": c["name"], "steps": transcript(c)} for c in conversations]


def dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_golden_conversation(path: Path, request: pytest.FixtureRequest) -> None:
    expected_path = FOLDER / "expected" / path.name
    got = dump(replay(path))
    if request.config.getoption("--update-golden") or not expected_path.exists():
        expected_path.write_text(got, encoding="utf-8")
        if not request.config.getoption("--update-golden"):
            pytest.fail(f"{expected_path} did not exist: written; check it and commit it")
        return
    expected = expected_path.read_text(encoding="utf-8")
    if got != expected:
        # the first conversation that differs, for a readable failure
        for mine, theirs in zip(yaml.safe_load(got), yaml.safe_load(expected), strict=False):
            assert mine == theirs, f"{path.name}: {mine['name']} changed " \
                                   f"(--update-golden if you meant it)"
        assert got == expected


def test_golden_files_cover_both_channels() -> None:
    channels = {c["channel"] for p in FILES for c in yaml.safe_load(p.read_text())}
    assert channels == {"sms", "voice"}
