"""Store against real LMDB: journal, snapshots, series, trades, map growth."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from messages.settings import StorageSettings
from storage import (
    ClosedTrade,
    Snapshot,
    StorageCorruptError,
    StorageError,
    StorageFullError,
    Store,
)

SMALL = StorageSettings(map_size_mb=1, map_size_max_mb=4)


def test_append_numbers_batches_gap_free_across_reopen(tmp_path: Path) -> None:
    with Store.open(tmp_path, SMALL) as store:
        assert store.last_seq() == 0
        assert store.append([]) == 0
        assert store.append([b"a", b"b", b"c"]) == 3
        assert store.append([b"d"]) == 4
    with Store.open(tmp_path, SMALL) as store:
        assert store.first_seq() == 1
        assert store.append([b"e", b"f"]) == 6
        assert list(store.read_journal()) == [
            (1, b"a"), (2, b"b"), (3, b"c"), (4, b"d"), (5, b"e"), (6, b"f")
        ]  # fmt: skip
        assert list(store.read_journal(4)) == [(5, b"e"), (6, b"f")]
        assert list(store.read_journal(6)) == []


def test_read_journal_crosses_chunks_in_order(tmp_path: Path) -> None:
    with Store.open(tmp_path, SMALL) as store:
        store.append([str(i).encode() for i in range(1, 2501)])
        got = list(store.read_journal(10, chunk=100))
    assert [seq for seq, _ in got] == list(range(11, 2501))
    assert all(event == str(seq).encode() for seq, event in got)


def test_snapshots_round_trip_and_replace(tmp_path: Path) -> None:
    with Store.open(tmp_path, SMALL) as store:
        assert store.get_snapshot("risk") is None
        store.put_snapshot("risk", b'{"equity":"100.5"}', 7, 2)
        store.put_snapshot("risk", b'{"equity":"101"}', 9, 2)
        store.put_snapshots(
            [
                Snapshot(actor_id=f"position:p{i}", state=b"{}", last_seq=i, schema=1)
                for i in range(3)
            ]
        )
    with Store.open(tmp_path, SMALL) as store:
        assert store.get_snapshot("risk") == Snapshot(
            actor_id="risk", state=b'{"equity":"101"}', last_seq=9, schema=2
        )
        assert [s.actor_id for s in store.iter_snapshots()] == [
            "position:p0", "position:p1", "position:p2", "risk"
        ]  # fmt: skip


def test_lazy_snapshot_is_visible_at_once_and_written_by_the_next_durable_commit(
    tmp_path: Path,
) -> None:
    store = Store.open(tmp_path, SMALL)
    store.put_snapshot("indicators:BTCUSD", b"[1.5]", 0, 1, durable=False)
    assert store.get_snapshot("indicators:BTCUSD") is not None
    assert not _stored_elsewhere(tmp_path, "indicators:BTCUSD")  # not yet on disk
    store.append([b"fill"])  # any durable commit carries it
    assert _stored_elsewhere(tmp_path, "indicators:BTCUSD")
    store.close()


def test_series_rows_are_staged_then_written_once_and_kept_within_the_window(
    tmp_path: Path,
) -> None:
    """A series (a feed's closed candles) is written a row at a time: staged like a lazy
    snapshot, visible at once, on disk with the next durable commit; ``keep_from`` drops the
    rows before the window, ``replace`` all of them; names never mix."""
    store = Store.open(tmp_path, SMALL)
    store.put_series("feed:BTCUSD", [(t, b"%d" % t) for t in range(10)])
    store.put_series("feed:BTC", [(5, b"other")])  # a prefix of the other name
    assert not _stored_elsewhere(tmp_path, "feed:BTCUSD", db="series")  # only staged
    assert store.read_series("feed:BTCUSD") == [(t, b"%d" % t) for t in range(10)]
    assert _stored_elsewhere(tmp_path, "feed:BTCUSD", db="series")  # read flushed it
    store.put_series("feed:BTCUSD", [(10, b"10"), (11, b"11")], keep_from=4)
    store.put_series("feed:BTCUSD", [(12, b"12")], keep_from=6)
    store.append([b"fill"])  # any durable commit carries staged rows
    store.close()
    with Store.open(tmp_path, SMALL) as store:
        assert store.read_series("feed:BTCUSD") == [(t, b"%d" % t) for t in range(6, 13)]
        assert store.read_series("feed:BTC") == [(5, b"other")]
        store.put_series("feed:BTCUSD", [(20, b"20")], keep_from=20, replace=True)
        assert store.read_series("feed:BTCUSD") == [(20, b"20")]
        store.put_series("feed:BTC", (), replace=True)
        store.put_series("feed:ETHUSD", [(1, b"1")])  # flushed at close
    with Store.open(tmp_path, SMALL) as store:
        assert store.read_series("feed:BTC") == []
        assert store.read_series("feed:ETHUSD") == [(1, b"1")]
        with pytest.raises(ValueError, match="series name"):
            store.put_series("bad\x00name", [])


def test_second_open_in_one_process_is_an_error_not_damage(tmp_path: Path) -> None:
    with Store.open(tmp_path, SMALL):
        with pytest.raises(StorageError, match="already open") as info:
            Store.open(tmp_path, SMALL)
        assert not isinstance(info.value, StorageCorruptError)


def _stored_elsewhere(state_dir: Path, key: str, db: str = "snapshots") -> bool:
    """Ask another process (LMDB allows one open per process) whether a key of ``db`` is
    stored (for ``series``: whether any key starts with ``key``)."""
    code = (
        "import sys, lmdb; e = lmdb.open(sys.argv[1], max_dbs=5, readonly=True, lock=False); "
        "t = e.begin(); c = t.cursor(db=e.open_db(sys.argv[3].encode(), txn=t)); "
        "k = sys.argv[2].encode(); print(c.set_range(k) and c.key().startswith(k))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(state_dir), key, db],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    return out.stdout.strip() == "True"


def test_lazy_snapshot_is_flushed_at_close(tmp_path: Path) -> None:
    with Store.open(tmp_path, SMALL) as store:
        store.put_snapshot("correlation", b"{}", 0, 1, durable=False)
    with Store.open(tmp_path, SMALL) as store:
        assert store.get_snapshot("correlation") is not None


def test_trades_iterate_by_close_time_and_rewrites_are_idempotent(tmp_path: Path) -> None:
    with Store.open(tmp_path, SMALL) as store:
        store.put_trade(ClosedTrade(closed_ns=300, trade_id="p3", record=b"3"))
        store.put_trade(ClosedTrade(closed_ns=100, trade_id="p1", record=b"1"))
        store.put_trade(ClosedTrade(closed_ns=100, trade_id="p1", record=b"1"))
        assert [(t.closed_ns, t.trade_id) for t in store.iter_trades()] == [
            (100, "p1"), (300, "p3")
        ]  # fmt: skip


def test_map_grows_from_a_tiny_map_and_keeps_growing_across_reopen(tmp_path: Path) -> None:
    event = b"x" * 2000
    with Store.open(tmp_path, SMALL) as store:
        assert store.map_size_bytes == 1 << 20
        for _ in range(100):
            store.append([event] * 10)  # about 2 MB in all
        assert store.map_size_bytes == 4 << 20
        assert store.last_seq() == 1000
    with Store.open(tmp_path, SMALL) as store:
        assert store.map_size_bytes >= 2 << 20
        assert store.last_seq() == 1000


def test_full_map_at_the_limit_raises_and_stores_nothing(tmp_path: Path) -> None:
    settings = StorageSettings(map_size_mb=1, map_size_max_mb=2)
    with Store.open(tmp_path, settings) as store:
        store.append([b"kept"])
        with pytest.raises(StorageFullError, match=r"map_size_max_mb") as info:
            store.append([b"y" * 4000] * 1000)  # 4 MB in one batch
        assert info.value.map_size_bytes == 2 << 20
        assert str(store.data_file) in str(info.value)
        assert store.last_seq() == 1  # the failed batch used no number
        assert store.append([b"next"]) == 2
