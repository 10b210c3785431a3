"""Classic (floor) pivot points: step functions and batch forms.

From a period's high ``H``, low ``L`` and close ``C``::

    P  = (H + L + C) / 3
    R1 = 2 * P - L        S1 = 2 * P - H
    R2 = P + (H - L)      S2 = P - (H - L)

Two ways to choose the period, both using completed candles only:

* ``candles``: the last ``N`` candles including the one just closed (``H`` = highest
  high, ``L`` = lowest low, ``C`` = its close). Valid from bar ``N - 1``.
* ``utc_day``: the previous complete UTC day. A day is complete once a candle that closes
  at or after midnight (``open_time + interval >= next midnight``) has been committed, or
  when the first candle of a later day arrives (a gap). The levels then hold for the whole
  next day. The first day is skipped when the series starts after its midnight, since its
  high and low would be partial; so ``utc_day`` pivots become valid at the first complete
  day's end.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

from indicators._common import check_hlc, first_row, hlc_error
from indicators._errors import FIELD_NAMES, REASONS, IndicatorInputError
from indicators._shared import DAY_NS, FIFTEEN_MINUTES_NS, NAN, NOT_AFTER, as_hlc, check_period

PivotLevels = tuple[float, float, float, float, float]

# utc_day state: (day, high, low, close, counts, published, P, R1, R2, S1, S2)
DayState = tuple[float, float, float, float, float, float, float, float, float, float, float]


@njit(cache=True, inline="always")
def pivot_levels(high: float, low: float, close: float) -> PivotLevels:
    """Classic pivot levels ``(P, R1, R2, S1, S2)`` from a period's high, low and close."""
    p = (high + low + close) / 3.0
    span = high - low
    return p, 2.0 * p - low, p + span, 2.0 * p - high, p - span


@njit(cache=True, inline="always")
def window_extremes(
    highs: NDArray[np.float64],
    high_first: int,
    lows: NDArray[np.float64],
    low_first: int,
    count: int,
) -> tuple[float, float]:
    """Highest of ``count`` highs from ``high_first`` and lowest of ``count`` lows.

    Used by the streaming kernel on its ring buffers (the batch form keeps a rolling
    extreme instead). Max and min are exact, so the order and the method do not matter:
    both get the same bits.
    """
    hi = highs[high_first]
    lo = lows[low_first]
    for m in range(1, count):
        hi = max(hi, highs[high_first + m])
        lo = min(lo, lows[low_first + m])
    return hi, lo


@njit(cache=True, inline="always")
def utc_day_step(  # noqa: PLR0917 (numba kernels take positional scalars)
    t_ns: int, high: float, low: float, close: float, j: int, interval_ns: int, state: DayState
) -> tuple[DayState, PivotLevels]:
    """Advance ``utc_day`` pivots by one candle.

    Args:
        t_ns: Candle open time, UTC integer nanoseconds (strictly increasing).
        high: Candle high.
        low: Candle low.
        close: Candle close.
        j: Bar number counted from the first candle (0-based).
        interval_ns: Candle length in nanoseconds (decides when a day is complete).
        state: ``(day, high, low, close, counts, published, P, R1, R2, S1, S2)`` where
            ``day`` is the UTC day number of the day being accumulated, ``counts`` is 1
            when that day was seen from its start, ``published`` is 1 once its levels
            have been published.

    Returns:
        ``(state, levels)``: levels of the previous complete day (NaN before one exists).
    """
    day, day_high, day_low, day_close, counts, published, p, r1, r2, s1, s2 = state
    if j == 0:
        p = r1 = r2 = s1 = s2 = NAN
    t_day = t_ns // DAY_NS
    if j == 0 or t_day != day:
        if j > 0 and counts == 1.0 and published == 0.0:
            p, r1, r2, s1, s2 = pivot_levels(day_high, day_low, day_close)
        day = float(t_day)
        day_high = high
        day_low = low
        counts = 1.0 if (j > 0 or t_ns == t_day * DAY_NS) else 0.0
        published = 0.0
    else:
        day_high = max(day_high, high)
        day_low = min(day_low, low)
    day_close = close
    if counts == 1.0 and published == 0.0 and t_ns + interval_ns >= (t_day + 1) * DAY_NS:
        p, r1, r2, s1, s2 = pivot_levels(day_high, day_low, day_close)
        published = 1.0
    return (day, day_high, day_low, day_close, counts, published, p, r1, r2, s1, s2), (
        p,
        r1,
        r2,
        s1,
        s2,
    )


