"""Fixtures for the market actors against the simulator: real sockets, ephemeral ports,
one shared clock (the runtime's and the simulator's market time must agree)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from actors import (
    Actor,
    ChildSpec,
    ScaledClock,
    Strategy,
    Supervisor,
    SupervisorSpec,
    ThreadedRuntime,
)
from actors.market import market_tree
from exchange.sim import SimExchange, default_products
from messages.settings import Settings

SYMBOLS = ("BTCUSD", "ETHUSD", "SOLUSD")


def market_settings(**exchange: object) -> Settings:
    """Settings for fast tests: short backoffs, a one-day correlation window."""
    base = Settings()
    ex = replace(
        base.exchange,
        rest_timeout_ms=3000,
        backoff_initial_ms=50,
        backoff_max_ms=500,
        **exchange,  # type: ignore[arg-type]
    )
    return replace(
        base,
        bot=replace(base.bot, symbols=SYMBOLS),
        exchange=ex,
        hedge=replace(base.hedge, correlation_window_days=1),
        health=replace(base.health, report_interval_s=1),
    )


class Probe(Actor):
    """Records every message of the given types (thread-safe list + condition)."""

    def __init__(self, kinds: tuple[type, ...], sink: Sink) -> None:
        self.kinds = kinds
        self.sink = sink

    def on_start(self) -> None:
        for kind in self.kinds:
            self.context.subscribe(kind)

    def receive(self, message: object) -> Any:
        self.sink.add(message)


class Sink:
    def __init__(self) -> None:
        self.items: list[Any] = []
        self.cond = threading.Condition()

    def add(self, item: object) -> None:
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def of(self, kind: type, symbol: str | None = None) -> list[Any]:
        with self.cond:
            return [
                m
                for m in self.items
                if type(m) is kind and (symbol is None or _symbol(m) == symbol)
            ]


def _symbol(message: Any) -> str | None:
    if hasattr(message, "symbol"):
        return str(message.symbol)
    candle = getattr(message, "candle", None)
    return None if candle is None else str(candle.symbol)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    """Poll ``condition`` every 10 ms until true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout} s: {what}")
        time.sleep(0.01)


class Market:
    """A running simulator plus a threaded runtime running market_tree and a probe."""

    def __init__(self, sim: SimExchange, runtime: ThreadedRuntime, sink: Sink) -> None:
        self.sim, self.runtime, self.sink = sim, runtime, sink

    def actor(self, actor_id: str) -> Any:
        entry = self.runtime.entry(actor_id)
        assert entry is not None
        return entry.actor


def start_market(sim: SimExchange, settings: Settings, kinds: tuple[type, ...]) -> Market:
    speed = getattr(sim.clock, "speed", 1.0)
    runtime = ThreadedRuntime(clock=sim.clock, seed=1)
    sink = Sink()
    tree = market_tree(
        settings, rest_url=sim.rest_url, public_ws_url=sim.public_ws_url, clock_speed=speed
    )
    probe = ChildSpec(actor_id="probe", factory=lambda: Probe(kinds, sink))
    root = SupervisorSpec(strategy=Strategy.ONE_FOR_ONE, max_restarts=50, children=(probe, tree))
    runtime.start_root(ChildSpec(actor_id="root", factory=lambda: Supervisor(root)))
    return Market(sim, runtime, sink)


@pytest.fixture
def manual_sim() -> Iterator[SimExchange]:
    """A simulator whose market moves only when the test steps it (1m candles at 60x)."""
    with SimExchange(
        Settings().sim,
        clock=ScaledClock(speed=60.0),
        products=default_products(),
        market="manual",
        period_s=0.2,
    ) as sim:
        yield sim


def sim_book(sim: SimExchange, symbol: str) -> tuple[tuple[tuple[Decimal, int], ...], ...]:
    """The simulator's whole book of ``symbol`` as (bids best first, asks best first)."""
    book = sim.engine.core.books[symbol]
    fmt = book.product.format_ticks
    with sim.engine.locked():
        bids = tuple((Decimal(fmt(p)), s) for p, s in book.top("buy", 10_000))
        asks = tuple((Decimal(fmt(p)), s) for p, s in book.top("sell", 10_000))
    return bids, asks
