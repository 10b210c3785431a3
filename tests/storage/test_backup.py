"""Backups keep the newest N; export and restore round trip; bad files are refused."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from messages.settings import StorageSettings
from storage import (
    ClosedTrade,
    ExportFormatError,
    StorageCorruptError,
    Store,
    list_backups,
    newest_backup,
    restore,
)

SMALL = StorageSettings(map_size_mb=1, map_size_max_mb=8, backups_keep=3)


class StepClock:
    """A wall clock that moves one second per reading."""

    def __init__(self) -> None:
        self.now_ns = 1_700_000_000_000_000_000

    def __call__(self) -> int:
        self.now_ns += 1_000_000_000
        return self.now_ns


def _populate(store: Store) -> None:
    store.append([f"event-{i}".encode() for i in range(1, 101)])
    store.put_snapshot("risk", b'{"equity":"1000.25"}', 100, 4)
    store.put_snapshot("indicators:ETHUSD", b"[0.5]", 0, 1, durable=False)
    store.put_trade(ClosedTrade(closed_ns=5, trade_id="p1", record=b'{"pnl":"1.5"}'))


def _contents(state_dir: Path) -> tuple[object, ...]:
    with Store.open(state_dir, SMALL) as store:
        return (
            list(store.read_journal()),
            list(store.iter_snapshots()),
            list(store.iter_trades()),
        )


def test_backups_keep_the_newest_n(tmp_path: Path) -> None:
    with Store.open(tmp_path, SMALL, clock=StepClock()) as store:
        made = []
        for i in range(5):
            store.append([f"e{i}".encode()])
            made.append(store.backup())
    kept = list_backups(tmp_path)
    assert kept == made[-3:]
    assert newest_backup(tmp_path) == made[-1]
    assert all(path.name.endswith(f"-seq{i + 3:012d}.mdb") for i, path in enumerate(kept))


def test_backup_to_another_folder_with_its_own_keep(tmp_path: Path) -> None:
    with Store.open(tmp_path / "state", SMALL) as store:
        for _ in range(3):
            store.backup(tmp_path / "elsewhere", keep=1)
    assert len(list((tmp_path / "elsewhere").glob("backup-*.mdb"))) == 1


def test_export_then_restore_round_trips_everything(tmp_path: Path) -> None:
    with Store.open(tmp_path / "a", SMALL) as store:
        _populate(store)
        assert store.export(tmp_path / "state.jsonl") == 100 + 2 + 1
    restore(tmp_path / "b", tmp_path / "state.jsonl", SMALL)
    assert _contents(tmp_path / "b") == _contents(tmp_path / "a")


def test_restore_from_a_backup_after_damage(tmp_path: Path) -> None:
    with Store.open(tmp_path, SMALL) as store:
        _populate(store)
        backup = store.backup()
        store.append([b"after the backup"])
    before = _contents(tmp_path)
    data = tmp_path / "data.mdb"
    with data.open("r+b") as fh:
        fh.truncate(8192)
    with pytest.raises(StorageCorruptError) as info:
        Store.open(tmp_path, SMALL)
    assert info.value.newest_backup == str(backup)
    kept = restore(tmp_path, backup, SMALL)
    assert kept is not None and kept.stat().st_size == 8192  # the damaged file is kept
    journal, snapshots, trades = _contents(tmp_path)
    assert (snapshots, trades) == before[1:]
    assert journal == before[0][:-1]  # up to the backup


def test_restore_refuses_a_truncated_export_and_leaves_the_live_data(tmp_path: Path) -> None:
    with Store.open(tmp_path, SMALL) as store:
        _populate(store)
        store.export(tmp_path / "x.jsonl")
    lines = (tmp_path / "x.jsonl").read_bytes().splitlines(keepends=True)
    (tmp_path / "cut.jsonl").write_bytes(b"".join(lines[:-1]))
    with pytest.raises(ExportFormatError, match="no end line"):
        restore(tmp_path, tmp_path / "cut.jsonl", SMALL)
    assert len(_contents(tmp_path)[0]) == 100


def test_restore_refuses_an_export_with_a_journal_gap(tmp_path: Path) -> None:
    with Store.open(tmp_path / "a", SMALL) as store:
        _populate(store)
        store.export(tmp_path / "x.jsonl")
    lines = [
        line
        for line in (tmp_path / "x.jsonl").read_bytes().splitlines(keepends=True)
        if orjson.loads(line).get("seq") != 50
    ]
    (tmp_path / "gap.jsonl").write_bytes(b"".join(lines))
    with pytest.raises(ExportFormatError, match="journal gap, seq 51 where 50"):
        restore(tmp_path / "b", tmp_path / "gap.jsonl", SMALL)


def test_restore_refuses_a_file_that_is_neither(tmp_path: Path) -> None:
    (tmp_path / "junk").write_bytes(b'{"kind": "something"}\n')
    with pytest.raises(ExportFormatError, match="not a state export"):
        restore(tmp_path / "b", tmp_path / "junk", SMALL)


def test_restore_refuses_a_truncated_backup(tmp_path: Path) -> None:
    with Store.open(tmp_path / "a", SMALL) as store:
        _populate(store)
        backup = store.backup()
    with backup.open("r+b") as fh:
        fh.truncate(backup.stat().st_size - 4096)
    with pytest.raises(ExportFormatError, match="not a sound backup"):
        restore(tmp_path / "b", backup, SMALL)
    assert not (tmp_path / "b" / "data.mdb").exists()
