"""Exact TwiML of a few answers, as Twilio receives them (tests/snapshots/, rewritten by
`--update-golden`): a change of markup shows up as a diff, not only as a failed search."""
from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import TOKEN
from .harness import HOTLINE_NUMBER, post

FOLDER = Path(__file__).parent / "snapshots"


def _sms(client, body: str, sid: str) -> bytes:
    params = {"From": "+33612345678", "To": HOTLINE_NUMBER, "Body": body, "MessageSid": sid}
    return post(client, TOKEN, "/sms", params).data


def _call(client, path: str, extra: dict) -> bytes:
    params = {"CallSid": "CA" + "0" * 32, "From": "+33698765432", "To": HOTLINE_NUMBER,
              "CallStatus": "in-progress", **extra}
    return post(client, TOKEN, path, params).data


def documents(client) -> dict[str, bytes]:
    docs = {"sms_first_text.xml": _sms(client, "Bonjour", "SM1"),
            "sms_main_menu_in_french.xml": _sms(client, "1", "SM2"),
            "sms_stop.xml": _sms(client, "STOP", "SM3"),
            "sms_silent_after_stop.xml": _sms(client, "AME", "SM4"),
            "voice_first_call.xml": _call(client, "/voice", {})}
    docs["voice_main_menu.xml"] = _call(client, "/voice/input?s=1&n=language&l=",
                                        {"Digits": "1"})
    docs["voice_topics_menu.xml"] = _call(client, "/voice/input?s=2&n=main&l=fr", {"Digits": "2"})
    _call(client, "/voice/input?s=3&n=topics&l=fr", {"Digits": "2"})
    _call(client, "/voice/input?s=4&n=topic.ame&l=fr&t=1", {})
    _call(client, "/voice/input?s=5&n=topic.ame&l=fr&t=1", {})
    docs["voice_goodbye.xml"] = _call(client, "/voice/input?s=6&n=topic.ame&l=fr&t=1", {})
    return docs


def test_twiml_is_exactly_as_kept(make_app, request: pytest.FixtureRequest) -> None:
    client = make_app(HOTLINE_AUDIO="0").test_client()
    update = request.config.getoption("--update-golden")
    missing = []
    for name, got in documents(client).items():
        path = FOLDER / name
        if update or not path.exists():
            path.write_bytes(got + b"\n")
            missing += [] if update else [name]
            continue
        assert got + b"\n" == path.read_bytes(), f"{name} changed (--update-golden if meant)"
    assert not missing, f"written, check and commit: {missing}"
