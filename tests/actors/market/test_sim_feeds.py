"""Feeds, indicators and correlation against the simulator, and killing each market actor:
candles equal the simulator's (also across a backfilled gap), indicators equal a batch run
over the same candles, and one actor's restart does not interrupt the other symbols."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np
import pytest

from actors.market import STREAM_ID, book_id, feed_id, indicators_id
from exchange.delta import DeltaRestClient
from exchange.sim import SimExchange
from indicators import IndicatorSet, candles_to_array
from messages import (
    Candle,
    CandleClosed,
    CandleHistoryLoaded,
    CorrelationUpdated,
    FeedHealth,
    IndicatorsUpdated,
    KillActor,
    TopOfBook,
    UnixNanos,
)
from messages.settings import Settings
from tests.actors.market.conftest import SYMBOLS, Market, market_settings, start_market, wait_until

KINDS = (
    TopOfBook,
    CandleClosed,
    CandleHistoryLoaded,
    IndicatorsUpdated,
    FeedHealth,
    CorrelationUpdated,
)
_IDS = itertools.count(1)


def settings_1m() -> Settings:
    s = market_settings()
    # A killed actor waits ~1.5 s real (90 s of 60x clock, over a 1m candle) to restart.
    sup = replace(s.supervision, backoff_initial_ms=1500, backoff_max_ms=1500, max_restarts=10)
    return replace(s, bot=replace(s.bot, timeframe="1m"), supervision=sup)


@pytest.fixture
def market(manual_sim: SimExchange) -> Iterator[Market]:
    running = start_market(manual_sim, settings_1m(), KINDS)
    try:
        yield running
    finally:
        assert running.runtime.shutdown(timeout_s=60) == []


def run_market(market: Market, seconds: float) -> None:
    """Step the simulator's market every 50 ms for ``seconds`` real seconds."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        market.sim.market.step()
        time.sleep(0.05)


def wait_stepping(market: Market, condition: Callable[[], bool], what: str) -> None:
    """Keep the market moving (a step every 50 ms) until ``condition`` holds, at most 60 s.

    Feeds sync on live candle frames, so a wait that stopped the market could never end.
    """
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in 60 s: {what}")
        market.sim.market.step()
        time.sleep(0.05)


def kill(market: Market, actor_id: str) -> None:
    now = UnixNanos(market.runtime.clock.now_ns())
    market.runtime.send(
        actor_id, KillActor(command_id=f"k{next(_IDS)}", ts_init=now, actor_id=actor_id)
    )  # type: ignore[arg-type]


def sim_candles(market: Market, symbol: str, start_ns: int, end_ns: int) -> dict[int, object]:
    rest = DeltaRestClient(
        market.sim.rest_url,
        api_key=None,
        api_secret=None,
        settings=Settings().exchange,
        clock=market.runtime.clock,
    )
    try:
        got = rest.get_candles(
            symbol, resolution="1m", start_s=start_ns // 10**9, end_s=end_ns // 10**9 + 1
        )
    finally:
        rest.close()
    return {c.open_time_ns: c for c in got}


def batch_row(candles: list[Candle]) -> np.ndarray:
    return IndicatorSet().run(candles_to_array(candles)).values[-1][[0, 1, 3, 4, 5]]


def check_candles_and_indicators(market: Market, symbol: str) -> None:
    """Every candle equals the simulator's, and every candle the simulator has in that span
    was published (a minute without trades has no candle on either side: not a gap); every
    IndicatorsUpdated equals a batch run over the candles the indicators actor had seen (the
    latest history plus the closes since)."""
    with market.sink.cond:
        items = list(market.sink.items)
    seen: list[Candle] = []
    checked = 0
    every: dict[int, Candle] = {}
    for item in items:
        if isinstance(item, CandleHistoryLoaded) and item.symbol == symbol:
            seen = list(item.candles)
        elif isinstance(item, CandleClosed) and item.candle.symbol == symbol:
            seen.append(item.candle)
        elif isinstance(item, IndicatorsUpdated) and item.symbol == symbol:
            times = [c.open_time_ns for c in seen]
            assert times == sorted(set(times)), "candles in order, no duplicates"
            got = np.array([item.ema_fast, item.ema_mid, item.ema_trend, item.rsi, item.atr])
            end = times.index(item.open_time_ns) + 1
            # A restarted indicators actor warms up from the feed's kept window, which may
            # start a few candles later than the history it saw first.
            assert any(
                np.array_equal(got, batch_row(seen[start:end]), equal_nan=True)
                for start in range(max(1, end - 1400))
            ), f"indicators at {item.open_time_ns} differ from a batch run"
            checked += 1
        else:
            continue
        every.update((c.open_time_ns, c) for c in seen)
    assert checked, "indicators published"
    truth = sim_candles(market, symbol, min(every), max(every))
    assert every == {t: c for t, c in truth.items() if t <= max(every)}, "the simulator's"


def test_candles_indicators_and_correlation(market: Market) -> None:
    run_market(market, 2.5)
    for symbol in SYMBOLS:
        wait_stepping(market, lambda s=symbol: len(market.sink.of(CandleClosed, s)) >= 2, symbol)
        check_candles_and_indicators(market, symbol)
    wait_stepping(market, lambda: bool(market.sink.of(CorrelationUpdated)), "correlation")
    update = market.sink.of(CorrelationUpdated)[-1]
    assert update.symbols == SYMBOLS and len(update.matrix) == 3


@pytest.mark.parametrize(
    "victim",
    [book_id("BTCUSD"), feed_id("BTCUSD"), indicators_id("BTCUSD"), "correlation", STREAM_ID],
)
def test_killed_actor_restarts_and_resyncs(market: Market, victim: str) -> None:
    run_market(market, 1.2)
    wait_stepping(market, lambda: market.actor(feed_id("BTCUSD")).feed.synced, "feed synced")
    eth_tops = len(market.sink.of(TopOfBook, "ETHUSD"))
    kill(market, victim)
    run_market(market, 2.5)  # across the restart backoff and at least one candle
    entry = market.runtime.entry(victim)
    wait_until(lambda: entry.restarts == 1 and entry.actor is not None, what="restarted")
    run_market(market, 1.5)
    book = market.actor(book_id("BTCUSD")).book
    wait_until(lambda: book.synced, what="book synced")
    wait_stepping(market, lambda: market.actor(feed_id("BTCUSD")).feed.synced, "feed resynced")
    wait_until(lambda: market.actor(indicators_id("BTCUSD")).logic.set is not None)
    others = [book_id(s) for s in SYMBOLS] + [feed_id(s) for s in SYMBOLS]
    assert all(market.runtime.entry(a).restarts == 0 for a in others if a != victim)
    if victim != STREAM_ID:  # the shared connection is the one thing all symbols use
        assert len(market.sink.of(TopOfBook, "ETHUSD")) > eth_tops + 10
    wait_stepping(
        market, lambda: len(market.sink.of(CandleClosed, "BTCUSD")) >= 3, "three candles closed"
    )
    check_candles_and_indicators(market, "BTCUSD")
    if victim == STREAM_ID:
        assert market.actor(feed_id("BTCUSD")).feed.gaps_backfilled >= 1
