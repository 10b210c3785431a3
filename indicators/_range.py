"""True range, ATR (Wilder) and ADX: step functions and batch forms.

* True range of bar ``t``: ``max(high - low, |high - close[t-1]|, |low - close[t-1]|)``;
  undefined on the first bar.
* ATR, as TA-Lib's ``ATR`` (lookback ``n``): the first value is the plain mean of the true
  ranges of bars ``1 .. n``; then Wilder's ``atr = atr * (n - 1) / n + tr / n``, evaluated
  bar pair by bar pair from the ATR two bars back (see :func:`atr_step`).
* ADX, as TA-Lib's ``ADX`` (lookback ``2n - 1``), operation for operation: +DM / -DM
  (the larger move wins, ties give neither) and TR are summed over bars ``1 .. n-1``, then
  Wilder-smoothed as ``s = s - s / n + v``; from bar ``n`` on, ``DI = 100 * DM / TR`` and
  ``DX = 100 * |DI- - DI+| / (DI- + DI+)``; the first ADX is the mean of the ``n`` DX of
  bars ``n .. 2n-1``, then ``adx = (adx * (n - 1) + dx) / n``. A bar whose TR or DI sum is
  exactly zero contributes no DX and leaves the ADX as it was, as in TA-Lib.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

from indicators._common import bar_ok, check_hlc, first_row
from indicators._errors import FIELD_NAMES, REASONS, IndicatorInputError
from indicators._fma import fma
from indicators._shared import NAN, WilderFactors, as_hlc, check_period, wilder_factors

AdxState = tuple[float, float, float, float, float]


@njit(cache=True, inline="always")
def true_range(high: float, low: float, prev_close: float) -> float:
    """Wilder's true range of a bar, in price units (inputs must be finite)."""
    return max(high - low, abs(high - prev_close), abs(low - prev_close))


AtrState = tuple[float, float, float]  # (seed sum, anchor ATR, pending true range)


@njit(cache=True, inline="always")
def wilder_half(anchor: float, value: float, f: WilderFactors) -> float:
    """The Wilder average one bar after ``anchor``: ``anchor * c1 + value * c2``."""
    return fma(anchor, f[0], value * f[1])


@njit(cache=True, inline="always")
def wilder_pair(anchor: float, first: float, second: float, f: WilderFactors) -> float:
    """The Wilder average two bars after ``anchor``, straight from it.

    ``anchor * c1^2 + (first * c1 * c2 + second * c2)``: the two steps folded into one, so
    the loop-carried chain is one FMA every two bars instead of two.
    """
    return fma(anchor, f[2], fma(f[3], first, second * f[1]))


@njit(cache=True, inline="always")
def atr_step(
    tr: float, j: int, period: int, f: WilderFactors, state: AtrState
) -> tuple[AtrState, float]:
    """Advance a Wilder ATR by one bar's true range.

    After the seed, bars come in pairs: the first is :func:`wilder_half` of the anchor (the
    ATR two bars back), the second :func:`wilder_pair` of it, which becomes the new anchor.
    Mathematically the plain Wilder recursion; evaluated so that its dependency chain is
    half as long (TA-Lib 0.8 also restructures it; results agree within ~1e-15).

    Args:
        tr: The bar's true range (ignored on the first bar, where it is undefined).
        j: Bar number counted from the first bar (0-based).
        period: ATR period ``n``.
        f: :func:`wilder_factors` of ``n``.
        state: ``(seed sum, anchor, pending)``: the sum of the first ``n`` true ranges,
            the ATR of the last even bar after the seed, and the true range of an odd bar
            waiting for its pair.

    Returns:
        ``(state, atr)``; ATR in price units, NaN while ``j < n``.
    """
    acc, anchor, pending = state
    if j == 0:
        return (0.0, NAN, 0.0), NAN
    if j < period:
        return (acc + tr, anchor, pending), NAN
    if j == period:
        acc = acc + tr
        anchor = acc / period
        return (acc, anchor, pending), anchor
    if (j - period) & 1:
        return (acc, anchor, tr), wilder_half(anchor, tr, f)
    anchor = wilder_pair(anchor, pending, tr, f)
    return (acc, anchor, pending), anchor


