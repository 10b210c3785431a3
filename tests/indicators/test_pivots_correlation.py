"""Pivot points and rolling correlation against plain numpy references."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

import indicators as ind
from indicators import IndicatorConfig, IndicatorSet
from tests.indicators._helpers import (
    FIFTEEN_MIN_NS,
    random_ohlcv,
    real_candles,
    same,
    to_candles,
)

DAY = 86_400_000_000_000


def _levels(h: float, lo: float, c: float) -> tuple[float, ...]:
    p = (h + lo + c) / 3.0
    return p, 2.0 * p - lo, p + (h - lo), 2.0 * p - h, p - (h - lo)


def _ref_candles(
    h: NDArray[np.float64], lo: NDArray[np.float64], c: NDArray[np.float64], n: int
) -> NDArray[np.float64]:
    out = np.full((len(c), 5), np.nan)
    for i in range(n - 1, len(c)):
        out[i] = _levels(h[i - n + 1 : i + 1].max(), lo[i - n + 1 : i + 1].min(), c[i])
    return out


def _ref_utc_day(
    t: NDArray[np.int64],
    h: NDArray[np.float64],
    lo: NDArray[np.float64],
    c: NDArray[np.float64],
    interval: int,
) -> NDArray[np.float64]:
    """Levels of the last UTC day complete at each candle's close, skipping a partial first day."""
    day = t // DAY
    out = np.full((len(c), 5), np.nan)
    first_full = day[0] if t[0] % DAY == 0 else day[0] + 1
    for i in range(len(c)):
        close_time = t[i] + interval
        done = day[i] if close_time >= (day[i] + 1) * DAY else day[i] - 1
        mask = day == done
        mask[i + 1 :] = False
        if done < first_full or not mask.any():
            continue
        idx = np.flatnonzero(mask)
        out[i] = _levels(h[idx].max(), lo[idx].min(), c[idx[-1]])
    return out


@pytest.mark.parametrize("lookback", [1, 2, 14, 96])
def test_candle_pivots_match_numpy(lookback: int) -> None:
    data = random_ohlcv(700, seed=lookback)
    h, lo, c = data["high"], data["low"], data["close"]
    assert same(np.column_stack(ind.pivots(h, lo, c, lookback)), _ref_candles(h, lo, c, lookback))


@pytest.mark.parametrize("offset_bars", [0, 37])
def test_utc_day_pivots_match_numpy(offset_bars: int) -> None:
    data = random_ohlcv(96 * 5 + 50, seed=3)[offset_bars:]
    t, h, lo, c = data["open_time_ns"], data["high"], data["low"], data["close"]
    ours = np.column_stack(ind.pivots_utc_day(t, h, lo, c, FIFTEEN_MIN_NS))
    assert same(ours, _ref_utc_day(t, h, lo, c, FIFTEEN_MIN_NS))
    first_valid = int(np.argmax(~np.isnan(ours[:, 0])))
    # From the midnight start: valid at the 23:45 candle's close; mid-day start: a day later.
    assert first_valid == (95 if offset_bars == 0 else 96 * 2 - offset_bars - 1)


def test_utc_day_pivots_with_a_gap_publish_at_the_next_day() -> None:
    data = random_ohlcv(96 * 3, seed=4)
    keep = np.ones(len(data), dtype=bool)
    keep[90:96] = False  # day 1 lost its last candles
    data = data[keep]
    t, h, lo, c = data["open_time_ns"], data["high"], data["low"], data["close"]
    ours = np.column_stack(ind.pivots_utc_day(t, h, lo, c))
    assert same(ours[:, 0], _ref_utc_day_gap(t, h, lo, c))


