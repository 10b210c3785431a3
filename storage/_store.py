"""``Store``: the LMDB environment under ``--state DIR`` (plain class, no threads).

One environment, five named databases: ``snapshots`` (actor id -> state), ``journal``
(sequence -> event bytes), ``trades`` (close time + id -> record), ``meta`` (schema
version) and ``series`` (name + index -> row: append-only data an actor keeps beside its
snapshot, such as a feed's closed candles). One process owns it; in the bot only the
writer actor calls the methods that write, from its own thread. The store never decodes
events or states: callers hand it bytes from ``messages.encode`` or ``orjson.dumps``.
"""

from __future__ import annotations

import itertools
import logging
import struct
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import lmdb

from messages.settings import StorageSettings
from storage._backup import write_backup
from storage._errors import SchemaVersionError, StorageError, StorageFullError
from storage._integrity import BACKUP_DIR, DATA_FILE, check_data_file, damage_error
from storage._keys import (
    SNAPSHOT_HEADER_SIZE,
    ClosedTrade,
    Snapshot,
    key_seq,
    pack_snapshot,
    seq_key,
    series_key,
    series_prefix,
    snapshot_last_seq,
    trade_key,
    unpack_snapshot,
)
from storage._portable import export_env
from storage._schema import (
    MAX_DBS,
    MIGRATIONS,
    SCHEMA_KEY,
    SCHEMA_VERSION,
    Databases,
    Migration,
    open_databases,
)

log = logging.getLogger(__name__)

_MIB = 1024 * 1024
_U32 = struct.Struct(">I")
_T = TypeVar("_T")
_DAMAGE = (
    lmdb.CorruptedError,
    lmdb.InvalidError,
    lmdb.PageNotFoundError,
    lmdb.VersionMismatchError,
    lmdb.IncompatibleError,
)
"""LMDB errors that mean the file is damaged (others: in use, no permission, no space)."""


@dataclass(slots=True)
class _SeriesEdit:
    """What is staged for one series: drop every stored row (``replace``) or those before
    ``keep_from``, then put ``rows``."""

    replace: bool = False
    keep_from: int = 0
    rows: dict[int, bytes] = field(default_factory=dict)


