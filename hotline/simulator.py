"""Terminal conversations with the hotline through its real webhooks, signed like Twilio.

In-process (the app built here, on an embedded Redis) or over HTTP against `hotline serve`.
"""
from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

HOTLINE_NUMBER = "+33100000000"
_ids = itertools.count(1)


class InProcessTransport:
    base = "http://localhost"

    def __init__(self, token: str):
        from . import create_app

        self.token = token
        self.client = create_app({"TWILIO_AUTH_TOKEN": token}).test_client()

    def post(self, path: str, params: dict) -> str:
        signature = RequestValidator(self.token).compute_signature(self.base + path, params)
        response = self.client.post(path, data=params, headers={"X-Twilio-Signature": signature})
        return response.get_data(as_text=True) if response.status_code == 200 else ""


class HttpTransport:
    def __init__(self, url: str, token: str):
        import requests

        self.base, self.token, self.http = url.rstrip("/"), token, requests.Session()

    def post(self, path: str, params: dict) -> str:
        signature = RequestValidator(self.token).compute_signature(self.base + path, params)
        import requests

        try:
            response = self.http.post(self.base + path, data=params, timeout=15,
                                      headers={"X-Twilio-Signature": signature})
        except requests.ConnectionError:
            raise SystemExit(f"cannot reach {self.base}: is `hotline serve` running there?")
        if response.status_code != 200:
            return f"<Response><Message>[HTTP {response.status_code}]</Message></Response>"
        return response.text


def sms_session(transport, number: str, lines: Iterable[str], echo: Callable[[str], None]) -> None:
    echo("Texting the hotline. Type a message (try: Bonjour, then 1; AIDE; TEST).")
    for line in lines:
        params = {"From": number, "To": HOTLINE_NUMBER, "Body": line,
                  "MessageSid": f"SMsim{next(_ids):027d}", "NumMedia": "0"}
        xml = transport.post("/sms", params)
        messages = [m.text or "" for m in ET.fromstring(xml).iter("Message")] if xml else []
        if not messages:
            echo("(no answer)")
        for message in messages:
            echo(message)
            echo("")


def call_session(transport, number: str, lines: Iterable[str], echo: Callable[[str], None]) -> None:
    call_sid = f"CAsim{next(_ids):027d}"
    params = {"From": number, "To": HOTLINE_NUMBER, "CallSid": call_sid}
    xml = transport.post("/voice", params)
    lines = iter(lines)
    while True:
        root = ET.fromstring(xml)
        for el in root.iter():
            if el.tag == "Say":
                echo(f"  [{el.get('language', '')}] {el.text}")
            elif el.tag == "Play":
                echo(f"  [audio] {el.text}")
            elif el.tag == "Dial":
                echo(f"  [connecting to {el.text}]")
        gather = root.find("Gather")
        if gather is None:
            echo("(the call ends)")
            return
        echo("Keys (empty line = silence, 'hangup' to end):")
        keys = next(lines, None)
        if keys is None or keys.strip().lower() == "hangup":
            echo("(you hang up)")
            return
        action = urlsplit(str(gather.get("action") or ""))
        path = action.path + ("?" + action.query if action.query else "")
        data = dict(params)
        if keys.strip():
            data["Digits"] = keys.strip()
        xml = transport.post(path, data)
