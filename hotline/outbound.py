"""SMS sent after a call (a copy of an answer), through Twilio's REST API, off the webhook.

Jobs go through RQ on the same Redis so `worker:` processes send them; with no worker
running they are sent from a background thread. The job never holds the phone number in
clear: it is encrypted with a key derived from HOTLINE_SECRET.

Senders: a Messaging Service (TWILIO_MESSAGING_SERVICE_SID) first, else HOTLINE_SMS_FROM
(a short code, an alphanumeric sender ID or a number), else the number the caller dialled.
French carriers block application SMS from mobile numbers.

Twilio's refusals are handled by code (https://www.twilio.com/docs/api/errors):
21610 the person replied STOP to Twilio: opted out here too, nothing more is sent;
21211, 21614, 21606, 21635 cannot succeed (bad number, landline, sender not allowed to
that country or number): stop, no retry; 20429 (too many requests) and 5xx: retry later.
Logs carry the code and the message SID, never Twilio's text (it can contain the number).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests
from cryptography.fernet import Fernet
from redis.exceptions import RedisError

from .redis_conn import real_client

log = logging.getLogger("hotline.outbound")
QUEUE = "hotline-sms"
OPTED_OUT = 21610
NO_RETRY = frozenset({21211, 21614, 21606, 21635})
TOO_MANY = 20429
RETRY_INTERVALS = [10, 30, 60]  # seconds between the RQ job's attempts
INLINE_INTERVALS = [2.0, 5.0]  # the background thread's: short, it holds a web worker thread


class RetryLater(Exception):
    """Twilio was busy or failing: send the parts from `sent` on again later."""

    def __init__(self, sent: int, code: int | None, status: int | None):
        super().__init__(f"Twilio error {code} (HTTP {status}); {sent} part(s) sent")
        self.sent, self.code, self.status = sent, code, status


def _fernet(secret: bytes) -> Fernet:
    key = hashlib.sha256(b"hotline-outbound:" + secret).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: bytes, number: str) -> str:
    return _fernet(secret).encrypt(number.encode()).decode()


def unseal(secret: bytes, token: str) -> str:
    return _fernet(secret).decrypt(token.encode()).decode()


def sender(from_number: str | None, sms_from: str | None,
           messaging_service_sid: str | None) -> dict[str, str]:
    """The REST create's sender arguments: the Messaging Service, else HOTLINE_SMS_FROM,
    else the number dialled."""
    if messaging_service_sid:
        return {"messaging_service_sid": messaging_service_sid}
    chosen = sms_from or from_number
    return {"from_": chosen} if chosen else {}


def send_job(sealed_to: str, from_number: str | None, bodies: Sequence[str],
             status_callback: str | None = None) -> list[str]:
    """The RQ job. Credentials and senders come from the worker's environment, never from
    Redis. Parts already sent by an earlier attempt are not sent again."""
    from rq import get_current_job

    from .config import Config

    config = Config.load()
    job = get_current_job()  # its connection is the hotline's Redis: count there
    start = int(job.meta.get("sent", 0)) if job is not None else 0
    on_sent = sent_counter(job.connection, lambda: config.clock().date()) if job else None
    try:
        return send_texts(config.account_sid, config.auth_token, config.secret, sealed_to,
                          sender(from_number, config.sms_from, config.messaging_service_sid),
                          bodies, status_callback=status_callback, start=start,
                          redis_client=job.connection if job is not None else None,
                          on_sent=on_sent)
    except RetryLater as later:
        if job is not None:
            job.meta["sent"] = later.sent
            job.save_meta()
        raise


def send_texts(account_sid: str | None, auth_token: str | None, secret: bytes,
               sealed_to: str, from_: dict[str, str] | str, bodies: Sequence[str],
               http_client=None, status_callback: str | None = None, start: int = 0,
               redis_client: Any = None,
               on_sent: Callable[[str], None] | None = None) -> list[str]:
    """Send each body from `start` on as one message, in order. Returns the message SIDs.

    Raises RetryLater when Twilio asks to wait (20429) or fails (5xx, no answer). A refusal
    that cannot succeed stops quietly; 21610 marks the person opted out in Redis."""
    from twilio.base.exceptions import TwilioRestException
    from twilio.rest import Client

    client = Client(account_sid, auth_token, http_client=http_client)
    to = unseal(secret, sealed_to)
    source = {"from_": from_} if isinstance(from_, str) else dict(from_)
    extra = {"status_callback": status_callback} if status_callback else {}
    sids: list[str] = []
    for index in range(start, len(bodies)):
        try:
            message = client.messages.create(to=to, body=bodies[index], **source, **extra)
        except TwilioRestException as error:
            code, status = error.code, error.status
            if code == TOO_MANY or (status or 0) >= 500:
                log.warning("Twilio error %s (HTTP %s) on SMS part %d/%d: will retry",
                            code, status, index + 1, len(bodies))
                raise RetryLater(index, code, status) from None
            if code == OPTED_OUT:
                log.info("Twilio error 21610: the person replied STOP to Twilio; "
                         "opted out here too")
                _opt_out(secret, to, redis_client)
            elif code in NO_RETRY:
                log.info("Twilio error %s on SMS part %d/%d: not sent, no retry",
                         code, index + 1, len(bodies))
            else:
                log.warning("Twilio error %s (HTTP %s) on SMS part %d/%d: not sent",
                            code, status, index + 1, len(bodies))
            return sids
        except requests.RequestException as error:  # no answer: the same as a 5xx
            log.warning("Twilio unreachable (%s) on SMS part %d/%d: will retry",
                        type(error).__name__, index + 1, len(bodies))
            raise RetryLater(index, None, None) from None
        sids.append(message.sid)
        log.info("SMS part %d/%d sent: %s", index + 1, len(bodies), message.sid)
        if on_sent is not None:
            on_sent(bodies[index])
    return sids


def _opt_out(secret: bytes, number: str, redis_client: Any) -> None:
    """Twilio's 21610 agreed here: the person's opt-out preference set in Redis."""
    from .store import Store

    if redis_client is None:
        log.warning("no Redis to record a Twilio opt-out (21610)")
        return
    store = Store(redis_client, secret)
    try:
        store.set_opted_out(store.pid(number))
    except Exception as error:  # the next send gets 21610 again and tries again
        log.warning("could not record a Twilio opt-out: %s", type(error).__name__)


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
    """Queues SMS copies; knows whether sending is configured at all, and from where."""

    def __init__(self, redis_client, account_sid: str | None, auth_token: str | None,
                 secret: bytes, inline: bool | None = None, sms_from: str | None = None,
                 messaging_service_sid: str | None = None,
                 today: Callable[[], dt.date] | None = None):
        self.redis = redis_client
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.secret = secret
        self.sms_from = sms_from
        self.messaging_service_sid = messaging_service_sid
        self.inline = inline  # None: decide by whether an RQ worker listens
        self.inline_intervals = list(INLINE_INTERVALS)
        self.last_thread: threading.Thread | None = None
        self.today = today or dt.date.today

    @property
    def enabled(self) -> bool:
        return bool(self.account_sid and self.auth_token)

    def send(self, to_number: str, from_number: str | None, bodies: Sequence[str],
             status_callback: str | None = None) -> None:
        """Queue `bodies` to `to_number`; `from_number` (the number dialled) is the sender
        only when neither a Messaging Service nor HOTLINE_SMS_FROM is set."""
        source = sender(from_number, self.sms_from, self.messaging_service_sid)
        if not self.enabled or not bodies or not to_number or not source:
            return
        sealed = seal(self.secret, to_number)
        if not self._worker_listening():
            args = (sealed, source, list(bodies), status_callback)
            thread = threading.Thread(target=self._send_now, args=args, daemon=True)
            thread.start()
            self.last_thread = thread  # lets tests wait for it
            return
        from rq import Queue, Retry

        # the worker takes the sender from its own environment (the same as the web's)
        Queue(QUEUE, connection=real_client(self.redis)).enqueue(
            send_job, sealed, from_number, list(bodies), status_callback,
            retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
            result_ttl=0, failure_ttl=3600, job_timeout=60)

    def _worker_listening(self) -> bool:
        if self.inline is not None:
            return not self.inline
        try:
            from rq import Worker

            return Worker.count(connection=real_client(self.redis)) > 0
        except Exception:  # no RQ worker information: send from here
            return False

    def _send_now(self, sealed: str, source: dict[str, str], bodies: list[str],
                  status_callback: str | None) -> None:
        """The background thread: a few quick retries, then give up (logged)."""
        sent = 0
        for pause in [0.0, *self.inline_intervals]:
            time.sleep(pause)
            try:
                send_texts(self.account_sid, self.auth_token, self.secret, sealed, source,
                           bodies, status_callback=status_callback, start=sent,
                           redis_client=self.redis,
                           on_sent=sent_counter(self.redis, self.today))
                return
            except RetryLater as later:
                sent = later.sent
            except Exception as error:  # logged without the number or Twilio's text
                log.error("sending an SMS copy failed: %s", type(error).__name__)
                return
        log.error("sending an SMS copy failed after %d attempts", len(self.inline_intervals) + 1)