@njit(cache=True, inline="always")
def directional_movement(
    high: float, low: float, prev_high: float, prev_low: float
) -> tuple[float, float]:
    """Wilder's +DM and -DM of a bar: the larger of the up and down moves, if positive."""
    diff_p = high - prev_high
    diff_m = prev_low - low
    # Non-short-circuit "&" so that numba emits selects, not unpredictable branches.
    take_plus = (diff_p > 0.0) & (diff_p > diff_m)
    take_minus = (diff_m > 0.0) & (diff_p < diff_m)
    return (diff_p if take_plus else 0.0), (diff_m if take_minus else 0.0)


@njit(cache=True, inline="always")
def adx_step(  # noqa: PLR0917 (numba kernels take positional scalars)
    bar_plus_dm: float, bar_minus_dm: float, bar_tr: float, j: int, period: int, state: AdxState
) -> tuple[AdxState, float]:
    """Advance ADX by one bar's directional movements and true range.

    Args:
        bar_plus_dm: The bar's +DM (from :func:`directional_movement`; 0 on the first bar).
        bar_minus_dm: The bar's -DM.
        bar_tr: The bar's true range (ignored on the first bar).
        j: Bar number counted from the first bar (0-based).
        period: ADX period ``n`` (>= 2).
        state: ``(plus_dm, minus_dm, tr, sum_dx, adx)``, the Wilder sums and the ADX.

    Returns:
        ``(state, adx)``; adx in [0, 100], NaN while ``j < 2n - 1``.
    """
    plus_dm, minus_dm, tr, sum_dx, adx = state
    if j == 0:
        return (0.0, 0.0, 0.0, 0.0, NAN), NAN
    if j < period:
        return (plus_dm + bar_plus_dm, minus_dm + bar_minus_dm, tr + bar_tr, 0.0, NAN), NAN
    minus_dm -= minus_dm / period
    plus_dm -= plus_dm / period
    minus_dm += bar_minus_dm
    plus_dm += bar_plus_dm
    tr = tr - tr / period + bar_tr
    dx = -1.0
    if tr != 0.0:
        minus_di = 100.0 * (minus_dm / tr)
        plus_di = 100.0 * (plus_dm / tr)
        di_sum = minus_di + plus_di
        if di_sum != 0.0:
            dx = 100.0 * (abs(minus_di - plus_di) / di_sum)
    out = NAN
    if j < 2 * period - 1:
        if dx >= 0.0:
            sum_dx += dx
    elif j == 2 * period - 1:
        if dx >= 0.0:
            sum_dx += dx
        adx = sum_dx / period
        out = adx
    else:
        if dx >= 0.0:
            adx = (adx * (period - 1) + dx) / period
        out = adx
    return (plus_dm, minus_dm, tr, sum_dx, adx), out


@njit(cache=True)
def _scan_hlc(
    h: NDArray[np.float64],
    lo: NDArray[np.float64],
    c: NDArray[np.float64],
    start: int,
    tr: NDArray[np.float64],
) -> tuple[int, int, int]:
    """First pass of the batch forms: validate bars ``start:`` and write their true ranges.

    The loop has no early exit (it only ORs a flag), so it runs at memory speed; a bad
    series is rescanned to name its first bad bar. ``tr[start]`` is set to 0 (undefined).

    Returns:
        ``(bad_index, field_code, reason_code)``; ``bad_index`` is -1 when all is well.
    """
    # Sliced so every index is provably >= 0: numba then drops its negative-index
    # wraparound checks and the loop vectorises.
    hs, ls, cs, trs = h[start:], lo[start:], c[start:], tr[start:]
    m = hs.shape[0]
    bad = False
    if m > 0:
        trs[0] = 0.0
        bad = not bar_ok(hs[0], ls[0], cs[0])
    for i in range(1, m):
        hi = hs[i]
        li = ls[i]
        bad |= not bar_ok(hi, li, cs[i])
        trs[i] = true_range(hi, li, cs[i - 1])
    if not bad:
        return -1, 0, 0
    for i in range(start, h.shape[0]):
        field, reason = check_hlc(h[i], lo[i], c[i])
        if reason != 0:
            return i, field, reason
    return -1, 0, 0


