"""Rolling Pearson correlation of log returns across symbols (the hedge's asset choice).

Each bar brings one close per symbol; ``r = log(close / previous close)``. Over the last
``window`` returns (default 2,880 = 30 days of 15-minute bars) the kernel keeps, per
symbol, the mean and, per pair, the co-moment ``C_ab = sum((r_a - mean_a)(r_b - mean_b))``,
updated with Welford's add and remove steps (deviations from the running mean, never a
difference of large running sums). Every ``window`` bars the means and co-moments are
rebuilt exactly from the returns kept in the state (two-pass), so rounding never
accumulates beyond one window. ``corr_ab = C_ab / sqrt(C_aa * C_bb)``, clamped to
[-1, 1]; NaN while the window is not full (valid from bar ``window``, i.e. after
``window + 1`` closes) and for a symbol whose returns are all equal (zero variance).
The rebuild happens on fixed bar numbers, so batch and streaming agree bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

from indicators._codec import KIND_CORRELATION, decode, encode
from indicators._common import NAN, NOT_FINITE, NOT_POSITIVE, as_series, check_period
from indicators._errors import REASONS, IndicatorInputError, IndicatorStateError

#: Default window: 30 days of 15-minute bars.
DEFAULT_WINDOW = 2880

# State header slots; then previous closes (n), means (n), co-moments (n * n), returns ring.
C_BARS = 0
C_COUNT = 1
C_POS = 2
C_SINCE = 3
C_HEADER = 4


def correlation_state_size(window: int, n_symbols: int) -> int:
    """Length of the state array for ``window`` returns of ``n_symbols`` symbols."""
    return C_HEADER + 2 * n_symbols + n_symbols * n_symbols + window * n_symbols


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
def _pair_batch(
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


def rolling_correlation(
    close_a: ArrayLike, close_b: ArrayLike, window: int = DEFAULT_WINDOW
) -> NDArray[np.float64]:
    """Rolling correlation of two symbols' log returns, per bar (batch form).

    Args:
        close_a: Closes of the first symbol, any positive price units.
        close_b: Closes of the second symbol, bar-aligned with ``close_a``; rows where
            either has a leading NaN are skipped.
        window: Returns per window (>= 2).

    Returns:
        Correlation in [-1, 1] per bar, NaN until ``window`` returns are in (and where a
        window's returns of one symbol are all equal).

    Raises:
        IndicatorInputError: A NaN, inf or non-positive close after the leading NaNs;
            ``field`` is ``"close_a"`` or ``"close_b"``.
        IndicatorConfigError: ``window`` < 2.
    """
    a = as_series(close_a, "close_a")
    b = as_series(close_b, "close_b")
    if a.shape != b.shape:
        raise IndicatorInputError("close_b", 0, f"has {b.shape[0]} bars, close_a {a.shape[0]}")
    result, bad, code = _pair_batch(a, b, check_period("window", window, 2))
    if bad >= 0:
        raise IndicatorInputError(("close_a", "close_b")[code // 16], bad, REASONS[code % 16])
    return result


class CorrelationValues(NamedTuple):
    """Correlations after one bar. Immutable.

    Attributes:
        matrix: ``(n, n)`` read-only array of correlations in [-1, 1], NaN when not valid.
        valid: Whether the window is full (``window`` returns seen).
        bars_seen: Bars committed so far, including this one.
    """

    matrix: NDArray[np.float64]
    valid: bool
    bars_seen: int

    def pair(self, a: int, b: int) -> float:
        """Correlation between symbols ``a`` and ``b`` (indices in update order)."""
        return float(self.matrix[a, b])

    def rows(self) -> tuple[tuple[float, ...], ...]:
        """The matrix as tuples of Python floats (``CorrelationUpdated.matrix``)."""
        return tuple(tuple(row) for row in self.matrix.tolist())


class RollingCorrelation:
    """Streaming rolling correlation of log returns for ``n_symbols`` symbols.

    Called by the Correlation actor once per closed bar with every symbol's close in a
    fixed order. Not thread-safe. A rejected bar raises and changes nothing.
    """

    __slots__ = ("_n", "_out", "_scratch", "_state", "_window")

    def __init__(self, window: int = DEFAULT_WINDOW, n_symbols: int = 2) -> None:
        """Start cold.

        Raises:
            IndicatorConfigError: ``window`` < 2 or ``n_symbols`` < 1.
        """
        self._window = check_period("window", window, 2)
        self._n = check_period("n_symbols", n_symbols, 1)
        self._state = np.zeros(correlation_state_size(self._window, self._n))
        self._scratch = np.empty_like(self._state)
        self._out = np.empty((self._n, self._n))

    @property
    def window(self) -> int:
        """Returns per window."""
        return self._window

    @property
    def n_symbols(self) -> int:
        """Symbols per bar."""
        return self._n

    @property
    def bars_seen(self) -> int:
        """Bars committed so far."""
        return int(self._state[C_BARS])

    def _closes(self, closes: Sequence[float] | ArrayLike) -> NDArray[np.float64]:
        array = np.array(closes, dtype=np.float64).reshape(-1)
        if array.shape[0] != self._n:
            raise IndicatorInputError(
                "closes", self.bars_seen, f"has {array.shape[0]} values, expected {self._n}"
            )
        return array

    def _result(self, code: int, state: NDArray[np.float64]) -> CorrelationValues:
        if code != 0:
            raise IndicatorInputError(f"close[{code // 16}]", self.bars_seen, REASONS[code % 16])
        matrix = self._out.copy()
        matrix.flags.writeable = False
        return CorrelationValues(matrix, bool(state[C_COUNT] == self._window), int(state[C_BARS]))

    def update(self, closes: Sequence[float] | ArrayLike) -> CorrelationValues:
        """Commit one bar: one close per symbol (Decimal, int or float), in a fixed order.

        Raises:
            IndicatorInputError: A close is NaN, inf or not positive (``field`` is
                ``"close[k]"``), or the count is wrong; nothing is changed.
        """
        code = corr_step(self._state, self._window, self._closes(closes), self._out)
        return self._result(code, self._state)

    def peek(self, closes: Sequence[float] | ArrayLike) -> CorrelationValues:
        """What :meth:`update` would return for a forming bar; commits nothing."""
        code = corr_peek(self._state, self._scratch, self._window, self._closes(closes), self._out)
        return self._result(code, self._scratch)

    def warmup(self, closes: ArrayLike) -> CorrelationValues | None:
        """Commit a history: a ``(n_bars, n_symbols)`` array of closes, oldest first.

        Raises:
            IndicatorInputError: A bad close (``bar_index`` = its row in ``closes``);
                nothing is committed.
        """
        rows = np.ascontiguousarray(closes, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != self._n:
            raise IndicatorInputError("closes", 0, f"must have shape (n, {self._n})")
        work = self._state.copy()
        for i in range(rows.shape[0]):
            code = corr_step(work, self._window, rows[i], self._out)
            if code != 0:
                raise IndicatorInputError(f"close[{code // 16}]", i, REASONS[code % 16])
        self._state[:] = work
        return self._result(0, self._state) if rows.shape[0] else None

    def to_bytes(self) -> bytes:
        """Serialise window, symbol count and state (format in ``docs/indicators.md``)."""
        return encode(KIND_CORRELATION, (self._window, self._n), (), self._state)

    @classmethod
    def from_bytes(cls, data: bytes) -> RollingCorrelation:
        """Restore a RollingCorrelation written by :meth:`to_bytes`; continues bit for bit.

        Raises:
            IndicatorStateError: Corrupt or foreign bytes.
        """
        decoded = decode(data, KIND_CORRELATION)
        if len(decoded.ints) != 2 or decoded.floats:
            raise IndicatorStateError(f"bad correlation parameters {decoded.ints!r}")
        try:
            restored = cls(*decoded.ints)
        except ValueError as exc:
            raise IndicatorStateError(f"state holds invalid parameters: {exc}") from exc
        if decoded.state.shape != restored._state.shape:
            raise IndicatorStateError("state length does not match window and symbol count")
        restored._state[:] = decoded.state
        return restored
