"""The admin console: a token-protected line protocol over TCP, served by its own actor.

``console_spec(settings, view=ThreadedView(runtime), store=store, state_dir=DIR)`` gives the
actor (id ``"console"``) for the ops subtree; ``python bot.py console`` is the client
(:func:`run_client`). Read-only commands ask actors with a timeout; control commands are
refused unless ``console.allow_control``. See docs/console.md.
"""

from actors.console._actor import CONSOLE_ID, ConsoleActor, ConsoleBindError, console_spec
from actors.console._auth import TOKEN_FILE, AuthThrottle, ConsoleTokenError, load_or_create_token
from actors.console._client import ConsoleClient, ConsoleClientError, run_client
from actors.console._commands import COMMANDS, Env, Reply, run_line
from actors.console._server import ConsoleServer, ServerLimits
from actors.console._view import Answer, RuntimeView, ThreadedView

__all__ = [
    "COMMANDS",
    "CONSOLE_ID",
    "TOKEN_FILE",
    "Answer",
    "AuthThrottle",
    "ConsoleActor",
    "ConsoleBindError",
    "ConsoleClient",
    "ConsoleClientError",
    "ConsoleServer",
    "ConsoleTokenError",
    "Env",
    "Reply",
    "RuntimeView",
    "ServerLimits",
    "ThreadedView",
    "console_spec",
    "load_or_create_token",
    "run_client",
    "run_line",
]