@njit(cache=True)
def _atr_batch(
    h: NDArray[np.float64],
    lo: NDArray[np.float64],
    c: NDArray[np.float64],
    period: int,
    factors: WilderFactors,
) -> tuple[NDArray[np.float64], int, int, int]:
    n = h.shape[0]
    out = np.empty(n)
    start = first_row(h, lo, c)
    bad, field, reason = _scan_hlc(h, lo, c, start, out)
    if bad >= 0:
        return out, bad, field, reason
    out[:start] = NAN
    f = factors
    state = (0.0, NAN, 0.0)
    values = out[start:]
    m = values.shape[0]
    seeded = min(m, period + 1)
    for j in range(seeded):
        state, values[j] = atr_step(values[j], j, period, f, state)
    # After the seed, bars go in pairs exactly as atr_step takes them; starting the slice
    # at 0 lets numba drop its wraparound checks.
    anchor = state[1]
    rest = values[seeded:]
    for q in range(rest.shape[0] // 2):
        first = rest[2 * q]
        second = rest[2 * q + 1]
        rest[2 * q] = wilder_half(anchor, first, f)
        anchor = wilder_pair(anchor, first, second, f)
        rest[2 * q + 1] = anchor
    if rest.shape[0] % 2:
        rest[-1] = wilder_half(anchor, rest[-1], f)
    return out, -1, 0, 0


@njit(cache=True)
def _adx_batch(
    h: NDArray[np.float64], lo: NDArray[np.float64], c: NDArray[np.float64], period: int
) -> tuple[NDArray[np.float64], int, int, int]:
    n = h.shape[0]
    out = np.empty(n)
    start = first_row(h, lo, c)
    bad, field, reason = _scan_hlc(h, lo, c, start, out)
    if bad >= 0:
        return out, bad, field, reason
    out[:start] = NAN
    hs, ls, values = h[start:], lo[start:], out[start:]
    state = (0.0, 0.0, 0.0, 0.0, NAN)
    if values.shape[0] > 0:
        state, values[0] = adx_step(0.0, 0.0, 0.0, 0, period, state)
    for j in range(1, values.shape[0]):
        plus_dm, minus_dm = directional_movement(hs[j], ls[j], hs[j - 1], ls[j - 1])
        state, values[j] = adx_step(plus_dm, minus_dm, values[j], j, period, state)
    return out, -1, 0, 0


def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> NDArray[np.float64]:
    """Wilder's average true range, as TA-Lib's ``ATR`` (valid from bar ``period``).

    Args:
        high: Bar highs, price units.
        low: Bar lows, price units.
        close: Bar closes, price units; rows with a leading NaN in any input are skipped.
        period: ATR period in bars (>= 1).

    Returns:
        ATR per bar in price units, NaN where not yet valid.

    Raises:
        IndicatorInputError: Non-finite or inconsistent bar (high < low, close outside).
        IndicatorConfigError: ``period`` < 1.
    """
    h, lo, c = as_hlc(high, low, close)
    n = check_period("period", period)
    out, bad, field, reason = _atr_batch(h, lo, c, n, wilder_factors(n))
    if bad >= 0:
        raise IndicatorInputError(FIELD_NAMES[field], bad, REASONS[reason])
    return out


def adx(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> NDArray[np.float64]:
    """Wilder's average directional index, as TA-Lib's ``ADX`` (valid from bar ``2n - 1``).

    Args:
        high: Bar highs, price units.
        low: Bar lows, price units.
        close: Bar closes, price units; rows with a leading NaN in any input are skipped.
        period: ADX period in bars (>= 2).

    Returns:
        ADX per bar in [0, 100], NaN where not yet valid.

    Raises:
        IndicatorInputError: Non-finite or inconsistent bar (high < low, close outside).
        IndicatorConfigError: ``period`` < 2.
    """
    h, lo, c = as_hlc(high, low, close)
    out, bad, field, reason = _adx_batch(h, lo, c, check_period("period", period, 2))
    if bad >= 0:
        raise IndicatorInputError(FIELD_NAMES[field], bad, REASONS[reason])
    return out
