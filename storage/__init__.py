"""The bot's durable state: one LMDB environment under ``--state DIR``.

``Store`` holds the journal (sequence -> event bytes), actor snapshots, closed trades and
the schema version, with durable batched commits, map growth, backups, JSON-lines export,
and an integrity check at open. ``restore`` replaces the environment from a backup or an
export. See docs/storage.md.
"""

from storage._backup import list_backups
from storage._errors import (
    ExportFormatError,
    SchemaVersionError,
    StorageCorruptError,
    StorageError,
    StorageFullError,
)
from storage._integrity import newest_backup
from storage._keys import SEQ_MAX, ClosedTrade, Snapshot, key_seq, seq_key
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
    "Migration",
    "SchemaVersionError",
    "Snapshot",
    "StorageCorruptError",
    "StorageError",
    "StorageFullError",
    "Store",
    "key_seq",
    "list_backups",
    "newest_backup",
    "restore",
    "seq_key",
]
