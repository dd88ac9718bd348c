"""What both channels share: the signature check, the public URL, and taking one turn."""
from __future__ import annotations

import logging
from dataclasses import replace
from urllib.parse import urlsplit
from typing import Callable

from flask import Response, request
from redis.exceptions import RedisError
from twilio.request_validator import RequestValidator, compare

from ..services import Hotline, hotline
from ..dialogue.engine import step
from ..dialogue.events import Event
from ..dialogue.model import Input, Reply, Session, World
from ..identity import Identity

log = logging.getLogger("hotline.channels")


def base_url() -> str:
    """Scheme and host Twilio used: HOTLINE_PUBLIC_URL, else the request's, honouring the
    X-Forwarded-Proto / X-Forwarded-Host of a TLS-ending proxy."""
    base = hotline().config.public_url
    if base:
        return base
    proto = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
    host = request.headers.get("X-Forwarded-Host", request.host).split(",")[0].strip()
    return f"{proto}://{host}"


def public_url() -> str:
    """The URL Twilio requested and signed."""
    # The request line as it came (gunicorn's RAW_URI, werkzeug's REQUEST_URI): the exact
    # path and query Twilio signed, and cheaper than rebuilding them from request.url.
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    if raw.startswith("/"):
        return base_url() + raw
    # request.url re-quotes the path as the client sent it (%00 stays %00)
    url = urlsplit(request.url)
    return base_url() + url.path + (f"?{url.query}" if url.query else "")


def check_signature() -> Response | None:
    """Blueprint guard: a POST without a valid X-Twilio-Signature gets 403, nothing else."""
    if request.method != "POST":
        return None
    config = hotline().config
    if config.skip_signature:
        return None
    signature = request.headers.get("X-Twilio-Signature", "")
    if not config.auth_token or not signature:
        return Response("", status=403)
    try:
        params = request.form
    except Exception:  # an unreadable body is not a Twilio request
        return Response("", status=403)
    if not _valid(RequestValidator(config.auth_token), public_url(), params, signature):
        log.warning("rejected a request with a wrong signature on %s", request.path)
        return Response("", status=403)
    return None


def _valid(validator: RequestValidator, url: str, params, signature: str) -> bool:
    """The SDK's signature over the exact URL first (one HMAC); `validate` only when that
    fails, as it also tries the URL with and without a port (two more HMACs)."""
    if compare(validator.compute_signature(url, params), signature):
        return True
    return validator.validate(url, params, signature)


def twiml(body: str) -> Response:
    return Response(body, status=200, mimetype="text/xml")


Render = Callable[[Session, Reply, list[Event]], str]


def usage_counters(channel: str, input: Input, events: list[Event]) -> list[str]:
    """The daily counters of one turn: its input's kind, and what its events say happened."""
    return [f"{channel}.{input.kind}", *(name for e in events for name in e.counters())]


def take_turn(channel: str, who: Identity, event: Input, request_id: str | None,
              render: Render,
              fallback: Callable[[Session], Session] = lambda s: s,
              after: Callable[[Hotline, Session, list[Event]], None] | None = None,
              stateless: Callable[[Session], Session] | None = None) -> str:
    """Load the person's session, step the engine, render, save. One Redis round trip each
    way; a retry of the same request gets the answer it got before and changes nothing.
    With Redis down the turn still runs, without state, and the answer is still valid.
    A withheld caller's state lives for their call only and keeps no preference."""
    hl = hotline()
    world = hl.world()
    if who.state_key is None:  # nobody, and no call to hold on to: nothing to remember
        session = (stateless or fallback)(Session())
        new_session, reply, events = step(hl.script, session, event, _for(world, who, session))
        return render(new_session, reply, events)
    pid = hl.store.pid(who.state_key)
    try:
        session, cached = hl.store.load(pid, channel, request_id)
    except RedisError:
        log.warning("redis unreachable: answering %s without state", channel)
        session, cached = (stateless or fallback)(Session()), None
        new_session, reply, events = step(hl.script, session, event, _for(world, who, session))
        return render(new_session, reply, events)
    if cached is not None:
        return cached
    stored_prefs = (session.lang, session.opted_out)
    session = fallback(session)
    new_session, reply, events = step(hl.script, session, event, _for(world, who, session))
    body = render(new_session, reply, events)
    counters = usage_counters(channel, event, events)
    try:
        hl.store.save(pid, channel, new_session, request_id, body, counters,
                      today=hl.config.clock().date(),
                      prefs_changed=who.known and
                      (new_session.lang, new_session.opted_out) != stored_prefs)
    except RedisError:
        log.warning("redis unreachable: %s state not saved", channel)
    if after is not None:
        after(hl, new_session, events)
    return body


def _for(world: World, who: Identity, session: Session) -> World:
    """The world as this person sees it: a copy by SMS only to a mobile number that has
    not opted out (`outbound_sms` off too, so today's engine says so rather than promise)."""
    can_text = who.known and who.mobile and not session.opted_out
    return replace(world, can_text=can_text, outbound_sms=world.outbound_sms and can_text)
