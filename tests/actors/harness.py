"""One way to drive either runtime from a test, so behavioural tests run under both.

The threaded harness waits on a condition with a deadline (never a bare sleep); the
deterministic harness delivers queued messages and advances simulated time to the next timer
until the condition holds, with a bounded number of steps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from actors import ChildSpec, DeterministicRuntime, ThreadedRuntime

START_NS = 1_700_000_000_000_000_000


class Recorder:
    """A thread-safe event log the test actors write to and the tests read."""

    def __init__(self) -> None:
        self._events: list[tuple[Any, ...]] = []
        self._cond = threading.Condition()

    def add(self, *event: Any) -> None:
        with self._cond:
            self._events.append(event)
            self._cond.notify_all()

    @property
    def events(self) -> list[tuple[Any, ...]]:
        with self._cond:
            return list(self._events)

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        """Return the events whose first item is ``kind``, without it."""
        return [e[1:] for e in self.events if e[0] == kind]

    def wait_changed(self, count: int, timeout_s: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: len(self._events) != count, timeout_s)


class Harness(Protocol):
    name: str
    runtime: Any
    recorder: Recorder

    def start(self, spec: ChildSpec) -> None: ...

    def tell(self, target: str, message: object) -> None: ...

    def ask(self, target: str, message: object) -> Any: ...

    def wait_until(self, condition: Callable[[], bool], timeout_s: float = 5.0) -> None: ...

    def close(self) -> None: ...


class ThreadedHarness:
    name = "threaded"

    def __init__(self) -> None:
        self.runtime = ThreadedRuntime(seed=7, start_timeout_ns=5_000_000_000)
        self.recorder = Recorder()

    def start(self, spec: ChildSpec) -> None:
        self.runtime.start_root(spec)

    def tell(self, target: str, message: object) -> None:
        self.runtime.send(target, message)

    def ask(self, target: str, message: object) -> Any:
        return self.runtime.ask(target, message, timeout_s=5.0)

    def wait_until(self, condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"condition not met within {timeout_s} s")
            # Woken by any recorded event; the short cap also covers runtime-side changes.
            self.recorder.wait_changed(len(self.recorder.events), min(remaining, 0.005))

    def close(self) -> None:
        alive = self.runtime.shutdown(timeout_s=5.0)
        assert alive == [], f"actors alive after shutdown: {alive}"


class DeterministicHarness:
    name = "deterministic"

    def __init__(self) -> None:
        self.runtime = DeterministicRuntime(start_ns=START_NS, seed=7)
        self.recorder = Recorder()

    def start(self, spec: ChildSpec) -> None:
        self.runtime.start_root(spec)
        self.runtime.run_until_idle()

    def tell(self, target: str, message: object) -> None:
        self.runtime.inject(target, message)

    def ask(self, target: str, message: object) -> Any:
        return self.runtime.ask(target, message)

    def wait_until(self, condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
        runtime = self.runtime
        horizon = runtime.clock.now_ns() + int(timeout_s * 1e9) * 100
        for _ in range(100_000):
            runtime.run_until_idle()
            if condition():
                return
            due = runtime._timers.next_due_ns()
            if due is None or due > horizon:
                break
            runtime.run_until(due)
        raise AssertionError("condition not met before the deterministic runtime went idle")

    def close(self) -> None:
        assert self.runtime.shutdown() == []
