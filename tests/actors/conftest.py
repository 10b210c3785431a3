"""Every actor test also checks that the runtime never broke its own lifecycle table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_illegal_transitions(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    illegal = [r.getMessage() for r in caplog.records if "illegal state transition" in r.message]
    assert illegal == []
