"""Candle histories as numpy arrays, for ``warmup`` and backtests.

The array form is a structured array of :data:`CANDLE_DTYPE`: open times stay exact
int64 nanoseconds (a float64 column would round them), prices and volume are float64.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from indicators._errors import IndicatorInputError

#: One row per candle: UTC open time in integer ns, then OHLCV as float64.
CANDLE_DTYPE = np.dtype(
    [
        ("open_time_ns", np.int64),
        ("open", np.float64),
        ("high", np.float64),
        ("low", np.float64),
        ("close", np.float64),
        ("volume", np.float64),
    ]
)


class CandleLike(Protocol):
    """Anything with a candle's attributes; prices may be Decimal, int or float."""

    @property
    def open_time_ns(self) -> int: ...
    @property
    def open(self) -> Any: ...
    @property
    def high(self) -> Any: ...
    @property
    def low(self) -> Any: ...
    @property
    def close(self) -> Any: ...
    @property
    def volume(self) -> Any: ...


def candles_to_array(candles: Iterable[CandleLike]) -> NDArray[np.void]:
    """Convert candle objects (Decimal, int or float prices) to a :data:`CANDLE_DTYPE` array."""
    rows = [
        (
            int(c.open_time_ns),
            float(c.open),
            float(c.high),
            float(c.low),
            float(c.close),
            float(c.volume),
        )
        for c in candles
    ]
    return np.array(rows, dtype=CANDLE_DTYPE)


Columns = tuple[
    NDArray[np.int64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
]


def history_columns(history: Iterable[CandleLike] | NDArray[Any]) -> Columns:
    """Contiguous columns ``(open_time_ns, open, high, low, close, volume)`` of a history.

    Args:
        history: A :data:`CANDLE_DTYPE`-like structured array (any dtype with those field
            names), or an iterable of candle objects.

    Raises:
        IndicatorInputError: An array without the candle fields, or not one-dimensional.
    """
    if not isinstance(history, np.ndarray):
        history = candles_to_array(history)
    names = history.dtype.names or ()
    missing = [name for name in CANDLE_DTYPE.names or () if name not in names]
    if missing or history.ndim != 1:
        raise IndicatorInputError(
            missing[0] if missing else "history",
            0,
            f"history must be a 1-D structured array with fields {CANDLE_DTYPE.names} "
            "or a sequence of candles",
        )
    t = np.ascontiguousarray(history["open_time_ns"], dtype=np.int64)
    cols = tuple(
        np.ascontiguousarray(history[name], dtype=np.float64)
        for name in ("open", "high", "low", "close", "volume")
    )
    return (t, *cols)  # type: ignore[return-value]  # five float columns by construction
