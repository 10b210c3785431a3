"""The deterministic runtime: the same actors on one thread, one ordered queue, simulated time.

Every send appends to a single FIFO queue; the runtime delivers one message at a time and,
when the queue is empty, advances the simulated clock to the next timer. Nothing depends on
thread scheduling or the wall clock, so identical inputs give byte-identical traces. The
backtest and many tests run on it; supervision (restart strategies, intensity, backoff on the
simulated clock) behaves exactly as under the threaded runtime.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from dataclasses import dataclass
from typing import Any

from actors._clock import SimulatedClock
from actors._kernel import ActorCrashed, AskTimeout, Entry, KernelBase, RuntimeFailed
from actors._specs import ChildSpec, ExitKind
from actors._timers import TimerFire
from messages import ActorState

_log = logging.getLogger(__name__)
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class RunawayError(RuntimeError):
    """Raised when a run exceeds its step budget: some actors keep messaging each other."""


@dataclass(slots=True)
class _Reply:
    done: bool = False
    value: Any = None
    error: BaseException | None = None


class DeterministicRuntime(KernelBase):
    """Runs actors on the calling thread with a :class:`~actors.SimulatedClock`."""

    def __init__(
        self,
        *,
        start_ns: int = 0,
        seed: int = 0,
        unresponsive_after_ns: int = 5_000_000_000,
        trace: bool = True,
    ) -> None:
        self.sim_clock = SimulatedClock(start_ns)
        super().__init__(
            clock=self.sim_clock, seed=seed, unresponsive_after_ns=unresponsive_after_ns
        )
        self._queue: deque[tuple[str, str, object, _Reply | None]] = deque()
        self._current = "-"
        self._tracing = trace
        self.trace: list[str] = []
        self.delivered = 0

    # -- public ----------------------------------------------------------------------------

    def inject(self, target: str, message: object) -> None:
        """Queue ``message`` for ``target`` from outside the actor system (a test, a feed)."""
        self._push(target, message, None, sender="ext")

    def run_until_idle(self, *, max_steps: int = 1_000_000) -> int:
        """Deliver queued messages until none is left, without moving time; returns the count.

        Raises:
            RunawayError: if more than ``max_steps`` messages were delivered.
        """
        steps = 0
        queue, deliver = self._queue, self._deliver_next
        while queue:
            deliver()
            steps += 1
            if steps > max_steps:
                raise RunawayError(f"still busy after {max_steps} messages")
        return steps

    def run_until(self, until_ns: int, *, max_steps: int = 10_000_000) -> int:
        """Deliver messages and fire timers in order until the clock reaches ``until_ns``.

        Raises:
            RunawayError: if more than ``max_steps`` messages were delivered.
        """
        steps = self.run_until_idle(max_steps=max_steps) if self._queue else 0
        while True:
            due = self._timers.next_due_ns()
            if due is None or due > until_ns:
                break
            self.sim_clock.advance_to(max(due, self.sim_clock.now_ns()))
            for timer in self._timers.pop_due(self.sim_clock.now_ns()):
                entry = self._entries.get(timer.owner)
                if entry is not None and entry.incarnation == timer.incarnation:
                    fire = TimerFire(timer.incarnation, timer.message)
                    self._push(timer.owner, fire, None, sender="timer")
            steps += self.run_until_idle(max_steps=max_steps - steps)
        if until_ns > self.sim_clock.now_ns():
            self.sim_clock.advance_to(until_ns)
        return steps

    def next_timer_ns(self) -> int | None:
        """When the earliest live timer is due, ns; None without one. With no message
        queued, nothing happens before then: a driver may skip ahead to it."""
        return self._timers.next_due_ns()

    def advance(self, delta_ns: int, *, max_steps: int = 10_000_000) -> int:
        """Run for ``delta_ns`` of simulated time; returns how many messages were delivered."""
        return self.run_until(self.sim_clock.now_ns() + delta_ns, max_steps=max_steps)

    def ask(self, target: str, message: object, *, max_steps: int = 1_000_000) -> Any:
        """Queue ``message`` and deliver messages until ``target`` replies (time does not move).

        Raises:
            AskTimeout: the queue ran dry without a reply.
            ActorCrashed: the message made the actor fail.
            LookupError: no actor has that id.
        """
        if target not in self._entries:
            raise LookupError(f"no actor {target!r}")
        reply = _Reply()
        self._push(target, message, reply, sender="ask")
        steps = 0
        while not reply.done:
            if not self._queue:
                raise AskTimeout(f"{target} did not answer before the queue ran dry")
            self._deliver_next()
            steps += 1
            if steps > max_steps:
                raise RunawayError(f"still busy after {max_steps} messages")
        if reply.error is not None:
            raise ActorCrashed(f"{target} failed handling {type(message).__name__}") from (
                reply.error
            )
        return reply.value

    def trace_bytes(self) -> bytes:
        """Return the message trace as bytes (one line per delivery), for comparisons."""
        return "\n".join(self.trace).encode()

    def shutdown(self) -> list[str]:
        """Stop the tree in reverse order; returns ids still running (always empty here)."""
        if self.root_id is not None and self.root_id in self._entries:
            self.stop_actor(self.root_id, 0)
        return [e.actor_id for e in self._entries.values() if e.actor is not None]

    # -- supervisor operations -------------------------------------------------------------

    def start_actor(self, spec: ChildSpec, parent: str | None) -> tuple[int, BaseException | None]:
        """Start a new incarnation of ``spec`` inline; its on_start runs before this returns."""
        entry = self._entry_for_start(spec, parent)
        if entry.actor is not None:
            return entry.incarnation, RuntimeError(f"{spec.actor_id} is already running")
        actor = self._new_actor(spec, entry)
        if isinstance(actor, BaseException):
            return entry.incarnation, actor
        context = self._begin_incarnation(entry, actor)
        self._record("start", spec.actor_id, f"incarnation {context.incarnation}")
        entry.actor = actor
        previous, self._current = self._current, spec.actor_id
        try:
            actor.on_start()
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            _log.error("%s: on_start failed", spec.actor_id, exc_info=error)
            entry.actor = None
            self._end_incarnation(entry, context.incarnation, ExitKind.SHUTDOWN, None)
            return context.incarnation, error
        finally:
            self._current = previous
        self._transition(entry, ActorState.RUNNING, "started")
        held: deque[tuple[object, _Reply | None]] = entry.mailbox
        while held:
            message, reply = held.pop()
            self._queue.appendleft((spec.actor_id, "held", message, reply))
        return context.incarnation, None

    def stop_actor(self, actor_id: str, timeout_ns: int) -> bool:  # noqa: ARG002 - protocol
        """Stop the running incarnation inline; never abandons (one thread cannot be stuck)."""
        entry = self._entries.get(actor_id)
        if entry is None or entry.actor is None:
            if entry is not None:
                self._settle_stopped(entry)
            return True
        actor, entry.actor = entry.actor, None
        self._transition(entry, ActorState.STOPPING, "stop requested")
        self._record("stop", actor_id, "")
        self._call_on_stop(actor, actor_id)
        self._end_incarnation(entry, entry.incarnation, ExitKind.SHUTDOWN, None)
        return True

    # -- internals -------------------------------------------------------------------------

    def _push(self, target: str, message: object, reply: _Reply | None, *, sender: str) -> None:
        self._queue.append((target, sender, message, reply))

    def _deliver_next(self) -> None:
        target, sender, message, reply = self._queue.popleft()
        entry = self._entries.get(target)
        if entry is None:
            self.dead_letters += 1
            _log.warning("dead letter: no actor %r for %s", target, type(message).__name__)
            if reply is not None:
                reply.done, reply.error = True, LookupError(f"no actor {target!r}")
            return
        actor = entry.actor
        if actor is None:
            entry.mailbox.append((message, reply))
            return
        if type(message) is TimerFire:
            if message.incarnation != entry.incarnation:
                return  # a predecessor's timer
            message = message.message
        if self._tracing:
            self._record(sender, target, message)
        self.delivered += 1
        entry.last_message_mono_ns = self.sim_clock.now_ns()
        previous, self._current = self._current, target
        try:
            result = actor.receive(message)
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            _log.error("%s: failed on %s", target, type(message).__name__, exc_info=error)
            self._record("fail", target, repr(error))
            entry.actor = None
            self._end_incarnation(entry, entry.incarnation, ExitKind.FAILURE, error)
            if reply is not None:
                reply.done, reply.error = True, error
            return
        finally:
            self._current = previous
        if reply is not None:
            reply.done, reply.value = True, result
        if entry.stop_requested and entry.actor is actor:
            entry.actor = None
            self._call_on_stop(actor, target)
            self._end_incarnation(entry, entry.incarnation, ExitKind.NORMAL, None)

    def _record(self, sender: str, target: str, message: object) -> None:
        if self._tracing:
            text = message if isinstance(message, str) else repr(message)
            self.trace.append(
                f"{self.sim_clock.now_ns()} {sender}>{target} {_ADDRESS.sub('', text)}"
            )

    def send(self, target: str, message: object) -> bool:
        """Queue ``message`` for ``target``; False and a dead letter if the id is unknown."""
        if target not in self._entries:
            self.dead_letters += 1
            _log.warning("dead letter: no actor %r for %s", target, type(message).__name__)
            return False
        self._queue.append((target, self._current, message, None))
        return True

    def _mono_ns(self) -> int:
        return self.sim_clock.now_ns()

    def _new_mailbox(self) -> deque[tuple[object, _Reply | None]]:
        return deque()

    def _enqueue(self, entry: Entry, message: object) -> None:
        self._push(entry.actor_id, message, None, sender=self._current)

    def _mailbox_size(self, entry: Entry) -> int:
        """Queued for the entry (counted here: health asks rarely, sends are hot) plus held."""
        actor_id = entry.actor_id
        return sum(1 for queued in self._queue if queued[0] == actor_id) + len(entry.mailbox)

    def _drain_dead_mailbox(self, entry: Entry) -> int:
        dropped = len(entry.mailbox)
        for _, reply in entry.mailbox:
            if reply is not None:
                reply.done, reply.error = True, LookupError(f"{entry.actor_id} was removed")
        entry.mailbox.clear()
        return dropped


__all__ = ["ActorCrashed", "AskTimeout", "DeterministicRuntime", "RunawayError", "RuntimeFailed"]
