"""Candle history: the one record both GET /v2/history/candles and the candlestick channels read.

Every market step updates a 1-minute base candle; coarser resolutions are aggregated from
the base on demand, so the REST history and the published candles can never disagree.
Prices are ticks, volume is contracts (float: candle files may carry fractional volume).
Candle starts are aligned to the UNIX epoch (a week starts on a Thursday). Thread-safe: the
market thread writes, server threads read.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["RESOLUTIONS", "Candle", "CandleStore"]

RESOLUTIONS: dict[str, int] = {
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "4h": 14400,
    "6h": 21600,
    "12h": 43200,
    "1d": 86400,
    "1w": 604800,
}
"""Candle resolutions by name, in seconds."""

_BASE_S = 60
_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Candle:
    """One candle: ``start_s`` (UNIX seconds), OHLC in ticks, volume in contracts, and the
    market time (ns) of its last step."""

    start_s: int
    open: int
    high: int
    low: int
    close: int
    volume: float
    last_ns: int


class CandleStore:
    """1-minute base candles per symbol (see the module docstring)."""

    def __init__(self, symbols: Sequence[str]) -> None:
        self._lock = threading.Lock()
        self._starts: dict[str, list[int]] = {s: [] for s in symbols}
        self._rows: dict[str, list[list[float]]] = {s: [] for s in symbols}

    def dump(self) -> dict[str, Any]:
        """Every row, to save (:meth:`load` puts them back)."""
        with self._lock:
            return {"starts": self._starts, "rows": self._rows}

    def load(self, saved: dict[str, Any]) -> None:
        """Replace every row with those of :meth:`dump`."""
        with self._lock:
            self._starts, self._rows = saved["starts"], saved["rows"]

    def add(self, symbol: str, ts_ns: int, ticks: int, volume: float) -> None:
        """Record one market step (a trade of ``volume`` at ``ticks``) at market time ``ts_ns``."""
        start = ts_ns // _NS // _BASE_S * _BASE_S
        with self._lock:
            starts, rows = self._starts[symbol], self._rows[symbol]
            if starts and starts[-1] == start:
                row = rows[-1]
                row[1] = max(row[1], ticks)
                row[2] = min(row[2], ticks)
                row[3] = ticks
                row[4] += volume
                row[5] = ts_ns
            elif not starts or start > starts[-1]:
                starts.append(start)
                rows.append([ticks, ticks, ticks, ticks, volume, ts_ns])

    def add_bulk(
        self, symbol: str, ts_ns: np.ndarray, ticks: np.ndarray, volumes: np.ndarray
    ) -> None:
        """Record many increasing steps at once (history pre-generation)."""
        if len(ts_ns) == 0:
            return
        minute = ts_ns // _NS // _BASE_S * _BASE_S
        cut = np.flatnonzero(np.diff(minute)) + 1
        first = np.concatenate(([0], cut))
        last = np.concatenate((cut - 1, [len(ts_ns) - 1]))
        highs = np.maximum.reduceat(ticks, first)
        lows = np.minimum.reduceat(ticks, first)
        vols = np.add.reduceat(volumes, first)
        opens, closes = ticks[first], ticks[last]
        with self._lock:
            starts, rows = self._starts[symbol], self._rows[symbol]
            for i in range(len(first)):
                start = int(minute[first[i]])
                if starts and start <= starts[-1]:
                    continue  # already recorded: history never rewrites the past
                starts.append(start)
                rows.append(
                    [
                        int(opens[i]),
                        int(highs[i]),
                        int(lows[i]),
                        int(closes[i]),
                        float(vols[i]),
                        int(ts_ns[last[i]]),
                    ]
                )

    def query(self, symbol: str, resolution_s: int, start_s: int, end_s: int) -> list[Candle]:
        """Candles of ``resolution_s`` whose start lies in [start_s, end_s], oldest first."""
        first = start_s - start_s % resolution_s
        if first < start_s:
            first += resolution_s
        with self._lock:
            starts, rows = self._starts[symbol], self._rows[symbol]
            lo = bisect.bisect_left(starts, first)
            hi = bisect.bisect_left(starts, end_s - end_s % resolution_s + resolution_s)
            picked = [(starts[i], rows[i][:]) for i in range(lo, hi)]
        out: list[Candle] = []
        current: list[float] | None = None
        bucket = -1
        for start, row in picked:
            b = start - start % resolution_s
            if b != bucket:
                if current is not None:
                    out.append(_candle(bucket, current))
                bucket, current = b, row
            else:
                assert current is not None
                current[1] = max(current[1], row[1])
                current[2] = min(current[2], row[2])
                current[3] = row[3]
                current[4] += row[4]
                current[5] = row[5]
        if current is not None and bucket <= end_s:
            out.append(_candle(bucket, current))
        return [c for c in out if c.start_s >= start_s]

    def last_time_s(self, symbol: str) -> int | None:
        """Start of the newest base candle of ``symbol``, or None when there is none."""
        with self._lock:
            starts = self._starts[symbol]
            return starts[-1] if starts else None


def _candle(start: int, row: list[float]) -> Candle:
    return Candle(
        start, int(row[0]), int(row[1]), int(row[2]), int(row[3]), float(row[4]), int(row[5])
    )
