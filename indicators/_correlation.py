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

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from indicators._codec import KIND_CORRELATION, decode, encode
from indicators._errors import REASONS, IndicatorInputError, IndicatorStateError
from indicators._kernels import kernels
from indicators._shared import as_series, check_period

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
    result, bad, code = kernels().pair_batch(a, b, check_period("window", window, 2))
    if bad >= 0:
        raise IndicatorInputError(("close_a", "close_b")[code // 16], bad, REASONS[code % 16])
    return np.asarray(result, dtype=np.float64)


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
        code = kernels().corr_step(self._state, self._window, self._closes(closes), self._out)
        return self._result(code, self._state)

    def peek(self, closes: Sequence[float] | ArrayLike) -> CorrelationValues:
        """What :meth:`update` would return for a forming bar; commits nothing."""
        code = kernels().corr_peek(
            self._state, self._scratch, self._window, self._closes(closes), self._out
        )
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
        corr_step = kernels().corr_step
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
