"""What a supervisor is told to run: child specs, strategies, restart types, exit reasons.

These are plain frozen values. The runtime-internal messages that carry exits and dynamic
child requests live here too, because they hold factories and exceptions that never cross a
process boundary and so never go through the message codec.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from actors._actor import Actor

NANOS_PER_MS = 1_000_000


class Strategy(enum.StrEnum):
    """How a supervisor reacts when one child must be restarted (Erlang/OTP names)."""

    ONE_FOR_ONE = "one_for_one"
    """Restart only the child that exited."""
    ONE_FOR_ALL = "one_for_all"
    """Stop every other child (reverse order), then restart them all in order."""
    REST_FOR_ONE = "rest_for_one"
    """Stop the children started after it (reverse order), then restart it and them."""


class Restart(enum.StrEnum):
    """When a child that exited is restarted (Erlang/OTP names)."""

    PERMANENT = "permanent"
    """Always."""
    TRANSIENT = "transient"
    """Only when it failed; a normal exit removes it."""
    TEMPORARY = "temporary"
    """Never; any exit removes it."""


class ExitKind(enum.StrEnum):
    """Why an actor incarnation ended."""

    NORMAL = "normal"
    """The actor stopped itself (``context.stop_self()``)."""
    SHUTDOWN = "shutdown"
    """Its supervisor or the runtime stopped it."""
    FAILURE = "failure"
    """An exception (or a BaseException other than KeyboardInterrupt) escaped a handler."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Backoff:
    """Exponential restart delay with jitter, reset after a stable period.

    Attributes:
        initial_ns: delay before the first restart of a child, ns.
        max_ns: the delay never exceeds this, ns.
        reset_after_ns: a child that ran this long without failing starts again from
            ``initial_ns``.
        jitter: fraction of the delay drawn at random in ``[-jitter, +jitter]`` (0 to 1).
    """

    initial_ns: int = 100 * NANOS_PER_MS
    max_ns: int = 30_000 * NANOS_PER_MS
    reset_after_ns: int = 60_000 * NANOS_PER_MS
    jitter: float = 0.2

    def delay_ns(self, consecutive: int, unit_random: float) -> int:
        """Return the delay before restart number ``consecutive`` (1-based).

        Args:
            consecutive: how many restarts in a row this child has had, this one included.
            unit_random: a number in [0, 1) from the runtime's seeded generator.
        """
        base = min(self.max_ns, self.initial_ns * (2 ** max(0, consecutive - 1)))
        spread = (2.0 * unit_random - 1.0) * self.jitter
        return max(0, min(self.max_ns, int(base * (1.0 + spread))))


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildSpec:
    """How to start one child and what to do when it exits.

    Attributes:
        actor_id: the stable id others send to ("book:BTCUSD"); unique in the runtime.
        factory: builds a fresh actor instance for each incarnation; must not share mutable
            state between incarnations.
        restart: permanent, transient or temporary.
        shutdown_timeout_ns: how long a stop may take before the child is marked abandoned.
    """

    actor_id: str
    factory: Callable[[], Actor]
    restart: Restart = Restart.PERMANENT
    shutdown_timeout_ns: int = 2_000 * NANOS_PER_MS


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisorSpec:
    """A supervisor's policy and its initial children, started in this order.

    Attributes:
        strategy: one_for_one, one_for_all or rest_for_one.
        max_restarts: more than this many restarts within ``within_ns`` and the supervisor
            gives up: it stops its children in reverse order and fails, escalating.
        within_ns: the sliding window for ``max_restarts``, ns.
        backoff: optional delay before each restart; ``None`` restarts at once.
        children: the initial children, started in order and stopped in reverse.
    """

    strategy: Strategy = Strategy.ONE_FOR_ONE
    max_restarts: int = 3
    within_ns: int = 5_000 * NANOS_PER_MS
    backoff: Backoff | None = None
    children: tuple[ChildSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class ChildExited:
    """Runtime to supervisor: an incarnation of a child ended.

    Attributes:
        actor_id: the child's stable id.
        incarnation: which incarnation ended; a supervisor ignores stale ones.
        kind: normal, shutdown or failure.
        error: the exception for failures, else ``None``.
    """

    actor_id: str
    incarnation: int
    kind: ExitKind
    error: BaseException | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class StartChild:
    """Any actor to a supervisor: start this dynamic child (a position, a hedge)."""

    spec: ChildSpec


@dataclass(frozen=True, slots=True)
class StopChild:
    """Any actor to a supervisor: stop this dynamic child and forget its spec."""

    actor_id: str


@dataclass(frozen=True, slots=True)
class RestartChild:
    """Console to a supervisor: stop and restart this child now (counts as a restart)."""

    actor_id: str


@dataclass(frozen=True, slots=True)
class RestartDue:
    """Supervisor to itself: a backoff delay ended; restart these children now."""

    actor_ids: tuple[str, ...]
    generation: int
