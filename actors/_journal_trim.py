"""Which journal entries no actor can need again, so the writer may trim them.

A durable actor restarts from its snapshot and replays the entries after the snapshot's
``last_seq`` that it would have received (:func:`actors._durable.wanted`). An entry can go
once no actor could replay it:

- an actor that has restored in this process (its topics are known): the entry is at or
  below its stored snapshot's ``last_seq``, or it would not have received it at all (a
  quiet strategy whose ``applied_seq`` lags does not pin the journal);
- an actor with a snapshot that has not restored in this process (its topics are unknown):
  the entry is at or below that snapshot's ``last_seq``;
- a command's target that has not restored yet: never (it replays it on its first start).

Actors subscribe before they restore (the restore itself relies on it), so the topics the
writer learns from :class:`~actors._durable.Restore` are all the journaled ones an actor
listens to. A dynamic actor has its snapshot on disk before anything it needs is journaled,
so after a kill -9 the second rule holds its entries until it restores again: a position
commits before it tells execution to place its entry (the writer's one mailbox keeps that
order), and a hedge's first commit carries its first orders. One that starts after its
parent closed learns it from the parent.

A snapshot whose actor never restores again (a symbol removed from ``bot.symbols``) holds
the journal for good; the writer says so in a WARNING, and ``python bot.py snapshot forget
ID`` removes it.

This is plain logic with no thread; the storage writer owns one (kept across its own
restarts) and feeds it what it writes.
"""

from __future__ import annotations

from collections.abc import Iterable

from actors._durable import entry_header, wanted

__all__ = ["JournalPins"]

Topics = frozenset[tuple[str, str | None]]


class JournalPins:
    """Tracks what each durable actor could still replay; answers how far to trim."""

    def __init__(self) -> None:
        self.stored: dict[str, int] = {}
        """Stored snapshots' ``last_seq`` by actor id (kept equal to the store's)."""
        self.topics: dict[str, Topics] = {}
        """Journaled topics of each actor that restored in this process."""
        self.pinned_by = ""
        """The actor that stopped the last trim (for health), empty when none did."""

    def load(self, stored: dict[str, int]) -> None:
        """Start from the store's snapshots (at the writer's start)."""
        self.stored = dict(stored)

    def restored(self, actor_id: str, topics: Topics) -> None:
        """``actor_id`` asked for its restore with ``topics``."""
        self.topics[actor_id] = topics

    def wrote(self, actor_id: str, last_seq: int) -> None:
        """A snapshot of ``actor_id`` covering the journal up to ``last_seq`` was stored."""
        self.stored[actor_id] = last_seq

    def forgot(self, actor_id: str) -> None:
        """``actor_id`` ended for good; its snapshot is gone."""
        self.stored.pop(actor_id, None)
        self.topics.pop(actor_id, None)

    def trim_through(self, entries: Iterable[tuple[int, bytes]], limit: int) -> int:
        """The last seq of ``entries`` (in order, from the journal's first) up to ``limit``
        that no actor needs, with every entry before it; 0 when the first is needed."""
        floor = min(
            (seq for actor_id, seq in self.stored.items() if actor_id not in self.topics),
            default=None,
        )
        through = 0
        for seq, data in entries:
            if seq > limit:
                break
            who = self._needed_by(seq, entry_header(data), floor)
            if who:
                self.pinned_by = who
                return through
            through = seq
        self.pinned_by = ""
        return through

    def _needed_by(
        self, seq: int, header: tuple[str, str | None, str | None], floor: int | None
    ) -> str:
        if floor is not None and seq > floor:
            return min(a for a, s in self.stored.items() if s == floor and a not in self.topics)
        target = header[2]
        if target is not None and target not in self.topics:
            return target
        for actor_id, topics in self.topics.items():
            if seq > self.stored.get(actor_id, 0) and wanted(header, actor_id, topics):
                return actor_id
        return ""
