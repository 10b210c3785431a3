"""Backtest input: per-symbol candle arrays from candle files or the built-in generator.

Candles are kept as numpy columns (open time in ns, open, high, low, close, volume as
float64) plus the exact prices on each product's tick grid, so the market path uses exact
Decimal prices and the indicators get float arrays in one numba call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from exchange.sim import SimProduct
from exchange.sim._candlefiles import _ticks, read_candles
from exchange.sim._generator import CorrelatedGenerator, GeneratorParams

__all__ = ["SymbolCandles", "candles_from_files", "candles_from_generator"]

_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class SymbolCandles:
    """One symbol's candles, oldest first, on one timeframe."""

    symbol: str
    open_ns: np.ndarray  # int64
    ohlcv: np.ndarray  # float64, shape (n, 5): open, high, low, close, volume
    prices: tuple[tuple[Decimal, Decimal, Decimal, Decimal], ...]  # exact OHLC on the tick grid

    def __len__(self) -> int:
        return len(self.open_ns)


def candles_from_files(
    data_dir: Path,
    products: Mapping[str, SimProduct],
    symbols: Sequence[str],
    *,
    timeframe_ms: int,
) -> dict[str, SymbolCandles]:
    """Read each symbol's candle file (the simulator's formats and file-name rule).

    Raises:
        ValueError: a symbol has no file, or its file is not on ``timeframe_ms``.
    """
    out: dict[str, SymbolCandles] = {}
    for symbol in symbols:
        path = candle_file(data_dir, symbol, timeframe_ms)
        read = read_candles(path)
        if read.resolution_ms != timeframe_ms:
            msg = (
                f"{path}: candles are {read.resolution_ms // 60_000}m apart, "
                f"but --timeframe is {timeframe_ms // 60_000}m"
            )
            raise ValueError(msg)
        product = products[symbol]
        exact = tuple(tuple(_on_grid(product, p) for p in row) for row in read.ohlc)
        ohlc = np.array([[float(p) for p in row] for row in exact], dtype=np.float64)
        volume = np.asarray(read.volume, dtype=np.float64).reshape(-1, 1)
        out[symbol] = SymbolCandles(
            symbol=symbol,
            open_ns=np.asarray(read.open_ms, dtype=np.int64) * _MS,
            ohlcv=np.hstack([ohlc, volume]),
            prices=exact,  # type: ignore[arg-type]
        )
    return out


def candles_from_generator(
    products: Sequence[SimProduct],
    symbols: Sequence[str],
    *,
    timeframe_ms: int,
    start_ns: int,
    count: int,
    seed: int,
) -> dict[str, SymbolCandles]:
    """``count`` candles per symbol from the simulator's correlated market generator."""
    steps_per = 15  # price steps per candle: enough for a realistic high and low
    params = GeneratorParams(step_ms=timeframe_ms // steps_per)
    generator = CorrelatedGenerator(products, seed=seed, params=params)
    ticks, volumes = generator.take(count * steps_per)
    index = {p.symbol: j for j, p in enumerate(products)}
    open_ns = start_ns + np.arange(count, dtype=np.int64) * timeframe_ms * _MS
    out: dict[str, SymbolCandles] = {}
    for symbol in symbols:
        j = index[symbol]
        product = products[j]
        path = ticks[: count * steps_per, j].reshape(count, steps_per)
        vol = volumes[: count * steps_per, j].reshape(count, steps_per).sum(axis=1)
        o, h, low, c = path[:, 0], path.max(axis=1), path.min(axis=1), path[:, -1]
        exact = tuple(
            tuple(product.price_of(int(t)) for t in row) for row in zip(o, h, low, c, strict=True)
        )
        ohlc = np.array([[float(p) for p in row] for row in exact], dtype=np.float64)
        out[symbol] = SymbolCandles(
            symbol=symbol,
            open_ns=open_ns,
            ohlcv=np.hstack([ohlc, vol.reshape(-1, 1)]),
            prices=exact,  # type: ignore[arg-type]
        )
    return out


def candle_file(data_dir: Path, symbol: str, timeframe_ms: int) -> Path:
    """The file of ``symbol`` on the timeframe: the simulator's name rule (``BTC_USDT-15m``
    is BTCUSD's), preferring a name that carries the timeframe (``15m``), CSV before feather.

    Raises:
        ValueError: no file for the symbol.
    """
    if not data_dir.is_dir():
        raise ValueError(f"--data {data_dir}: no such directory")
    token = (
        f"{timeframe_ms // 60_000}m"
        if timeframe_ms < 3_600_000
        else f"{timeframe_ms // 3_600_000}h"
    )
    candidates = []
    for path in sorted(data_dir.iterdir()):
        name = path.name.lower()
        if not name.endswith((".csv", ".csv.gz", ".feather")):
            continue
        key = name.upper().replace("_", "").replace("-", "").replace(".", "")
        if key.startswith(symbol.upper()):
            candidates.append(path)
    if not candidates:
        msg = f"--data {data_dir}: no candle file for {symbol} (e.g. {symbol}-{token}.csv)"
        raise ValueError(msg)

    def rank(path: Path) -> tuple[bool, bool, str]:
        name = path.name.lower()
        has_token = any(f"{sep}{token}." in name for sep in "-_")
        return (not has_token, name.endswith(".feather"), name)

    return min(candidates, key=rank)


def _on_grid(product: SimProduct, price: Decimal) -> Decimal:
    return product.price_of(_ticks(product, price))
