"""The Flask app factory: configuration, content, store and directory, wired once."""
from __future__ import annotations

import atexit
import functools
import logging
import os
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis
from flask import Flask

from .config import Config
from .content.script import default_script_dir, shared_script
from .outbound import Outbox
from .redis_conn import LazyRedis
from .services import Hotline
from .store import Store

if TYPE_CHECKING:
    from .directory import Directory

log = logging.getLogger("hotline")




def _flush_at_exit(store_ref: weakref.ref[Store]) -> None:
    """At exit (a gunicorn worker stopping too), write the usage counters this process
    still holds."""
    store = store_ref()
    if store is None:
        return
    try:
        store.flush_counts()
    except redis.RedisError:
        log.warning("redis unreachable: the last usage counters of this process are lost")


@functools.lru_cache(maxsize=2)
def shared_directory(folder: Path | None = None) -> Directory:
    """The office directory, loaded once per process (it takes most of start-up)."""
    from .directory import Directory

    return Directory.load(folder)


def build_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    config = Config.load(overrides)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config.warn()
    # gunicorn's arbiter sets SERVER_SOFTWARE before it loads the app
    config.check_public_url(os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/"))
    if not config.redis_url:
        from .embedded_redis import shared_url

        config.redis_url = shared_url()
        log.info("REDIS_URL is not set: using an embedded redis-server at %s", config.redis_url)

    script = shared_script(config.scripts_dir)
    client = LazyRedis(config.redis_url)
    from .speech import Speech

    directory = shared_directory((config.scripts_dir or default_script_dir()) / "directory")
    speech = Speech(script, config.audio_dir, enabled=config.audio_enabled,
                    today=lambda: config.clock().date())
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024  # Twilio posts a few kB at most
    if config.trusted_proxies > 0:  # only then are X-Forwarded-* headers believed
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = config.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
    store = Store(client, config.secret, count_every=config.stats_every)  # type: ignore[arg-type]
    atexit.register(_flush_at_exit, weakref.ref(store))
    app.extensions["hotline"] = Hotline(
        config=config, script=script,
        store=store,
        outbox=Outbox(client, config.account_sid, config.auth_token, config.secret,
                      sms_from=config.sms_from,
                      messaging_service_sid=config.messaging_service_sid,
                      today=lambda: config.clock().date()),
        directory=directory, speech=speech,
    )
    from .channels import audio, health, sms, voice

    app.register_blueprint(sms.bp)
    app.register_blueprint(voice.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(audio.bp)
    from .console import init_console

    init_console(app, overrides)  # /console: off (404) until HOTLINE_CONSOLE_USERS is set
    return app
