"""A real Twilio number in France (issue 13): identities, senders, opt-out agreed with
Twilio, SMS only where it can arrive, outbound errors by code, <Dial> results, speech,
French names in other voices. Signed webhooks in, Twilio's REST answers recorded with
`responses` (bodies as Twilio returns them, errors included)."""
from __future__ import annotations

import json
import logging
import shutil
from urllib.parse import parse_qs, urlsplit

import pytest
import responses as rsps
from rq import Queue, SimpleWorker

from hotline.content.script import shared_script
from hotline.identity import identify, is_mobile, normalise
from hotline.outbound import QUEUE, Outbox, seal, send_texts
from hotline.sms_segments import count, split
from hotline.store import Store, pseudonym
from hotline.text import FRENCH_MARK

from .conftest import SECRET, TOKEN, paris
from .harness import HOTLINE_NUMBER, Caller, Texter, post, said
from .test_where_to_go import open_comede  # noqa: F401  (a fixture)

ACCOUNT = "AC" + "0" * 32
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
MOBILE, LANDLINE = "+33612345678", "+33145213840"


def twilio_message(sid: str = "SM" + "1" * 32, **fields) -> dict:
    """A Message resource as Twilio's REST API returns it on create (201)."""
    body = {"account_sid": ACCOUNT, "api_version": "2010-04-01", "body": "...",
            "date_created": "Sat, 28 Nov 2026 10:00:00 +0000", "date_sent": None,
            "date_updated": "Sat, 28 Nov 2026 10:00:00 +0000", "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": None,
            "messaging_service_sid": None, "num_media": "0", "num_segments": "1",
            "price": None, "price_unit": "EUR", "sid": sid, "status": "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}/Media.json"},
            "to": MOBILE, "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}.json"}
    body.update(fields)
    return body


def twilio_error(code: int, status: int, message: str) -> dict:
    """An error as Twilio's REST API returns it."""
    return {"code": code, "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


def sent(mock) -> list[dict[str, list[str]]]:
    return [parse_qs(call.request.body) for call in mock.calls]


@pytest.fixture
def sms_app(make_app):
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT)
    app.extensions["hotline"].outbox.inline = True
    app.extensions["hotline"].outbox.inline_intervals = [0.0, 0.0]
    return app


def wait(app) -> None:
    thread = app.extensions["hotline"].outbox.last_thread
    if thread:
        thread.join(timeout=10)
        app.extensions["hotline"].outbox.last_thread = None


def ask_for_a_copy(caller: Caller):
    """(French,) topics, AME, then `1`: a copy by SMS."""
    if said("fr", "language.option") in caller.call().texts:  # a first call
        caller.press("1")
    assert said("fr", "main.menu") in caller.turn.text  # the main menu
    caller.press("2")
    assert "L'aide médicale de l'État" in caller.press("2").text  # the AME answer
    return caller.press("1")


# -- identities ------------------------------------------------------------------------
def test_the_whole_from_normalised_is_the_identity():
    assert normalise("+33 6 12 34 56 78") == normalise("0612345678") == MOBILE
    assert normalise("client:alice") == "client:alice" != normalise("client:bob")
    for withheld in ("anonymous", "Restricted", "unknown", "+266696687", "", None,
                     "sip:someone@example.org", "client:", "+336", "hello"):
        assert normalise(withheld) is None, withheld
    assert identify("anonymous", "CA1").state_key != identify("anonymous", "CA2").state_key
    assert identify("anonymous").state_key is None
    assert pseudonym(b"k", "client:alice") != pseudonym(b"k", "client:bob")
    assert is_mobile(MOBILE) and not is_mobile(LANDLINE) and not is_mobile("client:alice")


def test_two_named_clients_are_two_people(client):
    alice, bob = Caller(client, TOKEN, "client:alice"), Caller(client, TOKEN, "client:bob")
    alice.call()
    alice.press("2")  # English
    assert alice.call().text.startswith(said("en", "welcome"))
    assert said("en", "language.option") in bob.call().texts  # Bob gets the language menu


def test_two_withheld_callers_never_share_a_conversation(client, redis_client):
    first = Caller(client, TOKEN, "anonymous")
    first.call()
    first.press("3")  # Arabic
    first.press("1")  # questionnaire
    assert first.press("1").gather  # state kept within the call: the questionnaire goes on
    second = Caller(client, TOKEN, "anonymous")
    turn = second.call()
    assert said("fr", "language.option") in turn.texts  # the language menu, not a resume
    again = first.call()  # the first caller calls back: a new call, nothing to resume
    assert said("fr", "language.option") in again.texts
    assert not list(redis_client.scan_iter("hl:*:prefs"))  # no stored preference
    sessions = list(redis_client.scan_iter("hl:*:session:*"))
    assert sessions and all(0 < redis_client.ttl(key) <= 1800 for key in sessions)


