"""Restore: replace the environment with a backup file or a JSON-lines export."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path

import lmdb

from messages.settings import StorageSettings
from storage._backup import fsync_dir
from storage._errors import ExportFormatError, StorageError
from storage._integrity import DATA_FILE, LOCK_FILE, check_data_file
from storage._portable import load_export
from storage._schema import MAX_DBS
from storage._store import Store

log = logging.getLogger(__name__)

_LMDB_MAGIC_AT = 16
_LMDB_MAGIC = (0xBEEFC0DE).to_bytes(4, "little")


def restore(
    state_dir: str | Path, file: str | Path, settings: StorageSettings | None = None
) -> Path | None:
    """Replace the environment in ``state_dir`` with a backup file or a JSON-lines export.

    The bot must be stopped. The file is checked in full first (a backup: its pages and
    journal; an export: its header, end line and journal) in a scratch directory, so a bad
    file leaves the live environment untouched. The old ``data.mdb`` is kept beside the new
    one as ``data.mdb.replaced-<UTC time>``; that path is returned (``None`` if there was none).

    Raises:
        ExportFormatError: The file is neither a sound backup nor a sound export.
    """
    state = Path(state_dir)
    source = Path(file)
    scratch = state / ".restore"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        if _is_lmdb_file(source):
            shutil.copyfile(source, scratch / DATA_FILE)
        else:
            size = _export_map_size(source, settings)
            env = lmdb.open(str(scratch), map_size=size, max_dbs=MAX_DBS)
            try:
                load_export(source, env)
            finally:
                env.close()
        try:
            with Store.open(scratch, settings) as check:
                check.check(deep=True)
        except StorageError as exc:
            raise ExportFormatError(
                f"{source} is not a sound backup: {exc}", path=str(source)
            ) from exc
        kept = None
        live = state / DATA_FILE
        if live.exists():
            stamp = dt.datetime.now(tz=dt.UTC)
            kept = state / f"{DATA_FILE}.replaced-{stamp:%Y%m%dT%H%M%S.%f}Z"
            live.rename(kept)
        (state / LOCK_FILE).unlink(missing_ok=True)
        (scratch / DATA_FILE).rename(live)
        fsync_dir(state)
        check_data_file(live)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log.warning("storage: restored %s from %s (old data kept as %s)", live, source, kept)
    return kept


def _is_lmdb_file(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(_LMDB_MAGIC_AT + 4)
    return head[_LMDB_MAGIC_AT:] == _LMDB_MAGIC


def _export_map_size(source: Path, settings: StorageSettings | None) -> int:
    wanted = (settings or StorageSettings()).map_size_mb * 1024 * 1024
    return max(wanted, 4 * source.stat().st_size + 1024 * 1024)
