"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.actors.harness import DeterministicHarness, Harness, ThreadedHarness


@pytest.fixture(params=["threaded", "deterministic"])
def runtime(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """Each actor test runs under both runtimes; every actor is stopped afterwards."""
    harness: Harness = ThreadedHarness() if request.param == "threaded" else DeterministicHarness()
    try:
        yield harness
    finally:
        harness.close()
