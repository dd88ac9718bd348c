"""POST /voice and /voice/...: a call's first prompt and its <Gather> actions.

Each <Gather> posts to /voice/input with the step number, node and language in the query,
so a Twilio retry is recognised and a call survives a lost session or a Redis outage.
"""
from __future__ import annotations

import logging
import re
from dataclasses import replace
from functools import lru_cache
from urllib.parse import urlencode
from xml.sax.saxutils import escape as xml_escape

from flask import Blueprint, Response, request
from redis.exceptions import RedisError
from twilio.twiml.voice_response import Gather, VoiceResponse

from ..content.code_messages import M
from ..content.schema import NumberNode
from ..content.script import REFERENCE_LANG
from ..dialogue.events import CopyRequested, DialRequested, Event
from ..dialogue.model import Input, Reply, Say, Session
from ..identity import Identity, identify
from ..services import Hotline, hotline
from ..speech import Part, french_spans, plain
from ..text import clean
from .common import base_url, check_signature, take_turn, twiml, value
from .sms import sms_texts
from .status import count_call_status

log = logging.getLogger("hotline.voice")
bp = Blueprint("voice", __name__)
bp.before_request(check_signature)

KEYS = set("0123456789*")


# Stands for the <Gather> action in a cached document: the only part of a voice answer
# that is the caller's own (their step, node and language).
ACTION = "urn:hotline:action"
DIALED = "urn:hotline:dialed"  # the same for a <Dial>'s action
FRENCH_LOCALE = "fr-FR"


def render_voice(session: Session, reply: Reply, events: list[Event]) -> str:
    """The TwiML of a voice turn. Built once with the SDK per (language, prompts, what is
    gathered) and kept, with the action URL left as a marker put in per request."""
    hl = hotline()
    base = base_url(hl.config)
    one_digit = _one_digit(hl, session, reply)
    dial = next((e.number for e in events if isinstance(e, DialRequested)), None)
    # a <Dial> shows the hotline's own number (the call's To) to the person called
    caller_id = value(request.form, "To").strip() if dial else ""
    key = (base, session.lang, tuple(reply.says), reply.expect, dial, one_digit, caller_id)
    pieces = hl.rendered_voice.get(key)
    if pieces is None:
        pieces = build_voice(hl, session.lang or "fr", reply, one_digit, caller_id,
                             dial).split(ACTION)
        if len(hl.rendered_voice) > 20_000:  # bounded: values with free text (postcodes) vary
            hl.rendered_voice.clear()
        hl.rendered_voice[key] = pieces
    query = _action_query(session.step, session.node or "", session.lang or "")
    if len(pieces) == 1:
        if dial:
            dialed = xml_escape(f"{base}/voice/dialed?{query}", {'"': "&quot;"})
            return pieces[0].replace(DIALED, dialed)
        return pieces[0]
    action = xml_escape(f"{base}/voice/input?{query}", {'"': "&quot;"})
    return action.join(pieces)


@lru_cache(maxsize=4096)
def _action_query(step: int, node: str, lang: str) -> str:
    """The query of a turn's action URL: few values (a step count, a node, a language),
    so each is encoded once."""
    return urlencode({"s": step, "n": node, "l": lang})


def _one_digit(hl: Hotline, session: Session, reply: Reply) -> bool:
    """A number prompt whose answer is one digit (household size, 1 to 9): the <Gather>
    ends at the key, rather than waiting for # or the timeout."""
    if reply.expect is None or reply.expect.kind != "number":
        return False
    node = hl.script.node(session.node)
    return isinstance(node, NumberNode) and node.min >= 0 and node.max <= 9


