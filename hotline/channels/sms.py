"""POST /sms: an incoming text message in, a <Response> of zero or more <Message> out."""
from __future__ import annotations

from flask import Blueprint, Response, request
from twilio.twiml.messaging_response import MessagingResponse

from ..content.sms_cost import pack
from ..dialogue.events import Event
from ..dialogue.model import Input, Reply, Say, Session
from ..identity import identify
from ..services import hotline
from ..text import clean
from .common import check_signature, take_turn, twiml, value
from .status import count_sms_status

bp = Blueprint("sms", __name__)
bp.before_request(check_signature)


def sms_texts(lang: str, says: list[Say] | tuple[Say, ...], kind: str | None = None) -> list[str]:
    """Messages as SMS bodies (`content.sms_cost.pack`: the rule the content check uses).
    A copy after a call (`kind="copy"`) takes each message's `copy` form where it has one."""
    script = hotline().script
    channel = "copy" if kind == "copy" else "sms"
    return pack(script, [(say.id, say.lang or lang,
                          script.text(say.lang or lang, say.id, channel, say.values))
                         for say in says], kind)


def _stateless(session: Session) -> Session:
    # Redis is down: nothing is remembered, so treat every text as if the language menu
    # had just been shown: a digit picks a language, a command is answered.
    session.node = hotline().script.language_node
    return session


def _replayed(session: Session) -> str:
    # A message handled more than ANSWER_TTL ago, sent again: a replay, not Twilio
    # retrying. Silence: an answer would cost the person a text.
    return str(MessagingResponse())


@bp.post("/sms")
def incoming() -> Response:
    form = request.form
    who = identify(value(form, "From"))
    sid = value(form, "MessageSid") or value(form, "SmsSid")
    event = Input("sms", "text", clean(value(form, "Body")))
    cache = hotline().rendered_sms

    def render(session: Session, reply: Reply, events: list[Event]) -> str:
        # An SMS answer depends only on its messages and language, not on the person:
        # the same TwiML serves everyone who gets it.
        key = (session.lang, tuple(reply.says), reply.silent)
        body = cache.get(key)
        if body is None:
            response = MessagingResponse()
            if not reply.silent:
                for text in sms_texts(session.lang or "fr", reply.says):
                    response.message(text)
            body = str(response)
            if len(cache) > 20_000:  # bounded: values with free text (postcodes) vary
                cache.clear()
            cache[key] = body
        return body

    return twiml(take_turn("sms", who, event, sid and f"sms:{sid}", render,
                           stateless=_stateless, replayed=_replayed))


@bp.post("/sms/status")
def status() -> Response:
    count_sms_status()
    return Response(status=204)
