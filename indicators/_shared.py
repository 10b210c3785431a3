"""The numba-free part of the package: status codes, time units, input coercion.

Why a separate module: the runtime (``IndicatorSet``, ``RollingCorrelation``) runs on the
ahead-of-time compiled kernels (``_kernels``) and must not import numba, whose JIT costs a
process ~125 MB of RSS. Everything the runtime shares with the kernels lives here; the
kernel modules import it through ``_common``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from indicators._errors import IndicatorConfigError, IndicatorInputError

NAN = math.nan

#: Nanoseconds in one UTC day; pivot points in ``utc_day`` mode roll over on multiples.
DAY_NS = 86_400_000_000_000

#: Default candle length: the strategy trades 15-minute candles.
FIFTEEN_MINUTES_NS = 900_000_000_000

# Reason codes shared with indicators._errors.REASONS.
OK = 0
NOT_FINITE = 1
HIGH_BELOW_LOW = 2
OUTSIDE_RANGE = 3
NEGATIVE = 4
NOT_AFTER = 5
NOT_POSITIVE = 6

# Field codes shared with indicators._errors.FIELD_NAMES.
F_TIME = 0
F_OPEN = 1
F_HIGH = 2
F_LOW = 3
F_CLOSE = 4
F_VOLUME = 5


def as_series(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """Return ``values`` as a contiguous 1-D float64 array, or raise a typed error."""
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise IndicatorInputError(name, 0, f"must be one-dimensional, has shape {array.shape}")
    return array


def as_hlc(
    high: ArrayLike, low: ArrayLike, close: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Return high, low and close as float64 arrays of one length, or raise a typed error."""
    h = as_series(high, "high")
    lo = as_series(low, "low")
    c = as_series(close, "close")
    if not h.shape[0] == lo.shape[0] == c.shape[0]:
        raise IndicatorInputError(
            "low" if lo.shape[0] != h.shape[0] else "close",
            min(h.shape[0], lo.shape[0], c.shape[0]),
            f"length differs (high {h.shape[0]}, low {lo.shape[0]}, close {c.shape[0]})",
        )
    return h, lo, c


def check_period(name: str, value: int, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is a whole number >= ``minimum``, else raise."""
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise IndicatorConfigError(f"{name}: expected an integer >= {minimum}, was {value!r}")
    return int(value)


WilderFactors = tuple[float, float, float, float]  # (c1, c2, c1 * c1, c1 * c2)


def wilder_factors(period: int) -> WilderFactors:
    """``(c1, c2, c1^2, c1*c2)`` with ``c1 = (n - 1) / n`` and ``c2 = 1 / n``."""
    c1 = (period - 1) / period
    c2 = 1.0 / period
    return c1, c2, c1 * c1, c1 * c2
