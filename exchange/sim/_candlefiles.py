"""Candle files as a market: load CSV (optionally gzipped) or freqtrade feather candles and
expand each candle into an intra-candle price path on a fixed step grid.

File format: a header ``open_time_ms,open,high,low,close,volume`` (open time in UNIX ms),
one candle per line, oldest first, one resolution per file. ``.csv.gz`` is gunzipped;
``.feather`` (freqtrade: columns ``date, open, high, low, close, volume``) needs pyarrow.
A file belongs to the symbol its name starts with once ``_``, ``-`` and ``.`` are
removed and case is ignored (``BTCUSD-15m.csv``, ``btc_usd.csv.gz``).

Intra-candle path (``sim.candle_path``):

- ``"interpolated"``: ``STEPS_PER_CANDLE`` steps per candle; the path visits open, then low
  then high for a rising candle (close >= open) or high then low for a falling one, then
  close, at steps 0, n/3, 2n/3 and n-1, and is linear in ticks between them.
- ``"backtest"``: the backtest's four points per candle (``exchange.sim._barpath``): open,
  extremes, close at 1/8, 3/8, 5/8 and 7/8 of the candle; the market puts the extremes in
  the order the account's position calls for (:meth:`CandleFileSource.order_extremes`).

Prices are rounded to the product's tick first, so the candles rebuilt from either path
reproduce the file's OHLC exactly; volume is spread evenly over the steps.

Time mapping: all files are shifted by one whole number of candles so that candle
``history`` (the bot's ``exchange.history_candles``, at most all but one; without it
min(1400, half the file)) of the first symbol starts at the clock's current candle;
earlier candles become history, later ones play live. When the files run out the prices
stop moving.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from exchange.sim import _barpath
from exchange.sim._errors import CandleDataError
from exchange.sim._products import SimProduct

__all__ = [
    "STEPS_PER_CANDLE",
    "CandleFileSource",
    "FileCandles",
    "find_candle_files",
    "read_candles",
]

log = logging.getLogger(__name__)

STEPS_PER_CANDLE = 60
PATHS = ("interpolated", "backtest")
HEADER = ("open_time_ms", "open", "high", "low", "close", "volume")
_SUFFIXES = (".csv", ".csv.gz", ".feather")


@dataclass(frozen=True, slots=True)
class FileCandles:
    """Candles read from one file: open times (ms) and OHLCV columns as exact text->floats."""

    open_ms: np.ndarray
    ohlc: list[tuple[Decimal, Decimal, Decimal, Decimal]]
    volume: np.ndarray

    @property
    def resolution_ms(self) -> int:
        """The candle period: the smallest gap between open times."""
        if len(self.open_ms) < 2:
            raise CandleDataError("a candle file needs at least two candles")
        return int(np.min(np.diff(self.open_ms)))


def find_candle_files(data_dir: Path, symbols: Sequence[str]) -> dict[str, Path]:
    """Map each symbol to its candle file in ``data_dir``.

    Raises:
        CandleDataError: when the directory is missing or a symbol has no file.
    """
    if not data_dir.is_dir():
        raise CandleDataError(f"candle directory {data_dir} does not exist")
    files = sorted(p for p in data_dir.iterdir() if p.name.lower().endswith(_SUFFIXES))
    found: dict[str, Path] = {}
    for symbol in symbols:
        for path in files:
            key = path.name.upper().replace("_", "").replace("-", "").replace(".", "")
            if key.startswith(symbol.upper()):
                found[symbol] = path
                break
        else:
            raise CandleDataError(
                f"no candle file for {symbol} in {data_dir} (expected e.g. {symbol}-15m.csv)"
            )
    return found


def read_candles(path: Path) -> FileCandles:
    """Read one candle file (CSV, CSV.gz or feather).

    Raises:
        CandleDataError: unreadable file, wrong header, bad value, unsorted times, or a
            feather file without pyarrow installed.
    """
    name = path.name.lower()
    if name.endswith(".feather"):
        return _read_feather(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
        raise CandleDataError(f"{path}: cannot read: {exc}") from exc
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(c.strip() for c in rows[0]) != HEADER:
        raise CandleDataError(f"{path}: header must be {','.join(HEADER)}")
    times, ohlc, volumes = [], [], []
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        try:
            values = [Decimal(c.strip()) for c in row]
            if len(values) != 6 or not all(v.is_finite() for v in values):
                raise InvalidOperation
        except (InvalidOperation, ValueError) as exc:
            raise CandleDataError(f"{path}:{line}: expected 6 numbers, got {row}") from exc
        times.append(int(values[0]))
        ohlc.append((values[1], values[2], values[3], values[4]))
        volumes.append(float(values[5]))
    return _checked(path, times, ohlc, volumes)


def _read_feather(path: Path) -> FileCandles:
    try:
        from pyarrow import feather  # type: ignore[import-not-found]
    except ImportError as exc:
        raise CandleDataError(
            f"{path}: reading freqtrade feather candles needs the 'pyarrow' package "
            "(pip install pyarrow), or convert the file to CSV"
        ) from exc
    table = feather.read_table(str(path))
    dates = table.column("date").cast("int64").to_pylist()
    unit = {"s": 1000, "ms": 1, "us": 1 / 1000, "ns": 1 / 1_000_000}
    scale = unit.get(getattr(table.schema.field("date").type, "unit", "ms"), 1)
    times = [int(d * scale) for d in dates]
    cols = [table.column(c).to_pylist() for c in ("open", "high", "low", "close")]
    ohlc = [tuple(Decimal(str(v)) for v in vals) for vals in zip(*cols, strict=True)]
    volumes = [float(v) for v in table.column("volume").to_pylist()]
    return _checked(path, times, ohlc, volumes)  # type: ignore[arg-type]


def _checked(
    path: Path,
    times: list[int],
    ohlc: list[tuple[Decimal, Decimal, Decimal, Decimal]],
    volumes: list[float],
) -> FileCandles:
    if len(times) < 2:
        raise CandleDataError(f"{path}: needs at least two candles")
    if any(b <= a for a, b in itertools.pairwise(times)):
        raise CandleDataError(f"{path}: open times must increase")
    for i, (o, h, low, c) in enumerate(ohlc):
        if not (low <= min(o, c) and h >= max(o, c) and low > 0):
            raise CandleDataError(f"{path}: candle {i + 1} has inconsistent OHLC {o},{h},{low},{c}")
    return FileCandles(np.array(times, dtype=np.int64), ohlc, np.array(volumes))


class CandleFileSource:
    """Replays candle files as market steps (see the module docstring). Not thread-safe."""

    def __init__(
        self,
        products: Sequence[SimProduct],
        files: dict[str, Path],
        *,
        history_candles: int | None = None,
        path: str = "interpolated",
    ) -> None:
        if path not in PATHS:
            raise CandleDataError(f"candle path must be one of {', '.join(PATHS)}, was {path!r}")
        self.path = path
        self.steps = _barpath.STEPS if path == "backtest" else STEPS_PER_CANDLE
        self.products = tuple(products)
        data = [read_candles(files[p.symbol]) for p in self.products]
        res_ms = {d.resolution_ms for d in data}
        if len(res_ms) != 1:
            raise CandleDataError(f"candle files mix resolutions: {sorted(res_ms)} ms")
        self.resolution_ms = res_ms.pop()
        grid = 2 * self.steps if path == "backtest" else self.steps  # bar steps sit mid-slot
        if self.resolution_ms % grid:
            raise CandleDataError(f"resolution {self.resolution_ms} ms is not a whole step grid")
        self.step_ns = self.resolution_ms // self.steps * 1_000_000
        self._offset_ns = self.step_ns // 2 if path == "backtest" else 0
        first = data[0]
        self._history = (
            min(1400, len(first.open_ms) // 2)
            if history_candles is None
            else min(history_candles, len(first.open_ms) - 1)
        )
        self._grid0_ms = int(min(d.open_ms[0] for d in data))
        end_ms = int(max(d.open_ms[-1] for d in data)) + self.resolution_ms
        steps = (end_ms - self._grid0_ms) * 1_000_000 // self.step_ns
        self._ticks = np.zeros((steps, len(data)), dtype=np.int64)
        self._volumes = np.zeros((steps, len(data)))
        self._extremes = np.zeros((steps // self.steps + 1, len(data), 2), dtype=np.int64)
        for j, (product, candles) in enumerate(zip(self.products, data, strict=True)):
            self._fill(j, product, candles)
        self._anchor_ms = int(first.open_ms[min(self._history, len(first.open_ms) - 1)])
        self._pos = 0
        self._shift_ns = 0

    def _fill(self, j: int, product: SimProduct, candles: FileCandles) -> None:
        n = self.steps
        anchors = np.array([0, n // 3, 2 * n // 3, n - 1])
        for i, (o, h, low, c) in enumerate(candles.ohlc):
            t = [_ticks(product, v) for v in (o, h, low, c)]
            points = [t[0], t[2], t[1], t[3]] if c >= o else [t[0], t[1], t[2], t[3]]
            path = np.rint(np.interp(np.arange(n), anchors, points)).astype(np.int64)
            at = (int(candles.open_ms[i]) - self._grid0_ms) * 1_000_000 // self.step_ns
            self._ticks[at : at + n, j] = path
            self._volumes[at : at + n, j] = candles.volume[i] / n
            self._extremes[at // n, j] = (t[2], t[1])
        col = self._ticks[:, j]
        filled = np.flatnonzero(col)
        if len(filled):  # before the file starts: its first price; gaps: the last price
            col[: filled[0]] = col[filled[0]]
            idx = np.maximum.accumulate(np.where(col != 0, np.arange(len(col)), 0))
            self._ticks[:, j] = col[idx]

    def begin(self, now_ns: int) -> int:
        """Shift the files onto the clock; return the market time of the first step."""
        res_ns = self.resolution_ms * 1_000_000
        current = now_ns - now_ns % res_ns
        shift = current - self._anchor_ms * 1_000_000
        self._shift_ns = shift - shift % res_ns
        return self._grid0_ms * 1_000_000 + self._shift_ns + self._offset_ns

    def order_extremes(self, held: Sequence[int]) -> None:
        """Backtest path, before a candle's first extreme is taken: put its two extremes in
        the order ``held`` (the account's signed position per product) calls for."""
        pos = self._pos
        if self.path != "backtest" or pos % self.steps != 1 or pos + 1 >= len(self._ticks):
            return
        candle = pos // self.steps
        for j, size in enumerate(held):
            low, high = (int(v) for v in self._extremes[candle, j])
            if low == high == 0:  # a hole in this symbol's file: the last price stays
                continue
            open_, close = int(self._ticks[pos - 1, j]), int(self._ticks[pos + 2, j])
            first, second = (low, high) if _barpath.low_first(size, open_, close) else (high, low)
            self._ticks[pos, j], self._ticks[pos + 1, j] = first, second

    def take(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The next ``count`` steps (fewer at the end of the files): ticks and volumes."""
        lo, hi = self._pos, min(self._pos + count, len(self._ticks))
        if lo == hi and lo == len(self._ticks):
            log.warning("candle files exhausted: prices stop moving")
            self._pos += 1
        self._pos = max(self._pos, hi)
        return self._ticks[lo:hi], self._volumes[lo:hi]

    def funding_rate_pct(self, index: int) -> Decimal:  # noqa: ARG002 - same API as the generator
        """Files carry no funding: a constant 0.01 %."""
        return Decimal("0.01")


def _ticks(product: SimProduct, price: Decimal) -> int:
    return int((price / product.tick_size).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
