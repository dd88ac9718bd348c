"""SMS sent after a call (a copy of an answer), through Twilio's REST API, off the webhook.

Jobs go through RQ on the same Redis so `worker:` processes send them; with no worker
running they are sent from a background thread. The job never holds the phone number in
clear: it is encrypted with a key derived from HOTLINE_SECRET.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import threading
from typing import Any, Callable, Sequence

from cryptography.fernet import Fernet
from redis.exceptions import RedisError

log = logging.getLogger("hotline.outbound")
QUEUE = "hotline-sms"


def _fernet(secret: bytes) -> Fernet:
    key = hashlib.sha256(b"hotline-outbound:" + secret).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: bytes, number: str) -> str:
    return _fernet(secret).encrypt(number.encode()).decode()


def unseal(secret: bytes, token: str) -> str:
    return _fernet(secret).decrypt(token.encode()).decode()


def send_job(sealed_to: str, from_number: str, bodies: Sequence[str]) -> list[str]:
    """The RQ job. Credentials come from the worker's environment, never from Redis."""
    from rq import get_current_job

    from .config import Config

    config = Config.load()
    job = get_current_job()  # its connection is the hotline's Redis: count there
    on_sent = sent_counter(job.connection, lambda: config.clock().date()) if job else None
    return send_texts(config.account_sid, config.auth_token, config.secret, sealed_to,
                      from_number, bodies, on_sent=on_sent)


def send_texts(account_sid: str, auth_token: str, secret: bytes, sealed_to: str,
               from_number: str, bodies: Sequence[str], http_client=None,
               on_sent: Callable[[str], None] | None = None) -> list[str]:
    """Send each body as one message, in order. Returns the message SIDs."""
    from twilio.rest import Client

    client = Client(account_sid, auth_token, http_client=http_client)
    to = unseal(secret, sealed_to)
    sids = []
    for body in bodies:
        message = client.messages.create(to=to, from_=from_number, body=body)
        sids.append(message.sid)
        if on_sent is not None:
            on_sent(body)
    return sids


def sent_counter(client, today: Callable[[], dt.date]) -> Callable[[str], None]:
    """Counts each SMS sent (`sms.out.messages`, `sms.out.segments`) in the daily counters."""
    from .sms_segments import count
    from .store import Store

    store = Store(client, b"", count_every=0)  # counters only: no person, no secret needed

    def sent(body: str) -> None:
        try:
            store.add({"sms.out.messages": 1, "sms.out.segments": count(body).segments}, today())
        except RedisError:  # the SMS is sent; a lost counter must not look like a failed send
            log.warning("an SMS sent was not counted (redis unreachable)")
    return sent


class Outbox:
    """Queues SMS copies; knows whether sending is configured at all."""

    def __init__(self, redis_client, account_sid: str | None, auth_token: str | None,
                 secret: bytes, inline: bool | None = None,
                 today: Callable[[], dt.date] | None = None):
        self.redis = redis_client
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.secret = secret
        self.inline = inline  # None: decide by whether an RQ worker listens
        self.last_thread: threading.Thread | None = None
        self.today = today or dt.date.today

    @property
    def enabled(self) -> bool:
        return bool(self.account_sid and self.auth_token)

    def send(self, to_number: str, from_number: str, bodies: Sequence[str]) -> None:
        if not self.enabled or not bodies or not to_number or not from_number:
            return
        sealed = seal(self.secret, to_number)
        if not self._worker_listening():
            args = (self.account_sid, self.auth_token, self.secret, sealed, from_number,
                    list(bodies))
            thread = threading.Thread(target=self._send_now, args=args, daemon=True)
            thread.start()
            self.last_thread = thread  # lets tests wait for it
            return
        from rq import Queue

        Queue(QUEUE, connection=self.redis).enqueue(send_job, sealed, from_number, list(bodies),
                                                   result_ttl=0, failure_ttl=3600, job_timeout=60)

    def _worker_listening(self) -> bool:
        if self.inline is not None:
            return not self.inline
        try:
            from rq import Worker

            return Worker.count(connection=self.redis) > 0
        except Exception:  # no RQ worker information: send from here
            return False

    def _send_now(self, *args: Any) -> None:
        try:
            send_texts(*args, on_sent=sent_counter(self.redis, self.today))  # type: ignore[misc]
        except Exception:  # logged without the number; the caller already heard "sent"
            log.exception("sending an SMS copy failed")
