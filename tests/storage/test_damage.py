"""A damaged, truncated or foreign environment is refused at open, with a clear message."""

from __future__ import annotations

import struct
from pathlib import Path

import lmdb
import pytest

from messages.settings import StorageSettings
from storage import SCHEMA_VERSION, Databases, SchemaVersionError, StorageCorruptError, Store
from storage._schema import SCHEMA_KEY

SMALL = StorageSettings(map_size_mb=1, map_size_max_mb=4)


def _fill(state_dir: Path, *, backup: bool = False) -> Path | None:
    with Store.open(state_dir, SMALL) as store:
        for _ in range(50):
            store.append([b"e" * 500] * 20)
        return store.backup() if backup else None


def test_truncated_data_file_is_refused_and_names_the_newest_backup(tmp_path: Path) -> None:
    backup = _fill(tmp_path, backup=True)
    data = tmp_path / "data.mdb"
    size = data.stat().st_size
    with data.open("r+b") as fh:
        fh.truncate(size // 2)
    with pytest.raises(StorageCorruptError, match="truncated") as info:
        Store.open(tmp_path, SMALL)
    message = str(info.value)
    assert str(data) in message
    assert str(backup) in message
    assert "snapshot restore" in message
    assert info.value.newest_backup == str(backup)


def test_truncated_without_backup_says_there_is_none(tmp_path: Path) -> None:
    _fill(tmp_path)
    data = tmp_path / "data.mdb"
    with data.open("r+b") as fh:
        fh.truncate(data.stat().st_size - 4096)
    with pytest.raises(StorageCorruptError, match="No backup exists"):
        Store.open(tmp_path, SMALL)


def test_garbage_data_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data.mdb").write_bytes(b"not lmdb at all" * 1000)
    with pytest.raises(StorageCorruptError, match="not an LMDB data file"):
        Store.open(tmp_path, SMALL)


def test_journal_gap_is_refused(tmp_path: Path) -> None:
    _fill(tmp_path)
    env = lmdb.open(str(tmp_path), max_dbs=4)
    with env.begin(write=True) as txn:
        txn.delete(struct.pack(">Q", 500), db=env.open_db(b"journal", txn=txn))
    env.close()
    with pytest.raises(StorageCorruptError, match="gap"):
        Store.open(tmp_path, SMALL)


def _set_version(state_dir: Path, version: int) -> None:
    Store.open(state_dir, SMALL).close()
    env = lmdb.open(str(state_dir), max_dbs=4)
    with env.begin(write=True) as txn:
        txn.put(SCHEMA_KEY, struct.pack(">I", version), db=env.open_db(b"meta", txn=txn))
    env.close()


def test_newer_schema_version_is_refused_with_both_versions(tmp_path: Path) -> None:
    _set_version(tmp_path, SCHEMA_VERSION + 1)
    with pytest.raises(SchemaVersionError) as info:
        Store.open(tmp_path, SMALL)
    message = str(info.value)
    assert f"version {SCHEMA_VERSION + 1}" in message
    assert f"reads version {SCHEMA_VERSION}" in message
    assert str(tmp_path / "data.mdb") in message
    assert "newer" in message
    assert (info.value.found, info.value.expected) == (SCHEMA_VERSION + 1, SCHEMA_VERSION)


def test_older_schema_without_migration_is_refused(tmp_path: Path) -> None:
    _set_version(tmp_path, SCHEMA_VERSION - 1)
    with pytest.raises(SchemaVersionError, match="no migration from version"):
        Store.open(tmp_path, SMALL, migrations={})


def test_older_schema_is_migrated_by_the_registered_steps(tmp_path: Path) -> None:
    _set_version(tmp_path, SCHEMA_VERSION - 1)

    def step(txn: lmdb.Transaction, dbs: Databases) -> None:
        txn.put(b"migrated", b"yes", db=dbs.meta)

    with Store.open(tmp_path, SMALL, migrations={SCHEMA_VERSION - 1: step}):
        pass
    with Store.open(tmp_path, SMALL, migrations={}) as store:  # now current: no step needed
        txn = store.env.begin(db=store.databases.meta)
        assert txn.get(b"migrated") == b"yes"
        txn.abort()