@pytest.mark.parametrize("number", ["+266696687", "restricted", "", "unknown"])
def test_a_second_withheld_caller_is_not_offered_to_resume(client, number):
    first = Caller(client, TOKEN, number)
    first.call()
    first.press("1")
    first.press("1")
    first.press("1")
    turn = Caller(client, TOKEN, number).call()
    assert "Vous aviez commencé" not in turn.text and said("fr", "language.option") in turn.texts


def test_a_withheld_caller_gets_no_sms(sms_app):
    with rsps.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(rsps.POST, MESSAGES_URL, json=twilio_message(), status=201)
        turn = ask_for_a_copy(Caller(sms_app.test_client(), TOKEN, "anonymous"))
        wait(sms_app)
        assert not mock.calls
    assert "Nous vous envoyons" not in turn.text


# -- SMS only where it can arrive, never after an opt-out --------------------------------
def test_a_landline_caller_is_sent_no_copy(sms_app):
    with rsps.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(rsps.POST, MESSAGES_URL, json=twilio_message(), status=201)
        turn = ask_for_a_copy(Caller(sms_app.test_client(), TOKEN, LANDLINE))
        wait(sms_app)
        assert not mock.calls
    assert "Nous vous envoyons" not in turn.text  # no false promise


def test_a_mobile_caller_gets_the_copy_with_a_status_callback(sms_app):
    with rsps.RequestsMock() as mock:
        mock.add(rsps.POST, MESSAGES_URL, json=twilio_message(), status=201)
        turn = ask_for_a_copy(Caller(sms_app.test_client(), TOKEN, MOBILE))
        wait(sms_app)
        [params] = sent(mock)
    assert "Nous vous envoyons ce message par SMS" in turn.text
    assert params["To"] == [MOBILE] and params["From"] == [HOTLINE_NUMBER]
    assert params["StatusCallback"] == ["http://localhost/sms/status"]


def test_after_stop_by_sms_a_call_sends_no_copy(sms_app):
    client = sms_app.test_client()
    texter = Texter(client, TOKEN, MOBILE)
    texter.send("Bonjour")
    texter.send("1")
    assert "START" in texter.says("STOP")
    with rsps.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(rsps.POST, MESSAGES_URL, json=twilio_message(), status=201)
        turn = ask_for_a_copy(Caller(client, TOKEN, MOBILE))
        wait(sms_app)
        assert not mock.calls
    assert "Nous vous envoyons" not in turn.text


def test_twilio_21610_opts_the_person_out_here_too(sms_app, redis_client):
    client = sms_app.test_client()
    refused = twilio_error(21610, 400, "Attempt to send to unsubscribed recipient")
    with rsps.RequestsMock() as mock:
        mock.add(rsps.POST, MESSAGES_URL, json=refused, status=400)
        ask_for_a_copy(Caller(client, TOKEN, MOBILE))
        wait(sms_app)
        assert len(mock.calls) == 1  # refused: not tried again
    pid = Store(redis_client, SECRET.encode()).pid(MOBILE)
    assert json.loads(redis_client.get(Store.prefs_key(pid)))["opted_out"] is True
    texter = Texter(client, TOKEN, MOBILE)
    assert texter.send("AME") == []  # opted out: silence until START
    with rsps.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(rsps.POST, MESSAGES_URL, json=twilio_message(), status=201)
        ask_for_a_copy(Caller(client, TOKEN, MOBILE))
        wait(sms_app)
        assert not mock.calls  # and no copy is sent any more
    assert texter.send("START")  # START opts back in, as with Twilio


def test_21610_keeps_the_language_of_the_person(redis_client):
    store = Store(redis_client, b"s")
    pid = store.pid(MOBILE)
    redis_client.set(Store.prefs_key(pid), json.dumps({"lang": "ar", "opted_out": False}))
    store.set_opted_out(pid)
    session, _ = store.load(pid, "sms", None)
    assert session.opted_out and session.lang == "ar"


