"""The console in a real browser: Debian's Chromium driven by Playwright, against the app
served on a loopback port with the test Redis. Screenshots go to tests/screenshots/.

Run only these: python3 -m pytest -m browser
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from hotline.console import scriptview
from hotline.content.script import shared_script
from hotline.text import plain

from .test_console import PASSWORD, USERS, produce_traffic

CHROMIUM = os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).parent / "screenshots"
# the numbers produce_traffic texts and calls from, in the forms a page might print them
NUMBERS = ("612345678", "698765432", "655555555")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory):
    """French prompts rendered offline (espeak-ng), so a call plays real files."""
    import datetime as dt

    from hotline.audio_build import build

    folder = tmp_path_factory.mktemp("audio")
    build(shared_script(), folder, dt.date(2026, 11, 27), offline=True, langs=["fr"])
    return folder


@pytest.fixture
def live(make_app, audio_dir):
    """The app on http://127.0.0.1:<port>, in a thread."""
    app = make_app(HOTLINE_CONSOLE_USERS=USERS, HOTLINE_AUDIO_DIR=str(audio_dir))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    tab = context.new_page()
    tab.errors = []  # what the page's console said went wrong (a CSP refusal, a JS error)
    tab.on("console", lambda m: m.type == "error" and tab.errors.append(m.text))
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))
    yield tab
    context.close()


