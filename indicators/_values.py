"""What an :class:`IndicatorSet` returns: immutable values with validity and bar count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

#: Output names, in the order of the fields of :class:`IndicatorValues` and of the bits of
#: its ``valid_mask`` (bit ``i`` is output ``i``).
OUTPUT_NAMES: tuple[str, ...] = (
    "ema_fast",
    "ema_mid",
    "ema_slow",
    "ema_trend",
    "rsi",
    "atr",
    "adx",
    "macd",
    "macd_signal",
    "macd_hist",
    "bb_upper",
    "bb_mid",
    "bb_lower",
    "pivot_p",
    "pivot_r1",
    "pivot_r2",
    "pivot_s1",
    "pivot_s2",
)
N_OUTPUTS = len(OUTPUT_NAMES)
OUTPUT_INDEX: dict[str, int] = {name: i for i, name in enumerate(OUTPUT_NAMES)}
ALL_VALID = (1 << N_OUTPUTS) - 1


def _bit(name: str) -> int:
    try:
        return 1 << OUTPUT_INDEX[name]
    except KeyError:
        raise KeyError(f"unknown indicator output {name!r}; outputs are {OUTPUT_NAMES}") from None


class IndicatorValues(NamedTuple):
    """Every indicator of one symbol after one candle. Immutable.

    Prices (EMAs, ATR, MACD, bands, pivots) are in the candle's price units; RSI and ADX
    are in [0, 100]. An output that is not valid yet (too few bars for its TA-Lib lookback,
    or no complete UTC day for ``utc_day`` pivots) is NaN and its bit in ``valid_mask`` is
    0; ask with ``values.valid("ema_trend")``. Validity says the TA-Lib lookback is met, not
    that a long EMA has converged: use ``bars_seen`` for that (EMA200 needs ~1,100-1,400).
    """

    ema_fast: float
    ema_mid: float
    ema_slow: float
    ema_trend: float
    rsi: float
    atr: float
    adx: float
    macd: float
    macd_signal: float
    macd_hist: float
    bb_upper: float
    bb_mid: float
    bb_lower: float
    pivot_p: float
    pivot_r1: float
    pivot_r2: float
    pivot_s1: float
    pivot_s2: float
    #: Bit ``i`` set when output ``OUTPUT_NAMES[i]`` is valid.
    valid_mask: int
    #: Candles committed so far, including this one (for ``peek``: as if committed).
    bars_seen: int

    def valid(self, name: str) -> bool:
        """Whether output ``name`` (e.g. ``"ema_trend"``) is valid; KeyError if unknown."""
        return bool(self.valid_mask & _bit(name))

    def valid_names(self) -> tuple[str, ...]:
        """Names of the valid outputs, in ``OUTPUT_NAMES`` order (``IndicatorsUpdated.valid``)."""
        mask = self.valid_mask
        return tuple(name for i, name in enumerate(OUTPUT_NAMES) if mask >> i & 1)

    @property
    def all_valid(self) -> bool:
        """Whether every output is valid."""
        return self.valid_mask == ALL_VALID

    def as_dict(self) -> dict[str, float]:
        """The 18 outputs by name (for logs and the health report)."""
        return dict(zip(OUTPUT_NAMES, self[:N_OUTPUTS], strict=True))


@dataclass(frozen=True, slots=True)
class IndicatorSeries:
    """Every indicator for every candle of a history (``IndicatorSet.run``).

    Attributes:
        values: ``(n_bars, 18)`` float64, columns in ``OUTPUT_NAMES`` order, NaN where not
            valid. Read-only.
        valid_mask: ``(n_bars,)`` int64 bit masks, as :attr:`IndicatorValues.valid_mask`.
        bars_seen: ``(n_bars,)`` int64, candles committed after each row.
    """

    values: NDArray[np.float64]
    valid_mask: NDArray[np.int64]
    bars_seen: NDArray[np.int64]

    def __len__(self) -> int:
        """Number of candles."""
        return int(self.values.shape[0])

    def column(self, name: str) -> NDArray[np.float64]:
        """One output over all candles, e.g. ``series.column("rsi")`` (a read-only view)."""
        _bit(name)
        return self.values[:, OUTPUT_INDEX[name]]

    def valid(self, name: str) -> NDArray[np.bool_]:
        """Per-candle validity of one output."""
        valid: NDArray[np.bool_] = (self.valid_mask & _bit(name)) != 0
        return valid

    def row(self, index: int) -> IndicatorValues:
        """The values after candle ``index`` as an :class:`IndicatorValues`."""
        return IndicatorValues._make(
            [
                *(float(v) for v in self.values[index]),
                int(self.valid_mask[index]),
                int(self.bars_seen[index]),
            ]
        )
