"""People talking to the hotline in tests: a texter and a caller, through the real webhooks,
with requests signed by the twilio SDK exactly as Twilio signs them."""
from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

from .twiml_check import parse

HOTLINE_NUMBER = "+33100000000"
_sids = itertools.count(1)


@functools.cache
def _script():
    from hotline.content import load_script

    return load_script()


def said(lang: str, msg_id: str, form: str = "voice", **values: str) -> str:
    """A message as ivr_scripts words it today (French marks removed, `values` filled), so a
    test about keys or routing does not pin a sentence that a wording pass may shorten."""
    from hotline.text import fill, plain

    return plain(fill(_script().message(lang, msg_id).text(form), values))


def sign(token: str, url: str, params: dict) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post(client, token: str, path: str, params: dict, headers: dict | None = None,
         base: str = "http://localhost"):
    signature = sign(token, base + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature, **(headers or {})})


class Texter:
    """Someone texting the hotline from `number`."""

    def __init__(self, client, token: str, number: str = "+33612345678"):
        self.client, self.token, self.number = client, token, number
        self.last_sid: str | None = None

    def send(self, body: str, sid: str | None = None) -> list[str]:
        self.last_sid = sid or f"SM{next(_sids):032d}"
        params = {"From": self.number, "To": HOTLINE_NUMBER, "Body": body,
                  "MessageSid": self.last_sid, "NumMedia": "0"}
        response = post(self.client, self.token, "/sms", params)
        assert response.status_code == 200, response.status_code
        assert response.mimetype in ("text/xml", "application/xml")
        root = parse(response.data)
        return [(m.text or "") for m in root.iter("Message")]

    def says(self, body: str) -> str:
        """The reply as one text (all messages joined)."""
        return "\n".join(self.send(body))


@dataclass
class Turn:
    """What a caller hears after one step, and what the call expects next."""

    texts: list[str]
    languages: list[str | None]
    plays: list[str]
    gather: dict | None
    redirect: str | None
    hangup: bool
    xml: bytes = b""

    @property
    def text(self) -> str:
        return " ".join(self.texts)


@dataclass
class Caller:
    """Someone calling the hotline from `number`: call, press keys, speak, stay silent."""

    client: object
    token: str
    number: str = "+33698765432"
    call_sid: str = ""
    turn: Turn | None = None
    history: list[Turn] = field(default_factory=list)

    def call(self) -> Turn:
        self.call_sid = f"CA{next(_sids):032d}"
        return self._post("/voice", {})

    def press(self, digits: str) -> Turn:
        return self._post(self._action(), {"Digits": digits, "FinishedOnKey": ""})

    def speak(self, words: str, confidence: float = 0.9) -> Turn:
        return self._post(self._action(), {"SpeechResult": words, "Confidence": str(confidence)})

    def silence(self) -> Turn:
        return self._post(self._action(), {})

    def _action(self) -> str:
        assert self.turn and self.turn.gather, "the call is not waiting for input"
        url = urlsplit(self.turn.gather["action"])
        return url.path + ("?" + url.query if url.query else "")

    def _post(self, path: str, extra: dict) -> Turn:
        params = {"CallSid": self.call_sid, "From": self.number, "To": HOTLINE_NUMBER,
                  "CallStatus": "in-progress", "Direction": "inbound", **extra}
        response = post(self.client, self.token, path, params)
        assert response.status_code == 200, response.status_code
        self.turn = read_turn(response.data)
        self.history.append(self.turn)
        return self.turn


def read_turn(xml: bytes) -> Turn:
    root = parse(xml)
    texts, langs, plays = [], [], []
    for el in root.iter():
        if el.tag == "Say":  # its words, French names in <lang> included
            texts.append("".join(el.itertext()))
            langs.append(el.get("language"))
        elif el.tag == "Play":
            plays.append(el.text or "")
    gather = root.find("Gather")
    redirect = root.find("Redirect")
    return Turn(texts=texts, languages=langs, plays=plays,
                gather=dict(gather.attrib) if gather is not None else None,
                redirect=redirect.text if redirect is not None else None,
                hangup=root.find("Hangup") is not None, xml=xml)


def redis_text(client) -> dict[str, str]:
    """Every key in a Redis database and all it holds, decoded (SCAN, then by TYPE: GET,
    HGETALL, LRANGE, SMEMBERS, ZRANGE): what a search for phone numbers must cover."""
    found = {}
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == b"string":
            parts = [client.get(key)]
        elif kind == b"hash":
            parts = [p for item in client.hgetall(key).items() for p in item]
        elif kind == b"list":
            parts = client.lrange(key, 0, -1)
        elif kind == b"set":
            parts = list(client.smembers(key))
        elif kind == b"zset":
            parts = [m for m, _ in client.zrange(key, 0, -1, withscores=True)]
        else:  # a stream or a type this app never writes: its name still counts
            parts = [kind]
        found[key.decode(errors="replace")] = "\n".join(
            (p or b"").decode(errors="replace") for p in parts)
    return found