# -- senders -----------------------------------------------------------------------------
@pytest.mark.parametrize("env,expected,kind", [
    ({}, {"From": [HOTLINE_NUMBER]}, "dialled number"),
    ({"HOTLINE_SMS_FROM": "38100"}, {"From": ["38100"]}, "short code"),
    ({"HOTLINE_SMS_FROM": "SanteInfo"}, {"From": ["SanteInfo"]}, "alphanumeric sender ID"),
    ({"HOTLINE_SMS_FROM": "+33939000000"}, {"From": ["+33939000000"]}, "number"),
    ({"HOTLINE_SMS_FROM": "SanteInfo", "TWILIO_MESSAGING_SERVICE_SID": "MG" + "4" * 32},
     {"MessagingServiceSid": ["MG" + "4" * 32]}, "messaging service"),
])
def test_outbound_sms_leave_from_the_configured_sender(make_app, env, expected, kind):
    app = make_app(TWILIO_ACCOUNT_SID=ACCOUNT, **env)
    app.extensions["hotline"].outbox.inline = True
    health = app.test_client().get("/healthz").get_json()
    assert health["sms_sender"] == kind
    assert "MG" + "4" * 32 not in json.dumps(health) and TOKEN not in json.dumps(health)
    with rsps.RequestsMock() as mock:
        mock.add(rsps.POST, MESSAGES_URL, json=twilio_message(), status=201)
        ask_for_a_copy(Caller(app.test_client(), TOKEN, MOBILE))
        wait(app)
        [params] = sent(mock)
    for name, value in expected.items():
        assert params[name] == value
    assert ("From" in params) == ("From" in expected)


def test_the_worker_takes_the_sender_from_its_environment(redis_client, monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "token")
    monkeypatch.setenv("HOTLINE_SECRET", "s3cret")
    monkeypatch.setenv("TWILIO_MESSAGING_SERVICE_SID", "MG" + "5" * 32)
    Outbox(redis_client, ACCOUNT, "token", b"s3cret", inline=False,
           messaging_service_sid="MG" + "5" * 32).send(
        MOBILE, HOTLINE_NUMBER, ["one"], status_callback="https://h.example/sms/status")
    with rsps.RequestsMock() as mock:
        mock.add(rsps.POST, MESSAGES_URL, json=twilio_message(), status=201)
        SimpleWorker([Queue(QUEUE, connection=redis_client)], connection=redis_client).work(burst=True)
        [params] = sent(mock)
    assert params["MessagingServiceSid"] == ["MG" + "5" * 32] and "From" not in params
    assert params["StatusCallback"] == ["https://h.example/sms/status"]


# -- outbound errors by code -------------------------------------------------------------
@pytest.mark.parametrize("code,text", [
    (21211, "The 'To' number +33612345678 is not a valid phone number."),
    (21614, "'To' number +33612345678 is not a valid mobile number"),
    (21606, "The 'From' phone number provided is not a valid message-capable phone number."),
    (21635, "The 'To' number +33612345678 cannot be reached by this sender"),
])
def test_refusals_that_cannot_succeed_stop_without_retry_and_log_no_number(code, text, caplog):
    caplog.set_level(logging.DEBUG)
    with rsps.RequestsMock() as mock:
        mock.add(rsps.POST, MESSAGES_URL, json=twilio_error(code, 400, text), status=400)
        sids = send_texts(ACCOUNT, "token", b"s", seal(b"s", MOBILE), HOTLINE_NUMBER,
                          ["part one", "part two"])
        assert len(mock.calls) == 1  # the second part is not tried either
    assert sids == []
    assert str(code) in caplog.text
    assert "612345678" not in caplog.text and "not a valid" not in caplog.text


def test_busy_or_failing_twilio_is_retried_from_the_part_that_failed(sms_app, caplog):
    caplog.set_level(logging.INFO)
    with rsps.RequestsMock() as mock:
        mock.add(rsps.POST, MESSAGES_URL, json=twilio_message("SM" + "a" * 32), status=201)
        mock.add(rsps.POST, MESSAGES_URL, status=429,
                 json=twilio_error(20429, 429, "Too Many Requests"))
        mock.add(rsps.POST, MESSAGES_URL, status=503,
                 json=twilio_error(20503, 503, "Service Unavailable"))
        mock.add(rsps.POST, MESSAGES_URL, json=twilio_message("SM" + "b" * 32), status=201)
        outbox = sms_app.extensions["hotline"].outbox
        outbox.send(MOBILE, HOTLINE_NUMBER, ["first", "second"])
        wait(sms_app)
        bodies = [p["Body"][0] for p in sent(mock)]
    assert bodies == ["first", "second", "second", "second"]  # never "first" twice
    assert "SM" + "b" * 32 in caplog.text and "20429" in caplog.text


