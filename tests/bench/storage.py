"""Storage benchmark: durable journal appends, a 100-actor snapshot, and a warm restart.

``python -m tests.bench.storage --json FILE [--quick]``. Metrics: durable appends per second
in batches of 1 and of 64 (one fsync'd commit per batch), and the time to write 100 actors'
states durably (one commit) and lazily (staged). The reference, measured in the same run on
the same disk, is a plain file append + fsync of the same bytes; the ratios are LMDB's cost
over it. The goal of issue 7 is a 100-actor snapshot under 5 ms.

Restart to ready (``restart_*``): a storage writer and the market subtree for 3 symbols
(15m candles, 1,400 kept) against the simulator over real sockets (its clock at 90x: a
candle lasts 10 s, so a restart of a fraction of a second usually stays within one, as a
restart of seconds does on the venue). Timed from opening the store to the first
``IndicatorsUpdated`` of every symbol, which the indicators actor publishes only once its
set is warm and its feed synced. Cold: an empty store, so every feed fetches 1,400 candles
over REST and the indicators warm up on them. Warm: the store the cold run left; the feeds
restore their candles from the snapshot and fetch only what is missing (usually nothing).
Both runs measure the same thing, the same way: the same tree, store, simulator and "ready".
Best (and median) of N cold-then-warm pairs; the goal of ``restart_cold_over_warm`` is at
least 10. The parts that differ, outside the actors, for 3 symbols: the REST history
against reading and decoding the snapshots (``history_*``, ratio
``history_rest_over_snapshot``), and the indicators' warm-up against restoring
``IndicatorSet`` bytes (``indicators_*``: why indicators are not snapshotted).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import orjson

from actors import Actor, ChildSpec, Strategy, Supervisor, SupervisorSpec, ThreadedRuntime
from actors._durable import STORAGE_ID
from actors._storage_writer import StorageWriter
from actors.market import MarketTiming, feed_id, market_tree, rest_factory
from actors.market._columns import RowCache, candles_from_rows
from exchange.sim import SimExchange, default_products
from indicators import IndicatorSet, RollingCorrelation
from messages import Candle, IndicatorsUpdated
from messages.settings import Settings, StorageSettings
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


class _Ready(Actor):
    """Notes the first IndicatorsUpdated of each symbol; sets ``done`` when all came."""

    def __init__(self, symbols: tuple[str, ...], done: threading.Event) -> None:
        self.waiting = set(symbols)
        self.done = done

    def on_start(self) -> None:
        self.context.subscribe(IndicatorsUpdated)

    def on_indicators_updated(self, update: IndicatorsUpdated) -> None:
        self.waiting.discard(update.symbol)
        if not self.waiting:
            self.done.set()


def _restart_settings() -> Settings:
    """3 symbols, 15m candles, 1,400 kept (the correlation window is shorter)."""
    base = Settings()
    return replace(
        base,
        sim=replace(base.sim, speed=0.1),
        exchange=replace(base.exchange, history_candles=1400),
        hedge=replace(base.hedge, correlation_window_days=1),
    )


def _start_to_ready(sim: SimExchange, settings: Settings, state: Path) -> tuple[float, int]:
    """Seconds from opening the store at ``state`` to every symbol's first IndicatorsUpdated,
    and the REST calls the feeds made meanwhile; the runtime is shut down after."""
    storage = StorageSettings(map_size_mb=64, backup_interval_s=0)
    done = threading.Event()
    symbols = settings.bot.symbols
    started = time.perf_counter()
    with Store.open(state, storage) as store:
        runtime = ThreadedRuntime(clock=sim.clock, seed=1)
        children = (
            ChildSpec(
                actor_id=STORAGE_ID, factory=lambda: StorageWriter(store=store, settings=storage)
            ),
            ChildSpec(actor_id="ready", factory=lambda: _Ready(symbols, done)),
            market_tree(
                settings,
                rest_url=sim.rest_url,
                public_ws_url=sim.public_ws_url,
                clock_speed=sim.clock.speed,  # type: ignore[attr-defined]
            ),
        )
        root = SupervisorSpec(strategy=Strategy.ONE_FOR_ONE, max_restarts=5, children=children)
        try:
            runtime.start_root(ChildSpec(actor_id="root", factory=lambda: Supervisor(root)))
            if not done.wait(60):
                raise RuntimeError("the market did not get ready within 60 s")
            seconds = time.perf_counter() - started
            calls = sum(runtime.entry(feed_id(s)).actor.rest_calls for s in symbols)  # type: ignore[union-attr]
        finally:
            leftover = runtime.shutdown(timeout_s=60)
    if leftover:
        raise RuntimeError(f"actors still alive after shutdown: {leftover}")
    return seconds, calls


def _history_parts(
    sim: SimExchange, settings: Settings, state: Path, repeats: int
) -> dict[str, float]:
    """The part of each start that differs, outside the actors, 3 symbols one after another:
    the REST history (client, request, parse) against reading and decoding the stored
    candles (the feeds' series);
    and the indicators' warm-up against restoring IndicatorSet bytes (not done: see
    docs/market.md)."""
    symbols = settings.bot.symbols
    tf = MarketTiming(settings, clock_speed=1.0).timeframe_ns
    keep = MarketTiming(settings, clock_speed=1.0).keep
    history: dict[str, tuple[Candle, ...]] = {}

    def fetch() -> None:
        end_s = sim.clock.now_ns() // tf * tf // 10**9 + 2 * tf // 10**9
        for symbol in symbols:
            rest = rest_factory(sim.rest_url, settings.exchange)()
            try:
                history[symbol] = rest.get_candles(
                    symbol, resolution="15m", start_s=end_s - (keep + 2) * tf // 10**9, end_s=end_s
                )
            finally:
                rest.close()

    def restore() -> None:
        with Store.open(state, StorageSettings(map_size_mb=64)) as store:
            for symbol in symbols:  # what SymbolFeedActor does with its stored series
                rows = store.read_series(feed_id(symbol))
                assert rows, f"no stored candles for {symbol}"
                kept, strs, floats = candles_from_rows(rows, symbol=symbol, timeframe_ns=tf)
                RowCache().put(kept, strs, floats)

    def make() -> IndicatorSet:
        return IndicatorSet.from_settings(settings.strategy, candle_interval_ns=tf)

    rest_s = best_of(repeats, fetch)
    snapshot_s = best_of(repeats, restore)
    warmup_s = best_of(repeats, lambda: [make().warmup(history[s][:keep]) for s in symbols])
    data = make().to_bytes()
    bytes_s = best_of(repeats, lambda: [IndicatorSet.from_bytes(data) for _ in symbols])
    return {
        "history_rest_3x1400_ms": rest_s * 1e3,
        "history_snapshot_3x1400_ms": snapshot_s * 1e3,
        "indicators_warmup_3x1400_ms": warmup_s * 1e3,
        "indicators_from_bytes_3_ms": bytes_s * 1e3,
    }


def restart_times(folder: Path, *, pairs: int) -> dict[str, float]:
    """Best cold and warm restore-to-ready times over ``pairs`` cold-then-warm runs, and
    the parts of a start that differ (:func:`_history_parts`)."""
    IndicatorSet().warmup([])  # numba kernels compiled or loaded before any timing
    RollingCorrelation(window=2, n_symbols=3)
    settings = _restart_settings()
    cold, warm, warm_calls = [], [], []
    with SimExchange(settings.sim, products=default_products(), period_s=0.2) as sim:
        for i in range(pairs + 1):
            state = folder / f"restart-{i}"
            seconds, _ = _start_to_ready(sim, settings, state)
            again, calls = _start_to_ready(sim, settings, state)
            if i:  # the first pair warms up imports, connections and caches
                cold.append(seconds)
                warm.append(again)
                warm_calls.append(calls)
        parts = _history_parts(sim, settings, state, repeats=3 if pairs < 3 else 10)
    return {
        "restart_cold_to_ready_ms": min(cold) * 1e3,
        "restart_warm_to_ready_ms": min(warm) * 1e3,
        "restart_cold_median_ms": sorted(cold)[len(cold) // 2] * 1e3,
        "restart_warm_median_ms": sorted(warm)[len(warm) // 2] * 1e3,
        "restart_warm_rest_calls_max": float(max(warm_calls)),
        **parts,
    }


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
        restart = restart_times(folder, pairs=1 if args.quick else 5)
        metrics.update(restart)
        ratios["restart_cold_over_warm"] = (
            restart["restart_cold_to_ready_ms"] / restart["restart_warm_to_ready_ms"]
        )
        ratios["restart_cold_over_warm_median"] = (
            restart["restart_cold_median_ms"] / restart["restart_warm_median_ms"]
        )
        ratios["history_rest_over_snapshot"] = (
            restart["history_rest_3x1400_ms"] / restart["history_snapshot_3x1400_ms"]
        )
    write_report("storage", metrics, ratios, args.json)


if __name__ == "__main__":
    main()
