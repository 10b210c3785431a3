"""Runtime-internal messages between the trading actors (timers and readiness; not journaled)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ChunkDue", "EntryTimedOut", "PositionReady"]


@dataclass(frozen=True, slots=True)
class PositionReady:
    """Position actor to execution: it listens to its order events; place the entry."""

    position_id: str


@dataclass(frozen=True, slots=True)
class EntryTimedOut:
    """Timer to the execution actor: the entry of ``position_id`` rested too long."""

    position_id: str
    generation: int


@dataclass(frozen=True, slots=True)
class ChunkDue:
    """Timer to a hedge actor: place its next chunk."""
