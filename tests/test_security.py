"""Signatures: every POST webhook is checked with the SDK's RequestValidator; fails closed."""
from __future__ import annotations

import pytest

from .conftest import TOKEN
from .harness import post, sign


def _state(redis_client) -> dict:
    return {k: redis_client.dump(k) for k in redis_client.scan_iter("hl:*")}


@pytest.mark.parametrize("path", ["/sms", "/voice", "/voice/input?s=1", "/sms/status",
                                  "/voice/status", "/voice/anything"])
def test_missing_or_wrong_signature_is_403_and_changes_nothing(client, redis_client, path):
    params = {"From": "+33611111111", "Body": "AME", "MessageSid": "SM9", "CallSid": "CA9"}
    before = _state(redis_client)
    assert client.post(path, data=params).status_code == 403
    bad = sign("another-token", "http://localhost" + path, params)
    assert client.post(path, data=params, headers={"X-Twilio-Signature": bad}).status_code == 403
    good = sign(TOKEN, "http://localhost" + path, params)
    tampered = dict(params, Body="CSS")
    response = client.post(path, data=tampered, headers={"X-Twilio-Signature": good})
    assert response.status_code == 403
    assert _state(redis_client) == before


def test_the_signature_covers_the_url_exactly_as_requested(client, redis_client):
    """Twilio signs the URL as it requests it, percent-escapes included: a query with an
    escaped é is checked as sent, not as decoded."""
    params = {"From": "+33611111111", "CallSid": "CA11", "Digits": "9"}
    path = "/voice/input?s=1&n=main&l=fr&x=%C3%A9"
    assert post(client, TOKEN, path, params).status_code == 200
    decoded = sign(TOKEN, "http://localhost/voice/input?s=1&n=main&l=fr&x=é", params)
    before = _state(redis_client)
    assert client.post(path, data=params,
                       headers={"X-Twilio-Signature": decoded}).status_code == 403
    assert _state(redis_client) == before


def test_signature_over_the_public_url_behind_a_trusted_proxy(make_app):
    client = make_app(HOTLINE_TRUSTED_PROXIES="1").test_client()
    params = {"From": "+33611111111", "Body": "AIDE", "MessageSid": "SM10"}
    signature = sign(TOKEN, "https://hotline.example.org/sms", params)
    headers = {"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "hotline.example.org"}
    assert client.post("/sms", data=params, headers=headers).status_code == 200
    assert client.post("/sms", data=params,
                       headers={"X-Twilio-Signature": signature}).status_code == 403
    # the action URLs of a call are the public ones too
    response = post(client, TOKEN, "/voice", {"From": "+33611111111", "CallSid": "CA10"},
                    headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hl.example.org"},
                    base="https://hl.example.org")
    assert b'action="https://hl.example.org/voice/input?' in response.data


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(client, redis_client):
    """A request signed for another host (anyone's Twilio account signs for their own URL)
    naming that host in X-Forwarded-Host is refused and changes nothing."""
    params = {"From": "+33611111111", "Body": "STOP", "MessageSid": "SM13"}
    signature = sign(TOKEN, "https://attacker.example.net/sms", params)
    headers = {"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "attacker.example.net"}
    before = _state(redis_client)
    assert client.post("/sms", data=params, headers=headers).status_code == 403
    assert _state(redis_client) == before


def test_gunicorn_without_a_public_url_or_trusted_proxy_refuses_to_start(make_app,
                                                                         monkeypatch):
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/27.0.1")
    with pytest.raises(RuntimeError, match="HOTLINE_PUBLIC_URL"):
        make_app()
    assert make_app(HOTLINE_TRUSTED_PROXIES="1")
    assert make_app(HOTLINE_PUBLIC_URL="https://hl.example.org")


def test_hotline_public_url_is_what_twilio_signed(make_app):
    app = make_app(HOTLINE_PUBLIC_URL="https://hl.example.org/")
    client = app.test_client()
    params = {"From": "+33611111111", "Body": "AIDE", "MessageSid": "SM11"}
    assert post(client, TOKEN, "/sms", params, base="https://hl.example.org").status_code == 200
    assert post(client, TOKEN, "/sms", params).status_code == 403


def test_action_urls_use_the_public_url(make_app):
    app = make_app(HOTLINE_PUBLIC_URL="https://hl.example.org")
    client = app.test_client()
    params = {"From": "+33611111111", "CallSid": "CA12"}
    response = post(client, TOKEN, "/voice", params, base="https://hl.example.org")
    assert b'action="https://hl.example.org/voice/input?' in response.data


def test_no_auth_token_fails_closed(make_app):
    client = make_app(TWILIO_AUTH_TOKEN="").test_client()
    params = {"From": "+33611111111", "Body": "AIDE"}
    assert post(client, TOKEN, "/sms", params).status_code == 403


def test_skip_signature_is_for_local_use_and_said_loudly(make_app, caplog):
    with caplog.at_level("WARNING"):
        client = make_app(HOTLINE_SKIP_SIGNATURE="1").test_client()
    assert "NOT checked" in caplog.text
    assert client.post("/sms", data={"From": "+33611111111", "Body": "x"}).status_code == 200
    assert "off" in client.get("/healthz").json["signature_check"]
