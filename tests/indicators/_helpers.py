"""Shared helpers: synthetic candles, the real Binance candles, and TA-Lib tolerances."""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import numpy as np
import talib
from numpy.typing import NDArray

from indicators import CANDLE_DTYPE
from tests.shared_data import require_shared_data

#: TA-Lib agreement: rel 1e-12 or abs 1e-9 (its last digits depend on its FMA path).
RTOL = 1e-12
ATOL = 1e-9

MINUTE_NS = 60_000_000_000
FIFTEEN_MIN_NS = 15 * MINUTE_NS
T0_NS = 1_735_689_600_000_000_000  # 2025-01-01 00:00 UTC


@dataclass(frozen=True, slots=True)
class Candle:
    """A candle as the feed delivers it (prices may be Decimal, int or float)."""

    open_time_ns: int
    open: Any
    high: Any
    low: Any
    close: Any
    volume: Any


def assert_close(ours: NDArray[np.float64], ref: NDArray[np.float64], what: str = "") -> None:
    """Same NaN positions, and each value within rel 1e-12 or abs 1e-9 of TA-Lib."""
    ours = np.asarray(ours, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert ours.shape == ref.shape, what
    nan_ours, nan_ref = np.isnan(ours), np.isnan(ref)
    mismatch = np.flatnonzero(nan_ours != nan_ref)
    assert mismatch.size == 0, f"{what}: NaN differs first at bar {mismatch[:1]}"
    diff = np.abs(ours - ref)
    ok = (diff <= ATOL) | (diff <= RTOL * np.abs(ref)) | nan_ref
    bad = np.flatnonzero(~ok)
    first = bad[0] if bad.size else 0
    assert bad.size == 0, (
        f"{what}: {bad.size} values differ, first at bar {first}: {ours[first]!r} vs {ref[first]!r}"
    )


def random_ohlcv(
    n: int, *, seed: int = 0, price: float = 100.0, vol: float = 0.01
) -> NDArray[np.void]:
    """A random-walk candle history as a CANDLE_DTYPE array (15-minute bars from T0)."""
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0.0, vol, n)))
    open_ = np.empty(n)
    open_[0] = price
    open_[1:] = close[:-1] * np.exp(rng.normal(0.0, vol / 4, n - 1))
    top = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, vol / 2, n)))
    bottom = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, vol / 2, n)))
    out = np.zeros(n, dtype=CANDLE_DTYPE)
    out["open_time_ns"] = T0_NS + FIFTEEN_MIN_NS * np.arange(n, dtype=np.int64)
    out["open"] = open_
    out["high"] = top
    out["low"] = bottom
    out["close"] = close
    out["volume"] = rng.uniform(0.0, 100.0, n)
    return out


def to_candles(history: NDArray[np.void], *, decimal: bool = False) -> list[Candle]:
    """Candle objects from a CANDLE_DTYPE array (optionally with Decimal prices)."""
    conv = (lambda x: Decimal(repr(float(x)))) if decimal else float
    return [
        Candle(
            int(r["open_time_ns"]),
            *(conv(r[k]) for k in ("open", "high", "low", "close", "volume")),
        )
        for r in history
    ]


@cache
def _load_csv(name: str) -> NDArray[np.void]:
    path = require_shared_data(name)
    with gzip.open(path, "rt", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        assert header == ["open_time_ms", "open", "high", "low", "close", "volume"], header
        rows = [
            (int(r[0]) * 1_000_000, float(r[1]), float(r[2]), float(r[3]), float(r[4]), float(r[5]))
            for r in reader
        ]
    array = np.array(rows, dtype=CANDLE_DTYPE)
    array.flags.writeable = False
    return array


def real_candles(symbol: str = "BTC_USDT", timeframe: str = "15m") -> NDArray[np.void]:
    """The real Binance candles from ../shared/data (the calling test skips when absent)."""
    return _load_csv(f"{symbol}-{timeframe}.csv.gz")


def same(a: Any, b: Any) -> bool:
    """Bit-for-bit equality of values (tuples or arrays), NaN equal to NaN."""
    return bool(
        np.array_equal(
            np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), equal_nan=True
        )
    )


def bollinger_exact(
    close: NDArray[np.float64], period: int, k: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Bollinger Bands from a two-pass deviation in extended precision (np.longdouble).

    The middle band is TA-Lib's SMA (which ours equals bit for bit); only the deviation
    needs the careful reference.
    """
    x = np.asarray(close, dtype=np.float64)
    width = np.full(len(x), np.nan)
    start = int(np.argmax(~np.isnan(x))) if np.any(~np.isnan(x)) else len(x)
    xs = x[start:]
    if len(xs) >= period:
        windows = np.lib.stride_tricks.sliding_window_view(xs.astype(np.longdouble), period)
        mean = windows.mean(axis=1, keepdims=True)
        sd = np.sqrt(((windows - mean) ** 2).mean(axis=1))
        width[start + period - 1 :] = (sd * np.longdouble(k)).astype(np.float64)
    mid = talib.SMA(x, period)
    return mid + width, mid, mid - width


def assert_bollinger(
    ours: tuple[NDArray[np.float64], ...],
    talib_bands: tuple[NDArray[np.float64], ...],
    close: NDArray[np.float64],
    period: int,
    k: float,
) -> None:
    """Bands within tolerance of TA-Lib, except where TA-Lib's own running-sum error is the
    larger one: there ours must be within tolerance of the exact value and closer to it."""
    exact = bollinger_exact(close, period, k)
    for name, mine, theirs, truth in zip(
        ("upper", "mid", "lower"), ours, talib_bands, exact, strict=True
    ):
        assert_close(mine, truth, f"bbands {name} vs exact")
        off = np.abs(mine - theirs) > np.maximum(ATOL, RTOL * np.abs(theirs))
        if off.any():
            mine_err = np.abs(mine[off] - truth[off])
            talib_err = np.abs(theirs[off] - truth[off])
            assert np.all(mine_err < talib_err), f"bbands {name}: ours is off TA-Lib and not closer"
