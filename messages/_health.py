"""Actor and supervisor health: states, the periodic report, state changes and pings.

The supervisors publish ``ActorStateChanged`` on every lifecycle transition; the health
reporter builds a ``HealthReport`` periodically from what the supervisors know, and writes
it as a JSON line (this codec), to ``/healthz`` and to ``/metrics``. A supervisor knows a
child is ready when the child's ``on_start`` has returned; no ping is needed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from messages._base import Event
from messages._schema import Value
from messages._types import ActorId


class ActorState(enum.StrEnum):
    """The lifecycle state of one supervised actor.

    ``STARTING`` (on_start running) -> ``RUNNING``; ``RESTARTING`` from a failure until
    the new incarnation runs (including a backoff delay); ``UNRESPONSIVE`` when one handler
    has run longer than ``health.unresponsive_after_ms``; ``STOPPING`` -> ``STOPPED`` on an
    orderly stop; ``FAILED`` when nothing will restart it (the root failed);
    ``ABANDONED`` when it ignored its shutdown timeout and was left behind.
    """

    STARTING = "STARTING"
    RUNNING = "RUNNING"
    RESTARTING = "RESTARTING"
    UNRESPONSIVE = "UNRESPONSIVE"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    FAILED = "FAILED"
    ABANDONED = "ABANDONED"


class OverallHealth(enum.StrEnum):
    """The whole bot's health: all running, some actor impaired, or trading impossible."""

    OK = "OK"
    DEGRADED = "DEGRADED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True, kw_only=True)
class ActorHealth(Value):
    """The health of one actor (a value, nested in ``HealthReport``).

    Attributes:
        actor_id: Stable id of the actor (``"book:BTCUSD"``).
        actor_class: Its class name (``"OrderBookActor"``).
        state: Its lifecycle state.
        restarts: Times it has been restarted since the bot started.
        inbox_size: Messages waiting in its inbox when the report was built.
        last_message_age_ns: Time since it last received a message, ns, or None when it
            never received one.
        uptime_ns: Time since its current instance started, ns.
        parent: Stable id of its supervisor, or None for the root.
    """

    actor_id: ActorId
    actor_class: str
    state: ActorState
    restarts: int
    inbox_size: int
    last_message_age_ns: int | None
    uptime_ns: int
    parent: ActorId | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisorHealth(Value):
    """How much of its restart intensity one supervisor has used (a value).

    Attributes:
        actor_id: Stable id of the supervisor.
        strategy: Restart strategy: ``"one_for_one"``, ``"one_for_all"`` or
            ``"rest_for_one"``.
        restarts_in_window: Restarts within the current window.
        max_restarts: Restarts allowed within the window before it gives up.
        window_ns: Length of the intensity window, ns.
        children: Stable ids of its children, in start order.
    """

    actor_id: ActorId
    strategy: str
    restarts_in_window: int
    max_restarts: int
    window_ns: int
    children: tuple[ActorId, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthReport(Event):
    """The periodic health of every actor and supervisor.

    Attributes:
        overall: OK, DEGRADED (some actor not RUNNING or a feed stale) or FAILED.
        actors: One entry per known actor, in tree order.
        supervisors: One entry per supervisor, in tree order.
        ts_event: When the report was built, ns. ts_init: creation time, ns.
    """

    overall: OverallHealth
    actors: tuple[ActorHealth, ...]
    supervisors: tuple[SupervisorHealth, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ActorStateChanged(Event):
    """An actor moved from one lifecycle state to another.

    Attributes:
        actor_id: Stable id of the actor.
        old: The state it left.
        new: The state it entered.
        reason: Why (``"started"``, ``"ZeroDivisionError: ..."``, ``"intensity exceeded"``).
        ts_event: When the transition happened, ns. ts_init: creation time, ns.
    """

    actor_id: ActorId
    old: ActorState
    new: ActorState
    reason: str
