"""The layout of an IndicatorSet's float64 block, shared by its kernels and its runtime.

A symbol's state is one contiguous float64 array laid out as below; the per-indicator
step functions (the same ones the batch forms loop over) read and write their slots.
Window buffers sit at the end, so their size follows the config.

======  =====================================================================
slots   contents
======  =====================================================================
0       bars committed
1-2     last open time as (UTC day number, ns into that day): exact in float64
3-5     previous candle's high, low, close
6-13    4 EMAs: (seed sum, value) each, in the order fast, mid, slow, trend
14-15   RSI average gain, average loss
16-18   ATR: seed sum, anchor ATR, pending true range (see ``atr_step``)
19-23   ADX: +DM sum, -DM sum, TR sum, DX sum, ADX
24-29   MACD: fast (sum, ema), slow (sum, ema), signal (sum, ema)
30-36   Bollinger: SMA total, shift, bars since rebuild, S1 (hi, lo), S2 (hi, lo)
37-47   utc_day pivots: day, high, low, close, counts, published, P, R1, R2, S1, S2
48-     Bollinger window (bb_period closes, oldest first), then the pivot ring of
        highs and the ring of lows (pivot_lookback_candles each)
======  =====================================================================

An IndicatorSet keeps everything the kernel touches in one float64 "block", so a
streaming call passes one array and six scalars (numba's call overhead grows with every
argument): ``[params (29) | state | peek scratch (state size) | outputs (20)]``. The
params are the config's integers (exact in float64) followed by derived constants.

Status codes returned to Python are ``field * 16 + reason`` (see ``_errors``), 0 for OK.

This module needs no numba: ``IndicatorSet`` builds and reads blocks with it while
running on the ahead-of-time kernels (``_kernels``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from indicators._shared import wilder_factors

S_BARS = 0
S_DAY = 1
S_REM = 2
S_PREV_H = 3
S_PREV_L = 4
S_PREV_C = 5
S_EMA = 6
S_RSI = 14
S_ATR = 16
S_ADX = 19
S_MACD = 24
S_BB = 30
S_PIV = 37
S_WINDOW = 48

# Integer parameters (IndicatorConfig.int_params order).
I_RSI = 4
I_ATR = 5
I_ADX = 6
I_MACD_FAST = 7
I_MACD_SLOW = 8
I_MACD_SIGNAL = 9
I_BB = 10
I_PIVOT_MODE = 11
I_PIVOT_N = 12
I_INTERVAL = 13

N_INTS = 14
# Derived float parameters, after the integers (see param_block).
F_EMA_K = 14
F_RSI_C1 = 18
F_RSI_C2 = 19
F_ATR = 20  # 4 Wilder factors (c1, c2, c1^2, c1*c2)
F_MACD_KF = 24
F_MACD_KS = 25
F_MACD_KG = 26
F_BB_INV = 27
F_BB_K = 28
N_PARAMS = 29

N_OUT = 20  # 18 outputs, the validity mask, bars seen


def state_size(ints: tuple[int, ...]) -> int:
    """Length of a symbol's state array for integer parameters ``ints``."""
    return S_WINDOW + ints[I_BB] + 2 * ints[I_PIVOT_N]


def param_block(ints: tuple[int, ...], bb_stddev: float) -> NDArray[np.float64]:
    """The params the kernels read: integers, then EMA k's, Wilder factors, ..."""
    rsi = ints[I_RSI]
    return np.array(
        [
            *(float(i) for i in ints),
            *(2.0 / (n + 1) for n in ints[:4]),
            (rsi - 1) / rsi,
            1.0 / rsi,
            *wilder_factors(ints[I_ATR]),
            2.0 / (ints[I_MACD_FAST] + 1),
            2.0 / (ints[I_MACD_SLOW] + 1),
            2.0 / (ints[I_MACD_SIGNAL] + 1),
            1.0 / ints[I_BB],
            float(bb_stddev),
        ]
    )


def block_size(ints: tuple[int, ...]) -> int:
    """Length of an IndicatorSet block: params, state, peek scratch, outputs."""
    return N_PARAMS + 2 * state_size(ints) + N_OUT