class Store:
    """The bot's durable state: journal, snapshots, closed trades and meta.

    Durability rules:

    - :meth:`append`, :meth:`put_trade`, :meth:`flush` and durable :meth:`put_snapshots`
      return only after an fsync'd LMDB commit: the data survives a process kill and a power
      loss. Money-changing events are appended before any actor acts on them.
    - ``put_snapshots(..., durable=False)`` (market-derived state) and :meth:`put_series`
      only stage the records in memory; they are written by the next durable commit of any
      kind (one fsync for all). A crash loses staged records, never the environment's
      integrity; staged series rows and snapshots are written in the order they were staged
      or in one transaction together.

    A full map doubles (up to ``map_size_max_mb``) and the write is retried.
    """

    def __init__(
        self,
        env: lmdb.Environment,
        dbs: Databases,
        *,
        state_dir: Path,
        settings: StorageSettings,
        clock: Callable[[], int],
    ) -> None:
        """Wrap an open environment; use :meth:`open`, which checks it first."""
        self._env = env
        self._dbs = dbs
        self.state_dir = state_dir
        self.settings = settings
        self._clock = clock
        self._staged: dict[str, Snapshot] = {}
        self._forget: set[str] = set()
        self._series: dict[str, _SeriesEdit] = {}
        self._closed = False

    @classmethod
    def open(
        cls,
        state_dir: str | Path,
        settings: StorageSettings | None = None,
        *,
        migrations: Mapping[int, Migration] = MIGRATIONS,
        clock: Callable[[], int] = time.time_ns,
    ) -> Store:
        """Open (or create) the environment in ``state_dir`` and check it.

        Checks, in order: the data file is whole (before LMDB maps it), LMDB opens it, the
        schema version is this code's (older ones are migrated in one transaction), and the
        journal has no gap.

        Raises:
            StorageCorruptError: The environment is damaged; the message names the newest
                backup to restore from. Nothing was changed.
            SchemaVersionError: The stored version is newer, missing or cannot be migrated.
        """
        settings = settings or StorageSettings()
        path = Path(state_dir)
        path.mkdir(parents=True, exist_ok=True)
        data_file = path / DATA_FILE
        check_data_file(data_file)
        existing = data_file.exists() and data_file.stat().st_size > 0
        map_size = settings.map_size_mb * _MIB
        if existing:
            map_size = max(map_size, data_file.stat().st_size)
        try:
            env = lmdb.open(str(path), map_size=map_size, max_dbs=MAX_DBS, subdir=True, sync=True)
        except _DAMAGE as exc:
            raise damage_error(data_file, f"LMDB cannot open it ({exc})") from exc
        except lmdb.Error as exc:
            raise StorageError(f"cannot open {data_file}: {exc}") from exc
        try:
            dbs = _open_dbs(env, data_file)
            store = cls(env, dbs, state_dir=path, settings=settings, clock=clock)
            store._check_schema(migrations)
            store.check()
        except BaseException:
            env.close()
            raise
        return store

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def data_file(self) -> Path:
        """The LMDB data file, ``state_dir/data.mdb``."""
        return self.state_dir / DATA_FILE

    @property
    def map_size_bytes(self) -> int:
        """The current map size, bytes."""
        size: int = self._env.info()["map_size"]
        return size

    def clock_ns(self) -> int:
        """Return the injected wall clock's time, ns since the UNIX epoch."""
        return self._clock()

    @property
    def env(self) -> lmdb.Environment:
        """The LMDB environment, for backup and export; do not write through it."""
        return self._env

    @property
    def databases(self) -> Databases:
        """The named database handles, for backup and export."""
        return self._dbs

    def close(self) -> None:
        """Write staged snapshots durably, then close the environment. Idempotent."""
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            self._env.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- journal ---------------------------------------------------------------------------

    def append(self, events: Sequence[bytes], trades: Sequence[ClosedTrade] = ()) -> int:
        """Append encoded events to the journal in one durable commit; return the last seq.

        The events get consecutive sequence numbers after the current last one (the first
        ever is 1): ``last - len(events) + 1`` to ``last``. Staged snapshots and ``trades``
        ride in the same commit. On any error nothing is stored and no number is used.

        Raises:
            StorageFullError: The batch does not fit in ``map_size_max_mb``.
        """
        if not events and not trades:
            return self.last_seq()

        def work(txn: lmdb.Transaction) -> int:
            seq = self._last_seq(txn)
            cursor = txn.cursor(db=self._dbs.journal)
            for event in events:
                seq += 1
                cursor.put(seq_key(seq), event, append=True)
            for trade in trades:
                txn.put(
                    trade_key(trade.closed_ns, trade.trade_id), trade.record, db=self._dbs.trades
                )
            self._write_staged(txn)
            return seq

        return self._write(work)

    def last_seq(self) -> int:
        """Return the last journal sequence number, 0 when the journal is empty."""
        with self._env.begin() as txn:
            return self._last_seq(txn)

    def first_seq(self) -> int:
        """Return the first journal sequence number kept, 0 when the journal is empty."""
        with self._env.begin() as txn:
            cursor = txn.cursor(db=self._dbs.journal)
            return key_seq(cursor.key()) if cursor.first() else 0

    def read_journal(self, after_seq: int = 0, *, chunk: int = 1024) -> Iterator[tuple[int, bytes]]:
        """Yield ``(seq, event bytes)`` for every entry after ``after_seq``, in order.

        Reads ``chunk`` entries per short read transaction, so a long replay never pins old
        pages or blocks map growth. Entries appended while iterating are yielded too.
        """
        next_key = seq_key(after_seq + 1)
        while True:
            with self._env.begin(db=self._dbs.journal) as txn:
                cursor = txn.cursor()
                if not cursor.set_range(next_key):
                    return
                batch = [
                    (key_seq(key), bytes(value))
                    for key, value in itertools.islice(cursor.iternext(), chunk)
                ]
            yield from batch
            if len(batch) < chunk:
                return
            next_key = seq_key(batch[-1][0] + 1)

    def trim_journal(
        self, through: int, keep_copy: Callable[[list[tuple[int, bytes]]], None] | None = None
    ) -> int:
        """Delete the journal's entries up to ``through`` (never the last one); return how many.

        ``keep_copy`` gets the entries first, in order, and must have made them durable
        elsewhere (the writer's archive) when it returns: an error there deletes nothing.
        The delete is one durable commit, with whatever is staged. Sequence numbers go on
        from the last entry, which is always kept.
        """
        through = min(through, self.last_seq() - 1)
        first = self.first_seq()
        if first == 0 or through < first:
            return 0
        doomed = list(itertools.takewhile(lambda e: e[0] <= through, self.read_journal(first - 1)))
        if keep_copy is not None:
            keep_copy(doomed)

        def work(txn: lmdb.Transaction) -> int:
            cursor = txn.cursor(db=self._dbs.journal)
            removed = 0
            positioned = cursor.first()
            while positioned and key_seq(bytes(cursor.key())) <= through:
                positioned = cursor.delete()
                removed += 1
            self._write_staged(txn)
            return removed

        return self._write(work)

    # --- snapshots -------------------------------------------------------------------------

    def put_snapshot(
        self, actor_id: str, state: bytes, last_seq: int, schema: int, *, durable: bool = True
    ) -> None:
        """Store one actor's state; see :meth:`put_snapshots`."""
        snap = Snapshot(actor_id=actor_id, state=state, last_seq=last_seq, schema=schema)
        self.put_snapshots((snap,), durable=durable)

    def put_snapshots(self, snapshots: Iterable[Snapshot], *, durable: bool = True) -> None:
        """Store many actors' states, replacing earlier ones.

        With ``durable=True`` (money state) they and any staged ones are written in one
        fsync'd commit before this returns. With ``durable=False`` (market-derived state)
        they are only staged: :meth:`get_snapshot` sees them at once, the next durable
        commit writes them, and a crash before it loses them.
        """
        for snap in snapshots:
            self._staged[snap.actor_id] = snap
            self._forget.discard(snap.actor_id)
        if durable:
            self.flush()

    def flush(self) -> None:
        """Write every staged snapshot and series row in one durable commit (nothing to do
        if none)."""
        if self._staged or self._forget or self._series:
            self._write(self._write_staged)

    def forget_snapshot(self, actor_id: str) -> None:
        """Stage the removal of ``actor_id``'s snapshot (an actor that ended for good); the
        next durable commit removes it. A state staged for it is dropped."""
        self._staged.pop(actor_id, None)
        self._forget.add(actor_id)

    def get_snapshot(self, actor_id: str) -> Snapshot | None:
        """Return the newest state of ``actor_id`` (staged or stored), or ``None``.

        Raises:
            StorageCorruptError: The stored value has no valid header.
        """
        staged = self._staged.get(actor_id)
        if staged is not None:
            return staged
        if actor_id in self._forget:
            return None
        with self._env.begin(db=self._dbs.snapshots) as txn:
            value = txn.get(actor_id.encode())
            return None if value is None else self._unpack(actor_id, value)

    def snapshot_seqs(self) -> dict[str, int]:
        """Every stored snapshot's ``last_seq`` by actor id (after a flush; headers only)."""
        self.flush()
        with self._env.begin(db=self._dbs.snapshots) as txn:
            items = [(bytes(k).decode(), bytes(v[:SNAPSHOT_HEADER_SIZE])) for k, v in txn.cursor()]
        seqs = {}
        for actor_id, head in items:
            try:
                seqs[actor_id] = snapshot_last_seq(actor_id, head)
            except ValueError as exc:
                raise damage_error(self.data_file, str(exc)) from exc
        return seqs

    def iter_snapshots(self) -> Iterator[Snapshot]:
        """Yield every stored snapshot (after a flush of staged ones), by actor id."""
        self.flush()
        with self._env.begin(db=self._dbs.snapshots) as txn:
            items = [(bytes(k), bytes(v)) for k, v in txn.cursor()]
        for key, value in items:
            yield self._unpack(key.decode(), value)

    # --- series ----------------------------------------------------------------------------

    def put_series(
        self,
        name: str,
        rows: Iterable[tuple[int, bytes]],
        *,
        keep_from: int = 0,
        replace: bool = False,
    ) -> None:
        """Stage rows of series ``name`` (index -> bytes; an index written again is replaced).

        Like a lazy snapshot, they are written by the next durable commit. ``keep_from``
        drops the stored rows with a lower index (a bounded window: the oldest rows go as
        new ones come); ``replace`` drops every stored row first. An actor whose state is a
        long, mostly unchanging window (a feed's closed candles) writes each row once this
        way instead of its whole state in every snapshot.
        """
        series_prefix(name)  # refuses a bad name here, not in a later commit
        edit = self._series.get(name)
        if edit is None or replace:
            edit = self._series[name] = _SeriesEdit(replace=replace)
        edit.rows.update(rows)
        if keep_from > edit.keep_from:
            edit.keep_from = keep_from
            for index in [i for i in edit.rows if i < keep_from]:
                del edit.rows[index]

    def read_series(self, name: str) -> list[tuple[int, bytes]]:
        """Every row of series ``name`` (staged ones included), by index."""
        prefix = series_prefix(name)
        if name in self._series:
            self.flush()
        out: list[tuple[int, bytes]] = []
        with self._env.begin(db=self._dbs.series) as txn:
            cursor = txn.cursor()
            if cursor.set_range(prefix):
                for key, value in cursor.iternext():
                    if not key.startswith(prefix):
                        break
                    out.append((key_seq(key[len(prefix) :]), bytes(value)))
        return out

    # --- closed trades ---------------------------------------------------------------------

    def put_trade(self, trade: ClosedTrade) -> None:
        """Store a closed trade durably; writing the same (close time, id) again replaces it."""
        key = trade_key(trade.closed_ns, trade.trade_id)

        def work(txn: lmdb.Transaction) -> None:
            txn.put(key, trade.record, db=self._dbs.trades)
            self._write_staged(txn)

        self._write(work)

    def iter_trades(self) -> Iterator[ClosedTrade]:
        """Yield every closed trade in close-time order."""
        with self._env.begin(db=self._dbs.trades) as txn:
            items = [(bytes(k), bytes(v)) for k, v in txn.cursor()]
        for key, value in items:
            yield ClosedTrade(closed_ns=key_seq(key[:8]), trade_id=key[8:].decode(), record=value)

    # --- backup and export -----------------------------------------------------------------

    def backup(self, dest_dir: Path | None = None, *, keep: int | None = None) -> Path:
        """Write a compact, consistent copy of the environment; keep the newest ``keep``.

        ``dest_dir`` defaults to ``state_dir/backups`` and ``keep`` to
        ``settings.backups_keep``. Staged snapshots are flushed first so the copy has them.
        Runs in the caller's thread (the writer actor, on its timer or on demand) and costs
        about one write of the live data. Returns the new file.
        """
        self.flush()
        return write_backup(
            self._env,
            dest_dir if dest_dir is not None else self.state_dir / BACKUP_DIR,
            now_ns=self._clock(),
            last_seq=self.last_seq(),
            keep=keep if keep is not None else self.settings.backups_keep,
        )

    def export(self, file: str | Path) -> int:
        """Write everything as JSON lines to ``file`` (see ``storage._portable``).

        Returns the number of records written. Restore with :func:`storage.restore`.
        """
        self.flush()
        return export_env(self._env, self._dbs, Path(file))

    # --- integrity -------------------------------------------------------------------------

    def check(self, *, deep: bool = False) -> None:
        """Check the journal has no gap; with ``deep``, also read every value of every db.

        The cheap check (at every open) compares the journal's entry count with its first
        and last keys. The deep one touches every page, so LMDB reports a damaged page, and
        decodes every snapshot header.

        Raises:
            StorageCorruptError: What is wrong, and the newest backup to restore from.
        """
        with self._env.begin() as txn:
            entries = txn.stat(self._dbs.journal)["entries"]
            cursor = txn.cursor(db=self._dbs.journal)
            first = key_seq(cursor.key()) if cursor.first() else 0
            last = key_seq(cursor.key()) if cursor.last() else 0
            if entries and last - first + 1 != entries:
                raise damage_error(
                    self.data_file,
                    f"the journal has a gap: {entries} entries between seq {first} and {last}",
                )
            if not deep:
                return
            try:
                for db in (self._dbs.journal, self._dbs.trades, self._dbs.meta):
                    for _ in txn.cursor(db=db).iternext(keys=True, values=True):
                        pass
                for key, value in txn.cursor(db=self._dbs.snapshots):
                    self._unpack(bytes(key).decode(), bytes(value))
            except lmdb.Error as exc:
                raise damage_error(self.data_file, f"LMDB reports {exc}") from exc

    # --- internals -------------------------------------------------------------------------

    def _last_seq(self, txn: lmdb.Transaction) -> int:
        cursor = txn.cursor(db=self._dbs.journal)
        return key_seq(bytes(cursor.key())) if cursor.last() else 0

    def _write_staged(self, txn: lmdb.Transaction) -> None:
        for snap in self._staged.values():
            txn.put(snap.actor_id.encode(), pack_snapshot(snap), db=self._dbs.snapshots)
        for actor_id in self._forget:
            txn.delete(actor_id.encode(), db=self._dbs.snapshots)
        for name, edit in self._series.items():
            self._write_series(txn, name, edit)

    def _write_series(self, txn: lmdb.Transaction, name: str, edit: _SeriesEdit) -> None:
        db = self._dbs.series
        if edit.replace or edit.keep_from > 0:
            prefix = series_prefix(name)
            # Every key of the series sorts below its name followed by \x01 (the prefix ends
            # with \x00); a window's rows start at keep_from's key.
            end = prefix[:-1] + b"\x01" if edit.replace else series_key(name, edit.keep_from)
            cursor = txn.cursor(db=db)
            positioned = cursor.set_range(prefix)
            while positioned and bytes(cursor.key()) < end:
                positioned = cursor.delete()  # moves to the next row; False past the last
        for index in sorted(edit.rows):
            txn.put(series_key(name, index), edit.rows[index], db=db)

    def _unpack(self, actor_id: str, value: bytes) -> Snapshot:
        try:
            return unpack_snapshot(actor_id, bytes(value))
        except ValueError as exc:
            raise damage_error(self.data_file, str(exc)) from exc

    def _write(self, work: Callable[[lmdb.Transaction], _T]) -> _T:
        """Run ``work`` in one durable write transaction, growing the map while it is full.

        Staged snapshots are cleared only after the commit succeeded: ``work`` writes them.
        """
        while True:
            try:
                with self._env.begin(write=True) as txn:
                    result = work(txn)
            except lmdb.MapFullError:
                self._grow()
                continue
            self._staged.clear()
            self._forget.clear()
            self._series.clear()
            return result

    def _grow(self) -> None:
        current = self.map_size_bytes
        limit = self.settings.map_size_max_mb * _MIB
        if current >= limit:
            raise StorageFullError(
                f"{self.data_file} is full at {current // _MIB} MiB, the most "
                f"storage.map_size_max_mb allows ({self.settings.map_size_max_mb}); the write "
                "was not stored. Raise storage.map_size_max_mb (and check free disk), then "
                "restart the bot.",
                map_size_bytes=current,
            )
        new = min(current * 2, limit)
        log.warning("storage: map full at %d MiB, growing to %d MiB", current // _MIB, new // _MIB)
        self._env.set_mapsize(new)

    def _check_schema(self, migrations: Mapping[int, Migration]) -> None:
        with self._env.begin(db=self._dbs.meta) as txn:
            raw = txn.get(SCHEMA_KEY)
            empty = all(txn.stat(db)["entries"] == 0 for db in _all(self._dbs))
        if raw is None and empty:
            self._write(
                lambda txn: txn.put(SCHEMA_KEY, _U32.pack(SCHEMA_VERSION), db=self._dbs.meta)
            )
            return
        found = None if raw is None or len(raw) != _U32.size else _U32.unpack(raw)[0]
        if found == SCHEMA_VERSION:
            return
        where = f"{self.data_file} has storage schema version {found}"
        if found is None or found > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{where}; this bot reads version {SCHEMA_VERSION}. It was written by a newer "
                "(or unknown) bot: run that version, or restore a backup or export made by "
                "this one (`python bot.py snapshot restore FILE`). Nothing was changed.",
                path=str(self.data_file),
                found=found,
                expected=SCHEMA_VERSION,
            )
        missing = [v for v in range(found, SCHEMA_VERSION) if v not in migrations]
        if missing:
            raise SchemaVersionError(
                f"{where}; this bot reads version {SCHEMA_VERSION} and has no migration from "
                f"version {missing[0]}. Run the bot version that wrote it, or restore a backup "
                "made by this one. Nothing was changed.",
                path=str(self.data_file),
                found=found,
                expected=SCHEMA_VERSION,
            )

        def migrate(txn: lmdb.Transaction) -> None:
            for version in range(found, SCHEMA_VERSION):
                migrations[version](txn, self._dbs)
            txn.put(SCHEMA_KEY, _U32.pack(SCHEMA_VERSION), db=self._dbs.meta)

        log.warning(
            "storage: migrating %s from version %d to %d", self.data_file, found, SCHEMA_VERSION
        )
        self._write(migrate)


def _open_dbs(env: lmdb.Environment, data_file: Path) -> Databases:
    try:
        with env.begin(write=True) as txn:
            return open_databases(env, txn)
    except lmdb.Error as exc:
        raise damage_error(data_file, f"its named databases cannot be opened ({exc})") from exc


def _all(dbs: Databases) -> tuple[lmdb._Database, ...]:
    return (dbs.snapshots, dbs.journal, dbs.trades, dbs.meta, dbs.series)
