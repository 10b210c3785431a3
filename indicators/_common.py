"""Helpers shared by the kernels: input checks and leading-NaN handling.

Every function here is a numba kernel (``cache=True``); the constants and Python-side
checks the kernels share with the runtime are in ``_shared`` (numba-free). Nothing here
keeps state. Importing this module installs the cache stamping of ``_cache``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

from indicators import _cache  # noqa: F401  (must precede every cached kernel)
from indicators._shared import F_CLOSE, F_HIGH, F_LOW, HIGH_BELOW_LOW, NOT_FINITE, OK, OUTSIDE_RANGE


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