def build_voice(hl: Hotline, lang: str, reply: Reply, one_digit: bool = False,
                caller_id: str = "", dial: str | None = None) -> str:
    response = VoiceResponse()
    if reply.expect is None:
        add_prompts(hl, response, lang, reply)
        if dial:
            # the action says what happened when nobody answered, and goes back to the menu
            options = {"timeout": 30, "action": DIALED, "method": "POST"}
            if caller_id:
                options["caller_id"] = caller_id
            response.dial(e164(dial), **options)
        response.hangup()
        return str(response)
    expect = reply.expect
    options = {"action": ACTION, "method": "POST", "action_on_empty_result": True,
               "input": "dtmf", "timeout": 6}
    if expect.kind == "key":
        options["num_digits"] = 1
    elif one_digit:  # ends at the digit; a # after it (the habit of numbers) does no harm
        options.update(num_digits=1, finish_on_key="#", timeout=8)
    elif expect.kind == "postcode":
        options.update(num_digits=5, finish_on_key="#", timeout=10)
    else:
        options.update(finish_on_key="#", timeout=8)
    speech_lang = hl.script.languages[lang].speech_language
    if expect.yes_no and speech_lang:
        options.update(input="dtmf speech", language=speech_lang, speech_timeout="auto")
        hints = yes_no_hints(hl, lang)
        if hints:
            options["hints"] = hints
    gather = Gather(**options)
    add_prompts(hl, gather, lang, reply)
    response.append(gather)
    # Twilio runs what follows a <Gather> when it gets nothing: ask again from the action.
    response.redirect(f"{ACTION}&t=1", method="POST")
    return str(response)


def yes_no_hints(hl: Hotline, lang: str) -> str:
    """The language's yes and no words (messages/<lang>.yaml), as <Gather hints>: the
    recogniser then expects them. Single letters are for typing, not speech."""
    words = [w.lower() for w in hl.script.yes_no.get(lang, {}) if len(w) > 1]
    return ", ".join(words)


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


def add_prompts(hl: Hotline, verb, lang: str, reply: Reply) -> None:
    """Every prompt of the reply, in one voice where it can be: when one prompt must be said
    by Twilio's voice, the prompts that have audio in that language are said too."""
    parts: list[Part] = []
    for say in reply.says:
        parts.extend(prompt_parts(hl, say.lang or lang, say.id, say.values))
    said = {p.say_lang for p in parts if p.kind == "say"}
    parts = [Part("say", p.text, p.say_lang) if p.kind == "play" and p.say_lang in said
             and p.text and hl.script.languages[p.say_lang or lang].say_language else p
             for p in parts]
    for part in parts:
        if part.kind == "play":
            verb.play(f"{base_url()}{part.value}")
            continue
        language = hl.script.languages[part.say_lang or lang]
        if not language.say_language:
            continue  # Twilio has no voice for it and no file speaks it: say nothing wrong
        attrs = {"language": language.say_language}
        if language.say_voice:
            attrs["voice"] = language.say_voice
        say_marked(verb, part.value, language.code, attrs)


def say_marked(verb, text: str, lang: str, attrs: dict[str, str]) -> None:
    """<Say> words whose French names are wrapped in SSML <lang xml:lang="fr-FR">, so the
    language's voice says them the French way."""
    spans = french_spans(text)
    if lang == REFERENCE_LANG or not any(french for _, french in spans):
        verb.say(plain(text), **attrs)
        return
    say = verb.say(None, **attrs)
    for words, french in spans:
        if french:
            say.lang(words, xml_lang=FRENCH_LOCALE)
        else:
            say.append(words)


def prompt_parts(hl: Hotline, lang: str, msg_id: str, params: dict[str, str]) -> list[Part]:
    """<Play> the audio made for this exact text, else <Say> it in the language's voice."""
    msg = hl.script.message(lang, msg_id) or hl.script.message("fr", msg_id)
    if msg is None:
        return []
    values = {k: spoken(k, v) for k, v in params.items()}
    return hl.speech.parts(lang, msg.text("voice"), values)


