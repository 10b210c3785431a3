"""EMA and SMA: step functions (shared by batch and streaming) and batch forms.

Both follow TA-Lib's default ("classic") compatibility mode operation for operation and
are bit-identical to TA-Lib 0.8:

* EMA: ``k = 2 / (n + 1)``; seed = plain mean of the first ``n`` values (summed in order,
  then divided by ``n``); then ``ema = fma(x - ema, k, ema)``, i.e. ``(x - ema) * k + ema``
  rounded once, as TA-Lib 0.8 does. First value at bar ``n - 1``.
* SMA: one running total; each bar adds the new value, divides by ``n`` and then removes
  the value leaving the window. First value at bar ``n - 1``.

A step function takes the bar's input, the bar number ``j`` counted from the first bar
the indicator sees, and its state as scalars; it returns the new state and the output
(NaN until valid). The streaming kernels load those scalars from the state array and store
them back; the batch loops keep them in registers. Values that leave a window are passed
in by the caller (batch: from the input array; streaming: from a window buffer kept in
the state). Once seeded, batch loops call the ``*_update`` function that the step itself
calls, skipping only the warm-up branches. Same arithmetic, same bits.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

from indicators._common import leading_nans, nonfinite_index
from indicators._errors import IndicatorInputError
from indicators._fma import fma
from indicators._shared import NAN, as_series, check_period


@njit(cache=True, inline="always")
def ema_step(  # noqa: PLR0917 (numba kernels take positional scalars)
    x: float, j: int, period: int, k: float, acc: float, value: float
) -> tuple[float, float, float]:
    """Advance an EMA by one value.

    Args:
        x: The new value.
        j: Bar number counted from the first bar of the seed window (negative: ignored).
        period: EMA period ``n``.
        k: Smoothing factor, ``2 / (n + 1)``.
        acc: Running sum of the seed window (state).
        value: Current EMA (state; NaN before the seed completes).

    Returns:
        ``(acc, value, output)``; output is NaN while ``j < n - 1``.
    """
    if j < 0:
        return acc, value, NAN
    if j < period - 1:
        return acc + x, value, NAN
    if j == period - 1:
        acc = acc + x
        value = acc / period
        return acc, value, value
    value = ema_update(x, k, value)
    return acc, value, value


@njit(cache=True, inline="always")
def ema_update(x: float, k: float, value: float) -> float:
    """One seeded EMA step, ``(x - ema) * k + ema`` rounded once (TA-Lib 0.8's formula)."""
    return fma(x - value, k, value)


@njit(cache=True, inline="always")
def sma_step(x: float, oldest: float, j: int, period: int, total: float) -> tuple[float, float]:
    """Advance an SMA by one value (TA-Lib's running total, in its order of operations).

    Args:
        x: The new value.
        oldest: The first value of the window that ends with ``x`` (``x[j - n + 1]``);
            ignored while ``j < n - 1``. Batch callers read it from the input array,
            streaming callers from their window buffer: the arithmetic is the same.
        j: Bar number counted from the first bar (0-based).
        period: Window length ``n``.
        total: Running total (state).

    Returns:
        ``(total, output)``; output is NaN while ``j < n - 1``.
    """
    if j < period - 1:
        return total + x, NAN
    return sma_update(x, oldest, float(period), total)


@njit(cache=True, inline="always")
def sma_update(x: float, oldest: float, period: float, total: float) -> tuple[float, float]:
    """One SMA step on a full window: add ``x``, divide by ``period``, drop ``oldest``."""
    total = total + x
    return total - oldest, total / period


@njit(cache=True)
def _ema_batch(x: NDArray[np.float64], period: int) -> tuple[NDArray[np.float64], int]:
    n = x.shape[0]
    out = np.empty(n)
    start = leading_nans(x)
    out[:start] = NAN
    xs, values = x[start:], out[start:]  # indices >= 0: no wraparound checks
    bad = nonfinite_index(xs)
    if bad >= 0:
        return out, start + bad
    k = 2.0 / (period + 1)
    acc = 0.0
    value = NAN
    seeded = min(xs.shape[0], period)
    for j in range(seeded):
        acc, value, values[j] = ema_step(xs[j], j, period, k, acc, value)
    # Slices that start at 0 let numba prove indices >= 0 and drop wraparound checks.
    rest_x, rest_out = xs[seeded:], values[seeded:]
    for j in range(rest_x.shape[0]):
        value = ema_update(rest_x[j], k, value)
        rest_out[j] = value
    return out, -1


@njit(cache=True)
def _sma_batch(x: NDArray[np.float64], period: int) -> tuple[NDArray[np.float64], int]:
    n = x.shape[0]
    out = np.empty(n)
    start = leading_nans(x)
    out[:start] = NAN
    xs, values = x[start:], out[start:]  # indices >= 0: no wraparound checks
    bad = nonfinite_index(xs)
    if bad >= 0:
        return out, start + bad
    m = xs.shape[0]
    total = 0.0
    for j in range(min(m, period - 1)):
        total, values[j] = sma_step(xs[j], 0.0, j, period, total)
    divisor = float(period)
    # Slices that start at 0 let numba prove indices >= 0 and drop wraparound checks.
    newest, oldest, rest_out = xs[period - 1 :], xs[: max(0, m - period + 1)], values[period - 1 :]
    for j in range(newest.shape[0]):
        total, rest_out[j] = sma_update(newest[j], oldest[j], divisor, total)
    return out, -1


def ema(values: ArrayLike, period: int) -> NDArray[np.float64]:
    """Exponential moving average, as TA-Lib's ``EMA`` (valid from bar ``period - 1``).

    Args:
        values: Prices, any float units; leading NaNs are skipped like TA-Lib does.
        period: EMA period in bars (>= 1).

    Returns:
        Array of the same length and units, NaN where not yet valid.

    Raises:
        IndicatorInputError: A NaN or inf after the first valid value (names the bar).
        IndicatorConfigError: ``period`` < 1.
    """
    x = as_series(values, "values")
    out, bad = _ema_batch(x, check_period("period", period))
    if bad >= 0:
        raise IndicatorInputError("values", bad, "is not finite")
    return out


def sma(values: ArrayLike, period: int) -> NDArray[np.float64]:
    """Simple moving average, as TA-Lib's ``SMA`` (valid from bar ``period - 1``).

    Args:
        values: Prices, any float units; leading NaNs are skipped like TA-Lib does.
        period: Window length in bars (>= 1).

    Returns:
        Array of the same length and units, NaN where not yet valid.

    Raises:
        IndicatorInputError: A NaN or inf after the first valid value (names the bar).
        IndicatorConfigError: ``period`` < 1.
    """
    x = as_series(values, "values")
    out, bad = _sma_batch(x, check_period("period", period))
    if bad >= 0:
        raise IndicatorInputError("values", bad, "is not finite")
    return out
