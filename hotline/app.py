"""The Flask app factory: configuration, content, store and directory, wired once."""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any, Mapping

import redis
from flask import Flask, current_app

from .config import Config
from .content import Script, load_script
from .dialogue.model import World
from .outbound import Outbox
from .store import Store

log = logging.getLogger("hotline")


@dataclass
class Hotline:
    """Everything a request needs, built once per process."""

    config: Config
    script: Script
    store: Store
    outbox: Outbox
    directory: Any
    speech: Any

    def world(self) -> World:
        now = self.config.clock()
        return World(today=now.date(), directory=self.directory,
                     now_minutes=now.hour * 60 + now.minute, weekday=now.weekday(),
                     voice_languages=self.speech.voice_languages(),
                     outbound_sms=self.outbox.enabled)


def hotline() -> Hotline:
    return current_app.extensions["hotline"]


def redis_client(url: str) -> "redis.Redis":
    """A client with short timeouts: a webhook must answer well within Twilio's 15 s."""
    return redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0,
                                health_check_interval=30)


@functools.lru_cache(maxsize=1)
def shared_directory():
    """The office directory, loaded once per process (it takes most of start-up)."""
    from .directory import Directory

    return Directory.load()


def build_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    config = Config.load(overrides)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config.warn()
    if not config.redis_url:
        from .embedded_redis import shared_url

        config.redis_url = shared_url()
        log.info("REDIS_URL is not set: using an embedded redis-server at %s", config.redis_url)

    script = load_script(config.scripts_dir)
    client = redis_client(config.redis_url)
    from .speech import Speech

    directory = shared_directory()
    speech = Speech(script, config.audio_dir, enabled=config.audio_enabled)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024  # Twilio posts a few kB at most
    app.extensions["hotline"] = Hotline(
        config=config, script=script,
        store=Store(client, config.secret),
        outbox=Outbox(client, config.account_sid, config.auth_token, config.secret),
        directory=directory, speech=speech,
    )
    from .channels import audio, health, sms, voice

    app.register_blueprint(sms.bp)
    app.register_blueprint(voice.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(audio.bp)
    return app
