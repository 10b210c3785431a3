"""Technical indicators that match TA-Lib, in batch and streaming forms.

Live trading, backtests and parameter sweeps use the same numbers: every indicator has a
numba step function that its batch form (arrays in, arrays out) loops over and that the
streaming :class:`IndicatorSet` calls once per closed candle, so streaming equals batch
bit for bit. See ``docs/indicators.md`` for formulas, validity and the state format.

Streaming, one symbol::

    from indicators import IndicatorSet
    ind = IndicatorSet.from_settings(settings.strategy)
    ind.warmup(history)                 # candle objects or a CANDLE_DTYPE array
    values = ind.update(candle)         # one numba call per closed candle
    values.ema_trend, values.valid("ema_trend"), values.bars_seen
    ind.peek(forming_candle)            # same, nothing committed
    IndicatorSet.from_bytes(ind.to_bytes())

Batch: :func:`ema`, :func:`sma`, :func:`rsi`, :func:`atr`, :func:`adx`, :func:`macd`,
:func:`bollinger`, :func:`pivots`, :func:`pivots_utc_day`, :func:`rolling_correlation`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from indicators._config import IndicatorConfig, PivotMode
from indicators._correlation import (
    DEFAULT_WINDOW,
    CorrelationValues,
    RollingCorrelation,
    rolling_correlation,
)
from indicators._errors import (
    IndicatorConfigError,
    IndicatorError,
    IndicatorInputError,
    IndicatorStateError,
)
from indicators._history import CANDLE_DTYPE, CandleLike, candles_to_array
from indicators._kernels import kernel_origin
from indicators._lookback import lookbacks
from indicators._set import IndicatorSet
from indicators._shared import DAY_NS, FIFTEEN_MINUTES_NS
from indicators._values import OUTPUT_NAMES, IndicatorSeries, IndicatorValues

if TYPE_CHECKING:
    from indicators._bank import IndicatorBank
    from indicators._bollinger import bollinger
    from indicators._momentum import macd, rsi
    from indicators._moving_average import ema, sma
    from indicators._pivots import pivots, pivots_utc_day
    from indicators._range import adx, atr

#: The batch functions run numba's JIT: they are imported on first use, so a process
#: that only streams (the bot) never imports numba (see ``_kernels``).
_LAZY = {
    "IndicatorBank": "indicators._bank",
    "bollinger": "indicators._bollinger",
    "macd": "indicators._momentum",
    "rsi": "indicators._momentum",
    "ema": "indicators._moving_average",
    "sma": "indicators._moving_average",
    "pivots": "indicators._pivots",
    "pivots_utc_day": "indicators._pivots",
    "adx": "indicators._range",
    "atr": "indicators._range",
}


def __getattr__(name: str) -> Any:
    """Import a batch function (and numba) when it is first asked for."""
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'indicators' has no attribute {name!r}")


__all__ = [
    "CANDLE_DTYPE",
    "DAY_NS",
    "DEFAULT_WINDOW",
    "FIFTEEN_MINUTES_NS",
    "OUTPUT_NAMES",
    "CandleLike",
    "CorrelationValues",
    "IndicatorBank",
    "IndicatorConfig",
    "IndicatorConfigError",
    "IndicatorError",
    "IndicatorInputError",
    "IndicatorSeries",
    "IndicatorSet",
    "IndicatorStateError",
    "IndicatorValues",
    "PivotMode",
    "RollingCorrelation",
    "adx",
    "atr",
    "bollinger",
    "candles_to_array",
    "ema",
    "kernel_origin",
    "lookbacks",
    "macd",
    "pivots",
    "pivots_utc_day",
    "rolling_correlation",
    "rsi",
    "sma",
]
