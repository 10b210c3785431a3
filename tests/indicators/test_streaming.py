"""Streaming IndicatorSet: equals batch bit for bit, peeks, snapshots, talib.stream oracle."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import talib
import talib.stream as tstream
from numpy.typing import NDArray

import indicators as ind
from indicators import IndicatorConfig, IndicatorSet
from tests.indicators._helpers import (
    FIFTEEN_MIN_NS,
    assert_close,
    random_ohlcv,
    real_candles,
    same,
    to_candles,
)

CONFIGS = {
    "defaults": IndicatorConfig(),
    "small": IndicatorConfig(
        ema_fast=2,
        ema_mid=3,
        ema_slow=5,
        ema_trend=8,
        rsi_period=2,
        atr_period=1,
        adx_period=2,
        pivot_lookback_candles=1,
        macd_fast=2,
        macd_slow=3,
        macd_signal=1,
        bb_period=2,
        bb_stddev=1.0,
    ),
    "utc_day": IndicatorConfig(pivot_mode="utc_day"),
}


def _batch_columns(config: IndicatorConfig, data: NDArray[np.void]) -> NDArray[np.float64]:
    """Every output computed by the public batch functions, as (n, 18) columns."""
    t, h, lo, c = data["open_time_ns"], data["high"], data["low"], data["close"]
    cols = [ind.ema(c, n) for n in (config.ema_fast, config.ema_mid, config.ema_slow)]
    cols += [ind.ema(c, config.ema_trend), ind.rsi(c, config.rsi_period)]
    cols += [ind.atr(h, lo, c, config.atr_period), ind.adx(h, lo, c, config.adx_period)]
    cols += ind.macd(c, config.macd_fast, config.macd_slow, config.macd_signal)
    cols += ind.bollinger(c, config.bb_period, config.bb_stddev)
    if config.pivot_mode == "candles":
        cols += ind.pivots(h, lo, c, config.pivot_lookback_candles)
    else:
        cols += ind.pivots_utc_day(t, h, lo, c, config.candle_interval_ns)
    return np.column_stack(cols)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_streaming_equals_batch_bit_for_bit(name: str) -> None:
    config = CONFIGS[name]
    data = random_ohlcv(1500, seed=11)
    stream = IndicatorSet(config)
    rows = np.array([stream.update(c)[:18] for c in to_candles(data)])
    assert np.array_equal(rows, _batch_columns(config, data), equal_nan=True)
    series = IndicatorSet(config).run(data)
    assert np.array_equal(series.values, rows, equal_nan=True)


def test_real_candles_stream_equals_batch_and_talib() -> None:
    data = real_candles("ETH_USDT")[:6000]
    series = IndicatorSet().run(data)
    assert np.array_equal(series.values, _batch_columns(IndicatorConfig(), data), equal_nan=True)
    assert_close(series.column("ema_trend"), talib.EMA(data["close"], 200), "ema_trend")
    assert_close(series.column("adx"), talib.ADX(data["high"], data["low"], data["close"]), "adx")


def test_decimal_candles_give_the_same_values() -> None:
    data = random_ohlcv(300, seed=2)
    floats = IndicatorSet().run(data)
    decimals = IndicatorSet()
    rows = np.array([decimals.update(c)[:18] for c in to_candles(data, decimal=True)])
    assert np.array_equal(rows, floats.values, equal_nan=True)


def test_validity_and_bars_seen() -> None:
    data = random_ohlcv(260, seed=4)
    stream = IndicatorSet()
    values = [stream.update(c) for c in to_candles(data)]
    lookbacks = ind.lookbacks()
    for name, first in lookbacks.items():
        assert first is not None
        assert not values[first - 1].valid(name) if first > 0 else True
        assert values[first].valid(name), name
        assert np.isnan(getattr(values[first - 1], name)) if first > 0 else True
    assert values[0].bars_seen == 1
    assert values[-1].bars_seen == 260 == stream.bars_seen
    assert values[-1].all_valid
    assert not values[100].valid("ema_trend")
    assert values[20].valid_names() == ("ema_fast", "ema_mid", "rsi", "atr", *ind.OUTPUT_NAMES[10:])
    with pytest.raises(KeyError, match="unknown indicator output"):
        values[0].valid("ema_200")


def test_peek_commits_nothing_and_matches_update() -> None:
    candles = to_candles(random_ohlcv(400, seed=8))
    stream = IndicatorSet()
    for c in candles[:300]:
        stream.update(c)
    before = stream.to_bytes()
    forming = candles[300]
    first = stream.peek(forming)
    for revision in (1.001, 0.999):
        stream.peek(
            type(forming)(
                forming.open_time_ns,
                forming.open,
                forming.high * revision,
                forming.low * (2 - revision),
                forming.close,
                forming.volume,
            )
        )
    assert stream.to_bytes() == before
    assert stream.peek(forming) == first
    assert stream.update(forming) == first
    assert first.bars_seen == 301


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_snapshot_restore_continue_is_bit_identical(name: str) -> None:
    config = CONFIGS[name]
    candles = to_candles(random_ohlcv(900, seed=21))
    uninterrupted = IndicatorSet(config)
    expected = [uninterrupted.update(c) for c in candles]
    first = IndicatorSet(config)
    for c in candles[:450]:
        first.update(c)
    data = first.to_bytes()
    restored = IndicatorSet.from_bytes(data, expected=config)
    assert restored.config == config
    assert restored.bars_seen == 450
    resumed = [restored.update(c) for c in candles[450:]]
    assert np.array_equal(np.array(resumed), np.array(expected[450:]), equal_nan=True)
    assert restored.to_bytes() == uninterrupted.to_bytes()


def test_warmup_then_update_equals_streaming_everything() -> None:
    candles = to_candles(random_ohlcv(500, seed=31))
    warmed = IndicatorSet()
    last = warmed.warmup(candles[:400])
    streamed = IndicatorSet()
    values = [streamed.update(c) for c in candles[:400]]
    assert same(last, values[-1])
    assert same(warmed.update(candles[400]), streamed.update(candles[400]))
    assert IndicatorSet().warmup([]) is None


def test_bank_equals_one_set_per_symbol() -> None:
    a = to_candles(random_ohlcv(300, seed=1))
    b = to_candles(random_ohlcv(300, seed=2, price=3000.0))
    bank = ind.IndicatorBank(["A", "B"])
    set_a, set_b = IndicatorSet(), IndicatorSet()
    for ca, cb in zip(a[:200], b[:200], strict=True):
        assert same(bank.update([ca, cb]), (set_a.update(ca), set_b.update(cb)))
    assert same(bank.peek([a[200], b[200]]), (set_a.peek(a[200]), set_b.peek(b[200])))
    restored = ind.IndicatorBank.from_bytes(bank.to_bytes(), ["A", "B"])
    for ca, cb in zip(a[200:], b[200:], strict=True):
        assert same(restored.update([ca, cb]), (set_a.update(ca), set_b.update(cb)))


# talib.stream handles are TA-Lib's own streaming form: a second oracle.
def _talib_handles(
    h: NDArray[np.float64], lo: NDArray[np.float64], c: NDArray[np.float64]
) -> dict[str, tuple[Any, str]]:
    return {
        "ema_fast": (tstream.EMA(c, 9), "c"),
        "ema_mid": (tstream.EMA(c, 21), "c"),
        "ema_slow": (tstream.EMA(c, 50), "c"),
        "ema_trend": (tstream.EMA(c, 200), "c"),
        "rsi": (tstream.RSI(c, 14), "c"),
        "atr": (tstream.ATR(h, lo, c, 14), "hlc"),
        "adx": (tstream.ADX(h, lo, c, 14), "hlc"),
        "macd": (tstream.MACD(c, 12, 26, 9), "c"),
        "bb_upper": (tstream.BBANDS(c, 20, 2.0, 2.0), "c"),
    }


def test_streaming_matches_talib_stream_handles() -> None:
    data = random_ohlcv(1200, seed=41, price=60_000.0, vol=0.004)
    h, lo, c = data["high"], data["low"], data["close"]
    warm = 400
    stream = IndicatorSet()
    stream.warmup(data[:warm])
    handles = _talib_handles(h[:warm], lo[:warm], c[:warm])
    ours: dict[str, list[float]] = {name: [] for name in handles}
    theirs: dict[str, list[float]] = {name: [] for name in handles}
    for i, candle in enumerate(to_candles(data[warm:]), start=warm):
        values = stream.update(candle)
        for name, (handle, inputs) in handles.items():
            got = handle.update(h[i], lo[i], c[i]) if inputs == "hlc" else handle.update(c[i])
            ours[name].append(getattr(values, name))
            theirs[name].append(got[0] if isinstance(got, tuple) else got)
    for name in handles:
        assert_close(np.array(ours[name]), np.array(theirs[name]), name)


def test_talib_stream_peek_matches_our_peek() -> None:
    data = random_ohlcv(500, seed=43)
    candles = to_candles(data)
    stream = IndicatorSet()
    stream.warmup(data[:499])
    handle = tstream.RSI(data["close"][:499], 14)
    assert_close(
        np.array([stream.peek(candles[499]).rsi]), np.array([handle.peek(data["close"][499])])
    )


def test_open_times_must_increase() -> None:
    candles = to_candles(random_ohlcv(3, seed=1))
    stream = IndicatorSet()
    stream.update(candles[1])
    with pytest.raises(ind.IndicatorInputError) as info:
        stream.update(candles[0])
    assert info.value.field == "open_time_ns"
    assert info.value.bar_index == 1
    stream.update(candles[2])  # the next good candle is accepted
    assert stream.bars_seen == 2
    assert candles[2].open_time_ns - candles[1].open_time_ns == FIFTEEN_MIN_NS
