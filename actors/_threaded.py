"""The threaded runtime: each actor incarnation runs in its own pykka thread.

pykka supplies the thread, the inbox loop and futures; this module adds what pykka lacks:
a mailbox that outlives incarnations (so messages sent to a stable id during a restart reach
the next incarnation), failure reporting for ``on_start`` and for BaseException (which would
otherwise stop every actor in pykka's registry), immediate stops that keep unprocessed
messages, abandonment of a child that ignores its shutdown timeout, and a scheduler thread
for timers on the injected clock.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

import pykka
from pykka._envelope import Envelope  # the inbox item type; pykka>=4,<5 is pinned

from actors._actor import Actor
from actors._clock import Clock, WallClock
from actors._kernel import ActorCrashed, AskTimeout, Entry, KernelBase
from actors._specs import ChildSpec, ExitKind
from actors._timers import TimerFire
from messages import ActorState

_log = logging.getLogger(__name__)
_NS = 1_000_000_000


class _Wake:
    """Put in a mailbox to wake a thread blocked on it after a stop was requested."""

    __slots__ = ()


_WAKE = _Wake()


class _Crashed:
    """The reply an asker gets when the asked message made the actor fail."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Runner:
    """Signals between one incarnation's thread and the runtime."""

    __slots__ = ("abandoned", "ended", "exited", "shell", "start_error", "started", "stopping")

    def __init__(self) -> None:
        self.started = threading.Event()
        self.exited = threading.Event()
        self.start_error: BaseException | None = None
        self.stopping = False
        self.abandoned = False
        self.ended = False
        self.shell: _Shell | None = None


class _Shell(pykka.ThreadingActor):
    """The pykka actor that runs one incarnation of an :class:`~actors.Actor`."""

    use_daemon_thread = True  # an abandoned, stuck actor must not keep the process alive

    def __init__(
        self, kernel: ThreadedRuntime, entry: Entry, actor: Actor, incarnation: int, runner: _Runner
    ) -> None:
        self._mailbox = entry.mailbox
        super().__init__()
        self._kernel = kernel
        self._entry = entry
        self._actor = actor
        self._incarnation = incarnation
        self._runner = runner
        runner.shell = self

    def _create_actor_inbox(self) -> Any:  # type: ignore[override]
        # pykka's hook for new actor types; our mailbox belongs to the stable id.
        return self._mailbox

    def on_start(self) -> None:
        entry = self._entry
        entry.thread_ident = threading.get_ident()
        try:
            self._actor.on_start()
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            _log.exception("%s: on_start failed", entry.actor_id)
            self._runner.start_error = error
            self._halt()
        else:
            if not self._runner.abandoned:  # a late on_start of a left-behind incarnation
                self._kernel._transition(entry, ActorState.RUNNING, "started")
        finally:
            self._runner.started.set()

    def on_receive(self, message: Any) -> Any:
        entry = self._entry
        now = time.monotonic_ns()
        entry.last_message_mono_ns = now
        entry.busy_since_mono_ns = now
        try:
            if message is _WAKE:
                return None
            if type(message) is TimerFire:
                if message.incarnation != self._incarnation:
                    return None  # a predecessor's timer
                message = message.message
            result = self._actor.receive(message)
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            _log.error("%s: failed on %s", entry.actor_id, type(message).__name__, exc_info=error)
            self._finish(ExitKind.FAILURE, error)
            return _Crashed(error)
        finally:
            entry.busy_since_mono_ns = 0
        if entry.stop_requested:
            self._stop_normally()
        return result

    def _stop_normally(self) -> None:
        self._call_on_stop()
        self._finish(ExitKind.NORMAL, None)

    def _finish(self, kind: ExitKind, error: BaseException | None) -> None:
        """End this incarnation once, whichever of crash, stop_self or stop came first."""
        self._halt()
        if not self._runner.ended:
            self._runner.ended = True
            self._kernel._end_incarnation(self._entry, self._incarnation, kind, error)

    def _call_on_stop(self) -> None:
        self._kernel._call_on_stop(self._actor, self._entry.actor_id)

    def _halt(self) -> None:
        self.actor_stopped.set()
        pykka.ActorRegistry.unregister(self.actor_ref)

    def _actor_loop_teardown(self) -> None:
        # Unlike pykka's teardown, keep unprocessed messages: they belong to the stable id.
        runner = self._runner
        if runner.abandoned:
            self._kernel._forward_leftovers(self._mailbox, self._entry)
        elif runner.stopping and runner.start_error is None and not runner.ended:
            self._call_on_stop()
            self._finish(ExitKind.SHUTDOWN, None)
        runner.exited.set()


