"""Fixtures: a simulator on ephemeral ports with a manual market and a short history."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from actors._clock import ScaledClock
from exchange.sim import GeneratorParams, SimExchange
from messages.settings import SimSettings
from tests.exchange.sim.helpers import UA


def make_sim(**kwargs: object) -> SimExchange:
    """A simulator that plays 2 h of history and then only moves when a test says so."""
    settings = kwargs.pop("settings", SimSettings())
    options: dict[str, object] = {
        "clock": ScaledClock(speed=1.0),
        "market": "manual",
        "generator": GeneratorParams(history_hours=2),
    }
    options.update(kwargs)
    return SimExchange(settings, **options)  # type: ignore[arg-type]


@pytest.fixture
def sim() -> Iterator[SimExchange]:
    with make_sim() as running:
        yield running


@pytest.fixture
def client(sim: SimExchange) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.rest_url, headers=UA, timeout=10) as http:
        yield http
