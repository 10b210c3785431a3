"""Fixtures for the client-against-simulator tests: one simulator per module, one fresh
account per test (so orders, positions and margin never leak between tests)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TypeVar

import pytest

from actors import ScaledClock, WallClock
from exchange.delta import DeltaRestClient
from exchange.sim import SimExchange, default_products
from messages import Message
from messages.settings import ExchangeSettings, Secret, Settings

_T = TypeVar("_T", bound=Message)
_ACCOUNTS = itertools.count(1)


def fast_settings(**overrides: object) -> ExchangeSettings:
    """Exchange settings with short waits, for tests."""
    values: dict[str, object] = {
        "rest_timeout_ms": 3000,
        "backoff_initial_ms": 50,
        "backoff_max_ms": 500,
        "max_retries": 3,
    }
    values.update(overrides)
    return ExchangeSettings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimExchange]:
    """A running simulator with a live market generator (real sockets, ephemeral ports)."""
    with SimExchange(
        Settings().sim,
        clock=ScaledClock(speed=900.0),
        host="127.0.0.1",
        products=default_products(),
        market="generator",
        period_s=0.2,
    ) as exchange:
        yield exchange


@pytest.fixture
def account(sim: SimExchange) -> tuple[Secret, Secret]:
    """A fresh funded account on the simulator: (api key, api secret)."""
    n = next(_ACCOUNTS)
    key, secret = f"test-key-{n}", f"test-secret-{n}"
    sim.add_account(key, secret, Decimal(100_000))
    sim.faults.latency_ms = 0
    return Secret(key), Secret(secret)


@pytest.fixture
def client(sim: SimExchange, account: tuple[Secret, Secret]) -> Iterator[DeltaRestClient]:
    """A REST client on the fresh account, products loaded."""
    rest = DeltaRestClient(
        sim.rest_url,
        api_key=account[0],
        api_secret=account[1],
        settings=fast_settings(),
        clock=WallClock(),
    )
    rest.load_products()
    try:
        yield rest
    finally:
        sim.faults.latency_ms = 0
        rest.close()


class Collector:
    """A thread-safe sink that tests wait on (bounded waits on conditions, no sleeps)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._cond = threading.Condition()

    def __call__(self, message: Message) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def of(self, cls: type[_T]) -> list[_T]:
        with self._cond:
            return [m for m in self.messages if isinstance(m, cls)]

    def wait_for(
        self, cls: type[_T], where: Callable[[_T], bool] = lambda _: True, timeout: float = 30
    ) -> _T:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for message in self.messages:
                    if isinstance(message, cls) and where(message):
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    kinds = sorted({type(m).__name__ for m in self.messages})
                    raise AssertionError(f"no {cls.__name__} within {timeout}s; got {kinds}")
                self._cond.wait(left)

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll ``condition`` (every 10 ms) until true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
