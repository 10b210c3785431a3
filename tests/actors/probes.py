"""Small actors whose every lifecycle step is written to a Recorder, for runtime tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from actors import Actor, ChildSpec, Restart, SupervisorSpec, supervisor
from tests.actors.harness import Recorder


@dataclass(frozen=True, slots=True)
class Ping:
    tag: str


@dataclass(frozen=True, slots=True)
class Crash:
    pass


@dataclass(frozen=True, slots=True)
class RaiseSystemExit:
    pass


@dataclass(frozen=True, slots=True)
class StopNow:
    pass


@dataclass(frozen=True, slots=True)
class Forward:
    target: str
    message: object


@dataclass(frozen=True, slots=True)
class Block:
    """Blocks the handler until the event is set (a stuck actor); compare=False keeps repr."""

    release: threading.Event = field(compare=False, repr=False)


class Probe(Actor):
    """Records start, stop and pings; crashes, exits or blocks on request."""

    def __init__(self, recorder: Recorder, *, start_failures: list[int] | None = None) -> None:
        self.recorder = recorder
        self.start_failures = start_failures  # shared countdown: fail on_start while > 0

    @property
    def tag(self) -> tuple[str, int]:
        return (self.context.actor_id, self.context.incarnation)

    def on_start(self) -> None:
        if self.start_failures and self.start_failures[0] > 0:
            self.start_failures[0] -= 1
            self.recorder.add("start_failed", *self.tag)
            raise RuntimeError(f"{self.context.actor_id} refuses to start")
        self.recorder.add("start", *self.tag)

    def on_stop(self) -> None:
        self.recorder.add("stop", *self.tag)

    def on_ping(self, ping: Ping) -> tuple[str, int, str]:
        self.recorder.add("ping", *self.tag, ping.tag)
        return (*self.tag, ping.tag)

    def on_crash(self, _: Crash) -> None:
        raise RuntimeError(f"{self.context.actor_id} crashed on purpose")

    def on_raise_system_exit(self, _: RaiseSystemExit) -> None:
        raise SystemExit(3)

    def on_stop_now(self, _: StopNow) -> None:
        self.context.stop_self()

    def on_forward(self, forward: Forward) -> None:
        self.context.send(forward.target, forward.message)

    def on_block(self, block: Block) -> None:
        self.recorder.add("blocked", *self.tag)
        block.release.wait(10.0)


def probe(
    actor_id: str,
    recorder: Recorder,
    *,
    restart: Restart = Restart.PERMANENT,
    start_failures: list[int] | None = None,
    shutdown_timeout_ns: int = 2_000_000_000,
) -> ChildSpec:
    factory: Callable[[], Actor] = lambda: Probe(recorder, start_failures=start_failures)  # noqa: E731
    return ChildSpec(
        actor_id=actor_id, factory=factory, restart=restart, shutdown_timeout_ns=shutdown_timeout_ns
    )


def tree(root_id: str, spec: SupervisorSpec) -> ChildSpec:
    return supervisor(root_id, spec)
