"""Hypothesis: random candles and periods, against TA-Lib and between our own forms."""

from __future__ import annotations

import numpy as np
import talib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

import indicators as ind
from indicators import IndicatorConfig, IndicatorSet
from tests.indicators._helpers import assert_bollinger, assert_close, random_ohlcv, same, to_candles

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def histories(draw: st.DrawFn, min_size: int = 1, max_size: int = 400) -> NDArray[np.void]:
    n = draw(st.integers(min_size, max_size))
    seed = draw(st.integers(0, 2**32 - 1))
    price = draw(st.sampled_from([0.00031, 1.0, 187.5, 96_512.25]))
    vol = draw(st.sampled_from([0.0, 0.001, 0.02, 0.2]))
    data = random_ohlcv(n, seed=seed, price=price, vol=vol)
    if draw(st.booleans()):  # prices on a tick grid repeat exactly, as real ones do
        tick = price / 1000
        for key in ("open", "high", "low", "close"):
            data[key] = np.round(data[key] / tick) * tick
        data["high"] = np.maximum.reduce([data["high"], data["open"], data["close"]])
        data["low"] = np.minimum.reduce([data["low"], data["open"], data["close"]])
    return data


periods = st.integers(2, 60)


@SETTINGS
@given(
    data=histories(),
    n=periods,
    fast=st.integers(2, 20),
    extra=st.integers(1, 30),
    sig=st.integers(1, 15),
)
def test_random_series_match_talib(
    data: NDArray[np.void], n: int, fast: int, extra: int, sig: int
) -> None:
    h, lo, c = data["high"], data["low"], data["close"]
    assert_close(ind.ema(c, n), talib.EMA(c, n), "ema")
    assert_close(ind.sma(c, n), talib.SMA(c, n), "sma")
    assert_close(ind.rsi(c, n), talib.RSI(c, n), "rsi")
    assert_close(ind.atr(h, lo, c, n), talib.ATR(h, lo, c, n), "atr")
    assert_close(ind.adx(h, lo, c, n), talib.ADX(h, lo, c, n), "adx")
    for ours, ref in zip(
        ind.macd(c, fast, fast + extra, sig), talib.MACD(c, fast, fast + extra, sig), strict=True
    ):
        assert_close(ours, ref, "macd")
    assert_bollinger(ind.bollinger(c, n, 2.0), talib.BBANDS(c, n, 2.0, 2.0), c, n, 2.0)


configs = st.builds(
    IndicatorConfig,
    ema_fast=st.integers(1, 12),
    ema_mid=st.integers(1, 30),
    ema_slow=st.integers(1, 60),
    ema_trend=st.integers(1, 250),
    rsi_period=periods,
    atr_period=st.integers(1, 40),
    adx_period=periods,
    pivot_mode=st.sampled_from(["candles", "utc_day"]),
    pivot_lookback_candles=st.integers(1, 100),
    macd_fast=st.integers(2, 12),
    macd_slow=st.integers(13, 40),
    macd_signal=st.integers(1, 12),
    bb_period=st.integers(2, 40),
    bb_stddev=st.sampled_from([0.0, 1.0, 2.0, 2.5]),
)


@SETTINGS
@given(data=histories(min_size=2, max_size=300), config=configs, split=st.floats(0.0, 1.0))
def test_snapshot_anywhere_then_continue_equals_one_run(
    data: NDArray[np.void], config: IndicatorConfig, split: float
) -> None:
    k = int(split * (len(data) - 1))
    whole = IndicatorSet(config).run(data)
    first = IndicatorSet(config)
    first.run(data[:k])
    restored = IndicatorSet.from_bytes(first.to_bytes())
    candles = to_candles(data[k:])
    peeked = restored.peek(candles[0])
    rows = [restored.update(c) for c in candles]
    assert same(peeked, rows[0])
    assert same(np.array(rows)[:, :18], whole.values[k:])
    assert [r.valid_mask for r in rows] == whole.valid_mask[k:].tolist()
    assert [r.bars_seen for r in rows] == whole.bars_seen[k:].tolist()


@SETTINGS
@given(
    data=st.lists(st.lists(st.floats(0.5, 2.0), min_size=3, max_size=3), min_size=2, max_size=80),
    window=st.integers(2, 20),
    split=st.floats(0.0, 1.0),
)
def test_correlation_stream_equals_batch(
    data: list[list[float]], window: int, split: float
) -> None:
    closes = np.cumprod(np.array(data), axis=0)
    k = int(split * len(closes))
    corr = ind.RollingCorrelation(window, 3)
    rows = [corr.update(r) for r in closes[:k]]
    corr = ind.RollingCorrelation.from_bytes(corr.to_bytes())
    rows += [corr.update(r) for r in closes[k:]]
    pair = ind.rolling_correlation(closes[:, 0], closes[:, 2], window)
    assert same([r.pair(0, 2) for r in rows], pair)
    finite = pair[~np.isnan(pair)]
    assert np.all((finite >= -1.0) & (finite <= 1.0))
