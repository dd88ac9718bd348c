"""What both channels share: the signature check, the public URL, and taking one turn."""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Response, request
from redis.exceptions import RedisError
from twilio.request_validator import RequestValidator, compare
from werkzeug.datastructures import MultiDict

from ..config import Config
from ..dialogue.engine import step
from ..dialogue.events import Event
from ..dialogue.model import Channel, Input, Reply, Session
from ..identity import Identity
from ..services import Hotline, hotline
from ..store import Saved

log = logging.getLogger("hotline.channels")


def base_url(config: Config | None = None) -> str:
    """Scheme and host Twilio used: HOTLINE_PUBLIC_URL, else the request's. The
    X-Forwarded-Proto / X-Forwarded-Host of a TLS-ending proxy count only with
    HOTLINE_TRUSTED_PROXIES set (werkzeug's ProxyFix, in the app factory, applies them)."""
    base = (config or hotline().config).public_url
    if base:
        return base
    return f"{request.scheme}://{request.host}"


def public_url(config: Config | None = None) -> str:
    """The URL Twilio requested and signed."""
    # The request line as it came (gunicorn's RAW_URI, werkzeug's REQUEST_URI): the exact
    # path and query Twilio signed, and cheaper than rebuilding them from request.url.
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    if raw.startswith("/"):
        return base_url(config) + raw
    # request.url re-quotes the path as the client sent it (%00 stays %00)
    url = urlsplit(request.url)
    return base_url(config) + url.path + (f"?{url.query}" if url.query else "")


def check_signature() -> Response | None:
    """Blueprint guard: a POST without a valid X-Twilio-Signature gets 403 (a chunked body
    411), nothing else."""
    req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup
    if req.method != "POST":
        return None
    environ = req.environ  # the headers as the WSGI server gave them: the cheapest read
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        # Twilio sends a Content-Length. A chunked body may never end (a plain body
        # announced as chunked leaves the reader waiting for a chunk size): refused before
        # reading it, and the connection closed rather than drained.
        return Response("", status=411, headers={"Connection": "close"})
    config = hotline().config
    if config.skip_signature:
        return None
    signature = environ.get("HTTP_X_TWILIO_SIGNATURE", "")
    if not config.auth_token or not signature:
        return Response("", status=403)
    try:
        params = req.form
    except Exception:  # an unreadable body is not a Twilio request
        return Response("", status=403)
    if not _valid(_validator(config.auth_token), public_url(config), params, signature):
        log.warning("rejected a request with a wrong signature on %s", req.path)
        return Response("", status=403)
    return None


@lru_cache(maxsize=2)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


def _valid(validator: RequestValidator, url: str, params, signature: str) -> bool:
    """The SDK's signature over the exact URL first (one HMAC); `validate` only when that
    fails, as it also tries the URL with and without a port (two more HMACs)."""
    if compare(validator.compute_signature(url, params), signature):
        return True
    return validator.validate(url, params, signature)


def value(values: MultiDict, name: str) -> str:
    """A form or query field, "" when absent (MultiDict.get makes and catches an exception
    for a missing field, a cost on every webhook)."""
    return values[name] if name in values else ""  # noqa: SIM401  (see above)


def twiml(body: str) -> Response:
    return Response(body, status=200, mimetype="text/xml")


Render = Callable[[Session, Reply, list[Event]], str]

# A turn computed on a state that changed meanwhile is computed again on the fresh state:
# one person rarely has more than two or three requests in flight at once.
TURN_ATTEMPTS = 8


def usage_counters(channel: str, input: Input, events: list[Event]) -> list[str]:
    """The daily counters of one turn: its input's kind, and what its events say happened."""
    return [f"{channel}.{input.kind}", *(name for e in events for name in e.counters())]


def take_turn(channel: Channel, who: Identity, event: Input, request_id: str | None,
              render: Render,
              fallback: Callable[[Session], Session] = lambda s: s,
              after: Callable[[Hotline, Session, list[Event]], None] | None = None,
              stateless: Callable[[Session], Session] | None = None,
              replayed: Callable[[Session], str] | None = None) -> str:
    """Load the person's session, step the engine, render, save: one Redis round trip each
    way. The save applies only on the state the turn was computed from (else the turn is
    computed again on the fresh state), and claims `request_id`: a retry or replay of the
    same request, concurrent or up to a day later, changes nothing and gets the first
    answer (or, once that has expired, `replayed`'s). Side effects (counters, `after`)
    come only after the claim, from the step's events. With Redis down the turn still
    runs, without state, and the answer is still valid. A withheld caller's state lives
    for their call only and keeps no preference."""
    hl = hotline()
    now = hl.config.clock()  # read once: the world and the counters of this turn
    # the world as this person sees it: a text can reach a known mobile number only (the
    # engine also checks the account and the person's opt-out)
    world = hl.world(can_text=who.known and who.mobile, now=now)
    if who.state_key is None:  # nobody, and no call to hold on to: nothing to remember
        session = (stateless or fallback)(Session())
        return render(*step(hl.script, session, event, world))
    pid = hl.store.pid(who.state_key)

    def not_advanced(session: Session) -> str:
        """The answer to a request handled before whose first answer has expired."""
        log.info("a %s request handled before came again: not advanced", channel)
        if replayed is not None:
            return replayed(session)
        return render(*step(hl.script, session, Input(channel, "repeat"), world))

    for attempt in range(TURN_ATTEMPTS):
        try:
            loaded = hl.store.load_turn(pid, channel, request_id)
        except RedisError:
            log.warning("redis unreachable: answering %s without state", channel)
            session = (stateless or fallback)(Session())
            return render(*step(hl.script, session, event, world))
        if loaded.answer is not None:
            return loaded.answer
        if loaded.handled:
            return not_advanced(fallback(loaded.session))
        stored_prefs = (loaded.session.lang, loaded.session.opted_out)
        session = fallback(loaded.session)
        new_session, reply, events = step(hl.script, session, event, world)
        body = render(new_session, reply, events)
        try:
            saved, first = hl.store.save_turn(
                pid, channel, loaded, new_session, request_id, body,
                prefs_changed=who.known and
                (new_session.lang, new_session.opted_out) != stored_prefs)
        except RedisError:
            log.warning("redis unreachable: %s state not saved", channel)
            return body  # not claimed: no side effects
        if saved is Saved.SAVED:
            break
        if saved is Saved.DUPLICATE:
            return first if first is not None else not_advanced(session)
        time.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # Saved.CONFLICT: again
    else:
        log.warning("%s turn not saved: the state kept changing under it", channel)
        return body

    # Side effects: this delivery claimed the request, no other will run them.
    counters = usage_counters(channel, event, events)
    if event.kind in ("start", "text"):  # a call came in, or a text: by hour of the day
        counters.append(f"{'call' if channel == 'voice' else 'sms'}.hour.{now.hour:02d}")
    try:
        hl.store.count(counters, today=now.date())
    except RedisError:  # the state is saved; the counters wait for the next write
        log.warning("redis: usage counters not written yet, kept for the next try")
    if after is not None:
        after(hl, new_session, events)
    return body
