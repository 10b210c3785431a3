"""The errors of the ``storage`` package.

::

    BotError                       (messages) root of every deliberate error in the bot
    `- StorageError                anything about the LMDB state under --state DIR
       |- StorageCorruptError      the environment is damaged or truncated: do not trade
       |- SchemaVersionError       the stored schema version is newer, unknown or unmigratable
       |- StorageFullError         the map cannot grow: map_size_max_mb reached
       `- ExportFormatError        an export file (JSON lines) or backup file is unusable

Every message names the file concerned and says what the operator should do next.
"""

from __future__ import annotations

from messages import BotError


class StorageError(BotError):
    """Raised when the state store cannot do what was asked.

    Never raised directly; see the subclasses. The caller (the writer actor, ``bot.py``)
    must not trade on state it could not read or write: it stops and reports the message.
    """


class StorageCorruptError(StorageError):
    """Raised when the LMDB environment is damaged, at open or by :meth:`Store.check`.

    Causes: a truncated ``data.mdb`` (shorter than its last committed page), both meta pages
    unreadable, LMDB reporting a corrupted page, or a journal with a gap. The message says
    what is wrong and names the newest backup to restore from (``python bot.py snapshot
    restore FILE``). Retrying cannot help; the bot refuses to trade.

    Attributes:
        path: The damaged file.
        newest_backup: The newest backup found, or ``None`` when there is none.
    """

    def __init__(self, message: str, *, path: str, newest_backup: str | None) -> None:
        super().__init__(message)
        self.path = path
        self.newest_backup = newest_backup


class SchemaVersionError(StorageError):
    """Raised at open when the stored schema version is not one this code can use.

    The version is newer than :data:`storage.SCHEMA_VERSION` (written by a newer bot),
    missing from a non-empty environment, or older with no migration registered for some
    step. Nothing has been changed on disk. The operator runs the matching bot version or
    restores a backup or export written by this one.

    Attributes:
        path: The data file.
        found: The version stored, or ``None`` when the key is missing.
        expected: The version this code writes.
    """

    def __init__(self, message: str, *, path: str, found: int | None, expected: int) -> None:
        super().__init__(message)
        self.path = path
        self.found = found
        self.expected = expected


class StorageFullError(StorageError):
    """Raised when a write does not fit although the map has grown to ``map_size_max_mb``.

    The write transaction was aborted, so nothing of it is stored (the journal is still
    gap-free). The caller must stop trading; the operator raises ``storage.map_size_max_mb``
    or frees disk space and restarts.

    Attributes:
        map_size_bytes: The map size reached, bytes.
    """

    def __init__(self, message: str, *, map_size_bytes: int) -> None:
        super().__init__(message)
        self.map_size_bytes = map_size_bytes


class ExportFormatError(StorageError):
    """Raised when a file given to :func:`storage.restore` cannot be used.

    Causes: not JSON lines of this format, a line of an unknown kind, a missing header or
    end line (a truncated export), a journal with a gap, or a backup file that fails the
    integrity check. The live environment is untouched when this is raised.

    Attributes:
        path: The file given.
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path