@njit(cache=True)
def _pivots_batch(
    h: NDArray[np.float64], lo: NDArray[np.float64], c: NDArray[np.float64], lookback: int
) -> tuple[NDArray[np.float64], int, int, int]:
    n = h.shape[0]
    out = np.empty((5, n))
    start = first_row(h, lo, c)
    bad, field, reason = hlc_error(h, lo, c, start)
    if bad >= 0:
        return out, bad, field, reason
    hs, ls, cs = h[start:], lo[start:], c[start:]
    p, r1, r2 = out[0, start:], out[1, start:], out[2, start:]
    s1, s2 = out[3, start:], out[4, start:]
    m = hs.shape[0]
    out[:, : start + min(m, lookback - 1)] = NAN
    # Rolling extremes by "rescan when the extreme leaves the window" (O(1) amortised).
    # Max and min are exact, so this equals the streaming form's full-window scan.
    top = bottom = 0.0
    top_at = bottom_at = -1
    for j in range(m):
        first = j - lookback + 1 if j >= lookback - 1 else 0
        if top_at < first:
            top, top_at = hs[first], first
            for k in range(first + 1, j + 1):
                if hs[k] >= top:
                    top, top_at = hs[k], k
        elif hs[j] >= top:
            top, top_at = hs[j], j
        if bottom_at < first:
            bottom, bottom_at = ls[first], first
            for k in range(first + 1, j + 1):
                if ls[k] <= bottom:
                    bottom, bottom_at = ls[k], k
        elif ls[j] <= bottom:
            bottom, bottom_at = ls[j], j
        if j >= lookback - 1:
            p[j], r1[j], r2[j], s1[j], s2[j] = pivot_levels(top, bottom, cs[j])
    return out, -1, 0, 0


@njit(cache=True)
def _pivots_day_batch(
    t: NDArray[np.int64],
    h: NDArray[np.float64],
    lo: NDArray[np.float64],
    c: NDArray[np.float64],
    interval_ns: int,
) -> tuple[NDArray[np.float64], int, int, int]:
    n = h.shape[0]
    out = np.full((5, n), NAN)
    start = first_row(h, lo, c)
    state = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, NAN, NAN, NAN, NAN, NAN)
    for i in range(start, n):
        field, reason = check_hlc(h[i], lo[i], c[i])
        if reason != 0:
            return out, i, field, reason
        if i > start and t[i] <= t[i - 1]:
            return out, i, 0, NOT_AFTER
        state, levels = utc_day_step(t[i], h[i], lo[i], c[i], i - start, interval_ns, state)
        out[0, i], out[1, i], out[2, i], out[3, i], out[4, i] = levels
    return out, -1, 0, 0


def _split(out: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    return tuple(np.ascontiguousarray(out[k]) for k in range(5))


def pivots(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, lookback: int = 14
) -> tuple[NDArray[np.float64], ...]:
    """Classic pivot points over the last ``lookback`` candles (``candles`` mode).

    Args:
        high: Bar highs, price units.
        low: Bar lows, price units.
        close: Bar closes, price units; rows with a leading NaN in any input are skipped.
        lookback: Candles per period (>= 1); valid from bar ``lookback - 1``.

    Returns:
        ``(P, R1, R2, S1, S2)`` arrays in price units, NaN where not yet valid.

    Raises:
        IndicatorInputError: Non-finite or inconsistent bar (high < low, close outside).
        IndicatorConfigError: ``lookback`` < 1.
    """
    h, lo, c = as_hlc(high, low, close)
    out, bad, field, reason = _pivots_batch(h, lo, c, check_period("lookback", lookback))
    if bad >= 0:
        raise IndicatorInputError(FIELD_NAMES[field], bad, REASONS[reason])
    return _split(out)


def pivots_utc_day(
    open_time_ns: ArrayLike,
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    candle_interval_ns: int = FIFTEEN_MINUTES_NS,
) -> tuple[NDArray[np.float64], ...]:
    """Classic pivot points from the previous complete UTC day (``utc_day`` mode).

    Args:
        open_time_ns: Candle open times, UTC integer nanoseconds, strictly increasing.
        high: Bar highs, price units.
        low: Bar lows, price units.
        close: Bar closes, price units; rows with a leading NaN in any input are skipped.
        candle_interval_ns: Candle length in nanoseconds (default 15 minutes).

    Returns:
        ``(P, R1, R2, S1, S2)`` arrays in price units, NaN until a complete day was seen.

    Raises:
        IndicatorInputError: Bad bar, or an open time not after the previous one.
        IndicatorConfigError: ``candle_interval_ns`` < 1.
    """
    h, lo, c = as_hlc(high, low, close)
    t = np.ascontiguousarray(open_time_ns, dtype=np.int64)
    if t.shape != h.shape:
        raise IndicatorInputError("open_time_ns", 0, f"has shape {t.shape}, not {h.shape}")
    interval = check_period("candle_interval_ns", candle_interval_ns)
    out, bad, field, reason = _pivots_day_batch(t, h, lo, c, interval)
    if bad >= 0:
        raise IndicatorInputError(FIELD_NAMES[field], bad, REASONS[reason])
    return _split(out)
