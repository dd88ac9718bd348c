"""The pure conversation core: a script, a session and an event in; a new session and a reply out.

Nothing here knows Flask, Twilio, Redis, the clock or the file system: the adapters in
`hotline.channels` feed it events and render its replies. `engine.step` is the entry point.
"""
from .model import Event, Expect, Reply, Say, Session, World

__all__ = ["Event", "Expect", "Reply", "Say", "Session", "World"]
