"""Parse TwiML and hold it to an allow-list of verbs and attributes.

Twilio publishes no schema (it rejects unknown TwiML with error 12200), so this list is
ours: what the hotline is allowed to emit, checked on every answer in the tests.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

ALLOWED = {
    "Response": set(),
    "Message": set(),
    "Body": set(),
    "Say": {"language", "voice", "loop"},
    "Play": {"loop", "digits"},
    "Gather": {"action", "method", "input", "timeout", "numDigits", "finishOnKey",
               "actionOnEmptyResult", "language", "speechTimeout", "hints"},
    "Redirect": {"method"},
    "Hangup": set(),
    "Dial": {"timeout", "callerId", "action", "method"},
    "Pause": {"length"},
    # SSML inside <Say>: French names said the French way by another language's voice
    "lang": {"{http://www.w3.org/XML/1998/namespace}lang"},
}
CHILDREN = {
    "Response": {"Message", "Say", "Play", "Gather", "Redirect", "Hangup", "Dial", "Pause"},
    "Gather": {"Say", "Play", "Pause"},
    "Message": {"Body"},
    "Say": {"lang"},
}


def parse(xml: str | bytes) -> ET.Element:
    root = ET.fromstring(xml)
    assert root.tag == "Response", f"root is {root.tag}"
    _check(root)
    return root


def _check(element: ET.Element) -> None:
    assert element.tag in ALLOWED, f"verb <{element.tag}> is not allowed"
    extra = set(element.attrib) - ALLOWED[element.tag]
    assert not extra, f"<{element.tag}> has attributes {extra}"
    allowed_children = CHILDREN.get(element.tag, set())
    for child in element:
        assert child.tag in allowed_children, f"<{child.tag}> inside <{element.tag}>"
        _check(child)
    if element.tag == "Gather":
        assert element.get("action"), "a Gather without action"
        assert set(element.get("input", "dtmf").split()) <= {"dtmf", "speech"}
    if element.tag in ("Say", "Message", "Play", "Redirect", "lang"):
        assert "".join(element.itertext()).strip(), f"empty <{element.tag}>"
    if element.tag == "lang":
        assert element.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr-FR"
