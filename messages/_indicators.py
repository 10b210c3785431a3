"""Indicator results, published once per closed candle, and the correlation matrix.

Indicator values are ``float``: they are statistics, not money, and come straight from the
numba kernels (convert ``numpy.float64`` with ``float()`` first). A value that is not warmed
up yet is ``nan`` and its name is missing from ``valid``; the codec carries ``nan`` and
``±inf`` exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from messages._base import Event
from messages._types import UnixNanos


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicatorsUpdated(Event):
    """Every indicator of one symbol after one closed candle.

    Prices are quote currency per contract; the pivots are the classic floor pivots of the
    previous day.

    Attributes:
        symbol: Venue symbol.
        open_time_ns: Open time of the candle these values include, ns since the epoch.
        close: That candle's close price, quote currency (exact).
        ema_fast: Fast EMA of the close (9 periods by default), price.
        ema_mid: Middle EMA (21 periods by default), price.
        ema_slow: Slow EMA (50 periods by default), price.
        ema_trend: Trend EMA (200 periods by default), price.
        rsi: Relative strength index, 0 to 100.
        atr: Average true range, price.
        adx: Average directional index, 0 to 100.
        pivot_p: Pivot point, price.
        pivot_r1: First resistance, price.
        pivot_r2: Second resistance, price.
        pivot_s1: First support, price.
        pivot_s2: Second support, price.
        valid: Names of the indicator fields that are warmed up and usable; the others
            hold ``nan``.
        bars_seen: Number of candles the calculator has consumed, this one included.
        ts_event: The candle's close time, ns. ts_init: creation time, ns.
    """

    symbol: str
    open_time_ns: UnixNanos
    close: Decimal
    ema_fast: float
    ema_mid: float
    ema_slow: float
    ema_trend: float
    rsi: float
    atr: float
    adx: float
    pivot_p: float
    pivot_r1: float
    pivot_r2: float
    pivot_s1: float
    pivot_s2: float
    valid: tuple[str, ...]
    bars_seen: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrelationUpdated(Event):
    """Rolling correlations of candle returns across symbols, used to pick hedge assets.

    Attributes:
        symbols: The symbols, in matrix order.
        matrix: Pearson correlations, ``matrix[i][j]`` between ``symbols[i]`` and
            ``symbols[j]``, each in [-1, 1] or ``nan`` when undefined; square, of side
            ``len(symbols)`` (the publisher's duty; not checked here).
        window: Number of returns each correlation uses.
        ts_event: Close time of the latest candle included, ns. ts_init: creation, ns.
    """

    symbols: tuple[str, ...]
    matrix: tuple[tuple[float, ...], ...]
    window: int
