"""Batch forms against TA-Lib (ta-lib >= 0.8) on synthetic and real candles."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import pytest
import talib
from numpy.typing import NDArray

import indicators as ind
from tests.indicators._helpers import assert_bollinger, assert_close, random_ohlcv, real_candles

Series = tuple[NDArray[np.float64], ...]
Pair = Callable[[SimpleNamespace], tuple[Series, Series]]


def _pairs() -> dict[str, Pair]:
    """Our batch function and TA-Lib's, on (high, low, close), for each indicator."""

    def one(x: NDArray[np.float64]) -> Series:
        return (x,)

    return {
        "ema9": lambda s: (one(ind.ema(s.c, 9)), one(talib.EMA(s.c, 9))),
        "ema200": lambda s: (one(ind.ema(s.c, 200)), one(talib.EMA(s.c, 200))),
        "ema1": lambda s: (one(ind.ema(s.c, 1)), one(talib.EMA(s.c, 1))),
        "sma20": lambda s: (one(ind.sma(s.c, 20)), one(talib.SMA(s.c, 20))),
        "rsi14": lambda s: (one(ind.rsi(s.c, 14)), one(talib.RSI(s.c, 14))),
        "rsi2": lambda s: (one(ind.rsi(s.c, 2)), one(talib.RSI(s.c, 2))),
        "atr14": lambda s: (one(ind.atr(s.h, s.lo, s.c, 14)), one(talib.ATR(s.h, s.lo, s.c, 14))),
        "atr1": lambda s: (one(ind.atr(s.h, s.lo, s.c, 1)), one(talib.ATR(s.h, s.lo, s.c, 1))),
        "adx14": lambda s: (one(ind.adx(s.h, s.lo, s.c, 14)), one(talib.ADX(s.h, s.lo, s.c, 14))),
        "adx2": lambda s: (one(ind.adx(s.h, s.lo, s.c, 2)), one(talib.ADX(s.h, s.lo, s.c, 2))),
        "macd": lambda s: (ind.macd(s.c, 12, 26, 9), talib.MACD(s.c, 12, 26, 9)),
        "macd_5_35_5": lambda s: (ind.macd(s.c, 5, 35, 5), talib.MACD(s.c, 5, 35, 5)),
    }


BANDS = {"bbands20": (20, 2.0), "bbands5": (5, 1.5), "bbands2": (2, 2.0)}


PAIRS = _pairs()
NAMES = sorted([*PAIRS, *BANDS])


def _check(
    name: str, h: NDArray[np.float64], lo: NDArray[np.float64], c: NDArray[np.float64]
) -> None:
    if name in BANDS:
        n, k = BANDS[name]
        assert_bollinger(ind.bollinger(c, n, k), talib.BBANDS(c, n, k, k), c, n, k)
        return
    ours, ref = PAIRS[name](SimpleNamespace(h=h, lo=lo, c=c))
    assert len(ours) == len(ref)
    for k, (a, b) in enumerate(zip(ours, ref, strict=True)):
        assert_close(a, b, f"{name}[{k}]")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("price", "vol"), [(100.0, 0.01), (95_000.0, 0.003), (0.0004, 0.05)])
def test_matches_talib_on_random_walks(name: str, price: float, vol: float) -> None:
    data = random_ohlcv(3000, seed=int(price * 7) % 1000, price=price, vol=vol)
    _check(name, data["high"], data["low"], data["close"])


@pytest.mark.parametrize("symbol", ["BTC_USDT", "ETH_USDT", "SOL_USDT"])
@pytest.mark.parametrize("name", NAMES)
def test_matches_talib_on_real_candles(symbol: str, name: str) -> None:
    data = real_candles(symbol)
    _check(name, data["high"], data["low"], data["close"])


def _flat(n: int) -> tuple[NDArray[np.float64], ...]:
    c: NDArray[np.float64] = np.full(n, 101.25)
    return c, c.copy(), c.copy()


def _trend(n: int, step: float) -> tuple[NDArray[np.float64], ...]:
    c: NDArray[np.float64] = 100.0 + step * np.arange(n, dtype=np.float64)
    return c + 0.5, c - 0.5, c


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", ["flat", "all_up", "all_down"])
def test_edge_shapes(name: str, shape: str) -> None:
    h, lo, c = {"flat": _flat(300), "all_up": _trend(300, 0.25), "all_down": _trend(300, -0.25)}[
        shape
    ]
    _check(name, h, lo, c)


def test_flat_rsi_is_zero_like_talib() -> None:
    out = ind.rsi(np.full(50, 3.0), 14)
    assert np.all(np.isnan(out[:14]))
    assert np.all(out[14:] == 0.0)


def test_flat_bands_collapse_to_the_mean() -> None:
    upper, mid, lower = ind.bollinger(np.full(60, 0.1 + 0.2), 20, 2.0)
    assert np.array_equal(upper[19:], mid[19:])
    assert np.array_equal(lower[19:], mid[19:])


@pytest.mark.parametrize("name", NAMES)
def test_leading_nans_are_skipped_like_talib(name: str) -> None:
    data = random_ohlcv(600, seed=3)
    h, lo, c = (data[k].copy() for k in ("high", "low", "close"))
    for array in (h, lo, c):
        array[:37] = np.nan
    h[37] = np.nan  # a row is skipped when any input is NaN
    _check(name, h, lo, c)


@pytest.mark.parametrize("name", NAMES)
def test_series_starting_mid_history(name: str) -> None:
    data = random_ohlcv(2000, seed=5)[777:]
    _check(name, data["high"], data["low"], data["close"])


def test_short_series_are_all_nan() -> None:
    c = np.linspace(1.0, 2.0, 10)
    assert np.all(np.isnan(ind.ema(c, 11)))
    assert np.all(np.isnan(ind.rsi(c, 10)))
    assert all(np.all(np.isnan(x)) for x in ind.macd(c))
    assert ind.ema(np.array([]), 3).shape == (0,)


def test_validity_starts_at_talib_lookback() -> None:
    data = random_ohlcv(400, seed=9)
    h, lo, c = data["high"], data["low"], data["close"]
    firsts = {
        "ema": int(np.argmax(~np.isnan(ind.ema(c, 9)))),
        "rsi": int(np.argmax(~np.isnan(ind.rsi(c, 14)))),
        "atr": int(np.argmax(~np.isnan(ind.atr(h, lo, c, 14)))),
        "adx": int(np.argmax(~np.isnan(ind.adx(h, lo, c, 14)))),
        "macd": int(np.argmax(~np.isnan(ind.macd(c)[1]))),
        "bb": int(np.argmax(~np.isnan(ind.bollinger(c, 20)[0]))),
    }
    assert firsts == {"ema": 8, "rsi": 14, "atr": 14, "adx": 27, "macd": 33, "bb": 19}
    assert ind.lookbacks()["macd"] == 33
    assert ind.lookbacks()["adx"] == 27
