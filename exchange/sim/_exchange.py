"""SimExchange: the simulator assembled — engine, market, candle store, REST and WebSockets.

Owns every thread it starts: the market thread (unless ``market="manual"``), the REST server
thread and the WebSocket event-loop thread. :meth:`SimExchange.start` binds on ``host``
(ports from ``[sim]``; 0 picks a free port) and returns once every socket listens;
:meth:`SimExchange.stop` closes them all and is idempotent. Use it as a context manager in
tests.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from types import TracebackType

from actors._clock import Clock, ScaledClock
from exchange.sim._candlefiles import CandleFileSource, find_candle_files
from exchange.sim._candles import CandleStore
from exchange.sim._errors import ExchangeSimError
from exchange.sim._facade import SimEngine
from exchange.sim._faults import Faults
from exchange.sim._generator import CorrelatedGenerator, GeneratorParams
from exchange.sim._market import Market, PriceSource
from exchange.sim._persist import SavedExchange, SimStateError
from exchange.sim._products import SimProduct, default_products
from exchange.sim._rest_app import RestApp
from exchange.sim._rest_routes import build_routes
from exchange.sim._rest_server import RestServer
from exchange.sim._ws_server import WsServer
from messages.settings import SimSettings

__all__ = ["MARKETS", "SimExchange", "fingerprint"]

log = logging.getLogger(__name__)

MARKETS = ("generator", "files", "manual")
_CANDLE_S = 900


def fingerprint(
    settings: SimSettings, market: str, history_candles: int | None
) -> tuple[object, ...]:
    """What shapes a simulated exchange: one saved with another fingerprint is another
    exchange and is not resumed (see ``exchange.sim._persist``)."""
    s = settings
    return (
        market,
        history_candles,
        s.data_dir,
        s.candle_path,
        s.seed,
        str(s.starting_balance),
        str(s.fee_maker_pct),
        str(s.fee_taker_pct),
    )


class SimExchange:
    """The wire-compatible Delta Exchange simulator (see the module docstring).

    Args:
        settings: the ``[sim]`` section: seed, ports, balance, demo key pair, fees (applied
            to every product), latency and fault rates, candle directory.
        clock: market time; default ``ScaledClock(speed=settings.speed * 900)``.
        host: interface to bind (loopback by default).
        products: listed products; default :func:`default_products`.
        market: ``"generator"`` (seeded correlated generator, market thread), ``"files"``
            (candle files from ``settings.data_dir``), ``"manual"`` (generator source, no
            thread: call ``sim.market.step()``).
        generator: generator parameters (history length, regimes, correlation).
        rate_limit_budget: REST weight per 5-minute window (Delta: 10,000).
        idle_timeout_s, heartbeat_s: WebSocket idle drop and heartbeat period (real s).
        period_s: real seconds between ticker / ob_l1 / ob_l2 / mark_price frames.
        market_tick_s: real seconds between market batches.
        history_candles: candle files only: how many file candles become history.
    """

    def __init__(
        self,
        settings: SimSettings | None = None,
        *,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        products: Sequence[SimProduct] | None = None,
        market: str = "generator",
        generator: GeneratorParams | None = None,
        rate_limit_budget: int = 10_000,
        idle_timeout_s: float = 60.0,
        heartbeat_s: float = 30.0,
        period_s: float = 1.0,
        market_tick_s: float = 0.1,
        history_candles: int | None = None,
    ) -> None:
        if market not in MARKETS:
            raise ExchangeSimError(f"market must be one of {', '.join(MARKETS)}, was {market!r}")
        self.settings = settings or SimSettings()
        s = self.settings
        self.fingerprint = fingerprint(s, market, history_candles)
        self.clock: Clock = clock or ScaledClock(speed=s.speed * _CANDLE_S)
        self.host = host
        self.products = tuple(
            dataclasses.replace(
                p, maker_rate=s.fee_maker_pct / 100, taker_rate=s.fee_taker_pct / 100
            )
            for p in (products or default_products())
        )
        self.faults = Faults(s)
        self.engine = SimEngine(self.products, clock=self.clock, faults=self.faults)
        self.engine.add_account(s.api_key, s.api_secret, s.starting_balance)
        self.candles = CandleStore([p.symbol for p in self.products])
        source: PriceSource
        if market == "files":
            if not s.data_dir:
                raise ExchangeSimError('market="files" needs sim.data_dir (a candle directory)')
            files = find_candle_files(Path(s.data_dir), [p.symbol for p in self.products])
            source = CandleFileSource(
                self.products, files, history_candles=history_candles, path=s.candle_path
            )
        else:
            source = CorrelatedGenerator(self.products, seed=s.seed, params=generator)
        self.market = Market(
            self.engine,
            self.products,
            source,
            self.candles,
            seed=s.seed,
            tick_s=market_tick_s,
            manual=market == "manual",
        )
        app = RestApp(self.engine, self.faults, [], budget=rate_limit_budget)
        app.routes.extend(build_routes(self.engine, self.candles, app.quota))
        self._app = app
        self._rest: RestServer | None = None
        self._ws = WsServer(
            self.engine,
            self.candles,
            self.faults,
            host=host,
            idle_timeout_s=idle_timeout_s,
            heartbeat_s=heartbeat_s,
            period_s=period_s,
        )
        self._started = False
        self._stopped = False

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, resume: SavedExchange | None = None) -> SimExchange:
        """Play the history (or go on from ``resume``), bind REST and both WebSockets, start
        the market thread.

        Raises:
            ExchangeSimError: a port is in use or the host cannot be bound.
            SimStateError: ``resume`` was saved by a simulator with other settings.
        """
        if self._started:
            return self
        self._started = True
        if resume is None:
            self.market.prefill()
        else:
            self._resume(resume)
        s = self.settings
        try:
            self._rest = RestServer(self._app, host=self.host, port=s.rest_port)
            self._rest.start()
            self._ws.start(s.ws_port, s.ws_port + 1 if s.ws_port else 0)
        except OSError as exc:
            self.stop()
            raise ExchangeSimError(f"simulator cannot listen on {self.host}: {exc}") from exc
        self.market.start()
        log.info(
            "sim exchange up: rest %s, ws %s, public ws %s",
            self.rest_url,
            self.ws_url,
            self.public_ws_url,
        )
        return self

    def saved(self, journal_seq: int) -> SavedExchange:
        """The whole exchange as it is now, to resume later (stops the market first: what is
        saved does not move on while it is copied)."""
        self.market.stop()
        market = self.market.saved()
        with self.engine.locked() as core:
            return SavedExchange(
                fingerprint=self.fingerprint,
                journal_seq=journal_seq,
                clock_ns=self.clock.now_ns(),
                core=core,
                event_id=self.engine.event_id,
                candles=self.candles.dump(),
                source=self.market.source,
                market=market,
            )

    def _resume(self, saved: SavedExchange) -> None:
        if saved.fingerprint != self.fingerprint:
            raise SimStateError(
                "the saved simulator was made with other [sim] settings or candle files"
            )
        with self.engine.locked():
            self.engine.core = saved.core
            self.engine.event_id = saved.event_id
        self.candles.load(saved.candles)
        self.market.resume(saved.market, saved.source)
        log.info("sim exchange resumed at market time %d", saved.clock_ns)

    def stop(self) -> None:
        """Stop the market, close every socket and join every thread (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self.market.stop()
        self._ws.stop()
        if self._rest is not None:
            self._rest.stop()

    def __enter__(self) -> SimExchange:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- addresses and accounts ------------------------------------------------------------

    @property
    def rest_url(self) -> str:
        """``http://HOST:PORT``; REST paths are under ``/v2``."""
        port = self._rest.port if self._rest is not None else 0
        return f"http://{self.host}:{port}"

    @property
    def ws_url(self) -> str:
        """Private channels and legacy public channels (like ``socket.india``)."""
        return f"ws://{self.host}:{self._ws.ports[0]}"

    @property
    def public_ws_url(self) -> str:
        """Compact public channels (like ``public-socket.india``)."""
        return f"ws://{self.host}:{self._ws.ports[1]}"

    @property
    def api_key(self) -> str:
        """The accepted demo key (``sim.api_key``)."""
        return self.settings.api_key

    @property
    def api_secret(self) -> str:
        """The accepted demo secret (``sim.api_secret``)."""
        return self.settings.api_secret

    def add_account(self, api_key: str, api_secret: str, balance: Decimal | None = None) -> int:
        """Accept another key pair for a new account; returns its user id."""
        return self.engine.add_account(
            api_key, api_secret, self.settings.starting_balance if balance is None else balance
        )
