"""How a channel holds a conversation: what differs between a text and a call.

The engine and the node handlers ask the policy, never `channel == ...`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelPolicy:
    name: str
    # after an answer, say which keys do what (1 SMS copy, 9 repeat, * back)
    says_footers: bool
    # wrong answers or silences in a row before goodbye (None: never, a text can wait)
    misses_before_goodbye: int | None
    # a postcode typed on a keypad is read back as a town for the person to confirm
    confirms_postcode: bool
    # welcome the person once they chose a language (a text shows the menu only)
    welcomes_after_language: bool
    # SMS words (AIDE, AME, STOP...) work at any prompt
    takes_words: bool
    # after an answer, keys act on it (1 copy by SMS, 2 connect, 3 find the CPAM), rather
    # than picking again from the menu the answer came from
    keys_act_on_answer: bool
    # offers every language (a text) or only those a call can be held in
    all_languages: bool
    # at a postcode prompt, 0 goes back to the main menu (a text; on a keypad 0 is a digit)
    zero_leaves_postcode: bool
    # a word that is not a key at a menu gets the short help (a text) or "not understood"
    help_for_words_at_menus: bool


SMS = ChannelPolicy(name="sms", says_footers=False, misses_before_goodbye=None,
                    confirms_postcode=False, welcomes_after_language=False, takes_words=True,
                    keys_act_on_answer=False, all_languages=True, zero_leaves_postcode=True,
                    help_for_words_at_menus=True)
VOICE = ChannelPolicy(name="voice", says_footers=True, misses_before_goodbye=3,
                      confirms_postcode=True, welcomes_after_language=True, takes_words=False,
                      keys_act_on_answer=True, all_languages=False, zero_leaves_postcode=False,
                      help_for_words_at_menus=False)
POLICIES = {"sms": SMS, "voice": VOICE}
