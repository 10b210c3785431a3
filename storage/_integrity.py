"""Checks of an LMDB data file made before LMDB maps it, and the damage message.

LMDB maps ``data.mdb`` into memory; reading a page past the end of a truncated file kills
the process with SIGBUS instead of raising. So :func:`check_data_file` reads the two meta
pages itself (LMDB 0.9 layout, 64-bit, little-endian host) and refuses a file shorter than
the last page the newest valid meta page says is in use.
"""

from __future__ import annotations

import struct
from pathlib import Path

from storage._errors import StorageCorruptError

DATA_FILE = "data.mdb"
LOCK_FILE = "lock.mdb"
BACKUP_DIR = "backups"
BACKUP_GLOB = "backup-*.mdb"

_MAGIC = 0xBEEFC0DE
_DATA_VERSION = 1
_PAGE_HEADER = 16  # mp_pgno u64, mp_pad u16, mp_flags u16, mp_lower u16, mp_upper u16
_META = struct.Struct("<II")  # mm_magic, mm_version, at _PAGE_HEADER
_PSIZE_AT = _PAGE_HEADER + 24  # mm_dbs[FREE_DBI].md_pad holds the page size
_LAST_PG_TXNID_AT = _PAGE_HEADER + 120  # after magic, version, address, mapsize, 2 x MDB_db
_LAST_PG_TXNID = struct.Struct("<QQ")
_MIN_PSIZE = 512
_DEFAULT_PSIZE = 4096


def newest_backup(state_dir: Path) -> Path | None:
    """Return the newest backup file under ``state_dir/backups``, or ``None``."""
    found = sorted((state_dir / BACKUP_DIR).glob(BACKUP_GLOB))
    return found[-1] if found else None


def damage_error(data_file: Path, what: str) -> StorageCorruptError:
    """Build the error for a damaged environment: what is wrong and how to recover."""
    state_dir = data_file.parent
    backup = newest_backup(state_dir)
    if backup is not None:
        how = (
            f"Stop the bot and restore the newest backup, {backup}, with "
            f"`python bot.py snapshot restore {backup}` (the damaged file is kept beside it "
            f"as data.mdb.replaced-<time>), then reconcile positions with the exchange at start."
        )
    else:
        how = (
            f"No backup exists in {state_dir / BACKUP_DIR}. Restore an export with "
            f"`python bot.py snapshot restore FILE`, or move {state_dir} aside to start "
            "empty and reconcile positions with the exchange."
        )
    message = f"{data_file} is damaged: {what}. The bot refuses to trade on it. {how}"
    return StorageCorruptError(
        message, path=str(data_file), newest_backup=str(backup) if backup else None
    )


def check_data_file(data_file: Path) -> None:
    """Raise :class:`StorageCorruptError` unless ``data_file`` looks like a whole LMDB file.

    Checks: at least two pages long; at least one meta page with LMDB's magic number and
    data version; the file reaches the last page that meta page uses. A missing file is
    fine (a new environment). Runs in the caller's thread and reads two pages.
    """
    if not data_file.exists():
        return
    size = data_file.stat().st_size
    with data_file.open("rb") as fh:
        head = fh.read(_PAGE_HEADER + 144)
        metas = []
        first = _read_meta(head)
        if first is not None:
            metas.append(first)
        # The second meta page starts one page in; guess the usual size if the first is bad.
        fh.seek(first[0] if first is not None else _DEFAULT_PSIZE)
        second = _read_meta(fh.read(_PAGE_HEADER + 144))
        if second is not None and (first is None or second[0] == first[0]):
            metas.append(second)
    if not metas:
        raise damage_error(
            data_file, f"not an LMDB data file, or both its meta pages are damaged ({size} bytes)"
        )
    psize, last_pg, txnid = max(metas, key=lambda meta: meta[2])
    needed = (last_pg + 1) * psize
    if size < needed:
        raise damage_error(
            data_file,
            f"the file is truncated: {size} bytes, but its last committed transaction "
            f"(txn {txnid}) uses pages up to byte {needed}",
        )


def _read_meta(page: bytes) -> tuple[int, int, int] | None:
    """Return (page size, last page, txn id) of one meta page, or ``None`` if invalid."""
    if len(page) < _LAST_PG_TXNID_AT + _LAST_PG_TXNID.size:
        return None
    magic, version = _META.unpack_from(page, _PAGE_HEADER)
    if magic != _MAGIC or version != _DATA_VERSION:
        return None
    (psize,) = struct.unpack_from("<I", page, _PSIZE_AT)
    if psize < _MIN_PSIZE or psize & (psize - 1):
        return None
    last_pg, txnid = _LAST_PG_TXNID.unpack_from(page, _LAST_PG_TXNID_AT)
    return psize, last_pg, txnid
