"""What ``bot.py snapshot`` shows: plain functions that return data and text, never print.

They only read, so they are safe beside a running bot (LMDB lets readers in beside the
writer). Snapshots record no write time, so freshness is shown as the journal lag: how many
entries were committed after the snapshot's ``last_seq``.
"""

from __future__ import annotations

import base64
import difflib
from pathlib import Path
from typing import TypedDict

import orjson

from messages.settings import StorageSettings
from storage._backup import list_backups
from storage._errors import StorageError
from storage._integrity import DATA_FILE
from storage._store import Store

LAG_NOTE = "LAG = journal entries committed after the snapshot's SEQ (snapshots carry no time)"


class NoStateError(StorageError):
    """Raised when ``--state DIR`` holds no environment to read.

    The read-only commands refuse instead of creating an empty one, which would hide a
    wrong ``--state``. The operator checks the directory (or ``storage.state_dir``).
    """


class SnapshotNotFoundError(StorageError):
    """Raised when no snapshot has the actor id asked for; the message lists likely ids.

    Attributes:
        actor_id: The id asked for.
        known: Every stored actor id, sorted.
    """

    def __init__(self, message: str, *, actor_id: str, known: list[str]) -> None:
        super().__init__(message)
        self.actor_id = actor_id
        self.known = known


class SnapshotRow(TypedDict):
    """One line of ``snapshot list``; ``bytes`` is the size of the state alone."""

    actor_id: str
    last_seq: int
    lag: int
    schema: int
    bytes: int


class Listing(TypedDict):
    """Everything ``snapshot list`` shows (and ``--json`` prints as is)."""

    state_dir: str
    journal_first: int
    journal_last: int
    trades: int
    backups: list[str]
    snapshots: list[SnapshotRow]


def open_existing(state_dir: str | Path, settings: StorageSettings | None = None) -> Store:
    """Open the environment in ``state_dir`` only if one is there (``Store.open`` creates).

    Raises:
        NoStateError: The directory or its data file does not exist.
        StorageError: From :meth:`Store.open` (damaged, wrong schema version).
    """
    path = Path(state_dir)
    if not path.is_dir():
        raise NoStateError(
            f"state directory {path} does not exist; check --state (or storage.state_dir)"
        )
    if not (path / DATA_FILE).is_file():
        raise NoStateError(
            f"state directory {path} has no {DATA_FILE}: no bot has stored state there; "
            "check --state (or storage.state_dir)"
        )
    return Store.open(path, settings)


def snapshot_rows(store: Store) -> list[SnapshotRow]:
    """Return one row per stored snapshot, by actor id, with its journal lag."""
    snaps = list(store.iter_snapshots())
    last = store.last_seq()  # read after the snapshots, so a live writer never makes lag < 0
    return [
        SnapshotRow(
            actor_id=snap.actor_id,
            last_seq=snap.last_seq,
            lag=last - snap.last_seq,
            schema=snap.schema,
            bytes=len(snap.state),
        )
        for snap in snaps
    ]


def listing(store: Store) -> Listing:
    """Return the snapshot rows plus the journal range, trade count and backups."""
    rows = snapshot_rows(store)
    with store.env.begin() as txn:
        trades: int = txn.stat(store.databases.trades)["entries"]
    return Listing(
        state_dir=str(store.state_dir),
        journal_first=store.first_seq(),
        journal_last=store.last_seq(),
        trades=trades,
        backups=[str(path) for path in list_backups(store.state_dir)],
        snapshots=rows,
    )


def snapshot_json(store: Store, actor_id: str) -> dict[str, object]:
    """Return one snapshot's header fields and its state decoded from JSON.

    A state that is not JSON (the indicators' binary format) comes back as base64 text,
    with ``state_format`` saying which it is.

    Raises:
        SnapshotNotFoundError: No snapshot has ``actor_id``; the message names the closest
            ids, or lists the stored ones.
    """
    snap = store.get_snapshot(actor_id)
    if snap is None:
        known = sorted(s.actor_id for s in store.iter_snapshots())
        raise SnapshotNotFoundError(
            f"no snapshot {actor_id!r} in {store.data_file}; {_suggest(actor_id, known)}",
            actor_id=actor_id,
            known=known,
        )
    state: object
    try:
        state, fmt = orjson.loads(snap.state), "json"
    except orjson.JSONDecodeError:
        state, fmt = base64.b64encode(snap.state).decode("ascii"), "base64"
    return {
        "actor_id": snap.actor_id,
        "last_seq": snap.last_seq,
        "lag": store.last_seq() - snap.last_seq,
        "schema": snap.schema,
        "bytes": len(snap.state),
        "state_format": fmt,
        "state": state,
    }


def format_listing(data: Listing) -> list[str]:
    """Return ``snapshot list``'s lines: an aligned table, a summary and what LAG means."""
    rows = data["snapshots"]
    lines = []
    if rows:
        table = [("ACTOR ID", "SEQ", "LAG", "SCHEMA", "BYTES")] + [
            (r["actor_id"], str(r["last_seq"]), str(r["lag"]), str(r["schema"]), str(r["bytes"]))
            for r in rows
        ]
        widths = [max(len(row[i]) for row in table) for i in range(5)]
        for row in table:
            cells = [row[0].ljust(widths[0])]
            cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
            lines.append("  ".join(cells).rstrip())
    else:
        lines.append("no snapshots")
    backups = data["backups"]
    newest = f" (newest {Path(backups[-1]).name})" if backups else ""
    lines.append(
        f"{data['state_dir']}: {summary_text(data)}, {_count(len(backups), 'backup')}{newest}"
    )
    if rows:
        lines.append(LAG_NOTE)
    return lines


def summary_text(data: Listing) -> str:
    """Describe the contents for a person: ``journal seq 1-100, 3 snapshots, 1 closed trade``."""
    first, last = data["journal_first"], data["journal_last"]
    journal = f"journal seq {first}-{last}" if last else "journal empty"
    snapshots = _count(len(data["snapshots"]), "snapshot")
    return f"{journal}, {snapshots}, {_count(data['trades'], 'closed trade')}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _suggest(actor_id: str, known: list[str]) -> str:
    if not known:
        return "it holds no snapshots"
    close = difflib.get_close_matches(actor_id, known, n=3, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(repr(k) for k in close) + "?"
    shown = ", ".join(known[:10]) + (f" and {len(known) - 10} more" if len(known) > 10 else "")
    return f"stored ids: {shown}"
