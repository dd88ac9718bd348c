"""Configuration from the environment (the README's Configuration section), with overrides
for tests."""
from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

log = logging.getLogger("hotline")
PARIS = ZoneInfo("Europe/Paris")

_now: tuple[int, dt.datetime] = (0, dt.datetime.now(PARIS))


def paris_now() -> dt.datetime:
    """Paris time to the second (what the hotline reads: dates, hours, opening minutes),
    made once a second: a time-zone-aware now() is a noticeable part of a webhook."""
    global _now
    second = int(time.time())
    if second != _now[0]:
        _now = (second, dt.datetime.fromtimestamp(second, PARIS))
    return _now[1]


DEV_SECRET = "hotline-local-development-only"


def _flag(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("0", "false", "no", "off")


@dataclass
class Config:
    redis_url: str | None
    auth_token: str | None
    account_sid: str | None
    public_url: str | None
    secret: bytes
    secret_is_default: bool
    audio_enabled: bool
    skip_signature: bool
    scripts_dir: Path | None
    audio_dir: Path
    outbound_limit: int
    sms_from: str | None  # short code, alphanumeric sender ID or number (HOTLINE_SMS_FROM)
    messaging_service_sid: str | None  # TWILIO_MESSAGING_SERVICE_SID: takes precedence
    stats_every: float  # seconds between writes of the daily counters, per process
    trusted_proxies: int  # proxies in front whose X-Forwarded-* headers are believed
    clock: Callable[[], dt.datetime] = field(default=paris_now)

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None) -> Config:
        values = dict(os.environ)
        values.update(overrides or {})
        secret = values.get("HOTLINE_SECRET") or ""
        root = Path(__file__).resolve().parents[1]
        clock = values.get("CLOCK")
        return cls(
            redis_url=values.get("REDIS_URL") or None,
            auth_token=values.get("TWILIO_AUTH_TOKEN") or None,
            account_sid=values.get("TWILIO_ACCOUNT_SID") or None,
            public_url=(values.get("HOTLINE_PUBLIC_URL") or "").rstrip("/") or None,
            secret=(secret or DEV_SECRET).encode(),
            secret_is_default=not secret,
            audio_enabled=_flag(values.get("HOTLINE_AUDIO"), True),
            skip_signature=_flag(values.get("HOTLINE_SKIP_SIGNATURE"), False),
            scripts_dir=Path(values["HOTLINE_SCRIPTS"]) if values.get("HOTLINE_SCRIPTS") else None,
            audio_dir=Path(values.get("HOTLINE_AUDIO_DIR") or root / "audio"),
            outbound_limit=int(values.get("HOTLINE_OUTBOUND_LIMIT") or 3),
            sms_from=(values.get("HOTLINE_SMS_FROM") or "").strip() or None,
            messaging_service_sid=(values.get("TWILIO_MESSAGING_SERVICE_SID") or "").strip()
            or None,
            stats_every=float(values.get("HOTLINE_STATS_EVERY") or 1.0),
            trusted_proxies=int(values.get("HOTLINE_TRUSTED_PROXIES") or 0),
            clock=clock if callable(clock) else paris_now,
        )

    def check_public_url(self, under_gunicorn: bool) -> None:
        """In production the URL Twilio signed must be known: from HOTLINE_PUBLIC_URL, or
        from the X-Forwarded-* headers of a trusted proxy. Taken from the request alone, a
        signature made for another host would be believed."""
        if under_gunicorn and not self.public_url and self.trusted_proxies <= 0:
            raise RuntimeError(
                "!!! Neither HOTLINE_PUBLIC_URL nor HOTLINE_TRUSTED_PROXIES is set. Set "
                "HOTLINE_PUBLIC_URL to the public base URL Twilio calls (e.g. "
                "https://hotline.example.org), or HOTLINE_TRUSTED_PROXIES to the number of "
                "proxies in front that set X-Forwarded-Proto/Host (usually 1). !!!")

    def warn(self) -> None:
        """Say loudly what is unsafe for production."""
        if self.skip_signature:
            log.warning("!!! HOTLINE_SKIP_SIGNATURE=1: Twilio signatures are NOT checked. "
                        "Anyone can post to the webhooks. Local use only. !!!")
        elif not self.auth_token:
            log.warning("TWILIO_AUTH_TOKEN is not set: every webhook answers 403 until it is.")
        if self.secret_is_default:
            log.warning("HOTLINE_SECRET is not set: phone numbers are pseudonymised with a "
                        "public development key. Set HOTLINE_SECRET in production.")
        if not self.account_sid:
            log.info("TWILIO_ACCOUNT_SID is not set: SMS copies after a call are off.")
        elif self.sender_kind() == "dialled number":
            log.info("HOTLINE_SMS_FROM and TWILIO_MESSAGING_SERVICE_SID are not set: SMS "
                     "copies leave from the number called (French carriers block "
                     "application SMS from a mobile number; see the README).")

    def sender_kind(self) -> str:
        """Which sender outbound SMS use, without its value (for /healthz and the logs)."""
        if self.messaging_service_sid:
            return "messaging service"
        return sender_kind(self.sms_from) if self.sms_from else "dialled number"


def sender_kind(sender: str) -> str:
    """`short code` (digits only, up to 8: French short codes have 5), `number` (E.164),
    or `alphanumeric sender ID` (letters: one-way only)."""
    if sender.isdigit() and len(sender) <= 8:
        return "short code"
    if sender.startswith("+") and sender[1:].isdigit():
        return "number"
    return "alphanumeric sender ID"
