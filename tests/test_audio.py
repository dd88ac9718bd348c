"""Prompt audio: rendering (espeak-ng offline, gTTS with only its HTTP call replaced),
incremental builds, human recordings, Play/Say choice, and the /audio route."""
from __future__ import annotations

import base64
import datetime as dt
import json
import re
import shutil
import subprocess

import pytest
import responses as rsps

from hotline.audio_build import build, import_recordings, recording_script
from hotline.content import load_script
from hotline.content.script import shared_script
from hotline.speech import Speech
from hotline.tts import duration_seconds

from .conftest import TOKEN
from .harness import Caller

TODAY = dt.date(2026, 11, 27)
needs_espeak = pytest.mark.skipif(not shutil.which("espeak-ng") or not shutil.which("sox"),
                                  reason="espeak-ng and sox come from Debian (apt-get install espeak-ng sox)")


@pytest.fixture
def scripts(tmp_path):
    folder = tmp_path / "ivr_scripts"
    shutil.copytree(shared_script().root, folder)
    return folder


@needs_espeak
@pytest.mark.slow
def test_offline_build_renders_real_audio_of_plausible_length(tmp_path):
    script = shared_script()
    report = build(script, tmp_path, TODAY, offline=True, langs=["fr", "en"])
    assert report.rendered > 100 and not report.failed
    manifest = json.loads((tmp_path / "manifest.json").read_text())["prompts"]
    by_id = {(e["lang"], e["id"]): e for e in manifest}
    short = duration_seconds(tmp_path / by_id[("fr", "invalid")]["file"])
    long = duration_seconds(tmp_path / by_id[("fr", "topic.puma")]["file"])
    assert 0.3 < short < 5 and 20 < long < 180 and long > 5 * short
    info = subprocess.run(["soxi", str(tmp_path / by_id[("en", "goodbye")]["file"])],
                          capture_output=True, text=True, check=True).stdout
    assert "8000" in info and "u-law" in info
    assert re.fullmatch(r"fr/topic\.puma-[0-9a-f]{12}\.wav", by_id[("fr", "topic.puma")]["file"])


@needs_espeak
@pytest.mark.slow
def test_second_build_renders_nothing_and_a_changed_text_renders_one(tmp_path, scripts):
    script = load_script(scripts)
    build(script, tmp_path / "audio", TODAY, offline=True, langs=["en"])
    again = build(script, tmp_path / "audio", TODAY, offline=True, langs=["en"])
    assert again.rendered == 0 and again.removed == 0 and again.kept > 50
    en = scripts / "messages" / "en.yaml"
    en.write_text(en.read_text().replace(
        "Thank you for calling. You can call again at any time. Goodbye.",
        "Thank you for calling. Goodbye."))
    changed = build(load_script(scripts), tmp_path / "audio", TODAY, offline=True, langs=["en"])
    assert changed.rendered == 1 and changed.removed == 1


def test_gtts_is_exercised_through_its_own_code(tmp_path, scripts):
    fake_mp3 = b"ID3\x03\x00fake-mp3-frames"
    line = json.dumps([["wrb.fr", "jQ1olc", json.dumps([base64.b64encode(fake_mp3).decode()]),
                        None, None, None, "generic"]], separators=(",", ":"))
    script = load_script(scripts)
    with rsps.RequestsMock() as mock:
        mock.add(rsps.POST, re.compile(r"https://translate\.google\.[a-z.]+/_/TranslateWebserverUi/data/batchexecute"),
                 body=")]}'\n\n" + line + "\n", status=200)
        report = build(script, tmp_path, TODAY, offline=False, langs=["en"])
        bodies = [c.request.body for c in mock.calls]
    assert report.rendered > 50 and report.counts == {"gtts": report.rendered}
    assert all("f.req" in (b if isinstance(b, str) else b.decode()) for b in bodies)
    first = json.loads((tmp_path / "manifest.json").read_text())["prompts"][0]
    assert first["file"].endswith(".mp3") and (tmp_path / first["file"]).read_bytes().startswith(fake_mp3)


def test_gtts_blocked_is_reported_and_said_with_say(tmp_path, scripts):
    with rsps.RequestsMock() as mock:
        mock.add(rsps.POST, re.compile(r"https://translate\.google\..*"), status=429)
        report = build(load_script(scripts), tmp_path, TODAY, offline=False, langs=["ru"])
    assert report.rendered == 0 and report.failed and "gTTSError" in report.failed[0]


