"""GET /audio/...: prompt audio, cacheable, and nothing outside audio/."""
from __future__ import annotations

from flask import Blueprint, abort, send_from_directory

from ..services import hotline

bp = Blueprint("audio", __name__)
TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav"}


@bp.get("/audio/<path:name>")
def audio(name: str):
    suffix = name[name.rfind("."):].lower() if "." in name else ""
    if suffix not in TYPES:
        abort(404)
    # send_from_directory refuses any path that leaves the folder (.., absolute, symlinks out)
    response = send_from_directory(hotline().config.audio_dir, name, mimetype=TYPES[suffix],
                                   max_age=86400, conditional=True, etag=True)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
