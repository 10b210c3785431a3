"""What the console may see and do of the runtime, without actors getting the runtime.

:class:`RuntimeView` is the protocol the console's commands use; :class:`ThreadedView`
implements it over a :class:`~actors.ThreadedRuntime`. Every method is called from a
console session thread, never from an actor thread, and none of them blocks longer than the
timeout it is given: queries go to actors as asks (answered in the actor's own thread, so
no state is read while a handler changes it), control goes as plain sends.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Protocol

from actors._actor import Describe
from actors._kernel import ActorCrashed, AskTimeout
from actors._threaded import ThreadedRuntime
from messages import HealthReport

__all__ = ["Answer", "RuntimeView", "ThreadedView"]


@dataclass(frozen=True, slots=True)
class Answer:
    """One actor's answer to an ask: ``value`` when ``error`` is None, else why not.

    ``error`` is ``"timeout"`` when the actor did not answer in time, ``"no actor"`` when
    the id is unknown, or a short description of the failure.
    """

    actor_id: str
    value: Any = None
    error: str | None = None


class RuntimeView(Protocol):
    """The runtime as the console sees it (see the module docstring)."""

    def now_ns(self) -> int:
        """The runtime clock's time, ns since the UNIX epoch (for command ``ts_init``)."""
        ...

    def health(self) -> HealthReport:
        """Every actor's id, class, state, restarts, inbox size, uptime and parent."""
        ...

    def actor_ids(self) -> tuple[str, ...]:
        """Every registered actor id, in registration (tree) order."""
        ...

    def parent_of(self, actor_id: str) -> str | None:
        """The supervisor of ``actor_id``; None for the root or an unknown id."""
        ...

    def children_of(self, actor_id: str) -> tuple[str, ...]:
        """The children of ``actor_id`` in start order."""
        ...

    def describe(self, actor_ids: Iterable[str], timeout_s: float) -> list[Answer]:
        """Ask each actor for its ``describe()``, all at once, within ``timeout_s`` overall."""
        ...

    def stack(self, actor_id: str) -> list[str] | None:
        """The current stack of the actor's thread (formatted lines), or None if not running."""
        ...

    def send(self, actor_id: str, message: object) -> bool:
        """Send ``message`` to ``actor_id``; False when no actor has that id."""
        ...

    def dead_letters(self) -> int:
        """Messages sent to ids that did not exist."""
        ...


class ThreadedView:
    """:class:`RuntimeView` over a :class:`~actors.ThreadedRuntime`.

    Asks run on a small pool of helper threads so that several actors are asked at once;
    an ask that times out frees its helper thread (pykka's future wait is bounded).
    """

    def __init__(self, runtime: ThreadedRuntime, *, ask_threads: int = 16) -> None:
        self._runtime = runtime
        self._ask_threads = ask_threads
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def now_ns(self) -> int:
        """See :meth:`RuntimeView.now_ns`."""
        return self._runtime.clock.now_ns()

    def health(self) -> HealthReport:
        """See :meth:`RuntimeView.health`."""
        return self._runtime.health_report()

    def actor_ids(self) -> tuple[str, ...]:
        """See :meth:`RuntimeView.actor_ids`."""
        return self._runtime.actor_ids()

    def parent_of(self, actor_id: str) -> str | None:
        """See :meth:`RuntimeView.parent_of`."""
        entry = self._runtime.entry(actor_id)
        return None if entry is None else entry.parent

    def children_of(self, actor_id: str) -> tuple[str, ...]:
        """See :meth:`RuntimeView.children_of`."""
        entry = self._runtime.entry(actor_id)
        return () if entry is None else tuple(entry.children)

    def describe(self, actor_ids: Iterable[str], timeout_s: float) -> list[Answer]:
        """See :meth:`RuntimeView.describe`."""
        ids = list(actor_ids)
        pool = self._executor()
        futures: list[Future[Any]] = [
            pool.submit(self._runtime.ask, actor_id, Describe(), timeout_s=timeout_s)
            for actor_id in ids
        ]
        # Each ask is bounded by timeout_s itself; one overall deadline (with a margin for a
        # busy pool) bounds the whole command however many actors are asked.
        deadline = time.monotonic() + timeout_s + 0.5
        answers = []
        for actor_id, future in zip(ids, futures, strict=True):
            try:
                wait_s = max(0.0, deadline - time.monotonic())
                answers.append(Answer(actor_id, future.result(timeout=wait_s)))
            except (AskTimeout, FutureTimeout):
                answers.append(Answer(actor_id, error="timeout"))
            except LookupError:
                answers.append(Answer(actor_id, error="no actor"))
            except ActorCrashed as error:
                answers.append(Answer(actor_id, error=f"failed: {error.__cause__!r}"))
            except Exception as error:  # a removed actor's ask, pykka.ActorDeadError
                answers.append(Answer(actor_id, error=type(error).__name__))
        return answers

    def stack(self, actor_id: str) -> list[str] | None:
        """See :meth:`RuntimeView.stack`; reads the thread's frame, never stops it."""
        entry = self._runtime.entry(actor_id)
        if entry is None or entry.thread_ident is None:
            return None
        runner = entry.runner
        if runner is None or runner.exited.is_set():
            return None
        frame = sys._current_frames().get(entry.thread_ident)
        if frame is None:
            return None
        return [line.rstrip("\n") for line in traceback.format_stack(frame)]

    def send(self, actor_id: str, message: object) -> bool:
        """See :meth:`RuntimeView.send`; an unknown id is refused here, not a dead letter."""
        if not self._runtime.has_actor(actor_id):
            return False
        return self._runtime.send(actor_id, message)

    def dead_letters(self) -> int:
        """See :meth:`RuntimeView.dead_letters`."""
        return self._runtime.dead_letters

    def close(self) -> None:
        """Stop the ask helper threads (without waiting for asks still running)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self._ask_threads, thread_name_prefix="console-ask"
                )
            return self._pool
