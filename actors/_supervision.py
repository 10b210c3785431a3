"""Supervision decisions as plain logic: what to stop, what to restart, when to give up.

:class:`SupervisorLogic` knows the children, their order, restart types, the strategy, the
restart intensity window and the backoff. It performs no I/O and starts no threads: the
:class:`~actors.Supervisor` actor asks it for a :class:`Plan` and carries the plan out, so
every OTP rule here is testable in microseconds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from actors._specs import ChildExited, ChildSpec, ExitKind, Restart, Strategy, SupervisorSpec


@dataclass(frozen=True, slots=True)
class Plan:
    """What a supervisor must do next, in this order.

    Attributes:
        stop: running children to stop, already in reverse start order.
        restart: children to start again, in start order.
        delay_ns: wait this long (backoff) before starting ``restart``; 0 means at once.
        give_up: a reason when restart intensity is exhausted: stop everything and fail.
        remove: temporary siblings caught by a one_for_all / rest_for_one restart: stopped
            (they are in ``stop``), then forgotten with :meth:`SupervisorLogic.remove`, never
            restarted (OTP semantics).
    """

    stop: tuple[str, ...] = ()
    restart: tuple[str, ...] = ()
    delay_ns: int = 0
    give_up: str | None = None
    remove: tuple[str, ...] = ()


NOTHING = Plan()


@dataclass(slots=True)
class _Child:
    spec: ChildSpec
    incarnation: int = 0
    running: bool = False
    started_ns: int = 0
    consecutive_restarts: int = 0
    restarts: int = 0


@dataclass(slots=True)
class SupervisorLogic:
    """The children of one supervisor and the OTP rules that govern them."""

    spec: SupervisorSpec
    _children: dict[str, _Child] = field(default_factory=dict)
    _restart_times: deque[int] = field(default_factory=deque)

    def __post_init__(self) -> None:
        for child in self.spec.children:
            self.add(child)

    # -- bookkeeping the supervisor reports back -------------------------------------------

    def add(self, spec: ChildSpec) -> None:
        """Append a child spec (initial or dynamic); it starts after every existing child.

        Raises:
            ValueError: if a child with the same id exists.
        """
        if spec.actor_id in self._children:
            msg = f"duplicate child id {spec.actor_id!r}"
            raise ValueError(msg)
        self._children[spec.actor_id] = _Child(spec)

    def remove(self, actor_id: str) -> None:
        """Forget a child (dynamic child stopped, or a transient/temporary one that exited)."""
        self._children.pop(actor_id, None)

    def started(self, actor_id: str, incarnation: int, now_ns: int) -> None:
        """Record that ``actor_id`` runs as ``incarnation`` since ``now_ns``."""
        child = self._children[actor_id]
        child.incarnation = incarnation
        child.running = True
        child.started_ns = now_ns

    def stopped(self, actor_id: str) -> None:
        """Record that ``actor_id`` is no longer running (stopped on purpose or exited)."""
        if actor_id in self._children:
            self._children[actor_id].running = False

    # -- queries ---------------------------------------------------------------------------

    def child_ids(self) -> tuple[str, ...]:
        """Return every child id in start order."""
        return tuple(self._children)

    def running_ids(self) -> tuple[str, ...]:
        """Return the running children in start order."""
        return tuple(cid for cid, c in self._children.items() if c.running)

    def spec_of(self, actor_id: str) -> ChildSpec:
        """Return the spec of ``actor_id``."""
        return self._children[actor_id].spec

    def has(self, actor_id: str) -> bool:
        """Return whether ``actor_id`` is one of this supervisor's children."""
        return actor_id in self._children

    def restarts_of(self, actor_id: str) -> int:
        """Return how many times ``actor_id`` has been restarted in total."""
        return self._children[actor_id].restarts

    def restarts_in_window(self, now_ns: int) -> int:
        """Return how many restarts fall within the intensity window ending at ``now_ns``."""
        self._expire(now_ns)
        return len(self._restart_times)

    # -- decisions -------------------------------------------------------------------------

    def on_child_exited(self, event: ChildExited, now_ns: int, unit_random: float) -> Plan:
        """Decide what follows the end of a child's incarnation.

        Stale incarnations (already replaced) and unknown children change nothing. A
        temporary child, or a transient one that exited normally, is removed. Otherwise the
        restart is counted against the intensity; past it the plan says give up.
        """
        child = self._children.get(event.actor_id)
        if child is None or event.incarnation != child.incarnation or not child.running:
            return NOTHING
        child.running = False
        restart = child.spec.restart
        if restart is Restart.TEMPORARY or (
            restart is Restart.TRANSIENT and event.kind is not ExitKind.FAILURE
        ):
            self.remove(event.actor_id)
            return NOTHING
        return self._plan_restart(event.actor_id, now_ns, unit_random)

    def on_start_failed(self, actor_id: str, now_ns: int, unit_random: float) -> Plan:
        """Decide what follows a restart whose ``on_start`` failed: it counts as a failure."""
        if actor_id not in self._children:
            return NOTHING
        self._children[actor_id].running = False
        return self._plan_restart(actor_id, now_ns, unit_random)

    def _plan_restart(self, actor_id: str, now_ns: int, unit_random: float) -> Plan:
        self._restart_times.append(now_ns)
        self._expire(now_ns)
        if len(self._restart_times) > self.spec.max_restarts:
            return Plan(
                stop=tuple(reversed(self.running_ids())),
                give_up=(
                    f"{len(self._restart_times)} restarts within "
                    f"{self.spec.within_ns / 1e9:g} s exceed max_restarts="
                    f"{self.spec.max_restarts} (last failure: {actor_id})"
                ),
            )
        ids = self.child_ids()
        if self.spec.strategy is Strategy.ONE_FOR_ONE:
            affected: tuple[str, ...] = (actor_id,)
        elif self.spec.strategy is Strategy.ONE_FOR_ALL:
            affected = ids
        else:
            affected = ids[ids.index(actor_id) :]
        child = self._children[actor_id]
        backoff = self.spec.backoff
        delay_ns = 0
        if backoff is not None:
            if child.started_ns and now_ns - child.started_ns >= backoff.reset_after_ns:
                child.consecutive_restarts = 0
            child.consecutive_restarts += 1
            delay_ns = backoff.delay_ns(child.consecutive_restarts, unit_random)
        to_stop = tuple(cid for cid in reversed(affected) if self._children[cid].running)
        temporary = tuple(
            cid
            for cid in affected
            if cid != actor_id and self._children[cid].spec.restart is Restart.TEMPORARY
        )
        restart = tuple(cid for cid in affected if cid not in temporary)
        for cid in restart:
            self._children[cid].restarts += 1
        return Plan(stop=to_stop, restart=restart, delay_ns=delay_ns, remove=temporary)

    def _expire(self, now_ns: int) -> None:
        horizon = now_ns - self.spec.within_ns
        while self._restart_times and self._restart_times[0] <= horizon:
            self._restart_times.popleft()
