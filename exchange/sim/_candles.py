"""Candle history: the one record both GET /v2/history/candles and the candlestick channels read.

Every market step updates a 1-minute base candle; coarser resolutions are aggregated from
the base on demand, so the REST history and the published candles can never disagree.
Prices are ticks, volume is contracts (float: candle files may carry fractional volume).
Candle starts are aligned to the UNIX epoch (a week starts on a Thursday). Thread-safe: the
market thread writes, server threads read.

Memory is bounded: the base candles are numpy columns (56 bytes a minute, against ~280 as
Python lists), and a symbol keeps its newest ``max(keep_rows, what was loaded in bulk)``
minutes, the oldest dropped as new ones come, so a simulator that runs for months holds
about as much history as it started with (60 days by default, ~4.8 MB a symbol).
"""

from __future__ import annotations

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


#: Base candles kept per symbol at least: 60 days of minutes.
KEEP_ROWS = 60 * 24 * 60


class _Series:
    """One symbol's closed base candles as columns, plus the forming minute as a Python list
    ``[open, high, low, close, volume, last_ns]`` (the hot path updates it on every step).

    Columns: ``starts`` (UNIX s), ``prices`` (open, high, low, close in ticks), ``volume``
    (contracts), ``last_ns`` (market time of the minute's last step); the first ``size``
    rows are live.
    """

    __slots__ = ("forming", "forming_start", "last_ns", "prices", "size", "starts", "volume")

    def __init__(self) -> None:
        self.starts = np.empty(0, dtype=np.int64)
        self.prices = np.empty((0, 4), dtype=np.int64)
        self.volume = np.empty(0, dtype=np.float64)
        self.last_ns = np.empty(0, dtype=np.int64)
        self.size = 0
        self.forming: list[Any] | None = None
        self.forming_start = -1

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Copies of the live columns."""
        n = self.size
        return (
            self.starts[:n].copy(),
            self.prices[:n].copy(),
            self.volume[:n].copy(),
            self.last_ns[:n].copy(),
        )

    def last_start(self) -> int | None:
        if self.forming is not None:
            return self.forming_start
        return int(self.starts[self.size - 1]) if self.size else None

    def reopen(self, start: int) -> None:
        """Make the stored minute ``start``, if it is the newest, the forming one again:
        steps that come after a bulk load (or a restore) may still fall in its minute."""
        if self.forming is None and self.size and int(self.starts[self.size - 1]) == start:
            n = self.size - 1
            o, h, lo, c = (int(x) for x in self.prices[n])
            self.forming = [o, h, lo, c, float(self.volume[n]), int(self.last_ns[n])]
            self.forming_start = start
            self.size = n

    def extend_forming(self, high: int, low: int, close: int, volume: float, last_ns: int) -> None:
        """Fold later trading of the forming minute into it."""
        row = self.forming
        assert row is not None
        row[1] = max(row[1], high)
        row[2] = min(row[2], low)
        row[3] = close
        row[4] += volume
        row[5] = last_ns

    def close_forming(self, limit: int) -> None:
        """Move the forming minute into the columns."""
        row = self.forming
        if row is None:
            return
        self.forming = None
        self.append(
            np.array([self.forming_start], dtype=np.int64),
            np.array([row[:4]], dtype=np.int64),
            np.array([row[4]], dtype=np.float64),
            np.array([row[5]], dtype=np.int64),
            limit,
        )

    def append(
        self,
        starts: np.ndarray,
        prices: np.ndarray,
        volume: np.ndarray,
        last_ns: np.ndarray,
        limit: int,
    ) -> None:
        """Append rows, dropping the oldest so that at most ``limit`` stay.

        Past the limit it drops an eighth of it more than it must, so the columns are moved
        once per ``limit / 8`` new minutes rather than on every one.
        """
        old = (self.starts, self.prices, self.volume, self.last_ns)
        need = self.size + len(starts)
        drop = min(self.size, need - limit + limit // 8) if need > limit else 0
        if need > len(self.starts) or drop:
            keep = self.size - drop
            capacity = max(need - drop, min(limit, 2 * len(self.starts)), 1024)
            if capacity > len(self.starts):
                self.starts = np.empty(capacity, dtype=np.int64)
                self.prices = np.empty((capacity, 4), dtype=np.int64)
                self.volume = np.empty(capacity, dtype=np.float64)
                self.last_ns = np.empty(capacity, dtype=np.int64)
            for new, was in zip(
                (self.starts, self.prices, self.volume, self.last_ns), old, strict=True
            ):
                new[:keep] = was[drop : self.size]
            self.size = keep
            need -= drop
        n = self.size
        self.starts[n:need] = starts
        self.prices[n:need] = prices
        self.volume[n:need] = volume
        self.last_ns[n:need] = last_ns
        self.size = need


class CandleStore:
    """1-minute base candles per symbol (see the module docstring)."""

    def __init__(self, symbols: Sequence[str], keep_rows: int = KEEP_ROWS) -> None:
        self._lock = threading.Lock()
        self._series = {s: _Series() for s in symbols}
        self._limit = keep_rows  # raised by bulk loads: a long replay keeps its history

    def dump(self) -> dict[str, Any]:
        """Every row, to save (:meth:`load` puts them back)."""
        with self._lock:
            return {
                "columns": {
                    symbol: (
                        *series.columns(),
                        series.forming_start,
                        None if series.forming is None else list(series.forming),
                    )
                    for symbol, series in self._series.items()
                }
            }

    def load(self, saved: dict[str, Any]) -> None:
        """Replace every row with those of :meth:`dump` (or of the older list layout)."""
        with self._lock:
            if "columns" in saved:
                columns = saved["columns"]
            else:  # saved before the columns: lists of [o, h, l, c, volume, last_ns]
                columns = {
                    symbol: (starts, *_split(saved["rows"][symbol]), -1, None)
                    for symbol, starts in saved["starts"].items()
                }
            for symbol, (
                starts,
                prices,
                volume,
                last_ns,
                forming_start,
                forming,
            ) in columns.items():
                series = self._series[symbol] = _Series()
                self._limit = max(self._limit, len(starts))
                series.append(
                    np.asarray(starts, dtype=np.int64),
                    np.asarray(prices, dtype=np.int64).reshape(-1, 4),
                    np.asarray(volume, dtype=np.float64),
                    np.asarray(last_ns, dtype=np.int64),
                    self._limit,
                )
                series.forming_start = forming_start
                series.forming = None if forming is None else list(forming)

    def add(self, symbol: str, ts_ns: int, ticks: int, volume: float) -> None:
        """Record one market step (a trade of ``volume`` at ``ticks``) at market time ``ts_ns``."""
        start = ts_ns // _NS // _BASE_S * _BASE_S
        with self._lock:
            series = self._series[symbol]
            if series.forming is None or series.forming_start != start:
                series.reopen(start)  # a minute that a bulk load or a restore left stored
            row = series.forming
            if row is None or series.forming_start != start:
                last = series.last_start()
                if last is None or start > last:  # a new minute; an older one is ignored
                    series.close_forming(self._limit)
                    series.forming = [ticks, ticks, ticks, ticks, volume, ts_ns]
                    series.forming_start = start
                return
            # extend_forming, inlined: this runs on every market step
            if ticks > row[1]:
                row[1] = ticks
            elif ticks < row[2]:
                row[2] = ticks
            row[3] = ticks
            row[4] += volume
            row[5] = ts_ns

    def add_bulk(
        self, symbol: str, ts_ns: np.ndarray, ticks: np.ndarray, volumes: np.ndarray
    ) -> None:
        """Record many increasing steps at once (history pre-generation)."""
        if len(ts_ns) == 0:
            return
        minute = ts_ns // _NS // _BASE_S * _BASE_S
        first, last = _runs(minute)
        prices = np.column_stack(
            (
                ticks[first],
                np.maximum.reduceat(ticks, first),
                np.minimum.reduceat(ticks, first),
                ticks[last],
            )
        ).astype(np.int64)
        volume = np.add.reduceat(volumes, first).astype(np.float64)
        starts, last_ns = minute[first].astype(np.int64), ts_ns[last].astype(np.int64)
        with self._lock:
            series = self._series[symbol]
            series.reopen(int(starts[0]))
            if series.forming is not None and series.forming_start == starts[0]:
                _, high, low, close = (int(x) for x in prices[0])  # the newest minute goes on
                series.extend_forming(high, low, close, float(volume[0]), int(last_ns[0]))
            newest = series.last_start()
            if newest is not None:  # already recorded: history never rewrites the past
                new = starts > newest
                starts, prices, volume, last_ns = (
                    starts[new],
                    prices[new],
                    volume[new],
                    last_ns[new],
                )
            series.close_forming(self._limit)
            self._limit = max(self._limit, series.size + len(starts))
            series.append(starts, prices, volume, last_ns, self._limit)

    def query(self, symbol: str, resolution_s: int, start_s: int, end_s: int) -> list[Candle]:
        """Candles of ``resolution_s`` whose start lies in [start_s, end_s], oldest first."""
        first = start_s - start_s % resolution_s
        if first < start_s:
            first += resolution_s
        end = end_s - end_s % resolution_s + resolution_s
        with self._lock:
            series = self._series[symbol]
            lo, hi = np.searchsorted(series.starts[: series.size], (first, end))
            starts = series.starts[lo:hi].copy()
            prices = series.prices[lo:hi].copy()
            volume = series.volume[lo:hi].copy()
            last_ns = series.last_ns[lo:hi].copy()
            row = series.forming
            if row is not None and first <= series.forming_start < end:
                starts = np.append(starts, series.forming_start)
                prices = np.vstack((prices, np.array([row[:4]], dtype=np.int64)))
                volume = np.append(volume, float(row[4]))
                last_ns = np.append(last_ns, np.int64(row[5]))
        if len(starts) == 0:
            return []
        buckets = starts - starts % resolution_s
        heads, tails = _runs(buckets)
        candles = zip(
            buckets[heads].tolist(),
            prices[heads, 0].tolist(),
            np.maximum.reduceat(prices[:, 1], heads).tolist(),
            np.minimum.reduceat(prices[:, 2], heads).tolist(),
            prices[tails, 3].tolist(),
            np.add.reduceat(volume, heads).tolist(),
            last_ns[tails].tolist(),
            strict=True,
        )
        return [Candle(*values) for values in candles if start_s <= values[0] <= end_s]

    def last_time_s(self, symbol: str) -> int | None:
        """Start of the newest base candle of ``symbol``, or None when there is none."""
        with self._lock:
            return self._series[symbol].last_start()


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last index of each run of equal values in the non-empty, sorted ``keys``."""
    cut = np.flatnonzero(np.diff(keys)) + 1
    return np.concatenate(([0], cut)), np.concatenate((cut - 1, [len(keys) - 1]))


def _split(rows: list[list[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows ``[o, h, l, c, volume, last_ns]`` as (prices, volume, last_ns) columns."""
    prices = np.array([row[:4] for row in rows], dtype=np.int64).reshape(-1, 4)
    volume = np.array([row[4] for row in rows], dtype=np.float64)
    last_ns = np.array([row[5] for row in rows], dtype=np.int64)
    return prices, volume, last_ns
