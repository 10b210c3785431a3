"""CandleFeed, SymbolIndicators and CorrelationTracker logic without threads, and the
indicators actor under both runtimes."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np

from actors import ChildSpec
from actors.market import CandleFeed, CorrelationTracker, IndicatorsActor, SymbolIndicators
from indicators import IndicatorSet, candles_to_array, rolling_correlation
from messages import (
    Candle,
    CandleClosed,
    CandleHistoryLoaded,
    CandleUpdated,
    FeedHealth,
    IndicatorsUpdated,
    UnixNanos,
)
from tests.actors.harness import Harness

TF = 60 * 10**9
T0 = 1_700_000_000 // 60 * 60 * 10**9


def candle(i: int, close: str = "100", symbol: str = "BTCUSD") -> Candle:
    c = Decimal(close) + i
    return Candle(
        symbol=symbol,
        open_time_ns=UnixNanos(T0 + i * TF),
        close_time_ns=UnixNanos(T0 + (i + 1) * TF),
        open=c,
        high=c + 1,
        low=c - 1,
        close=c,
        volume=Decimal(3),
    )


def frame(i: int, close: str = "100") -> CandleUpdated:
    c = candle(i, close)
    return CandleUpdated(ts_event=c.open_time_ns, ts_init=c.open_time_ns, candle=c, resolution="1m")


def closed(step: object) -> list[int]:
    return [(m.candle.open_time_ns - T0) // TF for m in step.publish if type(m) is CandleClosed]  # type: ignore[attr-defined]


def started_feed(history_until: int = 9) -> CandleFeed:
    """A synced feed whose closed candles are 0..history_until and whose forming one is next."""
    feed = CandleFeed("BTCUSD", timeframe_ns=TF, keep=100, stale_after_ns=10**12)
    feed.on_candle(frame(history_until + 1), T0)
    step = feed.on_history([candle(i) for i in range(history_until + 3)], T0)  # overlaps live
    hist = next(m for m in step.publish if type(m) is CandleHistoryLoaded)
    assert len(hist.candles) == history_until and not feed.synced
    assert step.fetch == (T0 + history_until * TF, T0 + (history_until + 1) * TF)
    assert closed(feed.on_backfill(*step.fetch, [candle(history_until)], T0)) == [history_until]
    assert feed.synced
    return feed


def test_last_history_candle_is_fetched_again_after_the_first_live_frame() -> None:
    """History fetched while candle 4 still formed holds a partial 4; the feed must publish
    the final 4, which only a request made after the venue moved to 5 is sure to return."""
    feed = CandleFeed("BTCUSD", timeframe_ns=TF, keep=100, stale_after_ns=10**12)
    partial = replace(candle(4), close=Decimal(1), volume=Decimal(1))
    assert feed.on_history([*map(candle, range(4)), partial], T0).fetch is None  # no frame yet
    step = feed.on_candle(frame(5), T0)
    assert [c.open_time_ns for c in step.publish[0].candles] == [T0 + i * TF for i in range(4)]  # type: ignore[attr-defined]
    assert step.fetch == (T0 + 4 * TF, T0 + 5 * TF)
    step = feed.on_backfill(*step.fetch, [candle(4)], T0)
    assert closed(step) == [4] and feed.closed[-1] == candle(4) and feed.synced


def test_close_detection_and_duplicate_rejection() -> None:
    feed = started_feed()
    assert closed(feed.on_candle(frame(10, "101"), T0)) == []  # forming candle updated
    assert closed(feed.on_candle(frame(11), T0)) == [10]
    assert feed.closed[-1].close == Decimal(111)  # the last values seen
    feed.on_candle(frame(10), T0)  # a frame for a closed candle
    assert feed.candles_rejected == 1 and feed.closed[-1].open_time_ns == T0 + 10 * TF


def test_gap_is_backfilled_in_order() -> None:
    feed = started_feed()
    step = feed.on_candle(frame(14), T0)  # 10 forming, then a jump to 14
    assert step.fetch == (T0 + 10 * TF, T0 + 14 * TF) and not feed.synced
    assert closed(feed.on_candle(frame(15), T0)) == []  # 14 waits behind the gap
    step = feed.on_backfill(*step.fetch, [candle(i) for i in range(10, 14)], T0)
    assert closed(step) == [10, 11, 12, 13, 14] and feed.synced
    assert feed.gaps_backfilled == 2 and feed.candles_backfilled == 5  # with the start-up one
    assert type(step.publish[0]) is FeedHealth and step.publish[0].synced  # healthy first


def test_candle_forming_across_a_reconnect_comes_from_rest() -> None:
    feed = started_feed()
    feed.on_reconnected()
    step = feed.on_candle(frame(11), T0)
    assert step.fetch == (T0 + 10 * TF, T0 + 11 * TF) and closed(step) == []
    step = feed.on_backfill(*step.fetch, [candle(10, "200")], T0)
    assert closed(step) == [10] and feed.closed[-1].close == Decimal(210)


def test_indicators_equal_batch_and_wait_for_a_healthy_feed() -> None:
    candles = [candle(i, "100") for i in range(300)]
    logic = SymbolIndicators("BTCUSD", IndicatorSet)
    assert logic.on_history(candles[:250], T0) is None  # feed not known healthy yet
    logic.on_feed_health(
        FeedHealth(
            ts_event=UnixNanos(T0),
            ts_init=UnixNanos(T0),
            symbol="BTCUSD",
            synced=True,
            stale=False,
            age_ns=0,
            candles_closed=0,
            gaps_backfilled=0,
            candles_backfilled=0,
            candles_rejected=0,
            history_candles=250,
        )
    )
    batch = IndicatorSet().run(candles_to_array(candles)).values
    for i in range(250, 300):
        update = logic.on_candle(candles[i], T0)
        assert update is not None and update.ema_trend == batch[i][3] and update.rsi == batch[i][4]
    assert logic.on_candle(candles[10], T0) is None  # old candle ignored


def test_correlation_aligns_symbols_and_equals_batch() -> None:
    rng = np.random.default_rng(3)
    a = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 60)))
    b = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, 60)))

    def c(i: int, price: float, sym: str) -> Candle:
        return Candle(
            symbol=sym,
            open_time_ns=UnixNanos(T0 + i * TF),
            close_time_ns=UnixNanos(T0 + (i + 1) * TF),
            open=Decimal(1),
            high=Decimal(1),
            low=Decimal(1),
            close=Decimal(repr(float(price))),
            volume=Decimal(1),
        )

    tracker = CorrelationTracker(("A", "B"), window=20)
    assert tracker.on_history("A", [c(i, a[i], "A") for i in range(40)], T0) is None  # B missing
    out = tracker.on_history("B", [c(i, b[i], "B") for i in range(5, 40)], T0)  # B starts later
    assert out is not None and tracker.skipped == 5
    for i in range(40, 60):
        tracker.on_candle(c(i, b[i], "B"), T0)
        out = tracker.on_candle(c(i, a[i], "A"), T0) or out
    expected = rolling_correlation(a[5:], b[5:], 20)[-1]
    assert out is not None and abs(out.matrix[0][1] - expected) < 1e-12


def test_indicators_actor_under_both_runtimes(runtime: Harness) -> None:
    runtime.start(
        ChildSpec(
            actor_id="indicators:BTCUSD", factory=lambda: IndicatorsActor("BTCUSD", IndicatorSet)
        )
    )
    candles = tuple(candle(i) for i in range(30))
    now = UnixNanos(T0)
    runtime.tell(
        "indicators:BTCUSD",
        FeedHealth(
            ts_event=now,
            ts_init=now,
            symbol="BTCUSD",
            synced=True,
            stale=False,
            age_ns=0,
            candles_closed=0,
            gaps_backfilled=0,
            candles_backfilled=0,
            candles_rejected=0,
            history_candles=30,
        ),
    )
    runtime.tell(
        "indicators:BTCUSD",
        CandleHistoryLoaded(
            ts_event=now, ts_init=now, symbol="BTCUSD", timeframe_ns=TF, candles=candles
        ),
    )
    runtime.tell(
        "indicators:BTCUSD",
        CandleClosed(ts_event=now, ts_init=now, candle=candle(30), backfilled=False),
    )
    entry = runtime.runtime.entry("indicators:BTCUSD")
    runtime.wait_until(lambda: entry.actor.logic.published == 2)
    assert entry.actor.logic.set.bars_seen == 31
    assert isinstance(IndicatorsUpdated, type)