@needs_espeak
@pytest.mark.slow
def test_a_recording_overrides_tts_until_its_text_changes(tmp_path, scripts):
    audio = tmp_path / "audio"
    volunteer = tmp_path / "volunteer"
    volunteer.mkdir()
    # a volunteer's file: a tone with silence around it, stereo, 44.1 kHz
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", str(volunteer / "invalid.wav"),
                    "synth", "2", "sine", "440", "pad", "0.5", "0.5"], check=True)
    script = load_script(scripts)
    assert import_recordings(script, audio, "fr", volunteer) == ["invalid"]
    recorded = audio / "recordings" / "fr" / "invalid.wav"
    info = subprocess.run(["soxi", str(recorded)], capture_output=True, text=True).stdout
    assert "Channels       : 1" in info and "8000" in info
    assert 1.9 < duration_seconds(recorded) < 2.2  # the silence went, the tone stayed
    build(script, audio, TODAY, offline=True, langs=["fr"])
    speech = Speech(script, audio, today=lambda: TODAY)
    said = script.message("fr", "invalid").text("voice")
    assert speech.parts("fr", said, {})[0].value == "/audio/recordings/fr/invalid.wav"
    assert speech.coverage()["fr"]["recorded"] == 1 and speech.coverage_faults() == []
    # the text changes: the recording is stale, reported, and TTS speaks the new text
    fr = scripts / "messages" / "fr.yaml"
    fr.write_text(fr.read_text().replace('voice: "Je n\'ai pas compris."',
                                         'voice: "Cette touche n\'est pas au menu."'))
    script = load_script(scripts)
    build(script, audio, TODAY, offline=True, langs=["fr"])
    speech = Speech(script, audio, today=lambda: TODAY)
    assert any("fr invalid" in f and "another text" in f for f in speech.coverage_faults())
    assert speech.coverage()["fr"]["stale"] == 1
    url = speech.url("fr", "Cette touche n'est pas au menu.")
    assert url and "recordings" not in url


def test_unknown_recording_names_are_refused(tmp_path):
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "nonsense.wav").write_bytes(b"RIFF")
    with pytest.raises(ValueError, match="no spoken prompt"):
        import_recordings(shared_script(), tmp_path / "audio", "fr", tmp_path / "v")


def test_recording_script_lists_what_to_read():
    lines = recording_script(shared_script(), "fr").splitlines()
    assert lines[0] == "file name,text to read"
    assert any(l.startswith("invalid.wav,") for l in lines)


@needs_espeak
@pytest.mark.slow
def test_calls_play_the_rendered_file_and_say_what_has_values(make_app, tmp_path):
    build(shared_script(), tmp_path, TODAY, offline=True, langs=["fr"])
    app = make_app(HOTLINE_AUDIO_DIR=str(tmp_path))
    caller = Caller(app.test_client(), TOKEN)
    caller.call()
    menu = caller.press("1")
    assert menu.plays and all(p.startswith("http://localhost/audio/fr/") for p in menu.plays)
    assert not menu.texts  # welcome and main menu are both rendered
    caller.press("2")
    ame = caller.press("2")  # has the ceiling in it: said with <Say>, and so is the footer:
    # one answer is read by one voice, not Polly's and espeak's in turn
    assert ame.texts and "870" in ame.text and not ame.plays
    assert "tapez 9" in ame.texts[-1] and set(ame.languages) == {"fr-FR"}
    with app.test_client().get(menu.plays[0].replace("http://localhost", "")) as response:
        assert response.status_code == 200 and response.mimetype == "audio/wav"


@needs_espeak
@pytest.mark.slow
def test_hotline_audio_0_says_everything(make_app, tmp_path):
    build(shared_script(), tmp_path, TODAY, offline=True, langs=["fr"])
    caller = Caller(make_app(HOTLINE_AUDIO_DIR=str(tmp_path), HOTLINE_AUDIO="0").test_client(), TOKEN)
    caller.call()
    turn = caller.press("1")
    assert turn.texts and not turn.plays


def test_audio_route_caches_and_refuses_path_tricks(make_app, tmp_path):
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "hello-abc.wav").write_bytes(b"RIFF....WAVEfmt ")
    (tmp_path / "secret.txt").write_text("no")
    client = make_app(HOTLINE_AUDIO_DIR=str(tmp_path)).test_client()
    with client.get("/audio/fr/hello-abc.wav") as ok:
        assert ok.status_code == 200 and ok.headers["ETag"]
        assert "max-age" in ok.headers["Cache-Control"]
    with client.get("/audio/fr/hello-abc.wav",
                    headers={"If-None-Match": ok.headers["ETag"]}) as again:
        assert again.status_code == 304
    for path in ["/audio/../secret.txt", "/audio/..%2fsecret.txt", "/audio/secret.txt",
                 "/audio/%2e%2e/%2e%2e/etc/passwd.wav", "/audio//etc/passwd.wav",
                 "/audio/fr/../../README.md", "/audio/nothing.mp3"]:
        with client.get(path, follow_redirects=True) as response:
            assert response.status_code == 404, path


@needs_espeak
@pytest.mark.slow
def test_dari_is_offered_by_voice_once_its_audio_is_built(make_app, tmp_path):
    script = shared_script()
    report = build(script, tmp_path, TODAY, offline=True, langs=["fa"])
    assert report.rendered > 50 and not report.failed
    app = make_app(HOTLINE_AUDIO_DIR=str(tmp_path))
    assert "fa" in app.extensions["hotline"].speech.voice_languages()
    assert "ps" not in app.extensions["hotline"].speech.voice_languages()
    caller = Caller(app.test_client(), TOKEN)
    menu = caller.call()
    assert any("/audio/fa/language.option-" in p for p in menu.plays)
    welcome = caller.press("4")
    assert welcome.plays and not welcome.texts  # every word from audio/
    caller.press("2")
    ame = caller.press("2")  # AME: fixed words and the amount from audio, nothing said by <Say>
    assert any("/audio/fa/value-870-" in p for p in ame.plays) and not ame.texts
    caller.press("*")
    caller.press("*")
    caller.press("3")
    check = caller.press("93200")  # the town is a value Dari audio cannot have: French <Say>
    assert check.plays and "Saint-Denis" in check.text and set(check.languages) == {"fr-FR"}