def send_copy(hl: Hotline, session: Session, events: list[Event]) -> None:
    """After a call's `1`: the answer as SMS, from a background job, rate-limited; only to
    a mobile number of a known person who has not opted out."""
    copies = [e for e in events if isinstance(e, CopyRequested)]
    if not copies:
        return
    who = caller()
    if not who.mobile or who.key is None or session.opted_out:
        return
    pid = hl.store.pid(who.key)
    try:
        allowed = hl.store.allow_outbound(pid, hl.config.outbound_limit)
    except RedisError:  # a Redis blip: no copy rather than a broken call
        log.warning("redis unreachable: SMS copy not sent")
        return
    if not allowed:
        return
    for copy in copies:
        hl.outbox.send(who.key, request.form.get("To", ""),
                       sms_texts(copy.lang, copy.says, "copy"),
                       status_callback=f"{base_url()}/sms/status")


def caller() -> Identity:
    """The caller of this webhook: the whole From, or this call only when withheld."""
    form = request.form
    return identify(value(form, "From"), value(form, "CallSid"))


def _from_url(session: Session) -> Session:
    """A session lost (expired, or Redis down) mid-call is rebuilt from the action URL."""
    hl = hotline()
    args = request.args
    node, lang = value(args, "n"), value(args, "l")
    if session.node is None and node in hl.script.nodes:
        session.node = node
    if session.lang is None and lang in hl.script.languages:
        session.lang = lang
    return session


def _call_id(kind: str) -> str | None:
    form = request.form
    sid = value(form, "CallSid")
    if not sid:
        return None
    args = request.args
    return f"voice:{sid}:{kind}:{value(args, 's')}:{value(args, 't')}:" \
           f"{value(form, 'Digits')}:{value(form, 'SpeechResult')}"


@bp.post("/voice")
def incoming_call() -> Response:
    event = Input("voice", "start")
    return twiml(take_turn("voice", caller(), event, _call_id("start"), render_voice))


def confidence(raw: str | None) -> float | None:
    """Twilio's Confidence, or None when unknown: Google's recogniser often leaves it out,
    and sends 0.0 to mean "not set"."""
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value and 0 < value <= 1 else None


@bp.post("/voice/input")
def gathered() -> Response:
    # `#` ends typed digits (finishOnKey) and Twilio drops it: it is never a key of its own
    form = request.form
    digits = "".join(c for c in value(form, "Digits") if c in KEYS)[:20]
    speech = clean(value(form, "SpeechResult"))[:200]
    if digits:
        event = Input("voice", "keys", digits)
    elif speech:
        event = Input("voice", "speech", speech, confidence(value(form, "Confidence")))
    else:
        event = Input("voice", "timeout")
    return twiml(take_turn("voice", caller(), event, _call_id("input"),
                           render_voice, fallback=_from_url, after=send_copy))


# DialCallStatus -> what the caller hears before the main menu again
DIAL_RESULTS = {"no-answer": M.DIAL_NO_ANSWER, "busy": M.DIAL_BUSY, "failed": M.DIAL_FAILED,
                "canceled": M.DIAL_FAILED}


@bp.post("/voice/dialed")
def dialed() -> Response:
    """The <Dial> action: after a connected call, goodbye; when nobody answered, the line
    was busy or the call failed, say so and give the main menu again."""
    said = DIAL_RESULTS.get(request.form.get("DialCallStatus", ""))
    if said is None:
        lang = request.args.get("l", "")
        session = Session(lang=lang if lang in hotline().script.languages else "fr")
        return twiml(render_voice(session, Reply([Say.of(M.GOODBYE)], expect=None), []))

    def to_main(session: Session) -> Session:
        session = _from_url(session)
        session.node = hotline().script.main
        session.pending.pop("resume", None)
        return session

    def render(session: Session, reply: Reply, events: list[Event]) -> str:
        return render_voice(session, replace(reply, says=[Say.of(said)] + reply.says), events)

    return twiml(take_turn("voice", caller(), Input("voice", "repeat"), _call_id("dialed"),
                           render, fallback=to_main))


@bp.post("/voice/status")
def status() -> Response:
    count_call_status()
    return Response(status=204)


@bp.post("/voice/<path:anything>")
def unknown(anything: str) -> Response:
    """A path we never gave out: say the current menu again."""
    event = Input("voice", "repeat")
    return twiml(take_turn("voice", caller(), event, None, render_voice, fallback=_from_url))