def test_the_queued_job_retries_with_backoff_and_resumes(redis_client, monkeypatch):
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry

    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "token")
    monkeypatch.setenv("HOTLINE_SECRET", "s3cret")
    Outbox(redis_client, ACCOUNT, "token", b"s3cret", inline=False).send(
        MOBILE, HOTLINE_NUMBER, ["first", "second"])
    queue = Queue(QUEUE, connection=redis_client)
    [job_id] = queue.job_ids
    job = Job.fetch(job_id, connection=redis_client)
    assert job.retries_left == 3 and job.retry_intervals == [10, 30, 60]
    worker = SimpleWorker([queue], connection=redis_client)
    with rsps.RequestsMock() as mock:
        mock.add(rsps.POST, MESSAGES_URL, json=twilio_message(), status=201)
        mock.add(rsps.POST, MESSAGES_URL, status=500,
                 json=twilio_error(20500, 500, "Internal Server Error"))
        worker.work(burst=True)
        assert [p["Body"][0] for p in sent(mock)] == ["first", "second"]
    registry = ScheduledJobRegistry(queue=queue)
    assert job_id in registry.get_job_ids()  # waits 10 s before its next attempt
    job = Job.fetch(job_id, connection=redis_client)
    assert job.meta["sent"] == 1 and job.retries_left == 2
    registry.remove(job)
    queue.enqueue_job(job)  # what RQ's scheduler does when the 10 s are over
    with rsps.RequestsMock() as mock:
        mock.add(rsps.POST, MESSAGES_URL, json=twilio_message(), status=201)
        worker.work(burst=True)
        assert [p["Body"][0] for p in sent(mock)] == ["second"]


# -- <Dial> --------------------------------------------------------------------------------
def _dial(make_app, open_comede):  # noqa: F811
    app = make_app(CLOCK=lambda: paris(2026, 11, 27, 10))
    app.extensions["hotline"].directory = open_comede
    client = app.test_client()
    caller = Caller(client, TOKEN, MOBILE)
    caller.call()
    caller.press("1")
    caller.press("4")
    end = caller.press("2")
    from .twiml_check import parse

    dial = parse(end.xml).find("Dial")
    return client, caller, dial


def test_dial_has_an_action_and_the_hotline_as_caller_id(make_app, open_comede):  # noqa: F811
    _, _, dial = _dial(make_app, open_comede)
    assert dial is not None and dial.get("callerId") == HOTLINE_NUMBER
    assert urlsplit(dial.get("action")).path == "/voice/dialed"


@pytest.mark.parametrize("status,message", [("no-answer", "dial.no_answer"),
                                             ("busy", "dial.busy"),
                                             ("failed", "dial.failed"),
                                             ("canceled", "dial.failed")])
def test_a_dial_that_fails_says_so_and_goes_back_to_the_menu(make_app, open_comede, status, message):  # noqa: F811
    client, caller, dial = _dial(make_app, open_comede)
    url = urlsplit(dial.get("action"))
    params = {"CallSid": caller.call_sid, "From": MOBILE, "To": HOTLINE_NUMBER,
              "DialCallStatus": status}
    response = post(client, TOKEN, f"{url.path}?{url.query}", params)
    assert response.status_code == 200
    from .harness import read_turn

    turn = read_turn(response.data)
    assert turn.texts[0] == said("fr", message)
    assert said("fr", "main.menu") in turn.text and turn.gather  # the main menu
    caller.turn = turn
    assert said("fr", "main.menu") in caller.press("9").text  # the call goes on


def test_a_completed_dial_ends_with_a_goodbye(make_app, open_comede):  # noqa: F811
    client, caller, dial = _dial(make_app, open_comede)
    url = urlsplit(dial.get("action"))
    params = {"CallSid": caller.call_sid, "From": MOBILE, "DialCallStatus": "completed"}
    from .harness import read_turn

    turn = read_turn(post(client, TOKEN, f"{url.path}?{url.query}", params).data)
    assert turn.hangup and "Au revoir" in turn.text


# -- speech ----------------------------------------------------------------------------------
def _at_q2(caller: Caller):
    caller.call()
    caller.press("1")
    caller.press("1")
    return caller.press("1")  # q2: a child? yes/no, spoken too


