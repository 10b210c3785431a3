"""Indicator settings: a frozen, keyword-only config with the strategy's defaults.

``IndicatorConfig.from_settings(strategy)`` reads the ``[strategy]`` section object the
settings loader builds (duck-typed: any object with the attributes below). Every bad value
is reported at once as ``strategy.key: expected X, was Y``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Literal

from indicators._errors import IndicatorConfigError
from indicators._shared import FIFTEEN_MINUTES_NS

PivotMode = Literal["candles", "utc_day"]
PIVOT_MODES: tuple[str, ...] = ("candles", "utc_day")

# (attribute, minimum) for every integer period.
_PERIODS: tuple[tuple[str, int], ...] = (
    ("ema_fast", 1),
    ("ema_mid", 1),
    ("ema_slow", 1),
    ("ema_trend", 1),
    ("rsi_period", 2),
    ("atr_period", 1),
    ("adx_period", 2),
    ("pivot_lookback_candles", 1),
    ("macd_fast", 1),
    ("macd_slow", 2),
    ("macd_signal", 1),
    ("bb_period", 2),
    ("candle_interval_ns", 1),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicatorConfig:
    """Periods and options of every indicator an :class:`IndicatorSet` computes.

    Attributes:
        ema_fast: Fast EMA period, bars (strategy default 9).
        ema_mid: Middle EMA period, bars (21).
        ema_slow: Slow EMA period, bars (50).
        ema_trend: Trend EMA period, bars (200; converged after ~1,100-1,400 bars).
        rsi_period: Wilder RSI period, bars (14).
        atr_period: Wilder ATR period, bars (14).
        adx_period: ADX period, bars (14).
        pivot_mode: ``"candles"`` (last N completed candles) or ``"utc_day"`` (previous
            complete UTC day).
        pivot_lookback_candles: N for ``"candles"`` mode (14).
        macd_fast: MACD fast EMA period (12).
        macd_slow: MACD slow EMA period (26).
        macd_signal: MACD signal EMA period (9).
        bb_period: Bollinger window, bars (20).
        bb_stddev: Bollinger width in population standard deviations (2.0).
        candle_interval_ns: Candle length, ns (15 minutes); tells ``utc_day`` pivots when
            the last candle of a day has closed.
    """

    ema_fast: int = 9
    ema_mid: int = 21
    ema_slow: int = 50
    ema_trend: int = 200
    rsi_period: int = 14
    atr_period: int = 14
    adx_period: int = 14
    pivot_mode: PivotMode = "candles"
    pivot_lookback_candles: int = 14
    macd_fast: int = 12
    macd_slow: int = 26
    macd_signal: int = 9
    bb_period: int = 20
    bb_stddev: float = 2.0
    candle_interval_ns: int = FIFTEEN_MINUTES_NS

    def __post_init__(self) -> None:
        """Check every value and report all problems in one error."""
        problems = []
        for name, minimum in _PERIODS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                problems.append(f"strategy.{name}: expected an integer >= {minimum}, was {value!r}")
        if self.pivot_mode not in PIVOT_MODES:
            problems.append(
                f"strategy.pivot_mode: expected one of {PIVOT_MODES}, was {self.pivot_mode!r}"
            )
        stddev = self.bb_stddev
        if (
            isinstance(stddev, bool)
            or not isinstance(stddev, int | float)
            or not math.isfinite(stddev)
            or stddev < 0
        ):
            problems.append(f"strategy.bb_stddev: expected a finite number >= 0, was {stddev!r}")
        slow = self.macd_slow
        if isinstance(self.macd_fast, int) and isinstance(slow, int) and self.macd_fast >= slow:
            problems.append(
                f"strategy.macd_fast: expected < macd_slow ({slow}), was {self.macd_fast!r}"
            )
        if problems:
            raise IndicatorConfigError("; ".join(problems))

    @classmethod
    def from_settings(
        cls, strategy: Any, *, candle_interval_ns: int = FIFTEEN_MINUTES_NS
    ) -> IndicatorConfig:
        """Build the config from the settings' ``[strategy]`` section (duck-typed).

        Args:
            strategy: Any object with the attributes ``ema_fast`` ... ``bb_stddev``.
            candle_interval_ns: Candle length in ns; the strategy section has no such key
                (from ``bot.timeframe``: ``TIMEFRAME_SECONDS[timeframe] * 10**9``).

        Raises:
            IndicatorConfigError: A value is missing or out of range (all listed at once).
        """
        names = [f.name for f in fields(cls) if f.name != "candle_interval_ns"]
        missing = [name for name in names if not hasattr(strategy, name)]
        if missing:
            raise IndicatorConfigError(
                "; ".join(f"strategy.{name}: expected a value, was missing" for name in missing)
            )
        values = {name: getattr(strategy, name) for name in names}
        return cls(**values, candle_interval_ns=candle_interval_ns)

    def int_params(self) -> tuple[int, ...]:
        """Integer parameters in the order the numba kernels and the state bytes use."""
        return (
            self.ema_fast,
            self.ema_mid,
            self.ema_slow,
            self.ema_trend,
            self.rsi_period,
            self.atr_period,
            self.adx_period,
            self.macd_fast,
            self.macd_slow,
            self.macd_signal,
            self.bb_period,
            PIVOT_MODES.index(self.pivot_mode),
            self.pivot_lookback_candles,
            self.candle_interval_ns,
        )

    @classmethod
    def from_params(cls, ints: tuple[int, ...], floats: tuple[float, ...]) -> IndicatorConfig:
        """Inverse of :meth:`int_params` plus ``(bb_stddev,)``; used to restore state bytes."""
        if len(ints) != 14 or len(floats) != 1 or not 0 <= ints[11] < len(PIVOT_MODES):
            raise IndicatorConfigError(f"bad indicator parameters {ints!r} {floats!r}")
        mode: PivotMode = "candles" if ints[11] == 0 else "utc_day"
        return cls(
            ema_fast=ints[0],
            ema_mid=ints[1],
            ema_slow=ints[2],
            ema_trend=ints[3],
            rsi_period=ints[4],
            atr_period=ints[5],
            adx_period=ints[6],
            macd_fast=ints[7],
            macd_slow=ints[8],
            macd_signal=ints[9],
            bb_period=ints[10],
            pivot_mode=mode,
            pivot_lookback_candles=ints[12],
            candle_interval_ns=ints[13],
            bb_stddev=floats[0],
        )
