"""Storage benchmark: durable journal appends and a 100-actor snapshot, on real LMDB.

``python -m tests.bench.storage --json FILE [--quick]``. Metrics: durable appends per second
in batches of 1 and of 64 (one fsync'd commit per batch), and the time to write 100 actors'
states durably (one commit) and lazily (staged). The reference, measured in the same run on
the same disk, is a plain file append + fsync of the same bytes; the ratios are LMDB's cost
over it. The goal of issue 7 is a 100-actor snapshot under 5 ms.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import orjson

from messages.settings import StorageSettings
from storage import Snapshot, Store
from tests.bench._report import best_of, parse_args, write_report

EVENT = orjson.dumps(
    {
        "type": "OrderFilled",
        "ts_event": 1_700_000_000_000_000_000,
        "ts_init": 1_700_000_000_000_250_000,
        "fill_id": "987654",
        "client_order_id": "p42-entry-1",
        "order_id": "1234567",
        "symbol": "BTCUSD",
        "side": "BUY",
        "price": "65000.50",
        "size": 10,
        "leaves_size": 0,
        "fee": "0.1950",
        "fee_asset": "USD",
    }
)
STATE = orjson.dumps({"position": 10, "entry": "65000.5", "stops": [64000.0] * 20, "seq": 1})


def _plain_appends(path: Path, batches: int, batch: int) -> float:
    """Seconds for ``batches`` appends of ``batch`` events to a plain file, fsync each."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    payload = EVENT * batch
    try:
        return best_of(1, lambda: [(os.write(fd, payload), os.fsync(fd)) for _ in range(batches)])
    finally:
        os.close(fd)


def _appends(store: Store, events: list[bytes], commits: int) -> float:
    """Seconds for ``commits`` durable appends of ``events`` (one commit each)."""
    return best_of(1, lambda: [store.append(events) for _ in range(commits)])


def main() -> None:
    """Run the measurements and write the report."""
    args = parse_args(__doc__ or "")
    commits = 50 if args.quick else 1000
    repeats = 5 if args.quick else 30
    metrics: dict[str, float] = {}
    ratios: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        folder = Path(tmp)
        with Store.open(folder / "state", StorageSettings(map_size_mb=64)) as store:
            for batch in (1, 64):
                events = [EVENT] * batch
                seconds = _appends(store, events, commits)
                plain = _plain_appends(folder / f"plain-{batch}", commits, batch)
                metrics[f"durable_appends_per_s_batch_{batch}"] = commits * batch / seconds
                metrics[f"plain_fsync_appends_per_s_batch_{batch}"] = commits * batch / plain
                ratios[f"append_batch_{batch}_vs_plain_fsync"] = seconds / plain

            snaps = [
                Snapshot(actor_id=f"position:p{i}", state=STATE, last_seq=i, schema=1)
                for i in range(100)
            ]
            durable = best_of(repeats, lambda: store.put_snapshots(snaps))
            lazy = best_of(repeats, lambda: store.put_snapshots(snaps, durable=False))
            store.flush()
            plain = _plain_appends(folder / "plain-snap", 1, 100)
            metrics["snapshot_100_actors_durable_ms"] = durable * 1e3
            metrics["snapshot_100_actors_lazy_ms"] = lazy * 1e3
            metrics["plain_fsync_100_states_ms"] = plain * 1e3
            ratios["snapshot_100_durable_vs_plain_fsync"] = durable / plain
            ratios["snapshot_100_durable_vs_goal_5ms"] = durable * 1e3 / 5.0
    write_report("storage", metrics, ratios, args.json)


if __name__ == "__main__":
    main()
