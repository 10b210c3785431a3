"""TA-Lib lookbacks: the first bar (0-based) at which each output is valid."""

from __future__ import annotations

from indicators._config import IndicatorConfig
from indicators._values import OUTPUT_NAMES


def lookbacks(config: IndicatorConfig | None = None) -> dict[str, int | None]:
    """First valid bar of every :class:`~indicators.IndicatorValues` output.

    EMA ``n - 1``, RSI ``n``, ATR ``n``, ADX ``2n - 1``, MACD ``slow + signal - 2`` (33),
    Bollinger ``n - 1``, ``candles`` pivots ``N - 1``. ``utc_day`` pivots depend on the
    clock, not on a bar count, and map to None.
    """
    c = config or IndicatorConfig()
    macd = c.macd_slow + c.macd_signal - 2
    pivot = c.pivot_lookback_candles - 1 if c.pivot_mode == "candles" else None
    per_output: list[int | None] = [
        c.ema_fast - 1,
        c.ema_mid - 1,
        c.ema_slow - 1,
        c.ema_trend - 1,
        c.rsi_period,
        c.atr_period,
        2 * c.adx_period - 1,
        macd,
        macd,
        macd,
        c.bb_period - 1,
        c.bb_period - 1,
        c.bb_period - 1,
        *([pivot] * 5),
    ]
    return dict(zip(OUTPUT_NAMES, per_output, strict=True))