def _ref_utc_day_gap(
    t: NDArray[np.int64], h: NDArray[np.float64], lo: NDArray[np.float64], c: NDArray[np.float64]
) -> NDArray[np.float64]:
    out = np.full(len(c), np.nan)
    day = t // DAY
    for i in range(len(c)):
        complete = day[i] if t[i] + FIFTEEN_MIN_NS >= (day[i] + 1) * DAY else day[i] - 1
        idx = np.flatnonzero((day == complete) & (np.arange(len(c)) <= i))
        if idx.size:
            out[i] = (h[idx].max() + lo[idx].min() + c[idx[-1]]) / 3.0
    return out


def test_real_candles_day_pivots() -> None:
    data = real_candles("BTC_USDT")[: 96 * 20]
    t, h, lo, c = data["open_time_ns"], data["high"], data["low"], data["close"]
    ours = np.column_stack(ind.pivots_utc_day(t, h, lo, c))
    assert same(ours, _ref_utc_day(t, h, lo, c, FIFTEEN_MIN_NS))
    stream = IndicatorSet(IndicatorConfig(pivot_mode="utc_day"))
    rows = np.array([stream.update(x)[13:18] for x in to_candles(data)])
    assert same(rows, ours)


def _ref_corr(a: NDArray[np.float64], b: NDArray[np.float64], window: int) -> NDArray[np.float64]:
    ra, rb = np.log(a[1:] / a[:-1]), np.log(b[1:] / b[:-1])
    out = np.full(len(a), np.nan)
    for i in range(window, len(a)):
        out[i] = np.corrcoef(ra[i - window : i], rb[i - window : i])[0, 1]
    return out


@pytest.mark.parametrize("window", [2, 3, 50, 333])
def test_pair_correlation_matches_numpy(window: int) -> None:
    a = random_ohlcv(1500, seed=1)["close"]
    b = 0.5 * a + random_ohlcv(1500, seed=2)["close"]
    ours = ind.rolling_correlation(a, b, window)
    ref = _ref_corr(a, b, window)
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-10)


def test_real_correlation_stays_accurate_over_many_rebuilds() -> None:
    btc = real_candles("BTC_USDT")["close"]
    eth = real_candles("ETH_USDT")["close"]
    ours = ind.rolling_correlation(btc, eth, 96)
    ref = _ref_corr(btc, eth, 96)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-10)
    assert 0.15 < np.nanmin(ours) < 0.3 and 0.75 < np.nanmedian(ours) < 0.9


def test_streaming_matrix_equals_pair_batch_and_restores() -> None:
    closes = np.column_stack([random_ohlcv(600, seed=s)["close"] for s in (1, 2, 3)])
    corr = ind.RollingCorrelation(window=100, n_symbols=3)
    results = [corr.update(row) for row in closes[:300]]
    assert not results[99].valid and results[100].valid
    assert results[100].bars_seen == 101
    restored = ind.RollingCorrelation.from_bytes(corr.to_bytes())
    peeked = restored.peek(closes[300])
    assert restored.bars_seen == 300 and peeked.bars_seen == 301
    results += [restored.update(row) for row in closes[300:]]
    assert same(peeked.matrix, results[300].matrix)
    for a, b in ((0, 1), (0, 2), (1, 2)):
        pair = ind.rolling_correlation(closes[:, a], closes[:, b], 100)
        assert same([r.pair(a, b) for r in results], pair)
        assert same([r.pair(b, a) for r in results], pair)
    last = results[-1].matrix
    assert np.all(np.diag(last) == 1.0) and not last.flags.writeable
    assert results[-1].rows() == tuple(tuple(float(v) for v in row) for row in last)


def test_correlation_warmup_and_zero_variance() -> None:
    closes = np.column_stack([np.full(20, 5.0), np.linspace(1.0, 2.0, 20)])
    corr = ind.RollingCorrelation(window=5, n_symbols=2)
    last = corr.warmup(closes)
    assert last is not None and last.valid
    assert np.isnan(last.pair(0, 1)) and np.isnan(last.pair(0, 0)) and last.pair(1, 1) == 1.0
    assert corr.bars_seen == 20
