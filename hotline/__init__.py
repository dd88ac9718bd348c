"""SMS and voice hotline on health coverage in France (PUMA, AME, CSS, carte Vitale).

`create_app()` builds the Flask app; `gunicorn 'hotline:create_app()'` serves it.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__version__ = "0.1.0"


def create_app(overrides: Mapping[str, Any] | None = None):
    from .app import build_app

    return build_app(overrides)


__all__ = ["create_app", "__version__"]
