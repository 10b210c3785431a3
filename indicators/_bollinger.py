"""Bollinger Bands with population deviation: step function and batch form.

``mid = SMA(n)`` (TA-Lib's running total, so ``mid`` equals TA-Lib's to the bit);
``sd = sqrt((S2 - S1^2 / n) / n)`` where ``S1 = sum(x - c)`` and ``S2 = sum((x - c)^2)``
over the same ``n`` closes and ``c`` is a shift near them; ``upper = mid + k * sd``,
``lower = mid - k * sd``. Valid from bar ``n - 1``.

Why not TA-Lib's running ``E[x^2] - E[x]^2``: with BTC at 1e5 the squares are 1e10 and the
difference of two running sums loses digits (TA-Lib 0.8 is off by up to ~1e-10 of the
deviation on real candles, more after large moves). Here:

* the sums are of deviations from the shift ``c``, so nothing large cancels;
* they are kept in double-double (error-free ``two_sum`` and ``fma`` products), so adding
  a close and removing it later cancel exactly, and a flat window gives exactly 0;
* every 64 windows the shift moves to the newest close and both sums are rebuilt from the
  window, so the deviations stay moderate and the low parts' rounding never accumulates
  beyond that.

That is O(1) per bar (O(n) once per 64 ``n`` bars). The rebuild happens on fixed bar
numbers and reads the window in time order (batch: the input array; streaming: the
state's window buffer), so batch and streaming agree bit for bit. The step is split in a
recursive half (:func:`bollinger_sums`) and a pure half (:func:`bollinger_bands`) so the
batch form can run them in two passes.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

from indicators._common import leading_nans, nonfinite_index
from indicators._errors import IndicatorConfigError, IndicatorInputError
from indicators._fma import fma
from indicators._moving_average import sma_update
from indicators._shared import NAN, as_series, check_period

#: The sums are rebuilt from the window every this many windows. Double-double sums do not
#: need it for accuracy over a window (errors are ~1e-32 relative per step); it bounds the
#: slow growth of the low parts and keeps deviations from the shift moderate. Rare,
#: because a rebuild is a serial chain of ``n`` exact additions (~12 cycles each).
REBUILD_WINDOWS = 64

# (SMA total, shift, bars since rebuild, S1 hi, S1 lo, S2 hi, S2 lo)
BollingerState = tuple[float, float, float, float, float, float, float]
BOLLINGER_START: BollingerState = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


@njit(cache=True, inline="always")
def two_sum(a: float, b: float) -> tuple[float, float]:
    """``a + b`` rounded, and the exact rounding error (Knuth's branch-free TwoSum)."""
    s = a + b
    bp = s - a
    return s, (a - (s - bp)) + (b - bp)


@njit(cache=True, inline="always")
def _accumulate(  # noqa: PLR0917 (numba kernels take positional scalars)
    s1h: float, s1l: float, s2h: float, s2l: float, d: float, sign: float
) -> tuple[float, float, float, float]:
    """Add (``sign`` 1) or remove (-1) a deviation ``d`` from the double-double sums."""
    s1h, err = two_sum(s1h, sign * d)
    s1l += err
    square = d * d
    square_err = fma(d, d, -square)
    s2h, err = two_sum(s2h, sign * square)
    s2l += err + sign * square_err
    return s1h, s1l, s2h, s2l


@njit(cache=True, inline="always")
def _deviation(  # noqa: PLR0917 (numba kernels take positional scalars)
    s1h: float, s1l: float, s2h: float, s2l: float, n: float, inv_n: float
) -> float:
    """``sqrt((S2 - S1^2 / n) / n)`` evaluated in double-double, 0 when not positive.

    Multiplies by ``1 / n`` rather than dividing (dividers are the bottleneck here); the
    remainder ``S1^2 - q * n`` is still exact through ``fma``, so the quotient's own
    rounding is corrected.
    """
    sq = s1h * s1h
    sq_err = fma(s1h, s1h, -sq) + 2.0 * s1h * s1l
    q = sq * inv_n
    q_err = (fma(-q, n, sq) + sq_err) * inv_n
    diff, err = two_sum(s2h, -q)
    var = (diff + (err + (s2l - q_err))) * inv_n
    return math.sqrt(var) if var > 0.0 else 0.0


Sums = tuple[float, float, float, float]


@njit(cache=True, inline="always")
def bollinger_sums(  # noqa: PLR0917 (numba kernels take positional scalars)
    x: float,
    window: NDArray[np.float64],
    first: int,
    j: int,
    period: int,
    state: BollingerState,
) -> tuple[BollingerState, float, Sums]:
    """Advance the Bollinger state by one close: the recursive half of the step.

    Args:
        x: The new close.
        window: Array whose ``window[first:first + n]`` are the last ``n`` closes in time
            order, ending with ``x`` (read only when ``j >= n - 1``): the input array in
            batch, the state's window buffer when streaming.
        first: Index of the oldest close of the window.
        j: Bar number counted from the first close (0-based).
        period: Window length ``n`` (>= 2).
        state: ``(total, shift, since, s1_hi, s1_lo, s2_hi, s2_lo)``.

    Returns:
        ``(state, mid, sums)``: the middle band (NaN while ``j < n - 1``) and the window's
        double-double sums ``(S1 hi, S1 lo, S2 hi, S2 lo)`` for :func:`bollinger_bands`.
    """
    total, shift, since, s1h, s1l, s2h, s2l = state
    if j < period - 1:
        return (total + x, shift, since, s1h, s1l, s2h, s2l), NAN, (0.0, 0.0, 0.0, 0.0)
    n = float(period)
    total, mid = sma_update(x, window[first], n, total)
    if j == period - 1 or since == REBUILD_WINDOWS * n:
        shift = x
        since = 0.0
        s1h = s1l = s2h = s2l = 0.0
        for m in range(first, first + period):
            s1h, s1l, s2h, s2l = _accumulate(s1h, s1l, s2h, s2l, window[m] - shift, 1.0)
    else:
        s1h, s1l, s2h, s2l = _accumulate(s1h, s1l, s2h, s2l, x - shift, 1.0)
    sums = (s1h, s1l, s2h, s2l)
    s1h, s1l, s2h, s2l = _accumulate(s1h, s1l, s2h, s2l, window[first] - shift, -1.0)
    return (total, shift, since + 1.0, s1h, s1l, s2h, s2l), mid, sums


@njit(cache=True, inline="always")
def bollinger_bands(mid: float, sums: Sums, period: int, k: float) -> tuple[float, float, float]:
    """``(upper, mid, lower)`` from the middle band and the sums: the non-recursive half.

    Kept apart from :func:`bollinger_sums` so that the batch form can run it in a second
    pass: its ~40-cycle latency then no longer stalls the recursion (3x faster), and the
    values are the same bits because the same two functions do the same operations.
    """
    n = float(period)
    width = _deviation(sums[0], sums[1], sums[2], sums[3], n, 1.0 / n) * k
    return mid + width, mid, mid - width


@njit(cache=True, inline="always")
def bollinger_step(  # noqa: PLR0917 (numba kernels take positional scalars)
    x: float,
    window: NDArray[np.float64],
    first: int,
    j: int,
    period: int,
    k: float,
    state: BollingerState,
) -> tuple[BollingerState, float, float, float]:
    """Advance Bollinger Bands by one close (arguments as :func:`bollinger_sums`).

    Returns:
        ``(state, upper, mid, lower)`` in price units, NaN while ``j < n - 1``.
    """
    state, mid, sums = bollinger_sums(x, window, first, j, period, state)
    if j < period - 1:
        return state, NAN, NAN, NAN
    upper, mid, lower = bollinger_bands(mid, sums, period, k)
    return state, upper, mid, lower


@njit(cache=True)
def _bollinger_batch(
    x: NDArray[np.float64], period: int, k: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], int]:
    n = x.shape[0]
    upper = np.empty(n)
    mid = np.empty(n)
    lower = np.empty(n)
    start = leading_nans(x)
    upper[:start] = NAN
    mid[:start] = NAN
    lower[:start] = NAN
    xs, us, ms, ls = x[start:], upper[start:], mid[start:], lower[start:]
    bad = nonfinite_index(xs)
    if bad >= 0:
        return upper, mid, lower, start + bad
    m = xs.shape[0]
    state = BOLLINGER_START
    for j in range(min(m, period - 1)):
        state, _, _ = bollinger_sums(xs[j], xs, 0, j, period, state)
        us[j] = ms[j] = ls[j] = NAN
    # Full windows: bar j = q + n - 1 has its window at xs[q:q + n]. Slices starting at 0
    # let numba prove every index >= 0 and drop its wraparound checks.
    newest, u, mi, lo = xs[period - 1 :], us[period - 1 :], ms[period - 1 :], ls[period - 1 :]
    s2h = np.empty(newest.shape[0])  # S2 waits here between the passes, S1 in u and lo
    s2l = np.empty(newest.shape[0])
    for q in range(newest.shape[0]):
        state, mi[q], sums = bollinger_sums(newest[q], xs, q, q + period - 1, period, state)
        u[q], lo[q], s2h[q], s2l[q] = sums
    for q in range(newest.shape[0]):
        u[q], mi[q], lo[q] = bollinger_bands(mi[q], (u[q], lo[q], s2h[q], s2l[q]), period, k)
    return upper, mid, lower, -1


def check_stddev(value: float) -> float:
    """Validate the band width (finite, >= 0) and return it as a float."""
    k = float(value)
    if not math.isfinite(k) or k < 0.0:
        raise IndicatorConfigError(f"bb_stddev: expected a finite number >= 0, was {value!r}")
    return k


def bollinger(
    values: ArrayLike, period: int = 20, stddev: float = 2.0
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Bollinger Bands, as TA-Lib's ``BBANDS`` with an SMA and equal up/down widths.

    Args:
        values: Closes, any float units; leading NaNs are skipped like TA-Lib does.
        period: Window length in bars (>= 2).
        stddev: Band width in population standard deviations (>= 0).

    Returns:
        ``(upper, mid, lower)`` in the units of ``values``, NaN where not yet valid.

    Raises:
        IndicatorInputError: A NaN or inf after the first valid value (names the bar).
        IndicatorConfigError: Period or width out of range.
    """
    x = as_series(values, "values")
    upper, mid, lower, bad = _bollinger_batch(
        x, check_period("period", period, 2), check_stddev(stddev)
    )
    if bad >= 0:
        raise IndicatorInputError("values", bad, "is not finite")
    return upper, mid, lower
