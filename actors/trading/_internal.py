"""Runtime-internal messages between the trading actors (timers, readiness, directives).

None of these is journaled or crosses the codec: the directives (:class:`StartPosition`,
:class:`StopPosition`, :class:`ArmTimeout`) are what :class:`EntryPlanner` asks its shell to
do; the others are timers and readiness messages between the trading actors.
"""

from __future__ import annotations

from dataclasses import dataclass

from messages import Signal

__all__ = [
    "ArmTimeout",
    "ChunkDue",
    "EntryTimedOut",
    "PositionReady",
    "StartPosition",
    "StopPosition",
]


@dataclass(frozen=True, slots=True)
class StartPosition:
    """Directive: start the position actor for an approved entry of ``size`` signed contracts."""

    position_id: str
    signal: Signal
    size: int


@dataclass(frozen=True, slots=True)
class StopPosition:
    """Directive: stop the actor of a position whose entry never filled."""

    position_id: str


@dataclass(frozen=True, slots=True)
class ArmTimeout:
    """Directive: deliver ``EntryTimedOut(position_id, generation)`` after ``delay_ns``."""

    position_id: str
    generation: int
    delay_ns: int


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
