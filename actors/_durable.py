"""Durable actors: state that survives a restart of the actor or of the whole process.

The rule is *persist, then act*. A durable actor never sends a money command or publishes
a money event itself: its handler stages them (:meth:`DurableActor.record` for events,
:meth:`DurableActor.emit` for commands) and, when the handler returns, one :class:`Commit`
carries the actor's new state, those events and those commands to the storage writer. The
writer stores all of it in one fsync'd transaction (events and commands get journal
sequence numbers) and only then publishes the events and sends the commands, each wrapped
in :class:`~actors._actor.Journaled` with its number. So whatever any actor did because of
an event, the event is on disk; and an actor's snapshot always matches what it sent.

A durable actor records the highest sequence it has handled (``applied_seq``) and ignores
a journaled message it has already handled. On start it asks the writer for its snapshot
and the journal entries after it that it would have received (its subscriptions, plus
what was sent to it); it stashes every other message until that answer arrives, loads the
state, handles the entries in order, then the stashed messages. A restart by the
supervisor and a restart of the process take the same path.

Without a storage writer in the tree (unit tests, backtests without ``--state``) the same
actor runs in memory: a commit delivers its events and commands at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson

from actors._actor import Actor, Journaled
from actors._state import dump_state, load_state
from messages import KillActor, Message, decode, encode

__all__ = [
    "STORAGE_ID",
    "Commit",
    "DurableActor",
    "JournalEntry",
    "Restore",
    "Restored",
    "decode_entry",
    "encode_entry",
]

STORAGE_ID = "storage"
"""Stable id of the storage writer actor."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One journal record: an event to publish under ``key``, or a command for ``target``."""

    event: Message
    key: str | None = None
    target: str | None = None


def encode_entry(entry: JournalEntry) -> bytes:
    """A header line (type, key, target) then the event's codec bytes."""
    header = encode_header(type(entry.event).__name__, entry.key, entry.target)
    return header + b"\n" + encode(entry.event)


def encode_header(kind: str, key: str | None, target: str | None) -> bytes:
    """An entry's header line, without its newline: ``{"t": ..., "k": ..., "to": ...}``."""
    return orjson.dumps({"t": kind, "k": key, "to": target})


def entry_header(data: bytes) -> tuple[str, str | None, str | None]:
    """(type name, key, target) of an encoded entry, without decoding the event."""
    head = orjson.loads(data[: data.index(b"\n")])
    return head["t"], head["k"], head["to"]


def decode_entry(data: bytes) -> JournalEntry:
    """The :class:`JournalEntry` of :func:`encode_entry` bytes."""
    cut = data.index(b"\n")
    head = orjson.loads(data[:cut])
    return JournalEntry(event=decode(data[cut + 1 :]), key=head["k"], target=head["to"])


@dataclass(frozen=True, slots=True)
class Commit:
    """An actor's new state and what it may only do once that is on disk.

    ``state`` None leaves the stored snapshot as it is. ``durable`` False (market-derived
    state, no entries) lets the writer stage the state for its next commit.
    """

    actor_id: str
    state: bytes | None
    schema: int
    applied_seq: int
    durable: bool
    entries: tuple[JournalEntry, ...] = ()
    forget: bool = False
    """The actor ended for good: remove its snapshot after this commit."""


@dataclass(frozen=True, slots=True)
class Restore:
    """Ask the writer for ``actor_id``'s snapshot and the entries after it that concern it.

    ``topics`` are (event type name, key or None) pairs, as the actor subscribes.
    """

    actor_id: str
    topics: frozenset[tuple[str, str | None]]


@dataclass(frozen=True, slots=True)
class Restored:
    """The writer's answer to :class:`Restore` (``state`` None: no snapshot yet)."""

    state: bytes | None
    schema: int
    snapshot_seq: int
    entries: tuple[Journaled, ...]


