"""POST /sms: an incoming text message in, a <Response> of zero or more <Message> out."""
from __future__ import annotations

from flask import Blueprint, Response, request
from twilio.twiml.messaging_response import MessagingResponse

from ..app import hotline
from ..dialogue.model import Event, Reply, Session
from ..dialogue.text import clean
from ..sms_segments import count, fold_for_sms, split
from .common import check_signature, take_turn, twiml
from .status import count_sms_status

bp = Blueprint("sms", __name__)
bp.before_request(check_signature)


def sms_texts(lang: str, reply: Reply) -> list[str]:
    """The reply's messages as SMS bodies: folded to GSM-7 where the language allows, split
    into ordered parts past the budget."""
    hl = hotline()
    script = hl.script
    lines, foldable = [], True
    for say in reply.says:
        code = say.lang or lang
        text = script.text(code, say.id, "sms", say.values)
        foldable = foldable and script.languages[code].sms_fold
        if text:
            lines.append(text)
    body = "\n".join(lines)
    if not body:
        return []
    if foldable:  # French and English: a stray ê or ’ must not double the price
        body = fold_for_sms(body)
    budget = script.budgets.get("outcome" if reply.outcome else "default", {})
    limit = budget.get("gsm7", 4) if count(body).encoding == "GSM-7" else budget.get("ucs2", 6)
    return split(body, max(limit, 4))


@bp.post("/sms")
def incoming() -> Response:
    phone = request.form.get("From", "")
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    event = Event("sms", "text", clean(request.form.get("Body")))

    def render(session: Session, reply: Reply) -> str:
        # An SMS answer depends only on its messages and language, not on the person:
        # the same TwiML serves everyone who gets it.
        key = (session.lang, tuple(reply.says), reply.outcome, reply.silent)
        cache = hotline().rendered_sms
        body = cache.get(key)
        if body is None:
            response = MessagingResponse()
            if not reply.silent:
                for text in sms_texts(session.lang or "fr", reply):
                    response.message(text)
            body = str(response)
            if len(cache) > 20_000:  # bounded: values with free text (postcodes) vary
                cache.clear()
            cache[key] = body
        return body

    def stateless(session: Session) -> Session:
        # Redis is down: nothing is remembered, so treat every text as if the language
        # menu had just been shown: a digit picks a language, a command is answered.
        session.node = hotline().script.language_node
        return session

    return twiml(take_turn("sms", phone, event, sid and f"sms:{sid}", render,
                           stateless=stateless))


@bp.post("/sms/status")
def status() -> Response:
    count_sms_status()
    return Response(status=204)
