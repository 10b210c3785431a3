"""Helpers shared by the kernels: NaN, input checks and leading-NaN handling.

Every function here is a numba kernel (``cache=True``) or a tiny Python helper used by the
public batch wrappers. Nothing here keeps state.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

from indicators import _cache  # noqa: F401  (must precede every cached kernel)
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


@njit(cache=True)
def first_row(a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64]) -> int:
    """Index of the first row where none of ``a``, ``b``, ``c`` is NaN (len if none).

    TA-Lib skips such leading rows, and so do the batch functions: a series that starts
    later (a symbol listed mid-history) is computed as if it started at that row.
    """
    n: int = a.shape[0]
    for i in range(n):
        if not (math.isnan(a[i]) or math.isnan(b[i]) or math.isnan(c[i])):
            return i
    return n


@njit(cache=True)
def leading_nans(x: NDArray[np.float64]) -> int:
    """Number of leading NaNs in ``x`` (TA-Lib skips them; so do the batch functions)."""
    start = 0
    while start < x.shape[0] and math.isnan(x[start]):
        start += 1
    return start


@njit(cache=True)
def nonfinite_index(x: NDArray[np.float64]) -> int:
    """Index of the first NaN or inf in ``x``, or -1.

    The first loop has no early exit, so it vectorises (well under 0.1 ns a value); only a
    bad series pays for the second. Callers pass a slice starting at 0 so that numba can
    drop its negative-index checks.
    """
    bad = False
    for i in range(x.shape[0]):
        bad |= x[i] - x[i] != 0.0  # NaN and inf give NaN, which is != 0
    if not bad:
        return -1
    for i in range(x.shape[0]):
        if not math.isfinite(x[i]):
            return i
    return -1


@njit(cache=True, inline="always")
def bar_ok(high: float, low: float, close: float) -> bool:
    """True when the bar is finite and ``low <= close <= high`` (branch-free fast path)."""
    return (low <= close) & (close <= high) & (high - low < math.inf)


@njit(cache=True)
def check_hlc(high: float, low: float, close: float) -> tuple[int, int]:
    """Validate one bar's high, low and close.

    Returns:
        ``(field_code, reason_code)``; reason 0 means the bar is accepted.
    """
    if not math.isfinite(high):
        return F_HIGH, NOT_FINITE
    if not math.isfinite(low):
        return F_LOW, NOT_FINITE
    if not math.isfinite(close):
        return F_CLOSE, NOT_FINITE
    if high < low:
        return F_HIGH, HIGH_BELOW_LOW
    if close < low or close > high:
        return F_CLOSE, OUTSIDE_RANGE
    return 0, OK


@njit(cache=True)
def hlc_error(
    h: NDArray[np.float64], lo: NDArray[np.float64], c: NDArray[np.float64], start: int
) -> tuple[int, int, int]:
    """First bad bar of ``start:`` as ``(index, field_code, reason_code)``, or ``(-1, 0, 0)``.

    The first loop only ORs a flag (no early exit, on slices starting at 0), so it
    vectorises; only a bad series pays for the rescan that names the bar.
    """
    hs, ls, cs = h[start:], lo[start:], c[start:]
    bad = False
    for i in range(hs.shape[0]):
        bad |= not bar_ok(hs[i], ls[i], cs[i])
    if bad:
        for i in range(hs.shape[0]):
            field, reason = check_hlc(hs[i], ls[i], cs[i])
            if reason != 0:
                return start + i, field, reason
    return -1, 0, 0


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