class ThreadedRuntime(KernelBase):
    """Runs actors on pykka threads with a scheduler thread for timers.

    Start the tree with :meth:`start_root`, wait with :meth:`wait`, and always finish with
    :meth:`shutdown` (a ``with`` block does it).
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int | None = None,
        unresponsive_after_ns: int = 5 * _NS,
        start_timeout_ns: int = 10 * _NS,
    ) -> None:
        super().__init__(
            clock=clock or WallClock(), seed=seed, unresponsive_after_ns=unresponsive_after_ns
        )
        self.start_timeout_ns = start_timeout_ns
        self.root_done = threading.Event()
        self._timer_cond = threading.Condition(self._lock)
        self._closing = False
        self._timer_thread = threading.Thread(
            target=self._timer_loop, name="scheduler", daemon=True
        )
        self._timer_thread.start()

    def __enter__(self) -> ThreadedRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- public ----------------------------------------------------------------------------

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the root exits (True) or ``timeout_s`` real seconds pass (False)."""
        return self.root_done.wait(timeout_s)

    def ask(self, target: str, message: object, *, timeout_s: float) -> Any:
        """Send ``message`` to ``target`` and wait for the handler's return value.

        For the console and tests only; actors never ask.

        Raises:
            AskTimeout: no reply within ``timeout_s``.
            ActorCrashed: the message made the actor fail.
            LookupError: no actor has that id.
        """
        entry = self._entries.get(target)
        if entry is None:
            raise LookupError(f"no actor {target!r}")
        future: pykka.ThreadingFuture[Any] = pykka.ThreadingFuture()
        entry.mailbox.put(Envelope(message, reply_to=future))
        try:
            result = future.get(timeout=timeout_s)
        except pykka.Timeout as error:
            raise AskTimeout(f"{target} did not answer within {timeout_s:g} s") from error
        if isinstance(result, _Crashed):
            raise ActorCrashed(f"{target} failed handling {type(message).__name__}") from (
                result.error
            )
        return result

    def shutdown(self, timeout_s: float | None = None) -> list[str]:
        """Stop the tree in reverse order, then the scheduler; return ids still alive (bugs).

        ``timeout_s`` defaults to the root spec's shutdown timeout (which the tree builder
        sizes to cover its children's own budgets).
        """
        if timeout_s is None:
            timeout_s = self.root_shutdown_ns / _NS
        if self.root_id is not None and self.root_id in self._entries:
            self.stop_actor(self.root_id, int(timeout_s * _NS))
        with self._timer_cond:
            self._closing = True
            self._timer_cond.notify_all()
        self._timer_thread.join(timeout_s)
        alive = [
            e.actor_id
            for e in self._entries.values()
            if e.runner is not None and not e.runner.exited.is_set()
        ]
        for actor_id in alive:
            _log.error("%s: still alive after shutdown (a bug)", actor_id)
        return alive

    # -- supervisor operations -------------------------------------------------------------

    def start_actor(self, spec: ChildSpec, parent: str | None) -> tuple[int, BaseException | None]:
        """Start a new incarnation of ``spec`` and wait until its on_start finished."""
        entry = self._entry_for_start(spec, parent)
        previous = entry.runner
        # A failed incarnation's thread may still be finishing its teardown; let it.
        if (
            previous is not None
            and not previous.abandoned
            and not previous.exited.wait(self.start_timeout_ns / _NS)
        ):
            return entry.incarnation, RuntimeError(f"{spec.actor_id} is already running")
        actor = self._new_actor(spec, entry)
        if isinstance(actor, BaseException):
            return entry.incarnation, actor
        context = self._begin_incarnation(entry, actor)
        runner = _Runner()
        entry.runner = runner
        _Shell.start(self, entry, actor, context.incarnation, runner)
        if not runner.started.wait(self.start_timeout_ns / _NS):
            self._abandon(entry, runner)
            return context.incarnation, TimeoutError(
                f"{spec.actor_id} did not finish on_start within {self.start_timeout_ns / _NS:g} s"
            )
        if runner.start_error is not None:
            runner.exited.wait(self.start_timeout_ns / _NS)
            self._end_incarnation(entry, context.incarnation, ExitKind.SHUTDOWN, None)
            return context.incarnation, runner.start_error
        return context.incarnation, None

    def stop_actor(self, actor_id: str, timeout_ns: int) -> bool:
        """Stop the running incarnation now, keeping unprocessed messages; False if abandoned."""
        entry = self._entries.get(actor_id)
        if entry is None or entry.runner is None or entry.runner.exited.is_set():
            if entry is not None and entry.state is not ActorState.ABANDONED:
                self._settle_stopped(entry)
            return True
        runner: _Runner = entry.runner
        if runner.shell is not None and threading.get_ident() == entry.thread_ident:
            msg = f"{actor_id} cannot stop itself through stop_actor; use context.stop_self()"
            raise RuntimeError(msg)
        if not runner.ended:  # not already ending through a crash or stop_self
            self._transition(entry, ActorState.STOPPING, "stop requested")
        runner.stopping = True
        if runner.shell is not None:
            runner.shell.actor_stopped.set()
        entry.mailbox.put(Envelope(_WAKE))
        if runner.exited.wait(timeout_ns / _NS):
            # A crash that raced the stop left it RESTARTING: stopped is what it is now.
            self._settle_stopped(entry)
            return True
        self._abandon(entry, runner)
        return False

    # -- internals -------------------------------------------------------------------------

    def _abandon(self, entry: Entry, runner: _Runner) -> None:
        # Marked ended so the stuck thread, if it ever returns, cannot touch the entry that
        # its successor now owns (its _finish becomes a no-op).
        runner.abandoned = True
        runner.ended = True
        if runner.shell is not None:
            runner.shell.actor_stopped.set()
        old = entry.mailbox
        entry.mailbox = queue.SimpleQueue()
        self._forward_leftovers(old, entry)
        with self._lock:
            self._timers.cancel_owner(entry.actor_id, entry.incarnation)
        self._unsubscribe_all(entry.actor_id)
        self._transition(entry, ActorState.ABANDONED, "ignored its shutdown timeout")
        entry.busy_since_mono_ns = 0

    def _forward_leftovers(self, old: queue.SimpleQueue[Any], entry: Entry) -> None:
        if old is entry.mailbox:
            return
        while True:
            try:
                envelope = old.get_nowait()
            except queue.Empty:
                return
            if envelope.message is not _WAKE:
                entry.mailbox.put(envelope)

    def _root_exited(self, entry: Entry, error: BaseException | None) -> None:
        super()._root_exited(entry, error)
        self.root_done.set()

    def _mono_ns(self) -> int:
        return time.monotonic_ns()

    def _new_mailbox(self) -> queue.SimpleQueue[Any]:
        return queue.SimpleQueue()

    def _enqueue(self, entry: Entry, message: object) -> None:
        entry.mailbox.put(Envelope(message))

    def _mailbox_size(self, entry: Entry) -> int:
        return int(entry.mailbox.qsize())

    def _drain_dead_mailbox(self, entry: Entry) -> int:
        dropped = 0
        while True:
            try:
                envelope = entry.mailbox.get_nowait()
            except queue.Empty:
                return dropped
            if envelope.message is _WAKE:
                continue
            dropped += 1
            if envelope.reply_to is not None:
                envelope.reply_to.set_exception(
                    exc_info=(
                        pykka.ActorDeadError,
                        pykka.ActorDeadError(f"{entry.actor_id} was removed"),
                        None,
                    )
                )

    # -- timers ----------------------------------------------------------------------------

    def _timer_added(self) -> None:
        self._timer_cond.notify()

    def _timer_loop(self) -> None:
        cond = self._timer_cond
        while True:
            with cond:
                if self._closing:
                    return
                due = self._timers.next_due_ns()
                wait_s = 1.0 if due is None else self.clock.real_seconds_until(due)
                if wait_s > 0:
                    cond.wait(min(wait_s, 1.0))
                    continue
                fired = self._timers.pop_due(self.clock.now_ns())
                if not fired:
                    # A clock whose time does not flow in real time (SimulatedClock) says
                    # "wait 0" for a future timer; don't spin on it.
                    cond.wait(0.001)
                    continue
            for timer in fired:
                entry = self._entries.get(timer.owner)
                if entry is not None and entry.incarnation == timer.incarnation:
                    self._enqueue(entry, TimerFire(timer.incarnation, timer.message))
