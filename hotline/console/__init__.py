"""The operators' console under /console: sign-in, usage dashboard, the flow drawn, the
line in the browser and content health. Off (404) while HOTLINE_CONSOLE_USERS is unset."""
from .web import bp, init_console

__all__ = ["bp", "init_console"]
