"""POST /voice and /voice/...: a call's first prompt and its <Gather> actions.

Each <Gather> posts to /voice/input with the step number, node and language in the query,
so a Twilio retry is recognised and a call survives a lost session or a Redis outage.
"""
from __future__ import annotations

import re
from urllib.parse import urlencode
from xml.sax.saxutils import escape as xml_escape

from flask import Blueprint, Response, request
from twilio.twiml.voice_response import Gather, VoiceResponse

from ..app import Hotline, hotline
from ..dialogue.model import Event, Reply, Session
from ..dialogue.text import clean
from .common import base_url, check_signature, take_turn, twiml
from .sms import sms_texts
from .status import count_call_status

bp = Blueprint("voice", __name__)
bp.before_request(check_signature)

KEYS = set("0123456789*#")


# Stands for the <Gather> action in a cached document: the only part of a voice answer
# that is the caller's own (their step, node and language).
ACTION = "urn:hotline:action"


def render_voice(session: Session, reply: Reply) -> str:
    """The TwiML of a voice turn. Built once with the SDK per (language, prompts, what is
    gathered) and kept, with the action URL left as a marker put in per request."""
    hl = hotline()
    base = base_url()
    key = (base, session.lang, tuple(reply.says), reply.expect, reply.dial)
    pieces = hl.rendered_voice.get(key)
    if pieces is None:
        pieces = build_voice(hl, session.lang or "fr", reply).split(ACTION)
        if len(hl.rendered_voice) > 20_000:  # bounded: values with free text (postcodes) vary
            hl.rendered_voice.clear()
        hl.rendered_voice[key] = pieces
    if len(pieces) == 1:
        return pieces[0]
    query = {"s": session.step, "n": session.node or "", "l": session.lang or ""}
    action = xml_escape(f"{base}/voice/input?{urlencode(query)}", {'"': "&quot;"})
    return action.join(pieces)


def build_voice(hl: Hotline, lang: str, reply: Reply) -> str:
    response = VoiceResponse()
    if reply.expect is None:
        for say in reply.says:
            add_prompt(hl, response, say.lang or lang, say.id, say.values)
        if reply.dial:
            response.dial(e164(reply.dial), timeout=30)
        response.hangup()
        return str(response)
    expect = reply.expect
    options = {"action": ACTION, "method": "POST", "action_on_empty_result": True,
               "input": "dtmf", "timeout": 6}
    if expect.kind == "key":
        options["num_digits"] = 1
    elif expect.kind == "postcode":
        options.update(num_digits=5, finish_on_key="#", timeout=10)
    else:
        options.update(finish_on_key="#", timeout=8)
    speech_lang = hl.script.languages[lang].speech_language
    if expect.yes_no and speech_lang:
        options.update(input="dtmf speech", language=speech_lang, speech_timeout="auto")
    gather = Gather(**options)
    for say in reply.says:
        add_prompt(hl, gather, say.lang or lang, say.id, say.values)
    response.append(gather)
    # Twilio runs what follows a <Gather> when it gets nothing: ask again from the action.
    response.redirect(f"{ACTION}&t=1", method="POST")
    return str(response)


def e164(number: str) -> str:
    """A French number as written in the data ("01 45 21 38 40") in international form."""
    digits = "".join(c for c in number if c.isdigit() or c == "+")
    if digits.startswith("0") and len(digits) == 10:
        return "+33" + digits[1:]
    return digits


def spoken(name: str, value: str) -> str:
    """Values a caller must write down are said slowly: digits one by one, in pairs for a
    phone number, pauses (commas) between the parts of an address."""
    if name == "phone":
        digits = "".join(c for c in value if c.isdigit())
        pairs = [digits[i:i + 2] for i in range(0, len(digits), 2)]
        return ", ".join(" ".join(pair) for pair in pairs)
    if name in ("postcode", "address"):
        value = value.replace(" - ", ", ")
        return re.sub(r"\d{4,}", lambda m: " ".join(m.group(0)), value)
    return value


def add_prompt(hl: Hotline, verb, lang: str, msg_id: str, params: dict[str, str]) -> None:
    """<Play> the audio made for this exact text, else <Say> it in the language's voice."""
    msg = hl.script.message(lang, msg_id) or hl.script.message("fr", msg_id)
    if msg is None:
        return
    values = {k: spoken(k, v) for k, v in params.items()}
    for part in hl.speech.parts(lang, msg.text("voice"), values):
        if part.kind == "play":
            verb.play(f"{base_url()}{part.value}")
            continue
        language = hl.script.languages[part.say_lang or lang]
        if not language.say_language:
            continue  # Twilio has no voice for it and no file speaks it: say nothing wrong
        attrs = {}
        if language.say_language:
            attrs["language"] = language.say_language
        if language.say_voice:
            attrs["voice"] = language.say_voice
        verb.say(part.value, **attrs)


def send_copy(hl: Hotline, session: Session, reply: Reply) -> None:
    """After a call's `1`: the answer as SMS, from a background job, rate-limited."""
    if not reply.texts:
        return
    caller, hotline_number = request.form.get("From", ""), request.form.get("To", "")
    pid = hl.store.pid(caller)
    if not hl.store.allow_outbound(pid, hl.config.outbound_limit):
        return
    bodies = sms_texts(session.lang or "fr", Reply(says=reply.texts, outcome=reply.outcome))
    hl.outbox.send(caller, hotline_number, bodies)


def _from_url(session: Session) -> Session:
    """A session lost (expired, or Redis down) mid-call is rebuilt from the action URL."""
    hl = hotline()
    node, lang = request.args.get("n", ""), request.args.get("l", "")
    if session.node is None and node in hl.script.nodes:
        session.node = node
    if session.lang is None and lang in hl.script.languages:
        session.lang = lang
    return session


def _call_id(kind: str) -> str | None:
    sid = request.form.get("CallSid")
    if not sid:
        return None
    return f"voice:{sid}:{kind}:{request.args.get('s', '')}:{request.args.get('t', '')}:" \
           f"{request.form.get('Digits', '')}:{request.form.get('SpeechResult', '')}"


@bp.post("/voice")
def incoming_call() -> Response:
    event = Event("voice", "start")
    return twiml(take_turn("voice", request.form.get("From", ""), event, _call_id("start"),
                           render_voice))


@bp.post("/voice/input")
def gathered() -> Response:
    digits = "".join(c for c in (request.form.get("Digits") or "") if c in KEYS)[:20]
    speech = clean(request.form.get("SpeechResult"))[:200]
    if digits:
        event = Event("voice", "keys", digits)
    elif speech:
        try:
            confidence = float(request.form.get("Confidence") or 0)
        except ValueError:
            confidence = 0.0
        event = Event("voice", "speech", speech, confidence)
    else:
        event = Event("voice", "timeout")
    return twiml(take_turn("voice", request.form.get("From", ""), event, _call_id("input"),
                           render_voice, fallback=_from_url, after=send_copy))


@bp.post("/voice/status")
def status() -> Response:
    count_call_status()
    return Response(status=204)


@bp.post("/voice/<path:anything>")
def unknown(anything: str) -> Response:
    """A path we never gave out: say the current menu again."""
    event = Event("voice", "repeat")
    return twiml(take_turn("voice", request.form.get("From", ""), event, None, render_voice,
                           fallback=_from_url))
