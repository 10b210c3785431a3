"""``python bot.py snapshot list|show|export|restore``: real processes on a real LMDB store.

The readers (``storage._inspect``) are also checked in-process, where that is quicker.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from messages.settings import StorageSettings
from storage import (
    ClosedTrade,
    NoStateError,
    SnapshotNotFoundError,
    Store,
    format_listing,
    listing,
    open_existing,
    snapshot_json,
)
from tests.storage.test_lock import held_by_child

REPO = Path(__file__).resolve().parents[2]
SMALL = StorageSettings(map_size_mb=1, map_size_max_mb=8)
RISK = {"equity": "1000.25", "peak": "1200", "killed": False}
BINARY = b"BTIS\x00\x01\xff"


def _snapshot(*args: str, state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "bot.py", "snapshot", *args, "--state", str(state)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _populate(state: Path) -> None:
    with Store.open(state, SMALL) as store:
        store.append([f"event-{i}".encode() for i in range(1, 21)])
        store.put_snapshot("risk", orjson.dumps(RISK), 20, 3)
        store.put_snapshot("position:p42", b'{"qty":3}', 15, 2)
        store.put_snapshot("indicators:BTCUSD", BINARY, 12, 1, durable=False)
        store.put_trade(ClosedTrade(closed_ns=7, trade_id="p41", record=b'{"pnl":"2.5"}'))


def _contents(state: Path) -> tuple[object, ...]:
    with Store.open(state, SMALL) as store:
        return list(store.read_journal()), list(store.iter_snapshots()), list(store.iter_trades())


def _one_error_line(result: subprocess.CompletedProcess[str], action: str) -> str:
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"bot.py snapshot {action}: "), lines
    return lines[0]


def test_list_show_export_restore_round_trip(tmp_path: Path) -> None:
    state = tmp_path / "state"
    _populate(state)
    original = _contents(state)

    listed = _snapshot("list", state=state)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "ACTOR ID           SEQ  LAG  SCHEMA  BYTES",
        "indicators:BTCUSD   12    8       1      7",
        "position:p42        15    5       2      9",
        f"risk                20    0       3     {len(orjson.dumps(RISK))}",
        f"{state}: journal seq 1-20, 3 snapshots, 1 closed trade, 0 backups",
        "LAG = journal entries committed after the snapshot's SEQ (snapshots carry no time)",
    ]

    as_json = orjson.loads(_snapshot("list", "--json", state=state).stdout)
    assert as_json["journal_first"] == 1 and as_json["journal_last"] == 20
    assert as_json["trades"] == 1 and as_json["backups"] == []
    assert as_json["snapshots"][1] == {
        "actor_id": "position:p42",
        "last_seq": 15,
        "lag": 5,
        "schema": 2,
        "bytes": 9,
    }

    shown = _snapshot("show", "risk", state=state)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith('{\n  "actor_id": "risk",\n')  # indented
    assert orjson.loads(shown.stdout) == {
        "actor_id": "risk",
        "last_seq": 20,
        "lag": 0,
        "schema": 3,
        "bytes": len(orjson.dumps(RISK)),
        "state_format": "json",
        "state": RISK,
    }

    export = tmp_path / "state.jsonl"
    exported = _snapshot("export", str(export), state=state)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == f"exported 24 records from {state} to {export}\n"

    with Store.open(state, SMALL) as store:  # change everything after the export
        store.append([b"later-1", b"later-2"])
        store.put_snapshot("risk", b'{"equity":"1"}', 22, 3)
        store.put_snapshot("position:p43", b"{}", 22, 2)
    restored = _snapshot("restore", str(export), state=state)
    assert restored.returncode == 0, restored.stderr
    lines = restored.stdout.splitlines()
    (aside,) = state.glob("data.mdb.replaced-*")
    assert lines == [
        f"restored {state / 'data.mdb'} from {export}",
        f"old data: moved aside to {aside} (delete it when satisfied)",
        "journal seq 1-20, 3 snapshots, 1 closed trade",
    ]
    assert _contents(state) == original
    (tmp_path / "aside").mkdir()
    shutil.copyfile(aside, tmp_path / "aside" / "data.mdb")
    with Store.open(tmp_path / "aside", SMALL) as store:  # the modified data, kept whole
        assert store.last_seq() == 22

    shutil.rmtree(state)  # wiped: restore builds the directory again
    again = _snapshot("restore", str(export), state=state)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[1] == "old data: none"
    assert _contents(state) == original
    assert _snapshot("list", state=state).stdout == listed.stdout


def test_show_of_an_unknown_id_names_it_and_the_closest(tmp_path: Path) -> None:
    _populate(tmp_path)
    line = _one_error_line(_snapshot("show", "riks", state=tmp_path), "show")
    assert line == (
        f"bot.py snapshot show: no snapshot 'riks' in {tmp_path / 'data.mdb'}; did you mean 'risk'?"
    )


@pytest.mark.parametrize("args", [("list",), ("show", "risk"), ("export", "out.jsonl")])
def test_readers_refuse_a_missing_state_dir_without_creating_it(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    missing = tmp_path / "nope"
    line = _one_error_line(_snapshot(*args, state=missing), args[0])
    assert f"state directory {missing} does not exist" in line
    assert not missing.exists()


def test_restore_is_refused_while_another_process_holds_the_state(tmp_path: Path) -> None:
    state = tmp_path / "state"
    _populate(state)
    with Store.open(state, SMALL) as store:
        store.export(tmp_path / "state.jsonl")
    with held_by_child(state) as child:
        result = _snapshot("restore", str(tmp_path / "state.jsonl"), state=state)
        line = _one_error_line(result, "restore")
        assert f"is in use by process {child.pid} (another bot is running)" in line
        assert not list(state.glob("data.mdb.replaced-*"))  # nothing was touched
    # The holder is gone (killed on leaving the block): the same restore now goes through.
    assert _snapshot("restore", str(tmp_path / "state.jsonl"), state=state).returncode == 0


def test_forget_removes_one_snapshot_and_refuses_an_unknown_id_or_a_running_bot(
    tmp_path: Path,
) -> None:
    _populate(tmp_path)
    line = _one_error_line(_snapshot("forget", "strategy:XRP", state=tmp_path), "forget")
    assert "no snapshot 'strategy:XRP'" in line
    with held_by_child(tmp_path) as child:
        line = _one_error_line(_snapshot("forget", "position:p42", state=tmp_path), "forget")
        assert f"is in use by process {child.pid}" in line
    result = _snapshot("forget", "position:p42", state=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "forgot the snapshot of position:p42" in result.stdout
    journal, snapshots, trades = _contents(tmp_path)
    assert [s.actor_id for s in snapshots] == ["indicators:BTCUSD", "risk"]  # type: ignore[attr-defined]
    assert len(journal) == 20 and len(trades) == 1  # type: ignore[arg-type]


def test_restore_of_a_bad_file_is_one_line_and_leaves_the_data(tmp_path: Path) -> None:
    _populate(tmp_path / "state")
    before = _contents(tmp_path / "state")
    (tmp_path / "junk.jsonl").write_bytes(b'{"kind": "something"}\n')
    result = _snapshot("restore", str(tmp_path / "junk.jsonl"), state=tmp_path / "state")
    assert "is not a state export" in _one_error_line(result, "restore")
    assert _contents(tmp_path / "state") == before


@pytest.mark.parametrize("args", [(), ("show",), ("frob",)])
def test_usage_errors_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    assert _snapshot(*args, state=tmp_path).returncode == 2


# --- the readers, in-process ------------------------------------------------------------------


def test_binary_state_is_shown_as_base64(tmp_path: Path) -> None:
    _populate(tmp_path)
    with open_existing(tmp_path, SMALL) as store:
        doc = snapshot_json(store, "indicators:BTCUSD")
    assert doc["state_format"] == "base64"
    assert base64.b64decode(str(doc["state"])) == BINARY


def test_unknown_id_without_a_close_match_lists_the_stored_ids(tmp_path: Path) -> None:
    _populate(tmp_path)
    with open_existing(tmp_path, SMALL) as store, pytest.raises(SnapshotNotFoundError) as info:
        snapshot_json(store, "zzz")
    assert info.value.known == ["indicators:BTCUSD", "position:p42", "risk"]
    assert str(info.value).endswith("stored ids: indicators:BTCUSD, position:p42, risk")


def test_open_existing_refuses_a_directory_without_data(tmp_path: Path) -> None:
    with pytest.raises(NoStateError, match=r"has no data\.mdb"):
        open_existing(tmp_path, SMALL)
    assert list(tmp_path.iterdir()) == []


def test_empty_store_lists_no_snapshots(tmp_path: Path) -> None:
    Store.open(tmp_path, SMALL).close()
    with open_existing(tmp_path, SMALL) as store:
        lines = format_listing(listing(store))
    summary = f"{tmp_path}: journal empty, 0 snapshots, 0 closed trades, 0 backups"
    assert lines == ["no snapshots", summary]
