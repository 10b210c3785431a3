"""Runtime-internal messages between the trading actors (timers, readiness, directives).

None of these is journaled or crosses the codec: the directives (:class:`StartPosition`,
:class:`ArmTimeout`) are what :class:`EntryPlanner` asks its shell to
do; the others are timers and readiness messages between the trading actors.
"""

from __future__ import annotations

from dataclasses import dataclass

from messages import Signal

__all__ = [
    "ArmTimeout",
    "ChunkDue",
    "CloseHedge",
    "EntryTimedOut",
    "HedgeReady",
    "PositionReady",
    "StartPosition",
]


@dataclass(frozen=True, slots=True)
class StartPosition:
    """Directive: start the position actor for an approved entry of ``size`` signed contracts."""

    position_id: str
    signal: Signal
    size: int


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


@dataclass(frozen=True, slots=True)
class HedgeReady:
    """Hedge actor to its parent position: it has started (or restarted) and listens."""

    hedge_id: str


@dataclass(frozen=True, slots=True)
class CloseHedge:
    """Parent position to its hedge: close (the parent closed before the hedge listened)."""

    reason: str
