"""The operators' console through Flask's test client: who gets in, what they see, and
that the numbers are the counters of real signed traffic (the browser tests are in
test_console_browser.py)."""
from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner
from werkzeug.security import check_password_hash, generate_password_hash

from hotline.cli import main
from hotline.console import auth
from hotline.text import plain

from .conftest import TOKEN
from .harness import HOTLINE_NUMBER, Caller, Texter, post

PASSWORD = "a long enough password"
USERS = f"alice:{generate_password_hash(PASSWORD)},bob:{generate_password_hash('bob password')}"


@pytest.fixture
def console_app(make_app):
    return make_app(HOTLINE_CONSOLE_USERS=USERS)


@pytest.fixture
def staff(console_app):
    client = console_app.test_client()
    assert sign_in(client).status_code == 302
    return client


def csrf(client, path: str = "/console/login") -> str:
    page = client.get(path).text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, name: str = "alice", password: str = PASSWORD, **extra):
    return client.post("/console/login", data={"username": name, "password": password,
                                               "csrf_token": csrf(client), **extra})


def test_users_are_parsed_up_to_the_first_colon_of_each_entry():
    hashed = generate_password_hash("x")  # scrypt:32768:8:1$salt$hex
    users = auth.parse_users(f" alice:{hashed}, bob:pbkdf2:sha256:1000$ab$cd ,broken,:x")
    assert users == {"alice": hashed, "bob": "pbkdf2:sha256:1000$ab$cd"}


def test_add_user_asks_twice_and_prints_a_line_that_signs_in():
    result = CliRunner(mix_stderr=False).invoke(  # type: ignore[call-arg]
        main, ["console", "add-user", "carol"], input="horse battery\nhorse battery\n")
    assert result.exit_code == 0, result.output
    line = result.stdout.strip().splitlines()[-1]
    users = auth.parse_users(line)
    assert check_password_hash(users["carol"], "horse battery")
    assert "horse battery" not in result.stdout
    for typed in ("horse battery\nother one x\n", "short\nshort\n", ""):
        refused = CliRunner().invoke(main, ["console", "add-user", "carol"], input=typed)
        assert refused.exit_code == 1 and "scrypt" not in refused.output


def test_without_accounts_every_console_path_is_404(client):
    for path in ("/console/", "/console/login", "/console/api/stats", "/console/flow.svg",
                 "/console/static/console.css", "/console/try", "/console/nowhere"):
        assert client.get(path).status_code == 404, path
    assert client.post("/console/login", data={"username": "a"}).status_code == 404


