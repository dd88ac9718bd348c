"""The floor of the stack: the least a stateful Twilio webhook can do, as a reference server.

Served by bench/run.py under the same gunicorn command as the hotline:

    REDIS_URL=redis://... gunicorn --chdir bench 'floor_app:create_app()'

Per request: read the form, check X-Twilio-Signature with the twilio SDK's
RequestValidator over the URL the server sees (one HMAC, as the hotline does when it
matches; 403 otherwise), one Redis round trip to load the sender's state and one to save
it (GET, then SET with an expiry), and one `<Message>` built with the SDK. Whatever the
hotline does beyond this (dialogue, rendering, atomic saves, claims) shows as
hotline/floor below 1.
"""
from __future__ import annotations

import hashlib
import os

import redis
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator, compare
from twilio.twiml.messaging_response import MessagingResponse

PATHS = ("/sms", "/voice", "/voice/input")


def create_app() -> Flask:
    token = os.environ.get("TWILIO_AUTH_TOKEN", "")
    public = (os.environ.get("HOTLINE_PUBLIC_URL") or "").rstrip("/")
    client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=1.0,
                                  socket_connect_timeout=1.0)
    validator = RequestValidator(token)
    app = Flask(__name__)

    def webhook() -> Response:
        base = public or f"{request.scheme}://{request.host}"
        url = base + (request.environ.get("RAW_URI") or request.full_path.rstrip("?"))
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not compare(validator.compute_signature(url, request.form),
                                        signature):
            return Response("", status=403)
        person = hashlib.sha256(request.form.get("From", "").encode()).hexdigest()[:32]
        key = f"floor:{{{person}}}"
        turns = int(client.get(key) or 0)  # load
        client.set(key, turns + 1, ex=1800)  # save
        response = MessagingResponse()
        response.message(f"Repondez par un chiffre:\n1 Vos droits: faire le test\n2 Infos\n"
                         f"3 Trouver ma CPAM ({turns + 1})")
        return Response(str(response), status=200, mimetype="text/xml")

    for path in PATHS:
        app.add_url_rule(path, endpoint=path, view_func=webhook, methods=["POST"])
    app.add_url_rule("/healthz", endpoint="healthz", view_func=lambda: "ok")
    return app
