"""Twilio's status callbacks (/voice/status, /sms/status) turned into usage counters.

A callback is counted once even when Twilio sends it again (claimed by CallSid or
MessageSid and status). No phone number is kept: the caller's voice session is found by
the pseudonym of `From`, only to read the node the call ended at.
"""
from __future__ import annotations

import logging
import re

from flask import request
from redis.exceptions import RedisError

from ..identity import identify
from ..services import hotline

log = logging.getLogger("hotline.channels")

FINAL_CALL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}
_STATUS = re.compile(r"^[a-z-]{1,20}$")  # Twilio's statuses: a word, maybe with dashes


def count_call_status() -> None:
    """A call ended: `call.count`, `call.seconds` and, when completed, `left.<node>`."""
    form = request.form
    sid, status = form.get("CallSid", ""), (form.get("CallStatus") or "").lower()
    if not sid or status not in FINAL_CALL_STATUSES:
        return
    hl = hotline()
    try:
        if not hl.store.claim(f"call-status:{sid}:{status}"):
            return
        counters = {"call.count": 1}
        duration = form.get("CallDuration", "")
        seconds = int(duration) if duration.isdigit() and len(duration) < 7 else 0
        if status == "completed":
            who = identify(form.get("From"), sid)
            if who.state_key is not None:
                session, _ = hl.store.load(hl.store.pid(who.state_key), "voice", None)
                if session.node and session.node in hl.script.nodes:
                    counters[f"left.{session.node}"] = 1
        if seconds:
            counters["call.seconds"] = seconds
        hl.store.add(counters, hl.config.clock().date())
    except RedisError:
        log.warning("redis unreachable: a call's status was not counted")


def count_sms_status() -> None:
    """An outbound SMS changed status: `sms.status.<status>`."""
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").lower()
    if not sid or not _STATUS.match(status):
        return
    hl = hotline()
    try:
        if hl.store.claim(f"sms-status:{sid}:{status}"):
            hl.store.count([f"sms.status.{status}"], hl.config.clock().date())
    except RedisError:
        log.warning("redis unreachable: an SMS status was not counted")