def test_strangers_get_a_redirect_or_nothing(console_app):
    client = console_app.test_client()
    for path in ("/console/", "/console/flow", "/console/try", "/console/content",
                 "/console/flow/node/main"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/console/login")
    for path in ("/console/api/stats", "/console/export.csv", "/console/flow.svg"):
        response = client.get(path)
        assert response.status_code == 401 and response.data == b"", path
    token = csrf(client)
    response = client.post("/console/try/sms", data={"body": "Bonjour", "csrf_token": token})
    assert response.status_code == 401 and response.data == b""


def test_a_post_without_the_csrf_token_is_refused(console_app, staff):
    assert staff.post("/console/try/sms", data={"body": "Bonjour"}).status_code == 400
    assert staff.post("/console/try/sms", data={"body": "Bonjour", "csrf_token": "forged"}
                      ).status_code == 400
    stranger = console_app.test_client()
    response = stranger.post("/console/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert stranger.get("/console/").status_code == 302  # not signed in


def test_sign_in_sets_a_hardened_cookie_and_sign_out_ends_it(console_app):
    client = console_app.test_client()
    response = sign_in(client)
    assert response.headers["Location"] == "/console/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain HTTP here
    assert client.get("/console/").status_code == 200
    assert client.post("/console/logout", data={"csrf_token": csrf(client, "/console/")}
                       ).status_code == 302
    assert client.get("/console/").status_code == 302


def test_the_cookie_is_secure_over_https(make_app):
    app = make_app(HOTLINE_CONSOLE_USERS=USERS, HOTLINE_PUBLIC_URL="https://hotline.example.org")
    client = app.test_client()
    page = client.get("/console/login", base_url="https://hotline.example.org")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/console/login", base_url="https://hotline.example.org",
                           data={"username": "alice", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_next_never_leads_off_the_console(console_app):
    client = console_app.test_client()
    for target in ("//evil.example/console/", "https://evil.example/", "/sms"):
        response = sign_in(client, next=target)
        assert response.headers["Location"] == "/console/", target
    response = sign_in(client, next="/console/flow")
    assert response.headers["Location"] == "/console/flow"


def test_an_idle_session_ends(console_app, staff, monkeypatch):
    import time

    now = time.time()
    for minutes in (29, 58):  # each visit starts the 30 minutes again
        monkeypatch.setattr(time, "time", lambda m=minutes: now + m * 60)
        assert staff.get("/console/").status_code == 200
    monkeypatch.setattr(time, "time", lambda: now + 89 * 60)
    assert staff.get("/console/").status_code == 302


def test_removing_an_account_ends_its_sessions(console_app, staff):
    console_app.extensions["hotline_console"].users.pop("alice")
    assert staff.get("/console/").status_code == 302


def test_failures_are_slowed_then_refused_per_name_and_per_address(console_app, monkeypatch):
    waits = []
    monkeypatch.setattr("hotline.console.web.time.sleep", waits.append)
    client = console_app.test_client()
    statuses = [sign_in(client, password="wrong").status_code for _ in range(5)]
    assert statuses == [401] * 5
    assert waits[:2] == [0.0, 0.0] and waits[2] > 0 and waits[4] > waits[2]
    refused = sign_in(client)  # the right password, too late
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert client.get("/console/").status_code == 302
    # another name from the same address still gets in, until the address is refused too
    assert sign_in(client, "bob", "bob password").status_code == 302
    other = console_app.test_client()
    for n in range(15):
        sign_in(other, f"guess{n}", "x")
    assert sign_in(other, "bob", "bob password").status_code == 429


def test_webhooks_never_get_a_cookie(console_app):
    texter = Texter(console_app.test_client(), TOKEN)
    texter.send("Bonjour")
    response = post(texter.client, TOKEN, "/sms", {"From": "+33611111111", "To": HOTLINE_NUMBER,
                                                   "Body": "1", "MessageSid": "SMx"})
    assert "Set-Cookie" not in response.headers


def produce_traffic(app) -> None:
    """A texter through the questionnaire, two callers, one who hangs up at Q2."""
    client = app.test_client()
    texter = Texter(client, TOKEN, "+33612345678")
    # Q3 = 4 (no papers), then 1 (never had papers or over 6 months), 1 (over 3 months)
    for body in ["Bonjour", "1", "TEST", "1", "2", "4", "1", "1", "2", "1500"]:
        texter.send(body)
    caller = Caller(client, TOKEN, "+33698765432")
    caller.call()
    for keys in ("2", "1", "1"):  # English, the questionnaire, metropolitan France
        caller.press(keys)
    params = {"CallSid": caller.call_sid, "From": caller.number, "To": HOTLINE_NUMBER,
              "CallStatus": "completed", "CallDuration": "150"}
    assert post(client, TOKEN, "/voice/status", params).status_code == 204
    other = Caller(client, TOKEN, "+33655555555")
    other.call()
    other.press("1")


def test_the_api_adds_up_the_counters_of_real_traffic(console_app, staff):
    produce_traffic(console_app)
    data = staff.get("/console/api/stats?from=2026-11-21&to=2026-11-27").get_json()
    assert data["from"] == "2026-11-21" and len(data["days"]) == 7
    assert data["languages"] == {"fr": 2, "en": 1}
    assert data["outcomes"] == {"AME-OVER": 1}
    funnel = {row["step"]: row for row in data["funnel"]}
    assert [row["step"] for row in data["funnel"]][:2] == ["quiz.q1", "quiz.q2"]
    assert funnel["quiz.q1"]["reached"] == 2 and funnel["quiz.q1"]["left"] == 0
    assert funnel["quiz.q2"]["reached"] == 2
    assert funnel["quiz.q2"]["left"] == 1 and funnel["quiz.q2"]["left_calls"] == 1
    assert funnel["quiz.q6"]["reached"] == 1 and funnel["quiz.q6"]["left"] == 0
    assert data["totals"]["texts"] == 10 and data["totals"]["calls"] == 2
    assert data["totals"]["call_minutes"] == 2.5 and data["call_ends"] == {"quiz.q2": 1}
    assert data["days"][-1]["texts"] == 10
    outside = staff.get("/console/api/stats?from=2026-11-01&to=2026-11-07").get_json()
    assert outside["languages"] == {} and outside["totals"]["texts"] == 0


def test_dates_are_read_safely(console_app, staff):
    data = staff.get("/console/api/stats?from=junk&to=2026-13-45").get_json()
    assert (data["from"], data["to"]) == ("2026-11-21", "2026-11-27")  # the last 7 days
    data = staff.get("/console/api/stats?from=2020-01-01&to=2026-11-27").get_json()
    assert len(data["days"]) == 366
    data = staff.get("/console/api/stats?from=2026-11-27&to=2026-11-20").get_json()
    assert (data["from"], data["to"]) == ("2026-11-20", "2026-11-27")


def test_the_csv_has_every_counter_by_day(console_app, staff):
    produce_traffic(console_app)
    response = staff.get("/console/export.csv?from=2026-11-26&to=2026-11-27")
    assert response.mimetype == "text/csv" and "attachment" in response.headers[
        "Content-Disposition"]
    rows = [line.split(",") for line in response.text.strip().splitlines()]
    assert rows[0] == ["counter", "total", "2026-11-26", "2026-11-27"]
    table = {row[0]: row[1:] for row in rows[1:]}
    assert table["sms.text"] == ["10", "0", "10"] and table["call.seconds"] == ["150", "0", "150"]


@pytest.mark.skipif(shutil.which("dot") is None,
                    reason="the flow picture needs Graphviz (apt-get install graphviz)")
def test_the_flow_is_drawn_with_a_link_per_node(console_app, staff):
    svg = staff.get("/console/flow.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    script = console_app.extensions["hotline"].script
    for node_id in script.nodes:
        assert f'href="/console/flow/node/{node_id}"' in svg.text, node_id
    page = staff.get("/console/flow/node/quiz.q1").text
    assert "Is the care" not in page and "Русский" in page  # texts in every language
    assert staff.get("/console/flow/node/nope").status_code == 404


def test_the_try_page_talks_to_the_real_webhooks(console_app, staff):
    token = csrf(staff, "/console/")
    reply = staff.post("/console/try/sms", data={"body": "Bonjour", "csrf_token": token}).get_json()
    assert "2 English" in reply["messages"][0]
    turn = staff.post("/console/try/call", data={"csrf_token": token}).get_json()
    assert turn["keys"] == "1" and turn["action"]
    turn = staff.post("/console/try/call", data={"csrf_token": token, "action": turn["action"],
                                                 "digits": "2"}).get_json()
    welcome = plain(console_app.extensions["hotline"].script.message("en", "welcome").voice)
    assert any(welcome[:24] in p.get("say", "") for p in turn["prompts"])  # English, spoken
    bad = staff.post("/console/try/call", data={"csrf_token": token, "action": "/sms?x=1",
                                                "digits": "1"})
    assert bad.status_code == 400
    stats = staff.get("/console/api/stats").get_json()
    assert stats["totals"]["texts"] == 1 and stats["totals"]["calls"] == 1


def test_the_try_page_is_refused_when_signatures_would_fail(make_app):
    """The server signs with TWILIO_AUTH_TOKEN: a wrong token means the webhook says 403."""
    app = make_app(HOTLINE_CONSOLE_USERS=USERS)
    client = app.test_client()
    sign_in(client)
    app.extensions["hotline"].config.auth_token = None  # no token: nothing can be signed
    token = csrf(client, "/console/")
    response = client.post("/console/try/sms", data={"body": "Bonjour", "csrf_token": token})
    assert response.status_code == 502


def test_the_content_page_shows_the_check(console_app, staff):
    page = staff.get("/console/content").text
    assert "Relecture par langue" in page and "Українська" in page
    assert "quiz.out.ame" in page  # a source's citation
    assert 'data-check="' in page
