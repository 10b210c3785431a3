"""The market: seeded generator (reproducible, correlated, regimes), candles, funding."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import httpx
import numpy as np

from actors._clock import ScaledClock, SimulatedClock
from exchange.sim import CandleStore, CorrelatedGenerator, GeneratorParams, default_products
from tests.exchange.sim.conftest import make_sim
from tests.exchange.sim.helpers import UA, signed

NS = 1_000_000_000


def test_generator_is_reproducible_from_the_seed() -> None:
    a = CorrelatedGenerator(default_products(), seed=7)
    b = CorrelatedGenerator(default_products(), seed=7)
    c = CorrelatedGenerator(default_products(), seed=8)
    first, _ = a.take(5000)
    assert np.array_equal(first, b.take(5000)[0])
    assert not np.array_equal(first, c.take(5000)[0])


def test_generator_correlations_are_near_point_eight_and_regimes_alternate() -> None:
    params = GeneratorParams(step_ms=60_000, trend_mean_hours=24, range_mean_hours=24)
    gen = CorrelatedGenerator(default_products(), seed=3, params=params)
    regimes = []
    chunks = []
    for _ in range(60):  # 60 x 1,000 one-minute steps (~42 days)
        ticks, _ = gen.take(1000)
        chunks.append(ticks)
        regimes.append(gen.trending)
    prices = np.vstack(chunks) * np.array([0.5, 0.05, 0.01])
    returns = np.diff(np.log(prices), axis=0)
    corr = np.corrcoef(returns.T)
    pairs = [corr[0, 1], corr[0, 2], corr[1, 2]]
    assert all(0.7 < r < 0.9 for r in pairs), pairs
    assert True in regimes and False in regimes
    vols = returns.std(axis=0) * np.sqrt(365 * 24 * 60)
    assert 0.3 < vols[0] < 0.9 and vols[2] > vols[0]


def test_candle_store_aggregates_minutes_exactly() -> None:
    store = CandleStore(["X"])
    base = 1_700_000_000 // 900 * 900
    for i, price in enumerate([10, 12, 9, 11, 15, 14]):
        store.add("X", (base + i * 200) * NS, price, 1.0)
    fifteen = store.query("X", 900, base, base + 1800)
    assert [(c.open, c.high, c.low, c.close, c.volume) for c in fifteen] == [
        (10, 15, 9, 15, 5.0),
        (14, 14, 14, 14, 1.0),
    ]
    assert store.query("X", 60, base + 1, base + 59) == []


def test_history_reaches_1400_fifteen_minute_candles() -> None:
    with make_sim(generator=GeneratorParams(history_hours=15 * 24)) as sim:
        now = sim.clock.now_ns() // NS
        with httpx.Client(base_url=sim.rest_url, headers=UA) as http:
            got = http.get(
                "/v2/history/candles",
                params={
                    "symbol": "SOLUSD",
                    "resolution": "15m",
                    "start": now - 1400 * 900,
                    "end": now,
                },
            ).json()["result"]
        assert len(got) >= 1400


def test_funding_is_exchanged_at_the_eight_hour_boundary() -> None:
    start = int(dt.datetime(2026, 1, 5, 7, 59, 0, tzinfo=dt.UTC).timestamp()) * NS
    clock = SimulatedClock(start)
    with make_sim(clock=clock) as sim, httpx.Client(base_url=sim.rest_url, headers=UA) as http:
        sim.engine.set_book("BTCUSD", bids=[("70000.0", 500)], asks=[("70001.0", 500)])
        sim.engine.set_mark_price("BTCUSD", "70000.0")
        signed(
            http,
            sim.api_key,
            sim.api_secret,
            "POST",
            "/v2/orders",
            body={"product_id": 27, "size": 10, "side": "buy", "order_type": "market_order"},
        )
        balance = sim.engine.core.accounts[1].balance
        clock.advance_to(start + 30 * NS)
        sim.market.step(prices={"BTCUSD": "70000.0"})
        assert sim.engine.core.accounts[1].balance == balance  # not yet 08:00
        clock.advance_to(start + 61 * NS)
        sim.market.step(prices={"BTCUSD": "70000.0"})
        rate = sim.engine.core.funding_rate_pct["BTCUSD"]
        paid = 10 * Decimal("0.001") * Decimal("70000") * rate / 100
        assert sim.engine.core.accounts[1].balance == balance - paid
        pos = signed(http, sim.api_key, sim.api_secret, "GET", "/v2/positions/margined").json()[
            "result"
        ][0]
        assert Decimal(pos["realized_funding"]) == -paid
        assert sim.engine.core.next_funding_ns["BTCUSD"] == start + (8 * 3600 + 60) * NS


def test_generator_market_thread_moves_prices_on_a_fast_clock() -> None:
    with make_sim(clock=ScaledClock(speed=900), market="generator", market_tick_s=0.02) as sim:
        core = sim.engine.core
        seq, first_time = core.books["BTCUSD"].seq, sim.candles.last_time_s("BTCUSD")
        deadline = time.monotonic() + 10
        while core.books["BTCUSD"].seq < seq + 3 and time.monotonic() < deadline:
            time.sleep(0.01)  # polling a condition with a deadline, not a guess
        assert core.books["BTCUSD"].seq >= seq + 3
        while sim.candles.last_time_s("BTCUSD") == first_time and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sim.candles.last_time_s("BTCUSD") != first_time  # 900x: a minute per 67 ms
