"""What every market actor shares: stable ids, timer messages and operator fault injection."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CORRELATION_ID",
    "STREAM_ID",
    "HealthDue",
    "Tick",
    "book_id",
    "feed_id",
    "indicators_id",
]

STREAM_ID = "stream:public"
CORRELATION_ID = "correlation"


def book_id(symbol: str) -> str:
    """Stable id of a symbol's order-book actor: ``"book:BTCUSD"``."""
    return f"book:{symbol}"


def feed_id(symbol: str) -> str:
    """Stable id of a symbol's candle-feed actor: ``"feed:BTCUSD"``."""
    return f"feed:{symbol}"


def indicators_id(symbol: str) -> str:
    """Stable id of a symbol's indicators actor: ``"indicators:BTCUSD"``."""
    return f"indicators:{symbol}"


@dataclass(frozen=True, slots=True)
class Tick:
    """Timer message to the actor itself: check staleness and retries (runtime-internal)."""


@dataclass(frozen=True, slots=True)
class HealthDue:
    """Timer message to the actor itself: publish the periodic health (runtime-internal)."""


TICK = Tick()
HEALTH_DUE = HealthDue()
