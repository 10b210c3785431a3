"""Backtests: the live trading tree on the deterministic runtime, driven candle by candle.

``run_backtest`` (``_run.py``) plays candles from files or the generator (``_data.py``)
through ``trading_tree`` with the simulator's matching engine in-process; ``_report.py``
turns the run into metrics, a table, JSON and an SVG chart. See docs/backtest.md.
"""

from actors.backtest._data import SymbolCandles, candles_from_files, candles_from_generator
from actors.backtest._run import BacktestRun, run_backtest

__all__ = [
    "BacktestRun",
    "SymbolCandles",
    "candles_from_files",
    "candles_from_generator",
    "run_backtest",
]
