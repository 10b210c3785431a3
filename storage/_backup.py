"""Backups: compact LMDB copies kept under ``state_dir/backups``.

A backup is one file, ``backup-<UTC time>Z-seq<last seq>.mdb``: a compacting copy made by
LMDB from one read transaction, so it is consistent while the bot writes. It is written
under a temporary name, fsync'd, then renamed, so a crash never leaves half a backup that
looks whole. After each backup only the newest ``keep`` are kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import lmdb

from storage._integrity import BACKUP_DIR, BACKUP_GLOB

log = logging.getLogger(__name__)


def write_backup(
    env: lmdb.Environment, folder: Path, *, now_ns: int, last_seq: int, keep: int
) -> Path:
    """Write a compact copy of ``env`` into ``folder`` and keep only the newest ``keep``.

    Runs in the caller's thread and takes about as long as writing the live data once.
    Returns the new file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.fromtimestamp(now_ns / 1e9, tz=dt.UTC)
    base = f"backup-{stamp:%Y%m%dT%H%M%S.%f}Z-seq{last_seq:012d}"
    target = folder / f"{base}.mdb"
    suffix = 1
    while target.exists():
        target = folder / f"{base}-{suffix}.mdb"
        suffix += 1
    partial = target.with_name(target.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        env.copyfd(fd, compact=True)
        os.fsync(fd)
    finally:
        os.close(fd)
    partial.rename(target)
    fsync_dir(folder)
    for old in sorted(folder.glob(BACKUP_GLOB))[:-keep]:
        old.unlink()
        log.info("storage: removed old backup %s", old)
    return target


def list_backups(state_dir: Path) -> list[Path]:
    """Return the backups under ``state_dir/backups``, oldest first."""
    return sorted((state_dir / BACKUP_DIR).glob(BACKUP_GLOB))


def fsync_dir(folder: Path) -> None:
    """Make a file created (or removed) in ``folder`` durable: fsync the folder itself."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
