"""The actor base class and the context through which an actor touches the world.

An actor never touches pykka, threads, the wall clock or another actor's object. Everything
it may do goes through :class:`Context`: send to a stable id, publish and subscribe by
message type, schedule timers on the injected clock, ask a supervisor for dynamic children,
and stop itself. The same actor class therefore runs under the threaded runtime (pykka) and
under the deterministic runtime (backtests, reproducible tests).

Handlers are found by name: a message of class ``OrderFilled`` goes to ``on_order_filled``.
Every actor handles :class:`~messages.KillActor` naming it by failing (fault injection).
A message with no handler is logged as a WARNING with the actor id and counted, never
silently dropped. Whatever a handler returns is the reply when the message was an ask.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from actors._clock import Clock
from actors._specs import ChildSpec, StartChild, StopChild
from messages import BotError, KillActor

if TYPE_CHECKING:
    from messages import HealthReport

_log = logging.getLogger(__name__)
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class ActorKilled(BotError):
    """Raised inside an actor told to fail by a :class:`~messages.KillActor` command."""


def handler_name(message_type: type) -> str:
    """Return the handler method name for a message class: ``TopOfBook`` -> ``on_top_of_book``."""
    return "on_" + _CAMEL_BOUNDARY.sub("_", message_type.__name__).lower()


_M = TypeVar("_M")


class Kernel(Protocol):
    """What a runtime offers a context; implemented by the threaded and deterministic runtimes."""

    clock: Clock

    def send(self, target: str, message: object) -> bool: ...

    def publish(self, message: object, key: str | None, *, retain: bool = False) -> int: ...

    def publish_state(
        self, message_type: type, key: str | None, build: Callable[[], object]
    ) -> int: ...

    def latest(self, message_type: type, key: str | None) -> object | None: ...

    def has_subscribers(self, message_type: type, key: str | None = None) -> bool: ...

    def subscribe(self, actor_id: str, message_type: type, key: str | None) -> None: ...

    def unsubscribe(self, actor_id: str, message_type: type, key: str | None) -> None: ...

    def schedule(
        self, owner: str, incarnation: int, delay_ns: int, message: object, interval_ns: int
    ) -> int: ...

    def cancel_timer(self, timer_id: int) -> None: ...

    def request_stop_self(self, actor_id: str, incarnation: int) -> None: ...

    def health_report(self) -> HealthReport: ...

    def has_actor(self, actor_id: str) -> bool: ...

    def subscriptions(self, actor_id: str) -> tuple[tuple[type, str | None], ...]: ...


class Context:
    """An actor's handle on the runtime; one per incarnation, created by the runtime.

    Every method is safe to call from the actor's own handlers; ``send`` and ``publish``
    are also thread-safe under the threaded runtime.
    """

    __slots__ = ("_kernel", "actor_id", "clock", "incarnation", "log")

    def __init__(self, kernel: Kernel, actor_id: str, incarnation: int) -> None:
        self._kernel = kernel
        self.actor_id = actor_id
        self.incarnation = incarnation
        self.clock: Clock = kernel.clock
        self.log = logging.LoggerAdapter(logging.getLogger(f"actor.{actor_id}"), {})

    def now_ns(self) -> int:
        """Return the runtime clock's time in ns since the UNIX epoch."""
        return self.clock.now_ns()

    def send(self, target: str, message: object) -> bool:
        """Send ``message`` to the actor with stable id ``target``, resolved now.

        Under the threaded runtime ``send`` and ``publish`` are also safe from other threads
        (a stream's reader thread hands frames to actors this way).

        Returns False (and the runtime counts a dead letter) when no actor has that id.
        Messages to an actor that is restarting wait in its mailbox for the next incarnation.
        """
        return self._kernel.send(target, message)

    def publish(self, message: object, *, key: str | None = None, retain: bool = False) -> int:
        """Send ``message`` to every subscriber of its type (and of ``key``, if given).

        ``retain``: state rather than news (a top of book): an actor subscribing later gets
        the last one at once. Returns the number of subscribers it was sent to.
        """
        return self._kernel.publish(message, key, retain=retain)

    def publish_state(
        self, message_type: type, build: Callable[[], object], *, key: str | None = None
    ) -> int:
        """Publish the ``message_type`` that ``build()`` makes, retained, building it only
        when someone hears it: now, or on subscribing later. ``build`` must capture values,
        not this actor's mutable state (it may run later, on another thread)."""
        return self._kernel.publish_state(message_type, key, build)

    def latest(self, message_type: type[_M], *, key: str | None = None) -> _M | None:
        """The last retained ``message_type`` published under ``key``, or None.

        For state needed only at the moment of a decision (the other symbols' prices when a
        hedge is due): read then, instead of hearing every change. Messages are immutable,
        so the value read is safe to keep.
        """
        return self._kernel.latest(message_type, key)  # type: ignore[return-value]

    def has_subscribers(self, message_type: type, *, key: str | None = None) -> bool:
        """Whether :meth:`publish` of a ``message_type`` under ``key`` would reach anyone now.

        Lets a publisher skip building a message nobody would receive (a price tick with
        no position listening): publishing it would send nothing either.
        """
        return self._kernel.has_subscribers(message_type, key)

    def subscribe(self, message_type: type, *, key: str | None = None) -> None:
        """Receive every published message of ``message_type`` (only those under ``key``).

        Subscriptions end with the incarnation: a restarted actor subscribes again in on_start.
        """
        self._kernel.subscribe(self.actor_id, message_type, key)

    def unsubscribe(self, message_type: type, *, key: str | None = None) -> None:
        """Stop receiving what :meth:`subscribe` asked for."""
        self._kernel.unsubscribe(self.actor_id, message_type, key)

    def schedule(self, delay_ns: int, message: object) -> int:
        """Deliver ``message`` to this actor after ``delay_ns`` of clock time; returns a timer id.

        Timers end with the incarnation, so a restarted actor never gets its predecessor's.
        """
        return self._kernel.schedule(self.actor_id, self.incarnation, delay_ns, message, 0)

    def schedule_repeating(self, interval_ns: int, message: object) -> int:
        """Deliver ``message`` to this actor every ``interval_ns`` of clock time."""
        if interval_ns <= 0:
            msg = f"{self.actor_id}: repeating interval must be positive, was {interval_ns} ns"
            raise ValueError(msg)
        return self._kernel.schedule(
            self.actor_id, self.incarnation, interval_ns, message, interval_ns
        )

    def cancel_timer(self, timer_id: int) -> None:
        """Cancel a timer; cancelling one that already fired or was cancelled does nothing."""
        self._kernel.cancel_timer(timer_id)

    def start_child(self, supervisor_id: str, spec: ChildSpec) -> None:
        """Ask supervisor ``supervisor_id`` to start a dynamic child (a position, a hedge)."""
        self._kernel.send(supervisor_id, StartChild(spec))

    def stop_child(self, supervisor_id: str, actor_id: str) -> None:
        """Ask supervisor ``supervisor_id`` to stop and forget the dynamic child ``actor_id``."""
        self._kernel.send(supervisor_id, StopChild(actor_id))

    def stop_self(self) -> None:
        """End this actor normally once the current message is handled.

        Its supervisor then applies the restart type: transient and temporary children are
        removed, permanent ones restarted.
        """
        self._kernel.request_stop_self(self.actor_id, self.incarnation)

    def health_report(self) -> HealthReport:
        """Return the runtime's current health report (for the health reporter and console)."""
        return self._kernel.health_report()

    def has_actor(self, actor_id: str) -> bool:
        """Whether an actor with stable id ``actor_id`` is registered (running or restarting)."""
        return self._kernel.has_actor(actor_id)

    def subscriptions(self) -> tuple[tuple[type, str | None], ...]:
        """This actor's current subscriptions as (message type, key or None)."""
        return self._kernel.subscriptions(self.actor_id)


