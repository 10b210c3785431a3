"""The numba kernels behind IndicatorSet: one call per closed candle updates everything.

The block they read and write is laid out in ``_set_layout``. Status codes returned to
Python are ``field * 16 + reason`` (see ``_errors``), 0 for OK.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

from indicators import _cache  # noqa: F401  (must precede every cached kernel)
from indicators._bollinger import bollinger_step
from indicators._momentum import macd_step, rsi_step
from indicators._moving_average import ema_step
from indicators._pivots import pivot_levels, utc_day_step, window_extremes
from indicators._range import (
    adx_step,
    atr_step,
    directional_movement,
    true_range,
)
from indicators._set_layout import (
    F_ATR,
    F_BB_K,
    F_EMA_K,
    F_MACD_KF,
    F_MACD_KG,
    F_MACD_KS,
    F_RSI_C1,
    F_RSI_C2,
    I_ADX,
    I_ATR,
    I_BB,
    I_INTERVAL,
    I_MACD_FAST,
    I_MACD_SIGNAL,
    I_MACD_SLOW,
    I_PIVOT_MODE,
    I_PIVOT_N,
    I_RSI,
    N_OUT,
    N_PARAMS,
    S_ADX,
    S_ATR,
    S_BARS,
    S_BB,
    S_DAY,
    S_EMA,
    S_MACD,
    S_PIV,
    S_PREV_C,
    S_PREV_H,
    S_PREV_L,
    S_REM,
    S_RSI,
    S_WINDOW,
)
from indicators._shared import (
    DAY_NS,
    F_CLOSE,
    F_HIGH,
    F_LOW,
    F_OPEN,
    F_TIME,
    F_VOLUME,
    HIGH_BELOW_LOW,
    NAN,
    NEGATIVE,
    NOT_AFTER,
    NOT_FINITE,
    OUTSIDE_RANGE,
)


@njit(cache=True, inline="always")
def _state_len(pp: NDArray[np.float64]) -> int:
    return S_WINDOW + int(pp[I_BB]) + 2 * int(pp[I_PIVOT_N])


@njit(cache=True)
def validate_candle(  # noqa: PLR0917 (numba kernels take positional scalars)
    st: NDArray[np.float64], t: int, o: float, h: float, lo: float, c: float, v: float
) -> int:
    """Check one candle against the state; returns 0 or ``field * 16 + reason``."""
    if st[S_BARS] > 0.0:
        day = t // DAY_NS
        rem = float(t - day * DAY_NS)
        fday = float(day)
        if fday < st[S_DAY] or (fday == st[S_DAY] and rem <= st[S_REM]):
            return F_TIME * 16 + NOT_AFTER
    if not math.isfinite(o):
        return F_OPEN * 16 + NOT_FINITE
    if not math.isfinite(h):
        return F_HIGH * 16 + NOT_FINITE
    if not math.isfinite(lo):
        return F_LOW * 16 + NOT_FINITE
    if not math.isfinite(c):
        return F_CLOSE * 16 + NOT_FINITE
    if not math.isfinite(v):
        return F_VOLUME * 16 + NOT_FINITE
    if h < lo:
        return F_HIGH * 16 + HIGH_BELOW_LOW
    if c < lo or c > h:
        return F_CLOSE * 16 + OUTSIDE_RANGE
    if o < lo or o > h:
        return F_OPEN * 16 + OUTSIDE_RANGE
    if v < 0.0:
        return F_VOLUME * 16 + NEGATIVE
    return 0


@njit(cache=True, inline="always")
def _advance_trend(
    pp: NDArray[np.float64],
    st: NDArray[np.float64],
    j: int,
    bar: tuple[float, float, float],
    out: NDArray[np.float64],
) -> int:
    """EMAs, RSI, ATR, ADX and MACD of bar ``j``; returns their validity bits."""
    h, lo, c = bar
    mask = 0
    for e in range(4):
        a = S_EMA + 2 * e
        n = int(pp[e])
        st[a], st[a + 1], out[e] = ema_step(c, j, n, pp[F_EMA_K + e], st[a], st[a + 1])
        mask |= (1 << e) if j >= n - 1 else 0
    n_rsi = int(pp[I_RSI])
    _, st[S_RSI], st[S_RSI + 1], out[4] = rsi_step(
        c, j, n_rsi, pp[F_RSI_C1], pp[F_RSI_C2], st[S_PREV_C], st[S_RSI], st[S_RSI + 1]
    )
    if j > 0:
        tr = true_range(h, lo, st[S_PREV_C])
        plus_dm, minus_dm = directional_movement(h, lo, st[S_PREV_H], st[S_PREV_L])
    else:
        tr = plus_dm = minus_dm = 0.0
    n_atr = int(pp[I_ATR])
    f = (pp[F_ATR], pp[F_ATR + 1], pp[F_ATR + 2], pp[F_ATR + 3])
    atr_state = (st[S_ATR], st[S_ATR + 1], st[S_ATR + 2])
    atr_state, out[5] = atr_step(tr, j, n_atr, f, atr_state)
    st[S_ATR], st[S_ATR + 1], st[S_ATR + 2] = atr_state
    n_adx = int(pp[I_ADX])
    a = S_ADX
    adx_state = (st[a], st[a + 1], st[a + 2], st[a + 3], st[a + 4])
    adx_state, out[6] = adx_step(plus_dm, minus_dm, tr, j, n_adx, adx_state)
    st[a], st[a + 1], st[a + 2], st[a + 3], st[a + 4] = adx_state
    m = S_MACD
    macd_state = (st[m], st[m + 1], st[m + 2], st[m + 3], st[m + 4], st[m + 5])
    slow = int(pp[I_MACD_SLOW])
    signal = int(pp[I_MACD_SIGNAL])
    fast = int(pp[I_MACD_FAST])
    ks = (pp[F_MACD_KF], pp[F_MACD_KS], pp[F_MACD_KG])
    macd_state, out[7], out[8], out[9] = macd_step(
        c, j, fast, slow, signal, ks[0], ks[1], ks[2], macd_state
    )
    st[m], st[m + 1], st[m + 2], st[m + 3], st[m + 4], st[m + 5] = macd_state
    mask |= (1 << 4) if j >= n_rsi else 0
    mask |= (1 << 5) if j >= n_atr else 0
    mask |= (1 << 6) if j >= 2 * n_adx - 1 else 0
    mask |= (7 << 7) if j >= slow + signal - 2 else 0
    return mask


@njit(cache=True, inline="always")
def _advance_bands(
    pp: NDArray[np.float64], st: NDArray[np.float64], j: int, c: float, out: NDArray[np.float64]
) -> int:
    """Bollinger Bands of bar ``j`` (window buffer kept oldest first); validity bits."""
    n_bb = int(pp[I_BB])
    if j < n_bb:
        st[S_WINDOW + j] = c
    else:
        for w in range(S_WINDOW, S_WINDOW + n_bb - 1):
            st[w] = st[w + 1]
        st[S_WINDOW + n_bb - 1] = c
    b = S_BB
    bb_state = (st[b], st[b + 1], st[b + 2], st[b + 3], st[b + 4], st[b + 5], st[b + 6])
    bb_state, out[10], out[11], out[12] = bollinger_step(
        c, st, S_WINDOW, j, n_bb, pp[F_BB_K], bb_state
    )
    for q in range(7):
        st[b + q] = bb_state[q]
    return (7 << 10) if j >= n_bb - 1 else 0


@njit(cache=True, inline="always")
def _advance_pivots(  # noqa: PLR0917 (numba kernels take positional scalars)
    pp: NDArray[np.float64],
    st: NDArray[np.float64],
    j: int,
    t: int,
    bar: tuple[float, float, float],
    out: NDArray[np.float64],
) -> int:
    """Pivot levels after bar ``j`` (``candles`` or ``utc_day`` mode); validity bits."""
    h, lo, c = bar
    n_piv = int(pp[I_PIVOT_N])
    if pp[I_PIVOT_MODE] == 0.0:
        highs = S_WINDOW + int(pp[I_BB])
        lows = highs + n_piv
        pos = j % n_piv
        st[highs + pos] = h
        st[lows + pos] = lo
        if j < n_piv - 1:
            out[13] = out[14] = out[15] = out[16] = out[17] = NAN
            return 0
        top, bottom = window_extremes(st, highs, st, lows, n_piv)
        out[13], out[14], out[15], out[16], out[17] = pivot_levels(top, bottom, c)
        return 31 << 13
    p = S_PIV
    day_state = (
        st[p], st[p + 1], st[p + 2], st[p + 3], st[p + 4], st[p + 5],
        st[p + 6], st[p + 7], st[p + 8], st[p + 9], st[p + 10],
    )  # fmt: skip
    day_state, levels = utc_day_step(t, h, lo, c, j, int(pp[I_INTERVAL]), day_state)
    for k in range(11):
        st[p + k] = day_state[k]
    out[13], out[14], out[15], out[16], out[17] = levels
    return 0 if math.isnan(levels[0]) else 31 << 13


@njit(cache=True)
def advance(  # noqa: PLR0917 (numba kernels take positional arguments)
    pp: NDArray[np.float64],
    st: NDArray[np.float64],
    t: int,
    h: float,
    lo: float,
    c: float,
    out: NDArray[np.float64],
) -> None:
    """Commit one validated candle to ``st`` and write the 20 outputs into ``out``."""
    j = int(st[S_BARS])
    mask = _advance_trend(pp, st, j, (h, lo, c), out)
    mask |= _advance_bands(pp, st, j, c, out)
    mask |= _advance_pivots(pp, st, j, t, (h, lo, c), out)
    day = t // DAY_NS
    st[S_DAY] = float(day)
    st[S_REM] = float(t - day * DAY_NS)
    st[S_PREV_H] = h
    st[S_PREV_L] = lo
    st[S_PREV_C] = c
    st[S_BARS] = j + 1.0
    out[18] = float(mask)
    out[19] = j + 1.0


Result = tuple[
    float, float, float, float, float, float, float, float, float,
    float, float, float, float, float, float, float, float, float,
    int, int,
]  # fmt: skip


@njit(cache=True, inline="always")
def _as_result(out: NDArray[np.float64]) -> Result:
    return (
        out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7], out[8],
        out[9], out[10], out[11], out[12], out[13], out[14], out[15], out[16], out[17],
        int(out[18]), int(out[19]),
    )  # fmt: skip


@njit(cache=True, inline="always")
def _error_result(code: int) -> Result:
    return (
        NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN,
        NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN,
        code, -1,
    )  # fmt: skip


@njit(cache=True)
def set_update(  # noqa: PLR0917 (numba kernels take positional scalars)
    block: NDArray[np.float64], t: int, o: float, h: float, lo: float, c: float, v: float
) -> Result:
    """Validate and commit one candle; returns the 20 values, or ``bars_seen == -1`` and
    the status code in the mask slot when the candle is rejected (state untouched)."""
    size = _state_len(block)
    st = block[N_PARAMS : N_PARAMS + size]
    code = validate_candle(st, t, o, h, lo, c, v)
    if code != 0:
        return _error_result(code)
    out = block[N_PARAMS + 2 * size :]
    advance(block, st, t, h, lo, c, out)
    return _as_result(out)


@njit(cache=True)
def set_peek(  # noqa: PLR0917 (numba kernels take positional scalars)
    block: NDArray[np.float64], t: int, o: float, h: float, lo: float, c: float, v: float
) -> Result:
    """As :func:`set_update` on a copy of the state in the block's scratch: nothing is
    committed."""
    size = _state_len(block)
    st = block[N_PARAMS : N_PARAMS + size]
    code = validate_candle(st, t, o, h, lo, c, v)
    if code != 0:
        return _error_result(code)
    scratch = block[N_PARAMS + size : N_PARAMS + 2 * size]
    scratch[:] = st
    out = block[N_PARAMS + 2 * size :]
    advance(block, scratch, t, h, lo, c, out)
    return _as_result(out)


@njit(cache=True)
def set_run(  # noqa: PLR0917 (numba kernels take positional scalars)
    block: NDArray[np.float64],
    t: NDArray[np.int64],
    o: NDArray[np.float64],
    h: NDArray[np.float64],
    lo: NDArray[np.float64],
    c: NDArray[np.float64],
    v: NDArray[np.float64],
) -> tuple[NDArray[np.float64], int, int]:
    """Commit a whole history; returns ``(out (n, 20), bad_row, code)``.

    Works on a copy and commits only when every candle is accepted, so a rejected
    history leaves the state as it was. ``bad_row`` is -1 on success.
    """
    n = t.shape[0]
    size = _state_len(block)
    out = np.empty((n, N_OUT))
    work = block[N_PARAMS : N_PARAMS + size].copy()
    for i in range(n):
        code = validate_candle(work, t[i], o[i], h[i], lo[i], c[i], v[i])
        if code != 0:
            return out, i, code
        advance(block, work, t[i], h[i], lo[i], c[i], out[i])
    block[N_PARAMS : N_PARAMS + size] = work
    return out, -1, 0
