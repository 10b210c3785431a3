"""BookChannel: the coalescing mailbox in front of one book actor.

Book updates arrive far faster than one message each can be handled in a busy actor, so
they do not go through the actor's mailbox. The stream thread appends them here and rings
the actor's doorbell (:class:`BookDataReady`) only when no ring is outstanding; the actor
drains everything at once, applies it in order and publishes one top of book. The actor's
mailbox therefore holds at most one doorbell per book, whatever the rate.

Memory is bounded: when more than ``max_pending`` messages wait, they are dropped at once
and the next drain reports ``overflowed`` (the book resyncs from a fresh snapshot).

Like the runtime's per-id mailbox, a channel belongs to the stable id, not to an
incarnation: :func:`~actors.market.market_tree` builds one per symbol and hands it to both
the stream's and the book's factories, so neither's restart loses it. Only the stream writes
and only the book drains. Thread-safe (one lock, held for an append or a swap).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from messages import BookFeedFailed, BookSnapshot, BookUpdate

__all__ = ["BookChannel", "BookDataReady"]

BookMessage = BookSnapshot | BookUpdate | BookFeedFailed


@dataclass(frozen=True, slots=True)
class BookDataReady:
    """Doorbell from the stream to a book actor: its channel has messages (runtime-internal)."""


DOORBELL = BookDataReady()


class BookChannel:
    """A bounded, coalescing buffer of book messages for one symbol (see the module docstring).

    Args:
        symbol: Venue symbol.
        max_pending: Messages kept before the buffer is dropped as overflowed.
    """

    def __init__(self, symbol: str, *, max_pending: int = 20_000) -> None:
        self.symbol = symbol
        self.max_pending = max_pending
        self._lock = threading.Lock()
        self._pending: list[BookMessage] = []
        self._rung = False
        self._overflowed = False
        self.pushed = 0
        self.dropped = 0
        self.high_water = 0

    def push(self, message: BookMessage) -> bool:
        """Append ``message``; True when the caller must ring the doorbell (stream thread)."""
        with self._lock:
            pending = self._pending
            pending.append(message)
            self.pushed += 1
            if len(pending) > self.max_pending:
                self.dropped += len(pending)
                self._pending = []
                self._overflowed = True
            elif len(pending) > self.high_water:
                self.high_water = len(pending)
            if self._rung:
                return False
            self._rung = True
            return True

    def drain(self) -> tuple[list[BookMessage], bool]:
        """Take every waiting message and the overflow flag; re-arm the doorbell (book thread)."""
        with self._lock:
            batch, self._pending = self._pending, []
            overflowed, self._overflowed = self._overflowed, False
            self._rung = False
            return batch, overflowed

    def __len__(self) -> int:
        """Messages waiting now."""
        return len(self._pending)
