"""The line in the browser: a signed-in member of staff texts or calls the hotline through
the very webhooks Twilio uses, signed by the server with TWILIO_AUTH_TOKEN as Twilio signs
them, from a fake identity of their own (`client:console-<name>`)."""
from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from twilio.request_validator import RequestValidator

from ..channels.common import base_url
from ..services import hotline

HOTLINE_NUMBER = "+33100000000"  # the `To` of test traffic: no real line is involved


class TryError(Exception):
    """The hotline did not answer as Twilio would expect."""


def identity(user: str) -> str:
    return f"client:console-{user}"


def _post(path: str, params: dict[str, str]) -> bytes:
    """POST to a webhook of this app, signed for the public URL Twilio would use."""
    token = hotline().config.auth_token or ""
    base = base_url()
    headers = {}
    if token:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(
            base + path, params)
    response = current_app.test_client().post(path, data=params, headers=headers,
                                              base_url=base)
    if response.status_code != 200:
        raise TryError(f"the hotline answered {response.status_code}")
    return response.data


def text(user: str, body: str) -> dict[str, Any]:
    params = {"From": identity(user), "To": HOTLINE_NUMBER, "Body": body[:1600],
              "MessageSid": "SM" + secrets.token_hex(16), "NumMedia": "0"}
    root = ET.fromstring(_post("/sms", params))
    return {"messages": [m.text or "" for m in root.iter("Message")]}


def call(user: str, call_sid: str, action: str | None, digits: str | None) -> dict[str, Any]:
    """Start a call (no action) or answer its last <Gather> (keys, or silence)."""
    params = {"CallSid": call_sid, "From": identity(user), "To": HOTLINE_NUMBER,
              "CallStatus": "in-progress", "Direction": "inbound"}
    if action is None:
        path = "/voice"
    else:
        url = urlsplit(action)
        path = url.path + (f"?{url.query}" if url.query else "")
        if not path.startswith("/voice/"):
            raise TryError("not a voice action of this hotline")
        if digits:
            params.update(Digits=digits, FinishedOnKey="")
    return read_turn(_post(path, params))


def read_turn(xml: bytes) -> dict[str, Any]:
    """What the caller hears, in order (said words and played files), and what comes next."""
    root = ET.fromstring(xml)
    prompts = []
    for el in root.iter():
        if el.tag == "Say":
            prompts.append({"say": el.text or "", "language": el.get("language") or ""})
        elif el.tag == "Play":
            path = urlsplit(el.text or "").path
            prompts.append({"play": path, "say": audio_text(path)})
    gather = root.find("Gather")
    redirect = root.find("Redirect")
    dial = root.find("Dial")
    return {"prompts": prompts,
            "action": gather.get("action") if gather is not None else None,
            "keys": gather.get("numDigits") if gather is not None else None,
            "redirect": redirect.text if redirect is not None and gather is None else None,
            "dial": bool(dial is not None),
            "hangup": root.find("Hangup") is not None}


def audio_text(path: str) -> str:
    """The words a played file speaks (from the audio manifest), to read along."""
    hl = hotline()
    file = path.removeprefix("/audio/")
    for entry in hl.speech.entries:
        if entry.get("file") == file:
            if entry.get("kind") == "message":
                return hl.script.text(entry.get("lang", "fr"), entry.get("id", ""), "voice")
            return str(entry.get("id", ""))
    return ""


def new_call_sid() -> str:
    return "CA" + secrets.token_hex(16)
