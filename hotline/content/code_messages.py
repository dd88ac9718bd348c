"""The message ids the code says, declared once: the engine names them through `M`, and
`load_script` refuses content where one of them is missing (the check then wants it in every
language). Messages that nodes say are named in flow/ instead."""
from __future__ import annotations


class M:
    """Message ids the engine says on its own (not named by a node)."""

    WELCOME = "welcome"
    HELP = "help"
    HELP_SHORT = "help.short"
    INVALID = "invalid"
    NO_INPUT = "no_input"
    GOODBYE = "goodbye"
    STOP_CONFIRM = "stop.confirm"
    START_CONFIRM = "start.confirm"
    LANGUAGE_CHANGED = "language.changed"
    LANGUAGE_SMS_ONLY = "language.sms_only"
    LANGUAGE_SMS_SENT = "language.sms_sent"
    LANGUAGE_SMS_TEXT_US = "language.sms_text_us"
    AFTER_ANSWER = "voice.after_answer"
    AFTER_OUTCOME = "voice.after_outcome"
    AFTER_ANSWER_NO_SMS = "voice.after_answer_no_sms"  # for a caller who cannot get a text
    AFTER_OUTCOME_NO_SMS = "voice.after_outcome_no_sms"
    LANGUAGE_SMS_OPTION = "language.sms_option"  # a language with no voice yet, by SMS
    SMS_QUEUED = "sms.queued"
    SMS_UNAVAILABLE = "sms.unavailable"
    COUNTER_INTRO = "counter.intro"
    POSTCODE_CONFIRM = "postcode.confirm"
    POSTCODE_UNAVAILABLE = "postcode.unavailable"
    POSTCODE_INVALID = "postcode.invalid"
    POSTCODE_UNKNOWN = "postcode.unknown"
    POSTCODE_NO_CAISSE = "postcode.no_caisse"
    CPAM_TOWN = "cpam.town"
    CPAM_SEVERAL = "cpam.several"
    CPAM_CAISSE = "cpam.caisse"
    CPAM_CAISSE_NO_PHONE = "cpam.caisse_no_phone"
    CPAM_CAISSE_NO_ADDRESS = "cpam.caisse_no_address"
    CPAM_CHECK = "cpam.check"
    COMEDE_NEAREST = "comede.nearest"
    COMEDE_CONTACT = "comede.contact"
    COMEDE_CHECK = "comede.check"
    COMEDE_CONNECT = "comede.connect"
    COMEDE_CONNECTING = "comede.connecting"
    COMEDE_HOURS = "comede.hours"
    COMEDE_NO_PHONE = "comede.no_phone"
    DIAL_NO_ANSWER = "dial.no_answer"
    DIAL_BUSY = "dial.busy"
    DIAL_FAILED = "dial.failed"


# A postcode look-up's status -> what the person is told.
POSTCODE_STATUS = {"invalid": M.POSTCODE_INVALID, "unknown": M.POSTCODE_UNKNOWN,
                   "no_caisse": M.POSTCODE_NO_CAISSE}

CODE_MESSAGES = frozenset(v for k, v in vars(M).items() if k.isupper())
