"""The console actor: owns the console's TCP server for the life of one incarnation.

The actor only starts and stops :class:`ConsoleServer`; the server's own threads serve the
sessions, so no session ever waits on the actor's mailbox, and the actor never waits on a
session. A failed incarnation does not run ``on_stop``, so the server is kept in a holder
shared by the incarnations of one spec: the next ``on_start`` closes a crashed
predecessor's server before binding the port again.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from pathlib import Path

from actors._actor import Actor
from actors._specs import ChildSpec
from actors.console._auth import AuthThrottle, load_or_create_token
from actors.console._commands import Env
from actors.console._server import ConsoleServer, ServerLimits
from actors.console._view import RuntimeView
from messages import BotError
from messages.settings import ConsoleSettings, Settings
from storage import Store

__all__ = ["CONSOLE_ID", "ConsoleActor", "ConsoleBindError", "console_spec"]

CONSOLE_ID = "console"
"""Stable id of the console actor."""

_log = logging.getLogger(__name__)


class ConsoleBindError(BotError):
    """Raised at start when the console would listen on a non-loopback address without
    ``console.allow_remote`` (the settings loader refuses that too; this is the last guard)."""


class _Holder:
    """The running server, shared by the incarnations of one console spec."""

    def __init__(self) -> None:
        self.server: ConsoleServer | None = None
        self.throttle = AuthThrottle()  # wrong-token count survives restarts
        self.lock = threading.Lock()

    def stop(self) -> None:
        with self.lock:
            server, self.server = self.server, None
        if server is not None:
            server.stop()


class ConsoleActor(Actor):
    """Starts the console server in ``on_start`` and stops it in ``on_stop``."""

    def __init__(
        self,
        *,
        settings: ConsoleSettings,
        env_token: str | None,
        view: RuntimeView,
        store: Store | None,
        state_dir: Path,
        holder: _Holder,
    ) -> None:
        self.settings = settings
        self._env_token = env_token
        self.view = view
        self.store = store
        self.state_dir = state_dir
        self.holder = holder
        self.token_source = ""

    def on_start(self) -> None:
        """Load (or create) the token and listen; a bad token file or address fails start.

        Raises:
            ConsoleTokenError: the token file is too open, empty or unreadable.
            ConsoleBindError: a non-loopback host without ``allow_remote``.
            OSError: the address cannot be bound (port in use).
        """
        self.holder.stop()
        s = self.settings
        if not s.allow_remote and not _is_loopback(s.host):
            raise ConsoleBindError(
                f"console.host {s.host!r} is not a loopback address; set "
                "console.allow_remote = true to listen on it"
            )
        token, self.token_source = load_or_create_token(self.state_dir, self._env_token)
        env = Env(
            view=self.view,
            store=self.store,
            timeout_ms=s.command_timeout_ms,
            allow_control=s.allow_control,
        )
        limits = ServerLimits(
            max_sessions=s.max_sessions,
            max_line_bytes=s.max_line_bytes,
            idle_timeout_s=float(s.idle_timeout_s),
        )
        server = ConsoleServer(
            host=s.host,
            port=s.port,
            token=token,
            env=env,
            limits=limits,
            throttle=self.holder.throttle,
        )
        port = server.start()
        with self.holder.lock:
            self.holder.server = server
        self.context.log.info(
            "%s: listening on %s:%d (token from %s; %s)",
            self.context.actor_id,
            s.host,
            port,
            self.token_source,
            "control allowed" if s.allow_control else "read-only",
        )

    def on_stop(self) -> None:
        """Close the listener and every session."""
        self.holder.stop()

    @property
    def port(self) -> int | None:
        """The bound port while the server runs (the real one when settings say 0)."""
        server = self.holder.server
        return None if server is None else server.port

    def describe(self) -> dict[str, object]:
        """Where it listens, where the token came from (never the token) and counters."""
        server = self.holder.server
        return {
            "host": self.settings.host,
            "port": self.port,
            "allow_control": self.settings.allow_control,
            "auth_source": self.token_source,
            **(server.stats() if server is not None else {}),
        }


def console_spec(
    settings: Settings, *, view: RuntimeView, store: Store | None, state_dir: Path
) -> ChildSpec:
    """The console actor's spec (actor id ``"console"``), for the ops subtree.

    Args:
        settings: the bot's settings; ``settings.console`` and the ``BOT_CONSOLE_TOKEN``
            secret are used. The caller leaves the spec out when ``console.enabled`` is false.
        view: the runtime as the console may see it (``ThreadedView(runtime)``).
        store: the open state store for ``trades`` and ``pnl``; None without one.
        state_dir: where ``console.token`` is generated when the variable is unset.
    """
    secret = settings.secrets.console_token
    env_token = secret.reveal() if secret is not None else None
    holder = _Holder()
    console = settings.console
    return ChildSpec(
        actor_id=CONSOLE_ID,
        factory=lambda: ConsoleActor(
            settings=console,
            env_token=env_token,
            view=view,
            store=store,
            state_dir=Path(state_dir),
            holder=holder,
        ),
        shutdown_timeout_ns=settings.supervision.shutdown_timeout_ms * 1_000_000,
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
