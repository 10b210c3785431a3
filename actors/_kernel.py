"""What both runtimes share: the registry of stable ids, publish/subscribe, health.

An :class:`Entry` outlives the incarnations of its actor. Sends resolve the stable id to the
entry at send time, so a message sent after a restart reaches the new incarnation, and a
message sent while the actor restarts waits in the entry's mailbox. The runtime-specific
parts (mailboxes, threads, the message loop) live in the subclasses.
"""

from __future__ import annotations

import abc
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from actors._actor import Actor, Context, Journaled
from actors._clock import Clock
from actors._specs import ChildExited, ChildSpec, ExitKind
from actors._supervision import SupervisorLogic
from actors._timers import TimerQueue
from messages import (
    ActorHealth,
    ActorId,
    ActorState,
    ActorStateChanged,
    BotError,
    HealthReport,
    OverallHealth,
    SupervisorHealth,
    UnixNanos,
)

_log = logging.getLogger(__name__)

_PROBLEM_STATES = frozenset({ActorState.RESTARTING, ActorState.UNRESPONSIVE, ActorState.ABANDONED})

_S = ActorState
TRANSITIONS: dict[ActorState, frozenset[ActorState]] = {
    _S.STARTING: frozenset({_S.RUNNING, _S.STOPPED, _S.ABANDONED}),
    _S.RUNNING: frozenset({_S.STOPPING, _S.STOPPED, _S.RESTARTING, _S.FAILED}),
    _S.STOPPING: frozenset({_S.STOPPED, _S.ABANDONED, _S.RESTARTING, _S.FAILED}),
    _S.STOPPED: frozenset({_S.STARTING, _S.RESTARTING}),
    _S.RESTARTING: frozenset({_S.STARTING, _S.STOPPED}),
    _S.FAILED: frozenset({_S.STARTING, _S.RESTARTING}),
    _S.ABANDONED: frozenset({_S.STARTING, _S.RESTARTING}),
    _S.UNRESPONSIVE: frozenset(),  # derived in health reports, never stored
}
"""The lifecycle an entry may follow; UNRESPONSIVE is computed, never stored."""


class ActorError(BotError):
    """Root of the actor runtime's errors.

    ActorError
    |- RuntimeFailed             the root could not start, or gave up
    |- AskTimeout                an ask got no reply in time
    |- ActorCrashed              the asked message made the actor fail
    |- RestartIntensityExceeded  a supervisor gave up (its failure, escalated)
    `- ChildStartFailed          a supervisor's initial children could not all start
    """


class RuntimeFailed(ActorError):
    """Raised when the root actor failed to start; the cause is chained."""


class AskTimeout(ActorError, TimeoutError):
    """Raised when an ask got no reply within its timeout; the actor may still be working."""


class ActorCrashed(ActorError):
    """Raised to an asker when the asked message made the actor fail; the cause is chained."""


class _Deferred:
    """A retained message not built yet: the first subscriber that needs it builds it."""

    __slots__ = ("build",)

    def __init__(self, build: Callable[[], object]) -> None:
        self.build = build


@dataclass(slots=True)
class Entry:
    """One stable actor id and what the runtime knows of it, across incarnations."""

    actor_id: str
    parent: str | None
    actor_class: str = ""
    state: ActorState = ActorState.STARTING
    incarnation: int = 0
    restarts: int = 0
    started_mono_ns: int = 0
    last_message_mono_ns: int | None = None
    busy_since_mono_ns: int = 0
    supervisor: SupervisorLogic | None = None
    actor: Actor | None = None
    mailbox: Any = None
    runner: Any = None
    thread_ident: int | None = None
    stop_requested: bool = False
    shutdown_timeout_ns: int = 2_000_000_000
    children: list[str] = field(default_factory=list)