@dataclass(frozen=True, slots=True)
class Journaled:
    """An event the storage writer committed to the journal as number ``seq``, on its way to
    the subscribers of ``event``'s type (under ``key``) or to one target actor.

    Published and routed by the event's own type; a plain actor's handler receives the bare
    event, a durable actor also records ``seq`` as applied (see ``actors._durable``).
    """

    seq: int
    key: str | None
    event: object


@dataclass(frozen=True, slots=True)
class Describe:
    """Console to any actor, by ask: reply with :meth:`Actor.describe`.

    Asked rather than read from another thread, so the summary is built in the actor's own
    thread (never racing its handlers) and a stuck actor shows up as an ask timeout.
    """


class Actor:
    """Base class of every actor: override ``on_start``, ``on_stop`` and ``on_<message>``.

    The runtime sets ``self.context`` before ``on_start`` runs. An exception escaping any
    handler (including ``on_start``, and any BaseException but KeyboardInterrupt) ends this
    incarnation as a failure, reported to the supervisor, which restarts it per its policy.
    """

    context: Context
    _handlers: ClassVar[dict[type, Callable[[Any, Any], Any] | None]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = {}

    def on_start(self) -> None:
        """Run once when an incarnation starts, before any message; subscribe here."""

    def on_stop(self) -> None:
        """Run once when an incarnation is stopped on purpose (not after a failure)."""

    def describe(self) -> dict[str, object]:
        """Return a short summary of this actor's state for the console; no secrets."""
        return {}

    def receive(self, message: object) -> Any:
        """Dispatch ``message`` to its ``on_<snake_case_type>`` handler and return its result."""
        handlers = type(self)._handlers
        message_type = type(message)
        if message_type is Journaled:
            message = message.event  # type: ignore[attr-defined]
            message_type = type(message)
        try:
            handler = handlers[message_type]
        except KeyError:
            handler = getattr(type(self), handler_name(message_type), None)
            handlers[message_type] = handler
        if handler is None:
            return self.on_unhandled(message)
        return handler(self, message)

    def on_kill_actor(self, command: KillActor) -> None:
        """Fail now if ``command`` names this actor: fault injection for tests and drills.

        The failure is an ordinary crash, so the supervisor applies its policy as for any bug.
        """
        if command.actor_id == self.context.actor_id:
            raise ActorKilled(f"{self.context.actor_id}: killed by command {command.command_id}")

    def on_describe(self, _: Describe) -> dict[str, object]:
        """Answer the console's :class:`Describe` ask with :meth:`describe`."""
        return self.describe()

    def on_unhandled(self, message: object) -> None:
        """Log a message no handler takes, as a WARNING naming the actor (never silent)."""
        self.context.log.warning(
            "%s: no handler %s for %s",
            self.context.actor_id,
            handler_name(type(message)),
            type(message).__name__,
        )