class DurableActor(Actor):
    """An actor whose state is snapshotted and journal-replayed (see the module docstring).

    Subclasses name their state attributes in ``state_fields`` (nested logic objects are
    stored whole; see ``actors._state``), subscribe in ``on_start`` and then call
    :meth:`restore`. They call :meth:`changed` after changing state outside a journaled
    message, and override :meth:`on_restored` to re-arm timers and restart children.
    """

    state_fields: ClassVar[tuple[str, ...]] = ()
    state_added: ClassVar[tuple[str, ...]] = ()
    """Fields of ``state_fields`` added since snapshots were first written: a snapshot from
    before them (a bot upgraded with a position open) loads, and they keep their defaults."""
    state_schema: ClassVar[int] = 1
    market_state: ClassVar[bool] = False
    """True for market-derived state, which may be committed lazily."""

    applied_seq: int = 0
    replaying: bool = False
    _forget: bool = False
    """True while journal entries from before the restart are handled again."""
    _restoring: bool = False
    _dirty: int = 0
    """0 clean, 1 changed by a journaled message only (replay re-derives it), 2 changed."""
    _stash: tuple[object, ...] = ()
    _pending: tuple[JournalEntry, ...] = ()

    # --- for subclasses --------------------------------------------------------------------

    def restore(self) -> None:
        """Load the snapshot and replay the journal after it (call at the end of on_start)."""
        if not self.context.has_actor(STORAGE_ID):
            self.on_restored()
            self._commit()
            return
        topics = frozenset((t.__name__, k) for t, k in self.context.subscriptions())
        self._restoring = True
        self.context.send(STORAGE_ID, Restore(self.context.actor_id, topics))

    def on_restored(self) -> None:
        """Called once the state is back (or there was none): re-arm timers here."""

    def record(self, event: Message, *, key: str | None = None) -> None:
        """Publish ``event`` under ``key`` once this handler's commit is on disk."""
        self._pending = (*self._pending, JournalEntry(event=event, key=key))

    def emit(self, target: str, command: Message) -> None:
        """Send ``command`` to ``target`` once this handler's commit is on disk."""
        self._pending = (*self._pending, JournalEntry(event=command, target=target))

    def finish(self) -> None:
        """End this actor for good (a closed position): stop, and drop its snapshot with the
        commit of this handler, so a closed position never comes back."""
        self._forget = True
        self.context.stop_self()

    def changed(self, *, lazy: bool = False) -> None:
        """Mark the state changed: it is committed when the current handler returns.

        ``lazy``: a change the next input repeats anyway (an equity figure, say) rides with
        the next durable commit instead of costing an fsync of its own.
        """
        self._dirty = max(self._dirty, 1 if lazy else 2)

    def flush_commit(self) -> None:
        """Commit now what this actor staged (for ``on_stop``, which no commit follows)."""
        self._commit()

    def snapshot(self) -> bytes:
        """This actor's state as bytes (override for state that is not plain attributes)."""
        return dump_state(self, self.state_fields)

    def load(self, state: bytes, schema: int) -> None:
        """Set the state from :meth:`snapshot` bytes (override with :meth:`snapshot`)."""
        del schema
        load_state(self, self.state_fields, state, added=self.state_added)

    # --- machinery ----------------------------------------------------------------------------

    def receive(self, message: object) -> Any:
        """Stash while restoring; skip journaled messages already applied; commit after."""
        kind = type(message)
        if self._restoring:
            if kind is Restored:
                return self._finish_restore(message)  # type: ignore[arg-type]
            if kind is not KillActor:
                self._stash = (*self._stash, message)
                return None
        if kind is Journaled:
            seq = message.seq  # type: ignore[attr-defined]
            if seq <= self.applied_seq:
                return None
            result = super().receive(message)
            self.applied_seq = seq
            self._dirty = max(self._dirty, 1)
        else:
            result = super().receive(message)
        if self._dirty or self._pending or self._forget:  # _commit's own test, without a call
            self._commit()
        return result

    def _finish_restore(self, restored: Restored) -> None:
        self._restoring = False
        if restored.state is not None:
            self.load(restored.state, restored.schema)
            self.applied_seq = restored.snapshot_seq
        self.replaying = True
        try:
            for journaled in restored.entries:
                if journaled.seq > self.applied_seq:
                    super().receive(journaled)
                    self.applied_seq = journaled.seq
                    self._dirty = max(self._dirty, 1)
        finally:
            self.replaying = False
        self.on_restored()
        self._commit()
        stash, self._stash = self._stash, ()
        for message in stash:
            self.receive(message)

    def _commit(self) -> None:
        if not (self._dirty or self._pending or self._forget):
            return
        entries, self._pending = self._pending, ()
        durable = bool(entries) or (self._dirty == 2 and not self.market_state)
        self._dirty = 0
        if not self.context.has_actor(STORAGE_ID):
            if entries:
                self._deliver(entries)
            return
        self.context.send(
            STORAGE_ID,
            Commit(
                actor_id=self.context.actor_id,
                state=self.snapshot(),
                schema=self.state_schema,
                applied_seq=self.applied_seq,
                durable=durable or self._forget,
                entries=entries,
                forget=self._forget,
            ),
        )

    def _deliver(self, entries: Sequence[JournalEntry]) -> None:
        """In-memory mode: what the writer would do after its commit, without numbers."""
        for entry in entries:
            if entry.target is not None:
                self.context.send(entry.target, entry.event)
            else:
                self.context.publish(entry.event, key=entry.key)


def wanted(
    header: tuple[str, str | None, str | None],
    actor_id: str,
    topics: Iterable[tuple[str, str | None]],
) -> bool:
    """Whether an entry with ``header`` would have reached ``actor_id`` (see Restore)."""
    kind, key, target = header
    if target is not None:
        return target == actor_id
    topic_set = topics if isinstance(topics, frozenset) else frozenset(topics)
    return (kind, None) in topic_set or (key is not None and (kind, key) in topic_set)
