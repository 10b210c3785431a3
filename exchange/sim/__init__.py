"""A wire-compatible Delta Exchange India simulator: REST + WebSockets on 127.0.0.1.

The matching engine (:class:`MatchingEngine`) is pure logic the backtest can run in-process;
:class:`SimEngine` is its thread-safe facade; :class:`SimExchange` adds the market (a seeded
correlated generator or candle files), the REST server and the two WebSocket servers.
See docs/simulator.md.

Error tree::

    BotError
    `- ExchangeSimError
       |- OrderRejected
       `- CandleDataError
"""

from __future__ import annotations

from exchange.sim._candlefiles import CandleFileSource, find_candle_files, read_candles
from exchange.sim._candles import RESOLUTIONS, Candle, CandleStore
from exchange.sim._engine import MatchingEngine
from exchange.sim._errors import CandleDataError, ExchangeSimError, OrderRejected
from exchange.sim._exchange import MARKETS, SimExchange
from exchange.sim._facade import SimEngine
from exchange.sim._faults import Faults
from exchange.sim._generator import CorrelatedGenerator, GeneratorParams
from exchange.sim._market import Market
from exchange.sim._model import OrderRequest
from exchange.sim._products import SimProduct, default_products
from exchange.sim._standalone import (
    read_venue_file,
    run_standalone,
    sim_clock,
    sim_fingerprint,
    simulator_for,
    write_venue_file,
)

__all__ = [
    "MARKETS",
    "RESOLUTIONS",
    "Candle",
    "CandleDataError",
    "CandleFileSource",
    "CandleStore",
    "CorrelatedGenerator",
    "ExchangeSimError",
    "Faults",
    "GeneratorParams",
    "Market",
    "MatchingEngine",
    "OrderRejected",
    "OrderRequest",
    "SimEngine",
    "SimExchange",
    "SimProduct",
    "default_products",
    "find_candle_files",
    "read_candles",
    "read_venue_file",
    "run_standalone",
    "sim_clock",
    "sim_fingerprint",
    "simulator_for",
    "write_venue_file",
]
