"""What a request may use, and the accessor the blueprints call to get it.

As in Flask's tutorial (`get_db`), blueprints import this small module, never the factory:
`app.py` builds a `Hotline` once per process and keeps it in `app.extensions`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import current_app

from .dialogue.model import World

if TYPE_CHECKING:
    from .config import Config
    from .content import Script
    from .directory import Directory
    from .outbound import Outbox
    from .speech import Speech
    from .store import Store


@dataclass
class Hotline:
    """Everything a request needs, built once per process."""

    config: Config
    script: Script
    store: Store
    outbox: Outbox
    directory: Directory
    speech: Speech
    rendered_sms: dict[Any, Any] = field(default_factory=dict)  # SMS TwiML by (language, messages)
    rendered_voice: dict[Any, Any] = field(default_factory=dict)  # voice TwiML pieces

    _worlds: dict[Any, World] = field(default_factory=dict)  # this minute's, by can_text

    def world(self, can_text: bool = True, now: dt.datetime | None = None) -> World:
        """What the engine may know of the world, now (the config's clock unless given);
        `can_text`: whether a text can reach this person. The same for every request of a
        minute: made once."""
        now = now or self.config.clock()
        minute = (now.date(), now.hour * 60 + now.minute, can_text)
        found = self._worlds.get(minute)
        if found is None:
            found = World(today=now.date(), directory=self.directory,
                          now_minutes=now.hour * 60 + now.minute, weekday=now.weekday(),
                          voice_languages=self.speech.voice_languages(),
                          sms_menu_languages=self.speech.menu_languages(),
                          outbound_sms=self.outbox.enabled, can_text=can_text)
            if len(self._worlds) > 4:  # only this minute's are used
                self._worlds.clear()
            self._worlds[minute] = found
        return found


def hotline() -> Hotline:
    """The hotline of the app handling the current request."""
    hl: Hotline = current_app.extensions["hotline"]
    return hl
