"""The limit of the stack: a bare Flask app on the hotline's webhook paths, no hotline.

Served by bench/run.py under exactly the same gunicorn command as the hotline, so the
difference between the two is the hotline's own work (dialogue, rendering, Redis).

    BARE_MODE=fixed   gunicorn --chdir bench 'bare_app:create_app()'   # fixed TwiML
    BARE_MODE=signed  gunicorn --chdir bench 'bare_app:create_app()'   # + signature check,
                                                                       #   one <Message> via the SDK

`signed` does what every hotline request pays before any dialogue: read the form, check
X-Twilio-Signature with twilio's RequestValidator over the URL the server sees (403
otherwise, as the hotline does), and build a TwiML <Message> with the twilio SDK.
"""
from __future__ import annotations

import os
from urllib.parse import urlsplit

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

FIXED = ('<?xml version="1.0" encoding="UTF-8"?><Response><Message>Repondez par un chiffre:'
         "\n1 Vos droits: faire le test\n2 Infos: PUMA, AME, CSS, carte Vitale, documents\n"
         "3 Trouver ma CPAM\n4 Comede (aide)\nAIDE: mots-cles. Urgence: 15 ou 112."
         "</Message></Response>")
PATHS = ("/sms", "/voice", "/voice/input")


def create_app(mode: str | None = None) -> Flask:
    mode = mode or os.environ.get("BARE_MODE", "fixed")
    token = os.environ.get("TWILIO_AUTH_TOKEN", "")
    app = Flask(__name__)

    def fixed() -> Response:
        return Response(FIXED, status=200, mimetype="text/xml")

    def signed() -> Response:
        url = urlsplit(request.url)
        full = f"{request.scheme}://{request.host}{url.path}" + (f"?{url.query}" if url.query else "")
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not RequestValidator(token).validate(full, request.form, signature):
            return Response("", status=403)
        response = MessagingResponse()
        response.message("Repondez par un chiffre:\n1 Vos droits: faire le test\n"
                         f"2 Infos\n3 Trouver ma CPAM ({len(request.form.get('Body', ''))})")
        return Response(str(response), status=200, mimetype="text/xml")

    if mode not in ("fixed", "signed"):
        raise ValueError(f"BARE_MODE must be fixed or signed, not {mode!r}")
    view = fixed if mode == "fixed" else signed
    for path in PATHS:
        app.add_url_rule(path, endpoint=path, view_func=view, methods=["POST"])
    app.add_url_rule("/healthz", endpoint="healthz", view_func=lambda: "ok")
    return app
