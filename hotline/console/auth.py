"""Console accounts, sessions, CSRF and the brake on guessed passwords.

Accounts come from HOTLINE_CONSOLE_USERS (`name:hash,name:hash`, werkzeug hashes). A session
is Flask's signed cookie (HttpOnly, SameSite=Lax, Secure over HTTPS, path /console) with
an idle timeout; it names the account and a fingerprint of its hash, so changing a
password or removing an account ends its sessions. Failed sign-ins are counted per
account name and per client address in Redis: slowed after a few, refused (429) after more.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import Flask, current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.security import check_password_hash, generate_password_hash

KEY_PREFIX = "hl:{console}:fail"  # one hash tag: one slot on a cluster (MGET)


def parse_users(value: str | None) -> dict[str, str]:
    """`name:hash,name:hash` -> {name: hash}. A hash has colons of its own
    (`scrypt:32768:8:1$salt$hex`): the name ends at the first colon."""
    users = {}
    for item in (value or "").split(","):
        name, sep, password_hash = item.strip().partition(":")
        if name.strip() and sep and password_hash.strip():
            users[name.strip()] = password_hash.strip()
    return users


def user_line(name: str, password: str) -> str:
    """The `name:hash` entry for HOTLINE_CONSOLE_USERS."""
    if not name or any(c in name for c in ":, "):
        raise ValueError("a name without colon, comma or space")
    return f"{name}:{generate_password_hash(password)}"


@dataclass
class Settings:
    users: dict[str, str]
    secret: bytes
    idle_seconds: int = 30 * 60
    window_seconds: int = 15 * 60  # how long failures are remembered
    slow_after: int = 2  # failures before each attempt waits
    max_per_user: int = 5  # failures before refusing an account name (429)
    max_per_address: int = 20  # failures before refusing a client address (429)
    _dummy_hash: str = field(default="", repr=False)

    @classmethod
    def load(cls, values: Mapping[str, str], secret: bytes) -> Settings:
        idle = int(values.get("HOTLINE_CONSOLE_IDLE_MINUTES") or 30)
        return cls(users=parse_users(values.get("HOTLINE_CONSOLE_USERS")), secret=secret,
                   idle_seconds=max(idle, 1) * 60)

    @property
    def enabled(self) -> bool:
        return bool(self.users)

    def fingerprint(self, name: str) -> str:
        return hmac.new(self.secret, self.users.get(name, "").encode(),
                        hashlib.sha256).hexdigest()[:16]

    def check(self, name: str, password: str) -> bool:
        """Whether the password is right; an unknown name costs the same time."""
        stored = self.users.get(name)
        if stored is None:
            if not self._dummy_hash:
                self._dummy_hash = generate_password_hash(secrets.token_hex(8))
            check_password_hash(self._dummy_hash, password)
            return False
        try:
            return check_password_hash(stored, password)
        except (ValueError, TypeError):  # a malformed hash in the setting
            return False


def settings() -> Settings:
    return current_app.extensions["hotline_console"]


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Sessions only under /console (webhooks never read or set a cookie); Secure when
    the console is served over HTTPS."""

    def open_session(self, app: Flask, request):
        if not request.path.startswith("/console"):
            return None  # a null session: nothing to parse, nothing to set
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        from ..channels.common import base_url

        return request.is_secure or base_url().startswith("https://")


def configure(app: Flask, conf: Settings) -> None:
    app.extensions["hotline_console"] = conf
    # The cookie's signing key, derived from HOTLINE_SECRET (never the secret itself).
    app.secret_key = hmac.new(conf.secret, b"hotline-console-session", hashlib.sha256).hexdigest()
    app.config.update(SESSION_COOKIE_NAME="hotline_console", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_PATH="/console",
                      PERMANENT_SESSION_LIFETIME=conf.idle_seconds)
    app.session_interface = ConsoleSessionInterface()


# -- sessions ---------------------------------------------------------------------
def signed_in() -> str | None:
    """The signed-in account, or None (an idle, removed or changed account is signed out)."""
    conf = settings()
    name = session.get("user")
    if not name:
        return None
    now = int(time.time())
    if (name not in conf.users or session.get("key") != conf.fingerprint(name)
            or now - int(session.get("seen") or 0) > conf.idle_seconds):
        session.clear()
        return None
    session["seen"] = now
    return name


def sign_in(name: str) -> None:
    session.clear()  # a new session: nothing from before signing in carries over
    session.permanent = True
    session.update(user=name, key=settings().fingerprint(name), seen=int(time.time()),
                   csrf=secrets.token_urlsafe(24))


def sign_out() -> None:
    session.clear()


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def csrf_ok() -> bool:
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf") or ""
    return bool(sent and expected) and hmac.compare_digest(sent, expected)


# -- failed sign-ins --------------------------------------------------------------
def _keys(name: str) -> list[str]:
    conf = settings()
    address = request.remote_addr or "?"

    def digest(kind: str, value: str) -> str:  # neither the name nor the address in clear
        return hmac.new(conf.secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:24]

    return [f"{KEY_PREFIX}:user:{digest('user', name.lower())}",
            f"{KEY_PREFIX}:addr:{digest('addr', address)}"]


def failures(redis, name: str) -> tuple[int, int]:
    """Failed sign-ins in the window: for this account name, from this address."""
    by_user, by_address = redis.mget(_keys(name))
    return int(by_user or 0), int(by_address or 0)


def refused(counts: tuple[int, int]) -> bool:
    conf = settings()
    return counts[0] >= conf.max_per_user or counts[1] >= conf.max_per_address


def delay(counts: tuple[int, int]) -> float:
    """Seconds to wait before checking a password: grows with the failures, at most 2 s."""
    over = max(counts) - settings().slow_after + 1
    return min(0.5 * over, 2.0) if over > 0 else 0.0


def record_failure(redis, name: str) -> None:
    pipe = redis.pipeline(transaction=False)
    for key in _keys(name):
        pipe.incr(key)
        pipe.expire(key, settings().window_seconds)
    pipe.execute()


def clear_failures(redis, name: str) -> None:
    redis.delete(_keys(name)[0])
