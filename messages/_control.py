"""Operator and runtime control: commands from the console and supervisors, and timers.

The console turns operator lines (``pause``, ``flatten``, ``restart risk``) into these
commands; each carries a ``command_id`` the console prints, so the operator can find the
command's effects in the log and journal. (Timers are not messages here: an actor asks its
``Context`` to ``schedule`` any message for itself on the runtime's clock.)
"""

from __future__ import annotations

from dataclasses import dataclass

from messages._base import Command, Event
from messages._types import ActorId


@dataclass(frozen=True, slots=True, kw_only=True)
class PauseEntries(Command):
    """Stop opening new positions; open positions, stops and hedges keep being managed.

    Attributes:
        reason: Why, for the log and journal.
        command_id: Unique id of this command. ts_init: creation time, ns.
    """

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumeEntries(Command):
    """Allow new positions again after ``PauseEntries`` (not after the kill switch).

    Attributes:
        reason: Why, for the log and journal.
        command_id: Unique id of this command. ts_init: creation time, ns.
    """

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Flatten(Command):
    """Cancel open orders and close positions and hedges at market, then pause entries.

    Attributes:
        symbol: Venue symbol to flatten, or None for every symbol.
        reason: Why, for the log and journal.
        command_id: Unique id of this command. ts_init: creation time, ns.
    """

    symbol: str | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetKillSwitch(Command):
    """Unlatch the risk actor's kill switch; answered by ``KillSwitchReset``.

    Attributes:
        reason: The operator's reason, journaled.
        command_id: Echoed by ``KillSwitchReset``. ts_init: creation time, ns.
    """

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RestartActor(Command):
    """Ask the actor's supervisor to stop and restart it (counts toward intensity).

    Attributes:
        actor_id: Stable id of the actor to restart (``"book:BTCUSD"``).
        command_id: Unique id of this command. ts_init: creation time, ns.
    """

    actor_id: ActorId


@dataclass(frozen=True, slots=True, kw_only=True)
class KillActor(Command):
    """Make an actor fail as if it crashed (fault injection; its supervisor reacts).

    Attributes:
        actor_id: Stable id of the actor to kill.
        command_id: Unique id of this command. ts_init: creation time, ns.
    """

    actor_id: ActorId


@dataclass(frozen=True, slots=True, kw_only=True)
class TakeSnapshot(Command):
    """Snapshot actor state to storage now, outside the periodic schedule.

    Attributes:
        actor_id: Stable id of the actor to snapshot, or None for every stateful actor.
        command_id: Echoed by each ``SnapshotTaken``. ts_init: creation time, ns.
    """

    actor_id: ActorId | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotTaken(Event):
    """An actor's state was written to storage.

    Attributes:
        command_id: The ``TakeSnapshot`` that asked for it, or None when periodic.
        actor_id: Stable id of the actor.
        journal_seq: Last journal sequence number the snapshot includes.
        schema_version: Version of the actor's snapshot layout.
        size_bytes: Size of the stored snapshot, bytes.
        ts_event: When it was written, ns. ts_init: creation time, ns.
    """

    command_id: str | None
    actor_id: ActorId
    journal_seq: int
    schema_version: int
    size_bytes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SetLogLevel(Command):
    """Change one logger's level at run time.

    Attributes:
        logger: Logger name (``"actors.risk"``; ``""`` for the root logger).
        level: Level name as ``logging`` spells it (``"DEBUG"``, ``"INFO"``, ...).
        command_id: Unique id of this command. ts_init: creation time, ns.
    """

    logger: str
    level: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StopBot(Command):
    """Stop the whole bot in order: entries paused, actors stopped in reverse order.

    Attributes:
        reason: Why, logged as the last line before exit.
        command_id: Unique id of this command. ts_init: creation time, ns.
    """

    reason: str
