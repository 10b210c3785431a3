"""The supervisor actor: carries out :class:`SupervisorLogic` plans through the runtime.

A supervisor is an ordinary actor under both runtimes. It starts its children in order in
``on_start`` (each confirmed started before the next), stops them in reverse order in
``on_stop``, and on each :class:`ChildExited` asks its logic what to do. When its restart
intensity is exhausted it stops every child and fails itself, which escalates the failure
to its own parent; the root's failure ends the process with a non-zero exit.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from actors._actor import Actor, Kernel
from actors._kernel import ActorError
from actors._specs import (
    ChildExited,
    ChildSpec,
    RestartChild,
    RestartDue,
    StartChild,
    StopChild,
    SupervisorSpec,
)
from actors._supervision import Plan, SupervisorLogic
from messages import ActorState

if TYPE_CHECKING:
    from actors._actor import Context

_log = logging.getLogger(__name__)


class RestartIntensityExceeded(ActorError):
    """Raised by a supervisor that gave up: more restarts than allowed within its window."""


class ChildStartFailed(ActorError):
    """Raised by a supervisor whose initial children could not all be started."""


class SupervisingKernel(Kernel, Protocol):
    """The runtime operations only supervisors use."""

    def start_actor(self, spec: ChildSpec, parent: str) -> tuple[int, BaseException | None]: ...

    def stop_actor(self, actor_id: str, timeout_ns: int) -> bool: ...

    def remove_actor(self, actor_id: str) -> None: ...

    def set_state(self, actor_id: str, state: ActorState, reason: str = "") -> None: ...

    def attach_supervisor(self, actor_id: str, logic: SupervisorLogic) -> None: ...

    def unit_random(self) -> float: ...


def _kernel_of(context: Context) -> SupervisingKernel:
    return context._kernel  # type: ignore[return-value]


class Supervisor(Actor):
    """Runs children under one OTP strategy; see :class:`~actors.SupervisorSpec`."""

    def __init__(self, spec: SupervisorSpec) -> None:
        self.logic = SupervisorLogic(spec)
        self._restart_generation = 0
        self._pending: dict[str, int] = {}  # child -> generation of its scheduled restart

    @property
    def _kernel(self) -> SupervisingKernel:
        return _kernel_of(self.context)

    def on_start(self) -> None:
        """Start every child in order; on a failure stop those started and fail."""
        self._kernel.attach_supervisor(self.context.actor_id, self.logic)
        for child_id in self.logic.child_ids():
            error = self._start(child_id)
            if error is not None:
                self._stop_all()
                msg = f"{self.context.actor_id}: child {child_id} failed to start: {error!r}"
                raise ChildStartFailed(msg) from error

    def on_stop(self) -> None:
        """Stop every running child in reverse start order."""
        self._stop_all()

    def describe(self) -> dict[str, object]:
        """Summarise the strategy, intensity use and children for the console."""
        spec = self.logic.spec
        return {
            "strategy": str(spec.strategy),
            "restarts_in_window": self.logic.restarts_in_window(self.context.now_ns()),
            "max_restarts": spec.max_restarts,
            "within_s": spec.within_ns / 1e9,
            "children": list(self.logic.child_ids()),
        }

    # -- messages --------------------------------------------------------------------------

    def on_child_exited(self, event: ChildExited) -> None:
        """Apply the restart policy to a child's exit."""
        plan = self.logic.on_child_exited(event, self.context.now_ns(), self._kernel.unit_random())
        if not self.logic.has(event.actor_id):
            self._kernel.remove_actor(event.actor_id)
        self._carry_out(plan)

    def on_restart_due(self, event: RestartDue) -> None:
        """Start the children whose backoff delay has ended."""
        due = tuple(c for c in event.actor_ids if self._pending.get(c) == event.generation)
        self._restart(due)

    def on_start_child(self, command: StartChild) -> None:
        """Add and start a dynamic child; a child that cannot start is forgotten and logged."""
        if self.logic.has(command.spec.actor_id):
            self.context.log.error(
                "%s: refused to start %s: a child with that id exists",
                self.context.actor_id,
                command.spec.actor_id,
            )
            return
        self.logic.add(command.spec)
        error = self._start(command.spec.actor_id)
        if error is not None:
            self.context.log.error(
                "%s: dynamic child %s failed to start: %r",
                self.context.actor_id,
                command.spec.actor_id,
                error,
            )
            self.logic.remove(command.spec.actor_id)
            self._kernel.remove_actor(command.spec.actor_id)

    def on_stop_child(self, command: StopChild) -> None:
        """Stop and forget a dynamic child."""
        if self.logic.has(command.actor_id):
            self._stop(command.actor_id)
            self.logic.remove(command.actor_id)
            self._kernel.remove_actor(command.actor_id)

    def on_restart_child(self, command: RestartChild) -> None:
        """Stop and start one child now, on an operator's request (not counted as a failure)."""
        if self.logic.has(command.actor_id):
            self._stop(command.actor_id)
            self._restart((command.actor_id,))

    # -- carrying out plans ----------------------------------------------------------------

    def _carry_out(self, plan: Plan) -> None:
        for child_id in plan.stop:
            self._stop(child_id)
        for child_id in plan.remove:
            self._pending.pop(child_id, None)
            self.logic.remove(child_id)
            self._kernel.remove_actor(child_id)
        if plan.give_up is not None:
            self.context.log.error("%s: giving up: %s", self.context.actor_id, plan.give_up)
            raise RestartIntensityExceeded(f"{self.context.actor_id}: {plan.give_up}")
        for child_id in plan.restart:
            self._kernel.set_state(child_id, ActorState.RESTARTING, "restart planned")
        if not plan.restart:
            return
        self._restart_generation += 1
        for child_id in plan.restart:
            self._pending[child_id] = self._restart_generation
        if plan.delay_ns > 0:
            self.context.log.info(
                "%s: restarting %s in %.3f s",
                self.context.actor_id,
                ", ".join(plan.restart),
                plan.delay_ns / 1e9,
            )
            self.context.schedule(plan.delay_ns, RestartDue(plan.restart, self._restart_generation))
        else:
            self._restart(plan.restart)

    def _restart(self, child_ids: tuple[str, ...]) -> None:
        for child_id in child_ids:
            self._pending.pop(child_id, None)
            if not self.logic.has(child_id):
                continue
            error = self._start(child_id)
            if error is not None:
                self.context.log.error(
                    "%s: restart of %s failed: %r", self.context.actor_id, child_id, error
                )
                plan = self.logic.on_start_failed(
                    child_id, self.context.now_ns(), self._kernel.unit_random()
                )
                self._carry_out(plan)
                return

    def _start(self, child_id: str) -> BaseException | None:
        incarnation, error = self._kernel.start_actor(
            self.logic.spec_of(child_id), self.context.actor_id
        )
        if error is None:
            self.logic.started(child_id, incarnation, self.context.now_ns())
        return error

    def _stop(self, child_id: str) -> None:
        spec = self.logic.spec_of(child_id)
        self.logic.stopped(child_id)
        if not self._kernel.stop_actor(child_id, spec.shutdown_timeout_ns):
            self.context.log.error(
                "%s: child %s did not stop within %.3f s: abandoned",
                self.context.actor_id,
                child_id,
                spec.shutdown_timeout_ns / 1e9,
            )

    def _stop_all(self) -> None:
        for child_id in reversed(self.logic.running_ids()):
            self._stop(child_id)
