"""RSI (Wilder) and MACD: step functions and batch forms.

RSI, as TA-Lib's ``RSI`` (lookback ``n``): the first average gain and loss are the plain
means of the first ``n`` up and down moves; after that each is Wilder-smoothed,
``avg = avg * (n - 1) / n + move / n``, evaluated as ``fma(avg, (n-1)/n, move * (1/n))``
(one rounding on the dependency chain; within ~2e-15 relative of TA-Lib 0.8, whose own
evaluation order is not reproducible bar by bar). ``RSI = 100 * g / (g + l)``, and 0 when
both averages are exactly zero (a flat series), as TA-Lib.

MACD, as TA-Lib's ``MACD`` (lookback ``slow + signal - 2``, 33 for 12/26/9): the slow EMA
is seeded on bars ``0 .. slow-1``, and the fast EMA is seeded on the ``fast`` bars ending at
``slow - 1`` (not on the first ``fast`` bars: TA-Lib starts both EMAs on the same bar). The
signal is an EMA of the MACD line seeded on bars ``slow-1 .. slow+signal-2``; the histogram
is ``macd - signal``. All three outputs become valid together.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

from indicators._common import leading_nans, nonfinite_index
from indicators._errors import IndicatorConfigError, IndicatorInputError
from indicators._fma import fma
from indicators._moving_average import ema_step, ema_update
from indicators._shared import NAN, as_series, check_period

MacdState = tuple[float, float, float, float, float, float]


@njit(cache=True, inline="always")
def rsi_step(  # noqa: PLR0917 (numba kernels take positional scalars)
    x: float, j: int, period: int, c1: float, c2: float, prev: float, gain: float, loss: float
) -> tuple[float, float, float, float]:
    """Advance a Wilder RSI by one close.

    Args:
        x: The new close.
        j: Bar number counted from the first close (0-based).
        period: RSI period ``n`` (>= 2).
        c1: ``(n - 1) / n``.
        c2: ``1 / n``.
        prev: Previous close (state).
        gain: Sum, then average, of up moves (state).
        loss: Sum, then average, of down moves, positive (state).

    Returns:
        ``(prev, gain, loss, rsi)``; rsi is in [0, 100], NaN while ``j < n``.
    """
    if j == 0:
        return x, 0.0, 0.0, NAN
    d = x - prev
    up = d if d > 0.0 else 0.0
    down = -d if d < 0.0 else 0.0
    if j < period:
        return x, gain + up, loss + down, NAN
    if j == period:
        gain = (gain + up) / period
        loss = (loss + down) / period
    else:
        gain = fma(gain, c1, up * c2)
        loss = fma(loss, c1, down * c2)
    total = gain + loss
    out = 100.0 * (gain / total) if total != 0.0 else 0.0
    return x, gain, loss, out


@njit(cache=True, inline="always")
def macd_step(  # noqa: PLR0917 (numba kernels take positional scalars)
    x: float,
    j: int,
    fast: int,
    slow: int,
    signal: int,
    kf: float,
    ks: float,
    kg: float,
    state: MacdState,
) -> tuple[MacdState, float, float, float]:
    """Advance MACD by one close.

    Args:
        x: The new close.
        j: Bar number counted from the first close (0-based).
        fast: Fast EMA period (< slow).
        slow: Slow EMA period.
        signal: Signal EMA period.
        kf: ``2 / (fast + 1)``.
        ks: ``2 / (slow + 1)``.
        kg: ``2 / (signal + 1)``.
        state: ``(fast_acc, fast_ema, slow_acc, slow_ema, signal_acc, signal_ema)``.

    Returns:
        ``(state, macd, signal, hist)``; the outputs are NaN until ``j >= slow + signal - 2``.
    """
    if j > slow + signal - 2:
        state, line, sig = macd_update(x, kf, ks, kg, state)
        return state, line, sig, line - sig
    fast_acc, fast_ema, slow_acc, slow_ema, sig_acc, sig_ema = state
    slow_acc, slow_ema, slow_out = ema_step(x, j, slow, ks, slow_acc, slow_ema)
    fast_acc, fast_ema, fast_out = ema_step(x, j - (slow - fast), fast, kf, fast_acc, fast_ema)
    line = fast_out - slow_out
    sig_acc, sig_ema, sig_out = ema_step(line, j - (slow - 1), signal, kg, sig_acc, sig_ema)
    state = (fast_acc, fast_ema, slow_acc, slow_ema, sig_acc, sig_ema)
    if j < slow + signal - 2:
        return state, NAN, NAN, NAN
    return state, line, sig_out, line - sig_out


@njit(cache=True, inline="always")
def macd_update(
    x: float, kf: float, ks: float, kg: float, state: MacdState
) -> tuple[MacdState, float, float]:
    """One MACD step once every EMA is seeded: ``(state, macd, signal)``."""
    fast_acc, fast_ema, slow_acc, slow_ema, sig_acc, sig_ema = state
    fast_ema = ema_update(x, kf, fast_ema)
    slow_ema = ema_update(x, ks, slow_ema)
    line = fast_ema - slow_ema
    sig_ema = ema_update(line, kg, sig_ema)
    return (fast_acc, fast_ema, slow_acc, slow_ema, sig_acc, sig_ema), line, sig_ema


@njit(cache=True)
def _rsi_batch(x: NDArray[np.float64], period: int) -> tuple[NDArray[np.float64], int]:
    n = x.shape[0]
    out = np.empty(n)
    start = leading_nans(x)
    out[:start] = NAN
    xs, values = x[start:], out[start:]  # indices >= 0: no wraparound checks
    bad = nonfinite_index(xs)
    if bad >= 0:
        return out, start + bad
    c1 = (period - 1) / period
    c2 = 1.0 / period
    prev = gain = loss = 0.0
    for j in range(xs.shape[0]):
        prev, gain, loss, values[j] = rsi_step(xs[j], j, period, c1, c2, prev, gain, loss)
    return out, -1


@njit(cache=True)
def _macd_batch(
    x: NDArray[np.float64], fast: int, slow: int, signal: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], int]:
    n = x.shape[0]
    line = np.empty(n)
    sig = np.empty(n)
    hist = np.empty(n)
    kf = 2.0 / (fast + 1)
    ks = 2.0 / (slow + 1)
    kg = 2.0 / (signal + 1)
    start = leading_nans(x)
    line[:start] = NAN
    sig[:start] = NAN
    hist[:start] = NAN
    xs, ls, ss, hs = x[start:], line[start:], sig[start:], hist[start:]
    bad = nonfinite_index(xs)
    if bad >= 0:
        return line, sig, hist, start + bad
    state = (0.0, NAN, 0.0, NAN, 0.0, NAN)
    seeded = min(xs.shape[0], slow + signal - 1)
    for j in range(seeded):
        state, ls[j], ss[j], hs[j] = macd_step(xs[j], j, fast, slow, signal, kf, ks, kg, state)
    # Slices that start at 0 let numba prove indices >= 0 and drop wraparound checks.
    rest_x, rest_l, rest_s, rest_h = xs[seeded:], ls[seeded:], ss[seeded:], hs[seeded:]
    for j in range(rest_x.shape[0]):
        state, line_j, sig_j = macd_update(rest_x[j], kf, ks, kg, state)
        rest_l[j] = line_j
        rest_s[j] = sig_j
        rest_h[j] = line_j - sig_j
    return line, sig, hist, -1


def check_macd_periods(fast: int, slow: int, signal: int) -> tuple[int, int, int]:
    """Validate MACD periods (``1 <= fast < slow``, ``signal >= 1``) and return them."""
    fast = check_period("macd_fast", fast, 1)
    slow = check_period("macd_slow", slow, 2)
    signal = check_period("macd_signal", signal, 1)
    if fast >= slow:
        raise IndicatorConfigError(f"macd_fast: expected < macd_slow ({slow}), was {fast}")
    return fast, slow, signal


def rsi(values: ArrayLike, period: int = 14) -> NDArray[np.float64]:
    """Wilder's RSI, as TA-Lib's ``RSI`` (valid from bar ``period``).

    Args:
        values: Closes, any float units; leading NaNs are skipped like TA-Lib does.
        period: RSI period in bars (>= 2).

    Returns:
        RSI in [0, 100] per bar, NaN where not yet valid.

    Raises:
        IndicatorInputError: A NaN or inf after the first valid value (names the bar).
        IndicatorConfigError: ``period`` < 2.
    """
    x = as_series(values, "values")
    out, bad = _rsi_batch(x, check_period("period", period, 2))
    if bad >= 0:
        raise IndicatorInputError("values", bad, "is not finite")
    return out


def macd(
    values: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """MACD line, signal and histogram, as TA-Lib's ``MACD`` (valid from ``slow+signal-2``).

    Args:
        values: Closes, any float units; leading NaNs are skipped like TA-Lib does.
        fast: Fast EMA period (>= 1, < slow; TA-Lib itself wants >= 2).
        slow: Slow EMA period.
        signal: Signal EMA period (>= 1).

    Returns:
        ``(macd, signal, hist)`` in the units of ``values``, NaN where not yet valid.

    Raises:
        IndicatorInputError: A NaN or inf after the first valid value (names the bar).
        IndicatorConfigError: Periods out of range.
    """
    x = as_series(values, "values")
    line, sig, hist, bad = _macd_batch(x, *check_macd_periods(fast, slow, signal))
    if bad >= 0:
        raise IndicatorInputError("values", bad, "is not finite")
    return line, sig, hist
