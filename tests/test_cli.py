"""The hotline command: simulate, content check/export, audio script."""
from __future__ import annotations

import shutil

from click.testing import CliRunner

from hotline.cli import main
from hotline.content import load_script


def run(args, input=None, env=None):
    result = CliRunner().invoke(main, args, input=input, env=env, catch_exceptions=False)
    return result


def test_simulate_sms_holds_a_conversation_through_signed_webhooks(redis_server):
    result = run(["simulate", "sms"], input="Bonjour\n2\nAME\n",
                 env={"REDIS_URL": redis_server.url, "TWILIO_AUTH_TOKEN": "sim-token"})
    assert result.exit_code == 0
    assert "2 English" in result.output and "Reply with a number" in result.output
    assert "AME (aide médicale" in result.output


def test_simulate_call_by_keypad(redis_server):
    result = run(["simulate", "call"], input="1\n2\n5\nhangup\n",
                 env={"REDIS_URL": redis_server.url, "TWILIO_AUTH_TOKEN": "sim-token"})
    assert result.exit_code == 0
    assert "[fr-FR] Français: tapez 1." in result.output
    assert "Pour la sécurité sociale, envoyez" in result.output
    assert "(you hang up)" in result.output


def test_content_check_passes_and_fails_on_a_fault(tmp_path):
    assert run(["content", "check"]).exit_code == 0
    broken = tmp_path / "ivr_scripts"
    shutil.copytree(load_script().root, broken)
    uk = broken / "messages" / "uk.yaml"
    uk.write_text(uk.read_text().replace("{ceiling_month}", "870", 1))
    result = run(["content", "check"], env={"HOTLINE_SCRIPTS": str(broken)})
    assert result.exit_code == 1 and "placeholders differ" in result.output
    (broken / "flow" / "menus.yaml").write_text(
        (broken / "flow" / "menus.yaml").read_text().replace('"5": topic.docs', '"5": nowhere'))
    result = run(["content", "check"], env={"HOTLINE_SCRIPTS": str(broken)})
    assert result.exit_code == 1 and "leads to 'nowhere'" in result.output


def test_content_export_and_audio_script():
    exported = run(["content", "export", "ti"]).output
    assert exported.startswith("id,form,french,translation,review")
    assert "ትግርኛ" in exported
    script = run(["audio", "script", "ps"]).output
    assert script.startswith("file name,text to read") and "language.option.wav" in script
    assert run(["content", "export", "xx"]).exit_code != 0
