"""IndicatorSet: every indicator of one symbol, streamed one closed candle at a time.

Called by the symbol's Indicators actor (one thread at a time; the object is not
thread-safe) and by the backtest runtime. Each ``update`` is one call of a compiled
kernel (see ``_kernels``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators._codec import KIND_SET, decode, encode
from indicators._config import IndicatorConfig
from indicators._errors import FIELD_NAMES, REASONS, IndicatorInputError, IndicatorStateError
from indicators._history import CandleLike, history_columns
from indicators._kernels import kernels
from indicators._set_layout import N_PARAMS, block_size, param_block, state_size
from indicators._shared import FIFTEEN_MINUTES_NS
from indicators._values import N_OUTPUTS, IndicatorSeries, IndicatorValues


def status_error(code: int, bar_index: int) -> IndicatorInputError:
    """The typed error for a kernel status ``field * 16 + reason``."""
    return IndicatorInputError(FIELD_NAMES[code // 16], bar_index, REASONS[code % 16])


class IndicatorSet:
    """EMA x4, RSI, ATR, ADX, MACD, Bollinger Bands and pivot points of one symbol.

    Example::

        indicators = IndicatorSet.from_settings(settings.strategy)
        indicators.warmup(history)            # candles or a CANDLE_DTYPE array
        values = indicators.update(candle)    # once per closed candle
        if values.valid("ema_trend"): ...
        snapshot = indicators.to_bytes()      # restore with IndicatorSet.from_bytes

    Candles are objects with ``open_time_ns`` (int, UTC ns, strictly increasing) and
    ``open``, ``high``, ``low``, ``close``, ``volume`` (Decimal, int or float; converted
    with ``float()``). A rejected candle raises :class:`IndicatorInputError` and changes
    nothing, so the caller may log it and feed the next candle.
    """

    __slots__ = ("_block", "_config", "_state")

    def __init__(self, config: IndicatorConfig | None = None, **overrides: Any) -> None:
        """Start cold with ``config`` (defaults: the strategy's), or defaults plus overrides.

        Raises:
            IndicatorConfigError: A period or option is out of range.
        """
        if config is None:
            config = IndicatorConfig(**overrides)
        elif overrides:
            raise TypeError("pass either a config or keyword overrides, not both")
        self._config = config
        ints = config.int_params()
        # [params | state | peek scratch | outputs]: one array per numba call.
        self._block: NDArray[np.float64] = np.zeros(block_size(ints))
        self._block[:N_PARAMS] = param_block(ints, config.bb_stddev)
        self._state: NDArray[np.float64] = self._block[N_PARAMS : N_PARAMS + state_size(ints)]

    @classmethod
    def from_settings(
        cls, strategy: Any, *, candle_interval_ns: int = FIFTEEN_MINUTES_NS
    ) -> IndicatorSet:
        """Build from settings.toml's ``[strategy]`` section object (duck-typed).

        Raises:
            IndicatorConfigError: A setting is missing or out of range (all listed).
        """
        return cls(IndicatorConfig.from_settings(strategy, candle_interval_ns=candle_interval_ns))

    @property
    def config(self) -> IndicatorConfig:
        """The frozen configuration."""
        return self._config

    @property
    def bars_seen(self) -> int:
        """Candles committed so far."""
        return int(self._state[0])

    def update(self, candle: CandleLike) -> IndicatorValues:
        """Commit one closed candle and return every indicator after it.

        Raises:
            IndicatorInputError: Non-finite or inconsistent candle, or an open time not
                after the previous candle's; nothing is changed.
        """
        return self._step(kernels().set_update, candle)

    def peek(self, candle: CandleLike) -> IndicatorValues:
        """Values ``update(candle)`` would return, for a forming candle; commits nothing.

        Call it as often as the forming candle changes; ``bars_seen`` in the result counts
        the forming candle.

        Raises:
            IndicatorInputError: As :meth:`update`.
        """
        return self._step(kernels().set_peek, candle)

    def _step(self, kernel: Any, candle: CandleLike) -> IndicatorValues:
        """Run one streaming kernel (update or peek) on a candle and check its status."""
        res = kernel(
            self._block,
            int(candle.open_time_ns),
            float(candle.open),
            float(candle.high),
            float(candle.low),
            float(candle.close),
            float(candle.volume),
        )
        if res[19] < 0:
            raise status_error(res[18], self.bars_seen)
        return tuple.__new__(IndicatorValues, res)

    def run(self, history: Any) -> IndicatorSeries:
        """Commit a whole history (backtests); returns the values after every candle.

        Args:
            history: A sequence of candles, or a structured array with the fields of
                :data:`~indicators.CANDLE_DTYPE` (``open_time_ns`` int64, OHLCV float64).

        Raises:
            IndicatorInputError: A bad candle; ``bar_index`` is its index in ``history``.
                Nothing is committed.
        """
        t, o, h, lo, c, v = history_columns(history)
        out, bad, code = kernels().set_run(self._block, t, o, h, lo, c, v)
        if bad >= 0:
            raise status_error(code, bad)
        values = out[:, :N_OUTPUTS]
        masks = out[:, N_OUTPUTS].astype(np.int64)
        bars = out[:, N_OUTPUTS + 1].astype(np.int64)
        for array in (values, masks, bars):
            array.flags.writeable = False
        return IndicatorSeries(values, masks, bars)

    def warmup(self, history: Any) -> IndicatorValues | None:
        """Commit a history of closed candles; returns the values after the last one.

        Same input and errors as :meth:`run`; returns None for an empty history.
        """
        series = self.run(history)
        return series.row(len(series) - 1) if len(series) else None

    def to_bytes(self) -> bytes:
        """Serialise config and state (format in ``docs/indicators.md``)."""
        return encode(KIND_SET, self._config.int_params(), (self._config.bb_stddev,), self._state)

    @classmethod
    def from_bytes(cls, data: bytes, *, expected: IndicatorConfig | None = None) -> IndicatorSet:
        """Restore an IndicatorSet written by :meth:`to_bytes`; it continues bit for bit.

        Args:
            data: The bytes.
            expected: When given, the stored config must equal it (a snapshot taken before
                a settings change is refused rather than silently used).

        Raises:
            IndicatorStateError: Corrupt or foreign bytes, or a config other than ``expected``.
        """
        decoded = decode(data, KIND_SET)
        try:
            config = IndicatorConfig.from_params(decoded.ints, decoded.floats)
        except ValueError as exc:
            raise IndicatorStateError(f"state holds an invalid config: {exc}") from exc
        if expected is not None and config != expected:
            raise IndicatorStateError(f"state was taken with {config}, expected {expected}")
        restored = cls(config)
        if decoded.state.shape != restored._state.shape:
            raise IndicatorStateError(
                f"state has {decoded.state.size} values, config needs {restored._state.size}"
            )
        restored._state[:] = decoded.state
        return restored

    def __repr__(self) -> str:
        """Config and bar count, for logs and the console."""
        return f"IndicatorSet(bars_seen={self.bars_seen}, config={self._config!r})"
