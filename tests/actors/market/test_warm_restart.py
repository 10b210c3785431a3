"""Warm restart of the market subtree: the feeds keep their closed candles in the store and a
new runtime on the same store starts from them instead of the full REST history.

Logic: :meth:`CandleFeed.on_kept` (no refetch when the restart stayed within a candle, the
missing range joins the history, too old means cold), a REST hole accepted rather than asked
for again, and the snapshot's compact form. Against the simulator (manual market stepped
throughout, real sockets, a real ``storage.Store``): run, shut down, start again on the
same store; the feeds restore their candles, ask the simulator only for the few candles
missing, and candles and indicators still equal the simulator's candles and a batch run.
A feed killed with a writer in the tree restarts warm too. A snapshot of another
timeframe, a damaged one or an old one means a cold start, not a crash."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from actors import ChildSpec, Strategy, Supervisor, SupervisorSpec, ThreadedRuntime
from actors._durable import STORAGE_ID
from actors._storage_writer import StorageWriter
from actors.market import CandleFeed, MarketTiming, feed_id, kept_candles, market_tree
from actors.market._columns import candles_from_rows
from actors.market._feed import candles_from_state, candles_state
from exchange.sim import SimExchange
from messages import Candle, CandleClosed, CandleHistoryLoaded, IndicatorsUpdated
from messages.settings import Settings, StorageSettings
from storage import Snapshot, Store
from tests.actors.market.conftest import SYMBOLS, Market, Probe, Sink, wait_until
from tests.actors.market.test_feed_logic import T0, TF, candle, closed, frame
from tests.actors.market.test_sim_feeds import (
    KINDS,
    check_candles_and_indicators,
    kill,
    settings_1m,
    wait_stepping,
)

STORAGE = StorageSettings(map_size_mb=16, backup_interval_s=0)
MINUTE = 60 * 10**9

# --- logic ------------------------------------------------------------------------------


def kept_feed(kept: range, first_live: int) -> tuple[CandleFeed, Any]:
    feed = CandleFeed("BTCUSD", timeframe_ns=TF, keep=100, stale_after_ns=10**12)
    now = T0 + first_live * TF
    assert feed.on_kept([candle(i) for i in kept], now) is not None
    assert not feed.synced and feed.restored_candles == len(kept)
    return feed, feed.on_candle(frame(first_live), now)


def test_kept_candles_are_the_history_without_a_refetch() -> None:
    """Restarted within candle 10: the kept 0..9 are final, nothing is fetched."""
    feed, step = kept_feed(range(10), 10)
    history = next(m for m in step.publish if type(m) is CandleHistoryLoaded)
    assert list(history.candles) == [candle(i) for i in range(10)]
    assert step.fetch is None and feed.synced
    assert closed(feed.on_candle(frame(11), T0)) == [10]


def test_the_missing_range_joins_the_history() -> None:
    """Kept 0..5, live from 10: 6..9 are fetched before one history 0..9 is published;
    candles closing meanwhile wait behind it."""
    feed, step = kept_feed(range(6), 10)
    assert step.fetch == (T0 + 6 * TF, T0 + 10 * TF)
    assert not any(type(m) is CandleHistoryLoaded for m in step.publish)
    assert feed.on_candle(frame(11), T0).publish == []  # 10 closed: held
    step = feed.on_backfill(*step.fetch, [candle(i) for i in range(6, 10)], T0)
    history = next(m for m in step.publish if type(m) is CandleHistoryLoaded)
    assert list(history.candles) == [candle(i) for i in range(10)]
    assert closed(step) == [10] and feed.synced and step.fetch is None


def test_kept_candles_not_before_the_first_live_one_are_replaced() -> None:
    """A venue clock behind the kept candles: none is before the first live frame, so the
    whole window before it is fetched (after that frame: every candle in it is final)."""
    feed, step = kept_feed(range(10, 15), 10)
    assert step.fetch == (T0 + 10 * TF - 100 * TF, T0 + 10 * TF)
    step = feed.on_backfill(*step.fetch, [candle(i) for i in range(-90, 10)], T0)
    history = next(m for m in step.publish if type(m) is CandleHistoryLoaded)
    assert list(history.candles) == [candle(i) for i in range(-90, 10)] and feed.synced


def test_kept_candles_older_than_keep_mean_a_cold_start() -> None:
    feed = CandleFeed("BTCUSD", timeframe_ns=TF, keep=100, stale_after_ns=10**12)
    assert feed.on_kept([candle(i) for i in range(10)], T0 + 110 * TF) is None
    assert feed.on_kept([], T0) is None
    assert feed.on_kept([candle(i) for i in range(10)], T0 + 108 * TF) is not None


def test_a_hole_the_backfill_returned_is_not_asked_again() -> None:
    """History 0..7 and no candle 8 or 9 on the venue; live 10 closes before the history
    arrives. The start-up gap 8..9 comes back empty: accepted, 10 is published, no loop."""
    feed = CandleFeed("BTCUSD", timeframe_ns=TF, keep=100, stale_after_ns=10**12)
    feed.on_candle(frame(10), T0)
    feed.on_candle(frame(11), T0)  # 10 closed, held until the history
    step = feed.on_history([candle(i) for i in range(8)], T0)
    assert step.fetch == (T0 + 8 * TF, T0 + 10 * TF)
    step = feed.on_backfill(*step.fetch, [], T0)
    assert closed(step) == [10] and step.fetch is None and feed.synced
    assert closed(feed.on_candle(frame(12), T0)) == [11]


def test_candles_state_round_trip_is_exact() -> None:
    odd = dataclasses.replace(candle(3), open=Decimal("1.50"), volume=Decimal("0.001"))
    candles = [candle(1), candle(2), odd]
    state = orjson.loads(orjson.dumps(candles_state("BTCUSD", TF, candles)))
    assert state["candles"][2] == [T0 + 3 * TF, "1.50", "104", "102", "103", "0.001"]
    back = candles_from_state(state, symbol="BTCUSD", timeframe_ns=TF)
    assert back == candles and str(back[2].open) == "1.50"
    assert candles_from_state(state, symbol="ETHUSD", timeframe_ns=TF) == []
    assert candles_from_state(state, symbol="BTCUSD", timeframe_ns=2 * TF) == []
    for rows in ([[1, "x", "1", "1", "1", "1"]], [[1, "1"]], [1], [[1.5, *"11111"]]):
        with pytest.raises(ValueError, match="bad candle row"):
            candles_from_state({**state, "candles": rows}, symbol="BTCUSD", timeframe_ns=TF)
    with pytest.raises(ValueError, match="not a candles state"):
        candles_from_state([], symbol="BTCUSD", timeframe_ns=TF)


# --- against the simulator --------------------------------------------------------------


class HistorySpy:
    """Records every ``GET /v2/history/candles`` the simulator answers: (symbol, candles)."""

    def __init__(self, sim: SimExchange) -> None:
        self.calls: list[tuple[str, int]] = []
        self.lock = threading.Lock()
        routes = sim._app.routes  # the test wraps one route's handler
        for i, route in enumerate(routes):
            if route.pattern.pattern == "/v2/history/candles":
                routes[i] = dataclasses.replace(route, handler=self._wrap(route.handler))

    def _wrap(self, handler: Any) -> Any:
        def spy(request: Any) -> Any:
            result = handler(request)
            with self.lock:
                self.calls.append((request.query["symbol"], len(result)))
            return result

        return spy

    def take(self) -> list[tuple[str, int]]:
        with self.lock:
            calls, self.calls = self.calls, []
        return calls


@contextlib.contextmanager
def stepping(sim: SimExchange) -> Iterator[None]:
    """Step the manual market every 50 ms throughout, across the restart too: a minute with
    no step has no candle on the simulator, a hole the checks would report as a gap."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(0.05):
            sim.market.step()

    thread = threading.Thread(target=run, name="test-stepper", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def start(sim: SimExchange, settings: Settings, store: Store) -> Market:
    """The storage writer, a probe and the market subtree, in that order."""
    runtime = ThreadedRuntime(clock=sim.clock, seed=1)
    sink = Sink()
    children = (
        ChildSpec(
            actor_id=STORAGE_ID, factory=lambda: StorageWriter(store=store, settings=STORAGE)
        ),
        ChildSpec(actor_id="probe", factory=lambda: Probe(KINDS, sink)),
        market_tree(
            settings,
            rest_url=sim.rest_url,
            public_ws_url=sim.public_ws_url,
            clock_speed=getattr(sim.clock, "speed", 1.0),
        ),
    )
    root = SupervisorSpec(strategy=Strategy.ONE_FOR_ONE, max_restarts=50, children=children)
    runtime.start_root(ChildSpec(actor_id="root", factory=lambda: Supervisor(root)))
    return Market(sim, runtime, sink)


def keep_of(settings: Settings) -> int:
    return MarketTiming(settings, clock_speed=1.0).keep


def published(market: Market, symbol: str) -> list[Candle]:
    """The candles a run's feed published for ``symbol``: its last history plus the closes."""
    with market.sink.cond:
        items = list(market.sink.items)
    seen: list[Candle] = []
    for item in items:
        if type(item) is CandleHistoryLoaded and item.symbol == symbol:
            seen = list(item.candles)
        elif type(item) is CandleClosed and item.candle.symbol == symbol:
            seen.append(item.candle)
    return seen


def run_until_synced(market: Market, closes: int) -> None:
    """Step until every feed is synced, has closed ``closes`` candles and indicators came."""
    for symbol in SYMBOLS:
        feed = market.actor(feed_id(symbol)).feed
        wait_stepping(
            market,
            lambda s=symbol, f=feed: f.synced and len(market.sink.of(CandleClosed, s)) >= closes,
            f"{symbol} synced with {closes} closes",
        )
        wait_stepping(
            market, lambda s=symbol: bool(market.sink.of(IndicatorsUpdated, s)), f"{symbol} ind."
        )


def test_restart_resumes_from_the_kept_candles(manual_sim: SimExchange, tmp_path: Path) -> None:
    settings = settings_1m()
    keep = keep_of(settings)
    state_dir = tmp_path / "state"
    spy = HistorySpy(manual_sim)
    with stepping(manual_sim):
        with Store.open(state_dir, STORAGE) as store:
            first = start(manual_sim, settings, store)
            try:
                run_until_synced(first, 2)
                for symbol in SYMBOLS:
                    check_candles_and_indicators(first, symbol)
            finally:
                assert first.runtime.shutdown(timeout_s=60) == []
        cold = spy.take()
        # A full history (a minute the loaded simulator did not step has no candle: slack).
        full = keep - 60
        assert {s for s, n in cold if n >= full} == set(SYMBOLS), f"cold: full histories {cold}"
        kept = {s: published(first, s)[-keep:] for s in SYMBOLS}

        with Store.open(state_dir, STORAGE) as store:  # reopened, as by a new process
            for symbol in SYMBOLS:
                snap = store.get_snapshot(feed_id(symbol))
                assert snap is not None and snap.schema == 3 and len(snap.state) < 100
                # Each kept candle is one row, written once; the window stays keep long.
                rows = store.read_series(feed_id(symbol))
                assert len(rows) == keep
                stored = candles_from_rows(rows, symbol=symbol, timeframe_ns=MINUTE)[0]
                assert stored == kept[symbol] == kept_candles(store, symbol, MINUTE)
            second = start(manual_sim, settings, store)
            try:
                run_until_synced(second, 2)
                warm = spy.take()
                for symbol in SYMBOLS:
                    check_warm_start(second, symbol, kept[symbol], keep)
                assert all(n < 10 for _, n in warm), f"no full history after a restart: {warm}"
            finally:
                assert second.runtime.shutdown(timeout_s=60) == []


def check_warm_start(market: Market, symbol: str, kept: list[Candle], keep: int) -> None:
    """One history, made of the kept candles and the few missing since; then as cold."""
    feed = market.actor(feed_id(symbol))
    assert feed.feed.restored_candles == len(kept) == keep
    assert feed.describe()["restored_candles"] == keep and feed.rest_candles < 10
    history = market.sink.of(CandleHistoryLoaded, symbol)
    assert len(history) == 1
    loaded = history[0].candles
    assert len(loaded) == feed.feed.history_candles == keep
    old = {c.open_time_ns: c for c in kept}
    assert loaded[0].open_time_ns in old and loaded[-1].open_time_ns >= kept[-1].open_time_ns
    assert all(old.get(c.open_time_ns, c) == c for c in loaded), "kept candles reused"
    check_candles_and_indicators(market, symbol)


def test_a_foreign_damaged_or_old_snapshot_means_a_cold_start(
    manual_sim: SimExchange, tmp_path: Path
) -> None:
    settings = settings_1m()
    keep = keep_of(settings)
    old = [candle(i) for i in range(3)]  # November 2023: far more than keep minutes ago
    states = {
        "BTCUSD": orjson.dumps(candles_state("BTCUSD", 5 * MINUTE, old)),  # another timeframe
        "ETHUSD": b"\x00not json",
        "SOLUSD": orjson.dumps(candles_state("SOLUSD", MINUTE, old)),
    }
    spy = HistorySpy(manual_sim)
    with stepping(manual_sim), Store.open(tmp_path / "state", STORAGE) as store:
        store.put_snapshots(
            [
                Snapshot(actor_id=feed_id(s), state=b, last_seq=0, schema=1)
                for s, b in states.items()
            ]
        )
        market = start(manual_sim, settings, store)
        try:
            run_until_synced(market, 2)
            for symbol in SYMBOLS:
                assert market.actor(feed_id(symbol)).feed.restored_candles == 0
                check_candles_and_indicators(market, symbol)
        finally:
            assert market.runtime.shutdown(timeout_s=60) == []
    assert {s for s, n in spy.take() if n >= keep} == set(SYMBOLS)


def test_a_killed_feed_restarts_warm(manual_sim: SimExchange, tmp_path: Path) -> None:
    """With a writer in the tree, a feed restarted by its supervisor restores the candles it
    committed (staged, not yet on disk) and publishes them again as its history."""
    with stepping(manual_sim), Store.open(tmp_path / "state", STORAGE) as store:
        market = start(manual_sim, settings_1m(), store)
        try:
            run_until_synced(market, 1)
            victim = feed_id("BTCUSD")
            kill(market, victim)
            entry = market.runtime.entry(victim)
            wait_until(lambda: entry.restarts == 1 and entry.actor is not None, what="restarted")
            feed = market.actor(victim)
            wait_until(
                lambda: len(market.sink.of(CandleHistoryLoaded, "BTCUSD")) == 2, what="history"
            )
            assert feed.feed.restored_candles > 0 and feed.rest_candles < 10
            closes = len(market.sink.of(CandleClosed, "BTCUSD"))
            wait_until(lambda: len(market.sink.of(CandleClosed, "BTCUSD")) >= closes + 2)
            check_candles_and_indicators(market, "BTCUSD")
        finally:
            assert market.runtime.shutdown(timeout_s=60) == []
