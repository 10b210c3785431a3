"""StorageWriter: the one actor that writes the LMDB store.

Durable actors send it :class:`~actors._durable.Commit` messages. It gathers every commit
waiting in its mailbox (or arriving within ``storage.commit_batch_ms``) into one
transaction with one fsync: the states become snapshots, the entries get journal sequence
numbers. Only after that commit returns does it publish the entries' events and send their
commands, each as :class:`~actors._actor.Journaled`. A commit of market-derived state only
is staged and rides with the next durable commit (or the periodic flush).

It also answers :class:`~actors._durable.Restore` (after writing whatever is pending, so
a restarted actor never misses its own last commit), takes backups on a timer and on
:class:`BackupNow`, and stores closed trades (:class:`PutTrade`).

Series (:meth:`storage.Store.put_series`): an actor whose state is a long window that
changes by one row at a time (a feed's closed candles) sends each new row once
(:class:`PutSeries`, staged like market state, so it rides with the next commit) instead
of its whole window in every snapshot, and reads its rows back at start
(:class:`LoadSeries`, answered with :class:`SeriesLoaded`). Rows are staged as they
arrive and a snapshot when its commit is written, so a snapshot is never on disk before
the rows its actor sent ahead of it.

Trim: at each snapshot write the journal keeps its newest ``storage.journal_keep`` entries
and every entry some actor could still replay (:class:`~actors._journal_trim.JournalPins`);
the older ones go to the archive (``actors._journal_archive``) and then out of LMDB, so the
file and the memory that maps it stay the size of what is live.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from actors._actor import Actor, Journaled
from actors._durable import (
    STORAGE_ID,
    Commit,
    JournalEntry,
    Restore,
    Restored,
    decode_entry,
    encode_entry,
    entry_header,
    wanted,
)
from actors._journal_archive import ARCHIVE_DIR, JournalArchive
from actors._journal_trim import JournalPins
from messages import HedgeClosed, PositionClosed, encode
from messages.settings import StorageSettings
from storage import ClosedTrade, Snapshot, Store

__all__ = [
    "BackupNow",
    "FlushBatch",
    "LoadSeries",
    "PutSeries",
    "PutTrade",
    "SeriesLoaded",
    "StorageWriter",
]

_NS = 1_000_000_000
_MS = 1_000_000
TRIM_CHUNK = 20_000
"""Most journal entries one trim moves to the archive."""
HELD_WARNING_TRIMS = 10
"""Snapshot writes in a row an actor that never restored may hold the trim before a WARNING."""


@dataclass(frozen=True, slots=True)
class FlushBatch:
    """Self-message: write what is pending now."""


@dataclass(frozen=True, slots=True)
class BackupNow:
    """Take a backup now (timer, or on demand from the console)."""


@dataclass(frozen=True, slots=True)
class PutTrade:
    """Store a closed trade (durably, with the next commit)."""

    trade: ClosedTrade


@dataclass(frozen=True, slots=True)
class PutSeries:
    """Stage ``rows`` (index -> bytes) of series ``name``; see :meth:`storage.Store.put_series`
    for ``keep_from`` and ``replace``."""

    name: str
    rows: tuple[tuple[int, bytes], ...]
    keep_from: int = 0
    replace: bool = False


@dataclass(frozen=True, slots=True)
class LoadSeries:
    """Ask for every row of series ``name``; answered to ``reply_to`` with
    :class:`SeriesLoaded`."""

    name: str
    reply_to: str


@dataclass(frozen=True, slots=True)
class SeriesLoaded:
    """The rows of series ``name``, by index (empty: none stored)."""

    name: str
    rows: tuple[tuple[int, bytes], ...]


@dataclass(frozen=True, slots=True)
class SnapshotTick:
    """Timer: write staged market snapshots."""


class StorageWriter(Actor):
    """Owns writes to ``store``; see the module docstring."""

    def __init__(
        self,
        *,
        store: Store,
        settings: StorageSettings,
        clock_speed: float = 1.0,
        pins: JournalPins | None = None,
    ) -> None:
        """``pins``: pass one that outlives this actor (the tree does), so a restarted writer
        still knows which actors restored and with which topics."""
        self.store = store
        self.pins = pins if pins is not None else JournalPins()
        self.archive: JournalArchive | None = None
        self.trimmed = 0
        self._held: tuple[str, int] = ("", 0)
        self.settings = settings
        self.clock_speed = clock_speed
        self.batch: list[Commit] = []
        self.trades: list[ClosedTrade] = []
        self.flush_due = False
        self.commits = 0
        self.transactions = 0
        self.entries_written = 0
        self.last_commit_ms = 0.0
        self.backups = 0

    def on_start(self) -> None:
        """Arm the backup and snapshot timers (real seconds: scaled by the clock's speed)."""
        scale = _NS * self.clock_speed
        if self.settings.backup_interval_s > 0:
            every = int(self.settings.backup_interval_s * scale)
            self.context.schedule_repeating(every, BackupNow())
        every = int(self.settings.snapshot_interval_s * scale)
        self.context.schedule_repeating(every, SnapshotTick())
        self.pins.load(self.store.snapshot_seqs())
        if self.settings.journal_archive:
            self.archive = JournalArchive(self.store.state_dir / ARCHIVE_DIR)
            self.archive.align(self.store)

    def on_stop(self) -> None:
        """Write what is pending; the owner of the store closes it."""
        self._flush()
        self.store.flush()

    def describe(self) -> dict[str, object]:
        """Journal position and commit counters."""
        return {
            "last_seq": self.store.last_seq(),
            "commits": self.commits,
            "transactions": self.transactions,
            "entries": self.entries_written,
            "last_commit_ms": round(self.last_commit_ms, 3),
            "backups": self.backups,
            "journal_first": self.store.first_seq(),
            "trimmed": self.trimmed,
            "trim_pinned_by": self.pins.pinned_by,
        }

    # --- inputs -------------------------------------------------------------------------------

    def on_commit(self, commit: Commit) -> None:
        """Queue a commit; the batch is written when the flush message comes back."""
        self.batch.append(commit)
        self._arm_flush()

    def on_put_trade(self, msg: PutTrade) -> None:
        """Queue a closed trade for the next commit."""
        self.trades.append(msg.trade)
        self._arm_flush()

    def on_flush_batch(self, _: FlushBatch) -> None:
        """Write the batch."""
        self.flush_due = False
        self._flush()

    def on_put_series(self, msg: PutSeries) -> None:
        """Stage series rows; they ride with the next commit (or the snapshot timer's)."""
        self.store.put_series(msg.name, msg.rows, keep_from=msg.keep_from, replace=msg.replace)

    def on_load_series(self, request: LoadSeries) -> None:
        """Answer with every row of a series (staged ones included)."""
        self._flush()
        rows = tuple(self.store.read_series(request.name))
        self.context.send(request.reply_to, SeriesLoaded(name=request.name, rows=rows))

    def on_restore(self, request: Restore) -> None:
        """Answer with the snapshot and the journal entries after it that concern the actor."""
        self._flush()
        self.pins.restored(request.actor_id, request.topics)
        snap = self.store.get_snapshot(request.actor_id)
        after = snap.last_seq if snap is not None else 0
        entries = []
        for seq, data in self.store.read_journal(after):
            if wanted(entry_header(data), request.actor_id, request.topics):
                entry = decode_entry(data)
                entries.append(Journaled(seq, entry.key, entry.event))
        restored = Restored(
            state=snap.state if snap is not None else None,
            schema=snap.schema if snap is not None else 0,
            snapshot_seq=after,
            entries=tuple(entries),
        )
        self.context.send(request.actor_id, restored)

    def on_backup_now(self, _: BackupNow) -> None:
        """Write what is pending, then a compact copy (the store keeps the newest N)."""
        self._flush()
        path = self.store.backup(keep=self.settings.backups_keep)
        self.backups += 1
        self.context.log.info("backup written: %s", path)

    def on_snapshot_tick(self, _: SnapshotTick) -> None:
        """Write staged market snapshots, then trim the journal."""
        self.store.flush()
        self._trim()

    def _trim(self) -> None:
        """Archive and delete the entries beyond ``journal_keep`` that no actor needs (at
        most ``TRIM_CHUNK`` a time: a journal grown long before an upgrade shrinks over a
        few ticks, never in one long transaction or one large list)."""
        first, last = self.store.first_seq(), self.store.last_seq()
        limit = min(last - self.settings.journal_keep, first + TRIM_CHUNK - 1)
        if first == 0 or limit < first:
            return
        through = self.pins.trim_through(self.store.read_journal(first - 1), limit)
        self._warn_if_held()
        if through < first:
            return
        keep_copy = self.archive.append if self.archive is not None else None
        self.trimmed += self.store.trim_journal(through, keep_copy)

    def _warn_if_held(self) -> None:
        """Say once when a snapshot whose actor never restored holds the journal: the actor
        may be gone for good (a symbol removed from ``bot.symbols``)."""
        holder = self.pins.pinned_by
        if not holder or holder in self.pins.topics:
            self._held = ("", 0)
            return
        streak = self._held[1] + 1 if self._held[0] == holder else 1
        self._held = (holder, streak)
        if streak == HELD_WARNING_TRIMS:
            self.context.log.warning(
                "journal trim held for %d snapshot writes by the snapshot of %s, which has not "
                "restored since the bot started; if it is gone for good (a symbol removed from "
                "bot.symbols), stop the bot and run `python bot.py snapshot forget %s`",
                streak,
                holder,
                holder,
            )

    # --- the commit ---------------------------------------------------------------------------

    def _arm_flush(self) -> None:
        if self.flush_due:
            return
        self.flush_due = True
        if self.settings.commit_batch_ms > 0:
            self.context.schedule(self.settings.commit_batch_ms * _MS, FlushBatch())
        else:
            self.context.send(STORAGE_ID, FlushBatch())

    def _flush(self) -> None:
        batch, self.batch = self.batch, []
        trades, self.trades = self.trades, []
        if not batch and not trades:
            return
        started = time.perf_counter()
        snaps = [
            Snapshot(actor_id=c.actor_id, state=c.state, last_seq=c.applied_seq, schema=c.schema)
            for c in batch
            if c.state is not None
        ]
        self.store.put_snapshots(snaps, durable=False)
        for commit in batch:
            if commit.state is not None:
                self.pins.wrote(commit.actor_id, commit.applied_seq)
            if commit.forget:
                self.store.forget_snapshot(commit.actor_id)
                self.pins.forgot(commit.actor_id)
        entries = [entry for commit in batch for entry in commit.entries]
        trades += [t for t in map(closed_trade, entries) if t is not None]
        if entries or trades:
            last = self.store.append([encode_entry(e) for e in entries], trades)
        elif any(c.durable for c in batch):
            self.store.flush()
        self.commits += len(batch)
        self.transactions += 1
        self.entries_written += len(entries)
        self.last_commit_ms = (time.perf_counter() - started) * 1000
        if not entries:
            return
        first = last - len(entries) + 1
        for seq, entry in enumerate(entries, start=first):
            journaled = Journaled(seq, entry.key, entry.event)
            if entry.target is not None:
                self.context.send(entry.target, journaled)
            else:
                self.context.publish(journaled, key=entry.key)


def closed_trade(entry: JournalEntry) -> ClosedTrade | None:
    """The ``trades`` record of a closed position or hedge (stored once per id: a replay
    writes the same key)."""
    event = entry.event
    if isinstance(event, PositionClosed):
        return ClosedTrade(
            closed_ns=event.ts_event, trade_id=event.position_id, record=encode(event)
        )
    if isinstance(event, HedgeClosed):
        return ClosedTrade(closed_ns=event.ts_event, trade_id=event.hedge_id, record=encode(event))
    return None
