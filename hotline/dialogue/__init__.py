"""The pure conversation core: a script, a session and an input in; a new session,
a reply and the events of the step out.

Nothing here knows Flask, Twilio, Redis, the clock or the file system: the adapters in
`hotline.channels` feed it inputs, render its replies and act on its events. `engine.step` is the entry point.
"""
from .model import Expect, Input, Reply, Say, Session, World

__all__ = ["Expect", "Input", "Reply", "Say", "Session", "World"]