class KernelBase(abc.ABC):
    """Registry, pub/sub, timers and health shared by the threaded and deterministic runtimes.

    Subclasses implement delivery (``_enqueue``), starting and stopping incarnations, and
    ``_mono_ns`` (the time base for liveness: real monotonic time when threaded, the
    simulated clock when deterministic).
    """

    def __init__(
        self, *, clock: Clock, seed: int | None = None, unresponsive_after_ns: int = 5_000_000_000
    ) -> None:
        self.clock = clock
        self.unresponsive_after_ns = unresponsive_after_ns
        self.dead_letters = 0
        self.root_id: str | None = None
        self.root_shutdown_ns = 10_000_000_000
        self.root_failure: BaseException | None = None
        self._entries: dict[str, Entry] = {}
        self._subs: dict[tuple[type, str | None], tuple[str, ...]] = {}
        self._topics: dict[str, set[tuple[type, str | None]]] = {}
        """Each subscriber's topics, so that an ending actor's subscriptions go in time
        proportional to its own (positions subscribe under their own ids: thousands of
        keys over a long run), and a topic with no subscriber left is removed."""
        self._retained: dict[tuple[type, str | None], object] = {}
        self._timers = TimerQueue()
        self._lock = threading.RLock()
        self._random = random.Random(seed)

    # -- the registry ----------------------------------------------------------------------

    def entry(self, actor_id: str) -> Entry | None:
        """Return the entry of ``actor_id``, or None."""
        return self._entries.get(actor_id)

    def actor_ids(self) -> tuple[str, ...]:
        """Return every registered actor id in registration order."""
        return tuple(self._entries)

    def _entry_for_start(self, spec: ChildSpec, parent: str | None) -> Entry:
        actor_id = spec.actor_id
        with self._lock:
            entry = self._entries.get(actor_id)
            if entry is None:
                entry = Entry(actor_id, parent, mailbox=self._new_mailbox())
                self._entries[actor_id] = entry
                if parent is not None and parent in self._entries:
                    self._entries[parent].children.append(actor_id)
            elif entry.parent != parent:
                msg = f"actor id {actor_id!r} already belongs to {entry.parent!r}"
                raise ValueError(msg)
            entry.shutdown_timeout_ns = spec.shutdown_timeout_ns
            return entry

    def remove_actor(self, actor_id: str) -> None:
        """Forget ``actor_id``; messages still waiting for it are counted as dead letters."""
        with self._lock:
            entry = self._entries.pop(actor_id, None)
            if entry is None:
                return
            if entry.parent in self._entries:
                siblings = self._entries[entry.parent].children
                if actor_id in siblings:
                    siblings.remove(actor_id)
        dropped = self._drain_dead_mailbox(entry)
        if dropped:
            # Expected when an actor ends itself while published events are still queued
            # for it (a closed position and its last ticks); counted, not shouted.
            self.dead_letters += dropped
            _log.debug("%s: removed with %d undelivered messages", actor_id, dropped)

    def set_state(self, actor_id: str, state: ActorState, reason: str = "") -> None:
        """Move ``actor_id`` to ``state`` (supervisors mark RESTARTING)."""
        entry = self._entries.get(actor_id)
        if entry is not None:
            self._transition(entry, state, reason)

    def _settle_stopped(self, entry: Entry) -> None:
        """A stop found nothing running: a child waiting to restart is now simply stopped."""
        if entry.state in (ActorState.RESTARTING, ActorState.STARTING, ActorState.STOPPING):
            self._transition(entry, ActorState.STOPPED, "stopped while not running")

    def _transition(self, entry: Entry, new: ActorState, reason: str) -> None:
        """Change an entry's state through the transition table and publish the change.

        An illegal transition is a runtime bug: it is logged as an ERROR and applied anyway,
        because health must show what is true.
        """
        old = entry.state
        if old is new:
            return
        if new not in TRANSITIONS[old]:
            _log.error(
                "%s: illegal state transition %s -> %s (%s)", entry.actor_id, old, new, reason
            )
        entry.state = new
        if self._subs.get((ActorStateChanged, None)):
            now = UnixNanos(self.clock.now_ns())
            self.publish(
                ActorStateChanged(
                    actor_id=ActorId(entry.actor_id),
                    old=old,
                    new=new,
                    reason=reason,
                    ts_event=now,
                    ts_init=now,
                ),
                None,
            )

    def attach_supervisor(self, actor_id: str, logic: SupervisorLogic) -> None:
        """Let health reports read a supervisor's restart intensity."""
        entry = self._entries.get(actor_id)
        if entry is not None:
            entry.supervisor = logic

    def unit_random(self) -> float:
        """Return a number in [0, 1) from the runtime's seeded generator (backoff jitter)."""
        return self._random.random()

    # -- sending ---------------------------------------------------------------------------

    def send(self, target: str, message: object) -> bool:
        """Put ``message`` in the mailbox of ``target``; False and a dead letter if unknown."""
        entry = self._entries.get(target)
        if entry is None:
            self.dead_letters += 1
            _log.warning("dead letter: no actor %r for %s", target, type(message).__name__)
            return False
        self._enqueue(entry, message)
        return True

    def publish(self, message: object, key: str | None, *, retain: bool = False) -> int:
        """Send ``message`` to the subscribers of its type (and of ``key``).

        ``retain``: the message is state (a top of book, the correlations): it is kept as the
        last of its type and key, and an actor subscribing later gets it at once, so a
        position started between two updates does not wait for the next one.
        """
        message_type = type(message)
        if message_type is Journaled:  # routed by the event it carries
            message_type = type(message.event)  # type: ignore[attr-defined]
        if retain:
            # Kept and sent under the lock subscribe takes: a new subscriber gets this
            # message from here or from the retained table, never an older one after it.
            with self._lock:
                self._retained[(message_type, key)] = message
                return self._send_all(self._targets(message_type, key), message)
        return self._send_all(self._targets(message_type, key), message)

    def publish_state(
        self, message_type: type, key: str | None, build: Callable[[], object]
    ) -> int:
        """Publish ``build()`` retained, building it only if someone hears it.

        For state that changes far more often than anyone subscribes (a simulated top of
        book moves on every market step, heard only while an entry is in flight): with no
        subscriber now, ``build`` is kept and called by the first later subscriber. It must
        capture values, not mutable state, since it may run later, on another thread.
        """
        with self._lock:  # reentrant: publish takes it again
            if not self._targets(message_type, key):
                self._retained[(message_type, key)] = _Deferred(build)
                return 0
            return self.publish(build(), key, retain=True)

    def _targets(self, message_type: type, key: str | None) -> tuple[str, ...]:
        subs = self._subs
        targets = subs.get((message_type, None), ())
        if key is not None:
            keyed = subs.get((message_type, key))
            if keyed:
                targets = targets + keyed
        return targets

    def _send_all(self, targets: tuple[str, ...], message: object) -> int:
        send = self.send
        for target in targets:
            send(target, message)
        return len(targets)

    def has_subscribers(self, message_type: type, key: str | None = None) -> bool:
        """Whether :meth:`publish` of a ``message_type`` under ``key`` would reach anyone
        (a publisher outside the actors, like the backtest, then skips building it)."""
        subs = self._subs
        return bool(
            subs.get((message_type, None)) or (key is not None and subs.get((message_type, key)))
        )

    def subscribe(self, actor_id: str, message_type: type, key: str | None) -> None:
        """Add ``actor_id`` to the subscribers of (``message_type``, ``key``)."""
        with self._lock:
            current = self._subs.get((message_type, key), ())
            if actor_id in current:
                return
            self._subs[(message_type, key)] = (*current, actor_id)
            self._topics.setdefault(actor_id, set()).add((message_type, key))
            if not self._retained:
                return
            for topic, held in list(self._retained.items()):
                if topic[0] is message_type and (key is None or topic[1] == key):
                    self.send(actor_id, self._built(topic, held))

    def latest(self, message_type: type, key: str | None) -> object | None:
        """The retained ``message_type`` under ``key`` (built now if deferred), or None."""
        with self._lock:
            held = self._retained.get((message_type, key))
            return None if held is None else self._built((message_type, key), held)

    def _built(self, topic: tuple[type, str | None], held: object) -> object:
        """A retained message, built now if it was deferred (the caller holds the lock)."""
        if type(held) is _Deferred:
            held = self._retained[topic] = held.build()
        return held

    def has_actor(self, actor_id: str) -> bool:
        """Whether ``actor_id`` is registered (running, restarting or stopped but kept)."""
        return actor_id in self._entries

    def subscriptions(self, actor_id: str) -> tuple[tuple[type, str | None], ...]:
        """The (message type, key) pairs ``actor_id`` subscribes to."""
        with self._lock:
            return tuple(self._topics.get(actor_id, ()))

    def topic_count(self) -> int:
        """How many (message type, key) topics have a subscriber: bounded by the actors
        alive, however many have come and gone."""
        with self._lock:
            return len(self._subs)

    def unsubscribe(self, actor_id: str, message_type: type, key: str | None) -> None:
        """Remove ``actor_id`` from the subscribers of (``message_type``, ``key``)."""
        with self._lock:
            topics = self._topics.get(actor_id)
            if topics is not None:
                topics.discard((message_type, key))
            self._drop_subscriber((message_type, key), actor_id)

    def _unsubscribe_all(self, actor_id: str) -> None:
        with self._lock:
            for topic in self._topics.pop(actor_id, ()):
                self._drop_subscriber(topic, actor_id)

    def _drop_subscriber(self, topic: tuple[type, str | None], actor_id: str) -> None:
        """Remove ``actor_id`` from ``topic`` (the caller holds the lock); an empty topic goes."""
        rest = tuple(a for a in self._subs.get(topic, ()) if a != actor_id)
        if rest:
            self._subs[topic] = rest
        else:
            self._subs.pop(topic, None)

    # -- lifecycle shared by both runtimes ------------------------------------------------

    def start_root(self, spec: ChildSpec) -> None:
        """Start the root actor (normally the root supervisor) and its whole tree.

        Raises:
            RuntimeFailed: if it failed to start; the cause is chained.
        """
        self.root_id = spec.actor_id
        self.root_shutdown_ns = spec.shutdown_timeout_ns
        _, error = self.start_actor(spec, None)
        if error is not None:
            raise RuntimeFailed(f"{spec.actor_id} failed to start: {error}") from error

    def request_stop_self(self, actor_id: str, incarnation: int) -> None:
        """Mark ``actor_id`` to end normally after its current message."""
        entry = self._entries.get(actor_id)
        if entry is not None and entry.incarnation == incarnation:
            entry.stop_requested = True

    def schedule(
        self, owner: str, incarnation: int, delay_ns: int, message: object, interval_ns: int
    ) -> int:
        """Deliver ``message`` to ``owner`` after ``delay_ns`` of clock time (repeating if set)."""
        with self._lock:
            timer_id = self._timers.add(
                due_ns=self.clock.now_ns() + max(0, delay_ns),
                owner=owner,
                incarnation=incarnation,
                message=message,
                interval_ns=interval_ns,
            )
            self._timer_added()
        return timer_id

    def cancel_timer(self, timer_id: int) -> None:
        """Cancel a timer; unknown or fired ids are ignored."""
        with self._lock:
            self._timers.cancel(timer_id)

    def _timer_added(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Hook run with the lock held after a timer was added (the threaded runtime wakes)."""

    def _new_actor(self, spec: ChildSpec, entry: Entry) -> Actor | BaseException:
        """Build a fresh actor for ``spec``; a failing factory leaves the entry STOPPED."""
        try:
            return spec.factory()
        except Exception as error:
            _log.exception("%s: factory failed", spec.actor_id)
            self._transition(entry, ActorState.STOPPED, "factory failed")
            return error

    @staticmethod
    def _call_on_stop(actor: Actor, actor_id: str) -> None:
        """Run ``on_stop``; its failure is logged, never raised (the actor is ending anyway)."""
        try:
            actor.on_stop()
        except Exception:
            _log.exception("%s: on_stop failed", actor_id)

    # -- incarnations ----------------------------------------------------------------------

    def _begin_incarnation(self, entry: Entry, actor: Actor) -> Context:
        entry.incarnation += 1
        if entry.incarnation > 1:
            entry.restarts += 1
        entry.actor = actor
        entry.actor_class = type(actor).__name__
        self._transition(entry, ActorState.STARTING, f"incarnation {entry.incarnation}")
        entry.stop_requested = False
        entry.started_mono_ns = self._mono_ns()
        context = Context(self, entry.actor_id, entry.incarnation)
        actor.context = context
        return context

    def _end_incarnation(
        self, entry: Entry, incarnation: int, kind: ExitKind, error: BaseException | None
    ) -> None:
        """Clean up after an incarnation ended; tell the parent unless it stopped it.

        Only the live incarnation may change the entry: a stale one (left behind after an
        abandon) just loses its timers.
        """
        with self._lock:
            self._timers.cancel_owner(entry.actor_id, incarnation)
        if incarnation != entry.incarnation:
            return
        self._unsubscribe_all(entry.actor_id)
        entry.busy_since_mono_ns = 0
        if kind is ExitKind.FAILURE:
            # A supervised actor waits for its supervisor's verdict; only the root fails.
            new = ActorState.RESTARTING if entry.parent else ActorState.FAILED
            self._transition(entry, new, f"{type(error).__name__}: {error}")
            self._stop_orphans(entry)
        else:
            self._transition(entry, ActorState.STOPPED, str(kind))
        if kind is ExitKind.SHUTDOWN:
            return
        if entry.parent is None:
            self._root_exited(entry, error)
        else:
            self.send(entry.parent, ChildExited(entry.actor_id, incarnation, kind, error))

    def _stop_orphans(self, entry: Entry) -> None:
        """A failed actor takes its running children down with it (a linked exit)."""
        for child_id in reversed(list(entry.children)):
            child = self._entries.get(child_id)
            if child is not None and child.state not in (ActorState.STOPPED, ActorState.FAILED):
                self.stop_actor(child_id, child.shutdown_timeout_ns)

    def _root_exited(self, entry: Entry, error: BaseException | None) -> None:
        self.root_failure = error or RuntimeError(f"root {entry.actor_id} exited")
        _log.critical("root supervisor %s exited: %r", entry.actor_id, self.root_failure)

    # -- health ----------------------------------------------------------------------------

    def health_report(self) -> HealthReport:
        """Return the state of every actor and supervisor and the overall verdict."""
        now_mono = self._mono_ns()
        now_ns = self.clock.now_ns()
        actors = []
        supervisors = []
        for entry in list(self._entries.values()):
            state = entry.state
            busy = entry.busy_since_mono_ns
            if (
                state is ActorState.RUNNING
                and busy
                and now_mono - busy > self.unresponsive_after_ns
            ):
                state = ActorState.UNRESPONSIVE
            last = entry.last_message_mono_ns
            actors.append(
                ActorHealth(
                    actor_id=ActorId(entry.actor_id),
                    actor_class=entry.actor_class,
                    state=state,
                    restarts=entry.restarts,
                    inbox_size=self._mailbox_size(entry),
                    last_message_age_ns=None if last is None else max(0, now_mono - last),
                    uptime_ns=max(0, now_mono - entry.started_mono_ns),
                    parent=None if entry.parent is None else ActorId(entry.parent),
                )
            )
            logic = entry.supervisor
            if logic is not None:
                supervisors.append(
                    SupervisorHealth(
                        actor_id=ActorId(entry.actor_id),
                        strategy=str(logic.spec.strategy),
                        restarts_in_window=logic.restarts_in_window(now_ns),
                        max_restarts=logic.spec.max_restarts,
                        window_ns=logic.spec.within_ns,
                        children=tuple(ActorId(c) for c in logic.child_ids()),
                    )
                )
        return HealthReport(
            ts_event=UnixNanos(now_ns),
            ts_init=UnixNanos(now_ns),
            overall=self._overall(actors),
            actors=tuple(actors),
            supervisors=tuple(supervisors),
        )

    def _overall(self, actors: list[ActorHealth]) -> OverallHealth:
        if self.root_failure is not None or any(a.state is ActorState.FAILED for a in actors):
            return OverallHealth.FAILED
        if any(a.state in _PROBLEM_STATES for a in actors):
            return OverallHealth.DEGRADED
        return OverallHealth.OK

    # -- runtime-specific ------------------------------------------------------------------

    @abc.abstractmethod
    def _mono_ns(self) -> int:
        """Return the time base for liveness and uptime, ns."""

    @abc.abstractmethod
    def _new_mailbox(self) -> Any:
        """Return an empty mailbox for a new entry."""

    @abc.abstractmethod
    def _enqueue(self, entry: Entry, message: object) -> None:
        """Put ``message`` in the entry's mailbox."""

    @abc.abstractmethod
    def _mailbox_size(self, entry: Entry) -> int:
        """Return how many messages wait in the entry's mailbox."""

    @abc.abstractmethod
    def _drain_dead_mailbox(self, entry: Entry) -> int:
        """Empty a removed entry's mailbox, failing waiting asks; return how many were dropped."""

    @abc.abstractmethod
    def start_actor(self, spec: ChildSpec, parent: str | None) -> tuple[int, BaseException | None]:
        """Start a new incarnation of ``spec``; return it and the start error, if any."""

    @abc.abstractmethod
    def stop_actor(self, actor_id: str, timeout_ns: int) -> bool:
        """Stop the running incarnation of ``actor_id``; False if it was abandoned."""
