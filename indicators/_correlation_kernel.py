"""The numba kernels behind RollingCorrelation: Welford updates and exact rebuilds.

The state layout and the method are described in ``_correlation``; these kernels are
what the runtime calls (ahead-of-time compiled, see ``_kernels``) and what the batch
form loops over.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

from indicators import _cache  # noqa: F401  (must precede every cached kernel)
from indicators._correlation import C_BARS, C_COUNT, C_HEADER, C_POS, C_SINCE
from indicators._shared import NAN, NOT_FINITE, NOT_POSITIVE


@njit(cache=True)
def _rebuild(st: NDArray[np.float64], window: int, n: int) -> None:
    """Recompute means and co-moments exactly (two-pass) from the full returns ring."""
    means = C_HEADER + n
    comoments = means + n
    ring = comoments + n * n
    for a in range(n):
        total = 0.0
        for w in range(window):
            total += st[ring + w * n + a]
        st[means + a] = total / window
    for a in range(n):
        ma = st[means + a]
        for b in range(a, n):
            mb = st[means + b]
            total = 0.0
            for w in range(window):
                total += (st[ring + w * n + a] - ma) * (st[ring + w * n + b] - mb)
            st[comoments + a * n + b] = total
            st[comoments + b * n + a] = total


@njit(cache=True, inline="always")
def _welford(  # noqa: PLR0917 (numba kernels take positional scalars)
    st: NDArray[np.float64], n: int, slot: int, temp: NDArray[np.float64], count: float, sign: float
) -> None:
    """Add (``sign`` 1) or remove (-1) the return vector ``r`` at ``st[slot:slot + n]``.

    Welford's updates in symmetric form, with ``d = r - mean`` taken from the current
    means and ``k`` = ``count`` (the number of returns after an add, before a remove):
    add ``C += d d^T (k - 1) / k`` and ``mean += d / k``; remove ``C -= d d^T k / (k - 1)``
    and ``mean -= d / (k - 1)`` (the add run backwards). ``temp`` is an n-vector scratch.
    """
    means = C_HEADER + n
    comoments = means + n
    for a in range(n):
        temp[a] = st[slot + a] - st[means + a]
    factor = (count - 1.0) / count if sign > 0.0 else count / (count - 1.0)
    for a in range(n):
        for b in range(a, n):
            value = st[comoments + a * n + b] + sign * (temp[a] * temp[b] * factor)
            st[comoments + a * n + b] = value
            st[comoments + b * n + a] = value
    step = count if sign > 0.0 else count - 1.0
    for a in range(n):
        st[means + a] += sign * (temp[a] / step)


@njit(cache=True, inline="always")
def _write_matrix(st: NDArray[np.float64], n: int, out: NDArray[np.float64]) -> None:
    comoments = C_HEADER + 2 * n
    for a in range(n):
        for b in range(n):
            caa = st[comoments + a * n + a]
            cbb = st[comoments + b * n + b]
            if caa > 0.0 and cbb > 0.0:
                value = st[comoments + a * n + b] / math.sqrt(caa * cbb)
                out[a, b] = min(1.0, max(-1.0, value))
            else:
                out[a, b] = NAN


@njit(cache=True)
def corr_step(
    st: NDArray[np.float64], window: int, closes: NDArray[np.float64], out: NDArray[np.float64]
) -> int:
    """Commit one bar (one close per symbol); write the ``n x n`` matrix into ``out``.

    Returns:
        0 when accepted (``out`` holds the matrix, all NaN while not valid), else
        ``symbol * 16 + reason`` with the state untouched.
    """
    n = closes.shape[0]
    for a in range(n):
        x = closes[a]
        if not math.isfinite(x):
            return a * 16 + NOT_FINITE
        if x <= 0.0:
            return a * 16 + NOT_POSITIVE
    prev = C_HEADER
    ring = C_HEADER + 2 * n + n * n
    bars = st[C_BARS]
    st[C_BARS] = bars + 1.0
    if bars == 0.0:
        for a in range(n):
            st[prev + a] = closes[a]
        out[:, :] = NAN
        return 0
    temp = out[0]  # scratch vector: the matrix is written last
    slot = ring + int(st[C_POS]) * n
    count = st[C_COUNT]
    if count == window:
        _welford(st, n, slot, temp, count, -1.0)  # the oldest return leaves
        count -= 1.0
    for a in range(n):
        st[slot + a] = math.log(closes[a] / st[prev + a])
        st[prev + a] = closes[a]
    count += 1.0
    _welford(st, n, slot, temp, count, 1.0)
    st[C_COUNT] = count
    pos = st[C_POS] + 1.0
    st[C_POS] = 0.0 if pos == window else pos
    since = st[C_SINCE] + 1.0
    if count == window and since >= window:
        _rebuild(st, window, n)
        since = 0.0
    st[C_SINCE] = since
    if count < window:
        out[:, :] = NAN
    else:
        _write_matrix(st, n, out)
    return 0


@njit(cache=True)
def corr_peek(
    st: NDArray[np.float64],
    scratch: NDArray[np.float64],
    window: int,
    closes: NDArray[np.float64],
    out: NDArray[np.float64],
) -> int:
    """As :func:`corr_step` on a copy of ``st`` in ``scratch``: nothing is committed."""
    scratch[:] = st
    return corr_step(scratch, window, closes, out)


@njit(cache=True)
def correlation_state_size_jit(window: int, n: int) -> int:
    """:func:`correlation_state_size` for numba callers."""
    return C_HEADER + 2 * n + n * n + window * n


@njit(cache=True)
def pair_batch(
    a: NDArray[np.float64], b: NDArray[np.float64], window: int
) -> tuple[NDArray[np.float64], int, int]:
    n = a.shape[0]
    result = np.full(n, NAN)
    st = np.zeros(correlation_state_size_jit(window, 2))
    closes = np.empty(2)
    out = np.empty((2, 2))
    start = 0
    while start < n and (math.isnan(a[start]) or math.isnan(b[start])):
        start += 1
    for i in range(start, n):
        closes[0] = a[i]
        closes[1] = b[i]
        code = corr_step(st, window, closes, out)
        if code != 0:
            return result, i, code
        result[i] = out[0, 1]
    return result, -1, 0
