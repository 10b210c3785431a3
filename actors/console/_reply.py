"""The reply every command returns, and what a command runs against (:class:`Env`)."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from actors.console._view import RuntimeView
    from storage import Store

__all__ = ["Env", "Reply", "error"]


@dataclass(slots=True)
class Reply:
    """A command's answer: text lines for people, ``data`` for ``--json``.

    Attributes:
        ok: False for an error (the first line then starts with ``error:``).
        lines: The text form, one entry per line.
        data: The JSON form's ``data`` (plain values; Decimals, enums, dataclasses are
            converted when rendered).
        close: End the session after sending it (``quit``).
    """

    ok: bool
    lines: list[str]
    data: Any = None
    close: bool = False

    @property
    def error_text(self) -> str:
        """The error message without its ``error: `` prefix."""
        first = self.lines[0] if self.lines else ""
        return first.removeprefix("error: ")


def error(message: str) -> Reply:
    """An error reply: one line ``error: message``."""
    return Reply(False, [f"error: {message}"])


@dataclass(slots=True)
class Env:
    """What commands run against: the runtime view, the store, the console's settings.

    Attributes:
        view: The runtime, as the console may see it.
        store: The open state store, or None when the bot runs without one.
        timeout_ms: ``console.command_timeout_ms``: the longest any actor query waits.
        allow_control: ``console.allow_control``.
        stats: The console's own counters (sessions, commands, auth failures) for metrics.
    """

    view: RuntimeView
    store: Store | None
    timeout_ms: int
    allow_control: bool
    stats: Callable[[], dict[str, int]] = field(default=dict)

    @property
    def timeout_s(self) -> float:
        """``timeout_ms`` in seconds."""
        return self.timeout_ms / 1000

    def timeout(self, what: str) -> Reply:
        """The reply when an actor did not answer in time (the message the operator sees)."""
        return error(f"{what}: timeout after {self.timeout_ms} ms")

    def known(self, actor_id: str) -> bool:
        """Whether ``actor_id`` is registered in the runtime."""
        return actor_id in self.view.actor_ids()

    def unknown(self, actor_id: str) -> Reply:
        """The reply for an unknown actor id, naming the closest ids."""
        close = difflib.get_close_matches(actor_id, self.view.actor_ids(), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `ps` lists them"
        return error(f"no actor {actor_id[:80]!r}{hint}")