def shot(page, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, url: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/console/")
    assert "/console/login" in page.url
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def cell(page, table: str, key: str, col: str | None = None) -> str:
    row = f'table[data-table="{table}"] tr[data-key="{key}"]'
    return page.inner_text(f'{row} td[data-col="{col}"]' if col else f"{row} td.n").strip()


def test_staff_sign_in_and_read_last_weeks_use(live, page):
    app, url = live
    produce_traffic(app)
    sign_in(page, url)
    page.wait_for_selector('table[data-table="languages"]')
    assert page.url == f"{url}/console/"
    # the tables beside the charts
    assert cell(page, "languages", "fr") == "2" and cell(page, "languages", "en") == "1"
    assert cell(page, "funnel", "quiz.q2", "reached") == "2"
    assert cell(page, "funnel", "quiz.q2", "left") == "1"
    assert cell(page, "outcomes", "AME-OVER") == "1"
    assert cell(page, "call_ends", "quiz.q2") == "1"
    assert cell(page, "daily", "2026-11-27", "texts") == "10"
    assert page.inner_text('[data-total="call_minutes"]') == "2.5"
    # the charts are drawn by Chart.js from the same numbers
    drawn = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('canvas')]
        .map(c => [c.dataset.chart, c.chart ? c.chart.data.datasets.map(d => d.data) : null]))""")
    assert drawn["languages"] == [[2, 1]]
    funnel = scriptview.questionnaire_steps(app.extensions["hotline"].script)
    assert [s.id for s in funnel][:2] == ["quiz.q1", "quiz.q2"]
    assert drawn["funnel"][0][:2] == [2, 2] and drawn["funnel"][1][:2] == [0, 1]
    assert all(value is not None for value in drawn.values()), drawn
    assert page.evaluate("document.querySelector('canvas[data-chart=daily]').width") > 100
    assert page.errors == []
    shot(page, "dashboard")
    # another range: nothing in it
    page.fill("input[name=from]", "2026-10-01")
    page.fill("input[name=to]", "2026-10-07")
    page.click("form.range button[type=submit]")
    page.wait_for_url("**from=2026-10-01**")
    assert "Rien sur cette période" in page.inner_text('table[data-table="languages"]')


def test_the_flow_picture_links_every_node_to_its_texts(live, page):
    app, url = live
    sign_in(page, url)
    page.goto(f"{url}/console/flow")
    links = page.eval_on_selector_all(".flow svg a", "els => els.map(a => a.getAttribute('href') "
                                      "|| a.getAttribute('xlink:href'))")
    script = app.extensions["hotline"].script
    assert sorted(links) == sorted(f"/console/flow/node/{n}" for n in script.nodes)
    box = page.locator(".flow svg").bounding_box()
    assert box["width"] > 600 and box["height"] > 200
    shot(page, "flow")
    page.locator('.flow svg a[href="/console/flow/node/quiz.q3"], '
                 '.flow svg a[*|href="/console/flow/node/quiz.q3"]').first.click()
    page.wait_for_url("**/console/flow/node/quiz.q3")
    texts = page.inner_text('table[data-table="texts"]')
    for code in script.languages:
        assert script.message(code, "quiz.q3").sms.split("\n")[0][:20] in texts, code
    assert page.errors == []
    shot(page, "flow-node")


def test_text_and_call_the_line_from_the_browser(live, page):
    app, url = live
    sign_in(page, url)
    page.goto(f"{url}/console/try")
    page.click("#reset")
    page.wait_for_selector("#call-status:has-text('Nouvelle personne')")
    page.fill("#sms-body", "Bonjour")
    page.press("#sms-body", "Enter")
    page.wait_for_selector("#thread li.line")
    assert "2 English" in page.inner_text("#thread")
    page.fill("#sms-body", "1")
    page.press("#sms-body", "Enter")
    expect(page.locator("#thread li.line")).to_have_count(2)
    assert "Répondez par un chiffre" in page.inner_text("#thread")

    page.click("#call-start")
    page.wait_for_selector("#prompts li.say, #prompts li.play")
    page.wait_for_selector("#keypad button:not([disabled])")
    page.click('#keypad button[data-key="1"]')  # French (one key: sent at once)
    page.wait_for_selector("#prompts li.me:has-text('1')")
    page.wait_for_selector("#keypad button:not([disabled])")
    # French prompts are rendered files: the browser loads and can play them
    sources = page.eval_on_selector_all("#prompts audio", "els => els.map(a => a.src)")
    assert sources and all("/audio/fr/" in src for src in sources)
    duration = page.evaluate("""() => new Promise(done => {
        const a = document.querySelector('#prompts audio');
        if (a.readyState >= 1) return done(a.duration);
        a.addEventListener('loadedmetadata', () => done(a.duration));
        a.addEventListener('error', () => done(-1)); })""")
    assert duration > 1.0
    welcome = plain(app.extensions["hotline"].script.message("fr", "welcome").voice)
    assert welcome[:20] in page.inner_text("#prompts")  # the words of the played files, to read
    page.click('#keypad button[data-key="2"]')  # information topics
    page.wait_for_selector("#prompts li.me:has-text('2')")
    page.wait_for_selector("#keypad button:not([disabled])")
    assert "Attente" in page.inner_text("#call-status") or "Waiting" in page.inner_text(
        "#call-status")
    assert page.errors == []
    shot(page, "try")


def test_the_content_page_says_what_the_check_says(live, page):
    app, url = live
    sign_in(page, url)
    page.goto(f"{url}/console/content")
    page.wait_for_selector('table[data-table="reviews"]')
    reviews = scriptview.review_states(app.extensions["hotline"].script)
    assert page.inner_text('table[data-table="reviews"] tr[data-key="ar"] td:nth-child(3)'
                           ) == str(reviews["ar"]["drafted"])
    coverage = app.extensions["hotline"].speech.coverage()
    assert coverage["fr"]["rendered"] > 0
    assert page.inner_text('table[data-table="coverage"] tr[data-key="fr"] td:nth-child(3)'
                           ) == str(coverage["fr"]["rendered"])
    assert page.locator("[data-check]").count() == 1
    assert page.locator('table[data-table="sources"] tbody tr').count() > 5
    shot(page, "content")


def test_strangers_get_nothing(live, page):
    _, url = live
    for path in ("/console/", "/console/flow", "/console/try", "/console/content"):
        page.goto(url + path)
        assert "/console/login" in page.url
        assert page.locator("nav").count() == 0
    for path in ("/console/api/stats", "/console/export.csv", "/console/flow.svg"):
        response = page.request.get(url + path)  # with the browser's (absent) cookies
        assert response.status == 401 and response.body() == b""
    status = page.evaluate("""url => fetch(url + '/console/login', {method: 'POST',
        body: new URLSearchParams({username: 'alice', password: 'x'})}).then(r => r.status)""",
                           url)
    assert status == 400  # no CSRF token
    shot(page, "login")


def test_guessing_passwords_is_slowed_then_refused(live, page):
    _, url = live
    for _ in range(5):
        sign_in(page, url, password="not the password")
        page.wait_for_selector(".error")
        assert "Wrong name or password" in page.inner_text(".error")
    sign_in(page, url)  # the right password, too late
    page.wait_for_selector(".error")
    assert "Too many failed attempts" in page.inner_text(".error")
    assert "/console/login" in page.url
    shot(page, "login-refused")


def test_no_page_shows_a_phone_number(live, page):
    app, url = live
    produce_traffic(app)
    sign_in(page, url)
    page.wait_for_selector('table[data-table="languages"]')
    script = app.extensions["hotline"].script
    paths = ["/console/", "/console/flow", "/console/try", "/console/content",
             "/console/api/stats", "/console/export.csv", "/console/flow.svg",
             *(f"/console/flow/node/{n}" for n in script.nodes)]
    seen = 0
    for path in paths:
        body = page.request.get(url + path).text()
        flat = re.sub(r"[\s.\-()]", "", body)
        for number in NUMBERS:
            assert number not in flat, (path, number)
        seen += 1
    # and what the browser shows once scripts ran
    for path in ("/console/", "/console/try"):
        page.goto(url + path)
        flat = re.sub(r"[\s.\-()]", "", page.inner_text("body"))
        assert not any(number in flat for number in NUMBERS), path
    assert seen == len(paths)
