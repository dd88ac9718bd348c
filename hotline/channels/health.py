"""GET /healthz: is Redis reachable, and what is switched on."""
from __future__ import annotations

from flask import Blueprint, jsonify
from redis.exceptions import RedisError

from ..services import hotline

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    hl = hotline()
    body = {
        "status": "ok",
        "outbound_sms": "on" if hl.outbox.enabled else "off (TWILIO_ACCOUNT_SID not set)",
        "signature_check": "off (HOTLINE_SKIP_SIGNATURE=1)" if hl.config.skip_signature
        else ("on" if hl.config.auth_token else "misconfigured: TWILIO_AUTH_TOKEN not set"),
        # which kind of sender outbound SMS use (never its SID or any secret)
        "sms_sender": hl.config.sender_kind(),
        "secret": "default (set HOTLINE_SECRET)" if hl.config.secret_is_default else "set",
        "voice_languages": list(hl.speech.voice_languages()),
    }
    try:
        hl.store.ping()
        body["redis"] = "ok"
    except RedisError as exc:
        body.update(status="unavailable", redis=f"unreachable: {type(exc).__name__}")
        return jsonify(body), 503
    return jsonify(body), 200
