"""The actor runtime: supervised actors on pykka threads or on one deterministic thread.

Write an actor by subclassing :class:`Actor` and adding ``on_<message_name>`` handlers; run
it under a :class:`Supervisor` described by a :class:`SupervisorSpec`, in either a
:class:`ThreadedRuntime` (live, paper, sim) or a :class:`DeterministicRuntime` (backtests,
reproducible tests). See docs/ARCHITECTURE.md for the rules the runtime keeps.
"""

from actors._actor import Actor, ActorKilled, Context, handler_name
from actors._clock import Clock, ScaledClock, SimulatedClock, WallClock
from actors._deterministic import DeterministicRuntime, RunawayError
from actors._health import HealthReporter, ReportDue, summarize
from actors._kernel import ActorCrashed, ActorError, AskTimeout, KernelBase, RuntimeFailed
from actors._specs import (
    Backoff,
    ChildExited,
    ChildSpec,
    ExitKind,
    Restart,
    RestartChild,
    StartChild,
    StopChild,
    Strategy,
    SupervisorSpec,
)
from actors._supervision import Plan, SupervisorLogic
from actors._supervisor import ChildStartFailed, RestartIntensityExceeded, Supervisor
from actors._threaded import ThreadedRuntime

__all__ = [
    "Actor",
    "ActorCrashed",
    "ActorError",
    "ActorKilled",
    "AskTimeout",
    "Backoff",
    "ChildExited",
    "ChildSpec",
    "ChildStartFailed",
    "Clock",
    "Context",
    "DeterministicRuntime",
    "ExitKind",
    "HealthReporter",
    "KernelBase",
    "Plan",
    "ReportDue",
    "Restart",
    "RestartChild",
    "RestartIntensityExceeded",
    "RunawayError",
    "RuntimeFailed",
    "ScaledClock",
    "SimulatedClock",
    "StartChild",
    "StopChild",
    "Strategy",
    "Supervisor",
    "SupervisorLogic",
    "SupervisorSpec",
    "ThreadedRuntime",
    "WallClock",
    "handler_name",
    "summarize",
    "supervisor",
]


def supervisor(actor_id: str, spec: SupervisorSpec, **kwargs: object) -> ChildSpec:
    """Return the ChildSpec of a supervisor running ``spec`` (a convenience for tree building)."""
    return ChildSpec(actor_id=actor_id, factory=lambda: Supervisor(spec), **kwargs)  # type: ignore[arg-type]
