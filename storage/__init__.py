"""The bot's durable state: one LMDB environment under ``--state DIR``.

``Store`` holds the journal (sequence -> event bytes), actor snapshots, closed trades and
the schema version, with durable batched commits, map growth, backups, JSON-lines export,
and an integrity check at open. ``restore`` replaces the environment from a backup or an
export. ``StateLock`` lets one process at a time own the directory (the bot, a restore), and
the ``snapshot_*`` / ``listing`` readers feed ``bot.py snapshot``. See docs/storage.md.
"""

from storage._backup import fsync_dir, list_backups
from storage._errors import (
    ExportFormatError,
    SchemaVersionError,
    StorageCorruptError,
    StorageError,
    StorageFullError,
)
from storage._inspect import (
    Listing,
    NoStateError,
    SnapshotNotFoundError,
    SnapshotRow,
    format_listing,
    listing,
    open_existing,
    snapshot_json,
    snapshot_rows,
    summary_text,
)
from storage._integrity import newest_backup
from storage._keys import SEQ_MAX, ClosedTrade, Snapshot, key_seq, seq_key
from storage._lock import StateLock, StateLockedError
from storage._restore import restore
from storage._schema import MIGRATIONS, SCHEMA_VERSION, Databases, Migration
from storage._store import Store

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SEQ_MAX",
    "ClosedTrade",
    "Databases",
    "ExportFormatError",
    "Listing",
    "Migration",
    "NoStateError",
    "SchemaVersionError",
    "Snapshot",
    "SnapshotNotFoundError",
    "SnapshotRow",
    "StateLock",
    "StateLockedError",
    "StorageCorruptError",
    "StorageError",
    "StorageFullError",
    "Store",
    "format_listing",
    "fsync_dir",
    "key_seq",
    "list_backups",
    "listing",
    "newest_backup",
    "open_existing",
    "restore",
    "seq_key",
    "snapshot_json",
    "snapshot_rows",
    "summary_text",
]
