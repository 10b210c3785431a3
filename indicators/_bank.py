"""IndicatorBank: the IndicatorSets of several symbols, one numba call per bar for all.

For callers that hold every symbol's candle for a bar at once (the backtest runtime, a
multi-symbol feed). The per-symbol actor uses :class:`IndicatorSet`; both run the same
kernel, so their values are identical.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from indicators._codec import KIND_BANK, decode, encode
from indicators._config import IndicatorConfig
from indicators._errors import FIELD_NAMES, REASONS, IndicatorInputError, IndicatorStateError
from indicators._history import CandleLike
from indicators._set_kernel import advance, validate_candle
from indicators._set_layout import N_OUT, param_block, state_size
from indicators._shared import FIFTEEN_MINUTES_NS
from indicators._values import IndicatorValues


@njit(cache=True)
def set_update_many(  # noqa: PLR0917 (numba kernels take positional scalars)
    pp: NDArray[np.float64],
    states: NDArray[np.float64],
    t: NDArray[np.int64],
    ohlcv: NDArray[np.float64],
    out: NDArray[np.float64],
    commit: bool,
) -> tuple[int, int]:
    """One candle per symbol (row ``k`` of ``states``, ``t``, ``ohlcv``, ``out``).

    Every candle is validated before any state changes, so one bad symbol leaves all of
    them as they were. With ``commit`` false the rows are stepped on copies (a peek).

    Returns:
        ``(bad_row, code)``; ``bad_row`` is -1 when all were accepted.
    """
    k = states.shape[0]
    for r in range(k):
        code = validate_candle(
            states[r], t[r], ohlcv[r, 0], ohlcv[r, 1], ohlcv[r, 2], ohlcv[r, 3], ohlcv[r, 4]
        )
        if code != 0:
            return r, code
    for r in range(k):
        st = states[r] if commit else states[r].copy()
        advance(pp, st, t[r], ohlcv[r, 1], ohlcv[r, 2], ohlcv[r, 3], out[r])
    return -1, 0


class IndicatorBank:
    """Indicators of ``symbols`` (fixed order), all updated by one numba call per bar.

    A bar is rejected as a whole: if any symbol's candle is bad, no state changes.
    Not thread-safe.
    """

    __slots__ = ("_config", "_ohlcv", "_out", "_params", "_states", "_symbols", "_times")

    def __init__(self, symbols: Sequence[str], config: IndicatorConfig | None = None) -> None:
        """Start cold for ``symbols`` with ``config`` (default: the strategy's defaults).

        Raises:
            IndicatorConfigError: A setting is out of range.
            ValueError: No symbols, or a symbol listed twice.
        """
        if not symbols or len(set(symbols)) != len(symbols):
            raise ValueError(f"symbols must be distinct and non-empty, were {symbols!r}")
        self._symbols = tuple(symbols)
        self._config = config or IndicatorConfig()
        ints = self._config.int_params()
        self._params: NDArray[np.float64] = param_block(ints, self._config.bb_stddev)
        k = len(self._symbols)
        self._states: NDArray[np.float64] = np.zeros((k, state_size(ints)))
        self._times: NDArray[np.int64] = np.empty(k, dtype=np.int64)
        self._ohlcv: NDArray[np.float64] = np.empty((k, 5))
        self._out: NDArray[np.float64] = np.empty((k, N_OUT))

    @classmethod
    def from_settings(
        cls, strategy: Any, symbols: Sequence[str], *, candle_interval_ns: int = FIFTEEN_MINUTES_NS
    ) -> IndicatorBank:
        """Build from settings.toml's ``[strategy]`` section object (duck-typed)."""
        config = IndicatorConfig.from_settings(strategy, candle_interval_ns=candle_interval_ns)
        return cls(symbols, config)

    @property
    def symbols(self) -> tuple[str, ...]:
        """Symbols in the order :meth:`update` expects and returns them."""
        return self._symbols

    @property
    def config(self) -> IndicatorConfig:
        """The frozen configuration shared by every symbol."""
        return self._config

    def _load(self, candles: Sequence[CandleLike]) -> None:
        if len(candles) != len(self._symbols):
            raise IndicatorInputError(
                "candles", int(self._states[0, 0]), f"has {len(candles)}, expected one per symbol"
            )
        for r, c in enumerate(candles):
            self._times[r] = int(c.open_time_ns)
            row = self._ohlcv[r]
            row[0] = float(c.open)
            row[1] = float(c.high)
            row[2] = float(c.low)
            row[3] = float(c.close)
            row[4] = float(c.volume)

    def _step(self, candles: Sequence[CandleLike], commit: bool) -> tuple[IndicatorValues, ...]:
        self._load(candles)
        bad, code = set_update_many(
            self._params, self._states, self._times, self._ohlcv, self._out, commit
        )
        if bad >= 0:
            raise IndicatorInputError(
                FIELD_NAMES[code // 16],
                int(self._states[bad, 0]),
                f"{REASONS[code % 16]} (symbol {self._symbols[bad]})",
            )
        return tuple(
            IndicatorValues._make([*row[:18], int(row[18]), int(row[19])])
            for row in self._out.tolist()
        )

    def update(self, candles: Sequence[CandleLike]) -> tuple[IndicatorValues, ...]:
        """Commit one closed candle per symbol (in :attr:`symbols` order).

        Raises:
            IndicatorInputError: A bad candle; the message names the symbol. Nothing changes.
        """
        return self._step(candles, commit=True)

    def peek(self, candles: Sequence[CandleLike]) -> tuple[IndicatorValues, ...]:
        """What :meth:`update` would return for forming candles; commits nothing."""
        return self._step(candles, commit=False)

    def to_bytes(self) -> bytes:
        """Serialise config, symbol count and every symbol's state."""
        ints = (*self._config.int_params(), len(self._symbols))
        return encode(KIND_BANK, ints, (self._config.bb_stddev,), self._states)

    @classmethod
    def from_bytes(cls, data: bytes, symbols: Sequence[str]) -> IndicatorBank:
        """Restore a bank written by :meth:`to_bytes` for the same ``symbols``, in order.

        Raises:
            IndicatorStateError: Corrupt or foreign bytes, or another symbol count.
        """
        decoded = decode(data, KIND_BANK)
        try:
            config = IndicatorConfig.from_params(decoded.ints[:-1], decoded.floats)
        except (ValueError, IndexError) as exc:
            raise IndicatorStateError(f"state holds an invalid config: {exc}") from exc
        if decoded.ints[-1] != len(symbols):
            raise IndicatorStateError(f"state has {decoded.ints[-1]} symbols, {len(symbols)} given")
        bank = cls(symbols, config)
        if decoded.state.size != bank._states.size:
            raise IndicatorStateError("state length does not match the config")
        bank._states[:] = decoded.state.reshape(bank._states.shape)
        return bank