def test_speech_gathers_hint_the_yes_and_no_words(caller):
    turn = _at_q2(caller)
    assert turn.gather["input"] == "dtmf speech" and turn.gather["language"] == "fr-FR"
    hints = turn.gather["hints"].split(", ")
    assert "oui" in hints and "non" in hints


@pytest.mark.parametrize("confidence", [None, "", "0.0"])
def test_speech_without_a_confidence_is_taken(caller, confidence):
    _at_q2(caller)
    extra = {"SpeechResult": "Non."}
    if confidence is not None:
        extra["Confidence"] = confidence
    turn = caller._post(caller._action(), extra)
    assert not turn.text.startswith("Je n'ai pas compris")  # "no": on to the next question


def test_the_arabic_recognition_locale_is_a_setting(make_app, tmp_path):
    from hotline.content.script import default_script_dir

    folder = tmp_path / "ivr_scripts"
    shutil.copytree(default_script_dir(), folder)
    languages = folder / "languages.yaml"
    languages.write_text(languages.read_text(encoding="utf-8").replace(
        "speech: ar-EG", "speech: ar-MA"), encoding="utf-8")
    caller = Caller(make_app(HOTLINE_SCRIPTS=str(folder)).test_client(), TOKEN)
    caller.call()
    caller.press("3")
    caller.press("1")
    turn = caller.press("1")
    assert turn.gather["language"] == "ar-MA" and "نعم" in turn.gather["hints"]


def test_a_hash_alone_is_no_input(caller):
    caller.call()
    caller.press("1")
    assert caller.press("#").text.startswith("Je n'ai rien entendu")


# -- French names in other voices --------------------------------------------------------
def test_french_names_are_said_in_french_inside_another_voice(client):
    caller = Caller(client, TOKEN, MOBILE)
    caller.call()
    turn = caller.press("7")  # Russian
    # the first French name the Russian main menu says (read from the script, not pasted)
    name = FRENCH_MARK.search(shared_script().message("ru", "main.menu").voice).group(1)
    assert f'<lang xml:lang="fr-FR">{name}</lang>'.encode() in turn.xml
    assert b"[fr:" not in turn.xml and set(turn.languages) == {"ru-RU"}


def test_sms_never_show_the_french_marks(client):
    texter = Texter(client, TOKEN, MOBILE)
    texter.send("Bonjour")
    texter.send("7")
    assert "[fr:" not in texter.says("VITALE") and "attestation de droits" in texter.says("VITALE")


def test_espeak_says_french_names_with_the_french_voice():
    from hotline.tts import Espeak

    args = Espeak.arguments("Для [fr:carte Vitale] & CPAM", "ru")
    assert args[:3] == ["-m", "-v", "ru"]
    assert args[-1] == '<speak>Для <voice name="fr">carte Vitale</voice> &amp; CPAM</speak>'
    assert Espeak.arguments("Pour la [fr:carte Vitale]", "fr")[-1] == "Pour la carte Vitale"


def test_gtts_renders_french_parts_with_the_french_voice(monkeypatch, tmp_path):
    import gtts

    from hotline.tts import Gtts

    calls = []

    class Recorder:  # records what gTTS is asked to say, writes a fake MP3 frame
        def __init__(self, text, lang, tld, timeout):
            calls.append((text, lang))

        def write_to_fp(self, f):
            f.write(b"\xff\xfb")

    monkeypatch.setattr(gtts, "gTTS", Recorder)
    Gtts().render("Для [fr:carte Vitale] нужен номер.", "ru", tmp_path / "a.mp3")
    assert calls == [("Для ", "ru"), ("carte Vitale", "fr"), (" нужен номер.", "ru")]
    assert (tmp_path / "a.mp3").read_bytes() == b"\xff\xfb" * 3


# -- small ones ------------------------------------------------------------------------------
def test_long_sms_parts_are_balanced_not_a_tiny_leftover():
    text = ("Le dossier complet part en lettre recommandée à la CPAM. " * 12).strip()
    for limit in (1, 2, 3):
        parts = split(text, limit)
        sizes = [count(p).units for p in parts]
        assert all(count(p).segments <= limit for p in parts)
        assert min(sizes) >= 0.8 * max(sizes), sizes
        assert " ".join(p.split(") ", 1)[1] for p in parts) == text


def test_the_content_check_is_clean():
    from hotline.content.check import check

    report = check(shared_script(), paris(2026, 11, 27).date())
    assert report.ok, report
