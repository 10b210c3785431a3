"""The feed's stored forms (series rows, the older columnar snapshot), the float columns
shared with a published history, the correlation tracker's batch commit and the split
subscription (candles first)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import numpy as np
import orjson
import pytest

from actors.market import CorrelationTracker
from actors.market._columns import (
    RowCache,
    build_candles,
    candles_from_rows,
    columns_from_state,
    columns_state,
    history_array,
    row_bytes,
    share_floats,
    unshare_floats,
)
from actors.market._feed import candles_from_state, candles_state
from actors.market._feed_actor import SymbolFeedActor
from actors.market._stream import split_candles
from indicators import candles_to_array
from messages import Candle, UnixNanos
from tests.actors.market.test_feed_logic import T0, TF, candle


def odd_candles() -> list[Candle]:
    odd = dataclasses.replace(candle(3), open=Decimal("1.50"), volume=Decimal("0.001"))
    big = dataclasses.replace(candle(4), high=Decimal("1E+3"), low=Decimal("0.1"))
    return [candle(1), candle(2), odd, big, candle(5, close="65000.5")]


def round_trip(candles: list[Candle]) -> dict:
    return orjson.loads(orjson.dumps(columns_state("BTCUSD", TF, candles)))


def test_columns_round_trip_is_exact() -> None:
    candles = odd_candles()
    state = round_trip(candles)
    back, strs, floats = columns_from_state(state, symbol="BTCUSD", timeframe_ns=TF)
    assert back == candles
    assert [str(c.open) for c in back] == [str(c.open) for c in candles]
    assert str(back[2].open) == "1.50" and str(back[3].high) == "1E+3"
    assert strs[0] == [str(c.open) for c in candles]
    expected = candles_to_array(candles)
    for k, name in enumerate(("open", "high", "low", "close", "volume")):
        assert floats[k] == expected[name].tolist()
    assert candles_from_state(state, symbol="BTCUSD", timeframe_ns=TF) == candles
    assert columns_from_state(state, symbol="ETHUSD", timeframe_ns=TF) == ([], [], [])
    assert columns_from_state(state, symbol="BTCUSD", timeframe_ns=2 * TF) == ([], [], [])
    assert columns_from_state(round_trip([]), symbol="BTCUSD", timeframe_ns=TF)[0] == []


def test_series_rows_round_trip_exactly_and_bad_ones_are_refused() -> None:
    candles = odd_candles()
    rows = [(c.open_time_ns, row_bytes(c)) for c in candles]
    back, strs, floats = candles_from_rows(rows, symbol="BTCUSD", timeframe_ns=TF)
    assert back == candles and [str(c.open) for c in back] == [str(c.open) for c in candles]
    assert strs[0] == [str(c.open) for c in candles]
    expected = candles_to_array(candles)
    for k, name in enumerate(("open", "high", "low", "close", "volume")):
        assert floats[k] == expected[name].tolist()
    assert candles_from_rows([], symbol="BTCUSD", timeframe_ns=TF)[0] == []
    for bad in (b"\xff", b"1 2", b"x 1 1 1 1", b"1 1 1 1 inf", b"1 1 1 1 1 1"):
        with pytest.raises(ValueError, match="bad candle"):
            candles_from_rows([*rows, (rows[-1][0] + TF, bad)], symbol="BTCUSD", timeframe_ns=TF)
    with pytest.raises(ValueError, match="increasing"):
        candles_from_rows(rows[::-1], symbol="BTCUSD", timeframe_ns=TF)


def test_built_candles_equal_constructed_ones_and_are_checked() -> None:
    candles = odd_candles()
    cols = [[getattr(c, f) for c in candles] for f in ("open", "high", "low", "close", "volume")]
    built = build_candles("BTCUSD", TF, [c.open_time_ns for c in candles], cols)
    assert built == candles and all(type(c) is Candle for c in built)
    for bad in (Decimal("NaN"), Decimal("Infinity"), 1.5, "1"):
        with pytest.raises(ValueError, match="finite Decimal"):
            build_candles("BTCUSD", TF, [T0], [[bad], *[[Decimal(1)]] * 4])  # type: ignore[list-item]
    for t in (-1, 2**63, 1.5, True):
        with pytest.raises(ValueError, match="open time"):
            build_candles("BTCUSD", TF, [t], [[Decimal(1)]] * 5)  # type: ignore[list-item]


def test_a_bad_columns_state_is_refused_and_bad_floats_recomputed() -> None:
    candles = odd_candles()
    state = round_trip(candles)
    for change in (
        {"open": state["open"][:-1]},
        {"open": ["x", *state["open"][1:]]},
        {"close": "1"},
        {"open_time_ns": list(reversed(state["open_time_ns"]))},
        {"open_time_ns": [1.5, *state["open_time_ns"][1:]]},
    ):
        with pytest.raises(ValueError, match="bad candle column"):
            columns_from_state({**state, **change}, symbol="BTCUSD", timeframe_ns=TF)
    with pytest.raises(ValueError, match="not a columns state"):
        columns_from_state([], symbol="BTCUSD", timeframe_ns=TF)
    expected = candles_to_array(candles)["close"].tolist()
    wrong = [list(col) for col in state["floats"]]
    wrong[3][-1] += 1.0
    for floats in (wrong, None, [[1.0]] * 5, "x"):
        _, _, got = columns_from_state(
            {**state, "floats": floats}, symbol="BTCUSD", timeframe_ns=TF
        )
        assert got[3] == expected


def test_row_cache_floats_equal_a_conversion() -> None:
    candles = [candle(i, close=f"{100 + i / 8}") for i in range(40)]
    state = round_trip(candles)
    kept, strs, floats = columns_from_state(state, symbol="BTCUSD", timeframe_ns=TF)
    cache = RowCache()
    cache.put(kept, strs, floats)
    run = tuple(kept[5:30])
    array = cache.floats(run)  # a run of the restored block: a slice
    assert not array.flags.writeable
    assert array.tolist() == candles_to_array(run).tolist()
    mixed = (*kept[10:], candle(40, close="140.125"))  # plus a later candle
    assert cache.floats(mixed).tolist() == candles_to_array(mixed).tolist()
    again = columns_state("BTCUSD", TF, mixed, cache)  # rows reused after the block is gone
    assert again == columns_state("BTCUSD", TF, mixed)


def test_history_array_uses_the_shared_floats_only_for_that_tuple() -> None:
    history = tuple(candle(i) for i in range(5))
    marker = candles_to_array(history)
    marker.flags.writeable = False
    share_floats(history, marker)
    assert history_array(history) is marker
    copy = tuple(c for c in history)
    assert copy is not history
    assert history_array(copy) is not marker
    assert history_array(copy).tolist() == marker.tolist()
    unshare_floats(copy)  # not the shared tuple: nothing happens
    assert history_array(history) is marker
    unshare_floats(history)  # the feed moved on: the table lets the candles go
    assert history_array(history) is not marker
    assert history_array(history).tolist() == marker.tolist()


def test_feed_actor_reads_every_snapshot_form() -> None:
    def actor() -> SymbolFeedActor:
        return SymbolFeedActor(
            "BTCUSD", timeframe="1m", timeframe_ns=TF, keep=100, rest=lambda: None,  # type: ignore[arg-type,return-value]
            stale_after_ns=10**12, retry_ns=10**9, tick_ns=10**9, health_ns=10**9,
        )  # fmt: skip

    candles = odd_candles()
    columnar = actor()
    columnar.load(orjson.dumps(columns_state("BTCUSD", TF, candles)), 2)
    assert columnar._kept == candles
    old = actor()
    old.load(orjson.dumps(candles_state("BTCUSD", TF, candles)), 1)
    assert old._kept == candles
    # Schema 3: the candles are in the store's series; the snapshot only names what it holds,
    # so it stays this small however many candles are kept.
    columnar.feed.closed.extend(candles)
    state = columnar.snapshot()
    assert len(state) < 100
    new = actor()
    new.load(state, 3)
    assert new._in_series and new._kept == []
    other = actor()
    other.load(orjson.dumps({**orjson.loads(state), "timeframe_ns": 2 * TF}), 3)
    assert not other._in_series  # another timeframe's series: a cold start


def test_correlation_batch_equals_bar_by_bar() -> None:
    rng = np.random.default_rng(3)
    closes = {s: 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 80))) for s in "AB"}

    def c(i: int, sym: str, price: float | None = None) -> Candle:
        value = Decimal(repr(float(closes[sym][i] if price is None else price)))
        return Candle(
            symbol=sym,
            open_time_ns=UnixNanos(T0 + i * TF),
            close_time_ns=UnixNanos(T0 + (i + 1) * TF),
            open=value, high=value, low=value, close=value, volume=Decimal(1),
        )  # fmt: skip

    bad = {30: Decimal(0)}  # a close that is not positive: rejected bar
    hist = {s: [c(i, s) for i in range(60)] for s in "AB"}
    hist["A"][30] = dataclasses.replace(hist["A"][30], close=bad[30])
    batch = CorrelationTracker(("A", "B"), window=20)
    batch.on_history("A", tuple(hist["A"]), T0)
    out = batch.on_history("B", tuple(hist["B"]), T0)
    single = CorrelationTracker(("A", "B"), window=20)
    single.on_history("A", [], T0)
    single.on_history("B", [], T0)
    for i in range(60):
        single.on_candle(hist["A"][i], T0)
        last = single.on_candle(hist["B"][i], T0)
    assert out is not None and last is not None
    assert out.matrix == last.matrix and batch.rejected == single.rejected == 1
    assert batch.correlation.to_bytes() == single.correlation.to_bytes()


def test_split_candles_subscribes_the_candles_first() -> None:
    channels = [
        {"name": "ob_updates", "symbols": ["A"]},
        {"name": "candlestick_15m", "symbols": ["A"]},
        {"name": "ticker", "symbols": ["A"]},
    ]
    text = orjson.dumps({"type": "subscribe", "payload": {"channels": channels}}).decode()
    now, later = split_candles(text)
    assert orjson.loads(now)["payload"]["channels"] == [channels[1]]
    assert [orjson.loads(t)["payload"]["channels"] for t in later] == [[channels[0], channels[2]]]
    for same in (
        '{"type":"enable_heartbeat"}',
        orjson.dumps({"type": "subscribe", "payload": {"channels": channels[1:2]}}).decode(),
        orjson.dumps({"type": "unsubscribe", "payload": {"channels": channels}}).decode(),
        "not json",
    ):
        assert split_candles(same) == (same, [])
