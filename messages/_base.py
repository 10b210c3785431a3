"""The four kinds of message, and the registry of every concrete message type.

Kinds (abstract; never sent themselves):

- :class:`Command` asks one actor to do something. Named in the imperative
  (``PlaceOrder``). Carries ``command_id``; the events it causes echo that id.
- :class:`Event` says that something happened. Named in the past tense (``OrderFilled``),
  except market data, which is named for the observation it carries (``Trade``,
  ``BookSnapshot``). Carries ``ts_event``, when it happened.
- :class:`Request` asks an actor for an answer without blocking: it carries
  ``request_id`` and ``reply_to``, the stable id of the actor that wants the
  :class:`Response`. Named in the imperative (``FetchCandles``).
- :class:`Response` answers one request and echoes its ``request_id``. Named after the
  request with ``Reply`` (``FetchCandlesReply``).

Every message carries ``ts_init``, when the object was created. Times are integer
nanoseconds since the UNIX epoch (UTC).

Every concrete subclass registers itself, under its class name, when its class statement
runs (``__init_subclass__``). The class name is the codec's ``"type"`` tag, so two
different classes with the same name raise :class:`MessageDefinitionError` at import.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from messages._errors import MessageDefinitionError
from messages._schema import Value, install_fast_init
from messages._types import ActorId, UnixNanos

_REGISTRY: dict[str, type[Message]] = {}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Message(Value):
    """Base of the four kinds. Abstract: concrete messages derive from one kind.

    Attributes:
        ts_init: When this object was created, ns since the UNIX epoch (UTC).
    """

    _abstract: ClassVar[bool] = True

    ts_init: UnixNanos

    def __init_subclass__(cls, **kwargs: object) -> None:
        """Register every concrete subclass under its class name.

        Runs when a subclass's class statement runs, so the registry is complete once the
        modules that declare messages are imported.

        Raises:
            MessageDefinitionError: Another class already uses this name.
        """
        install_fast_init(cls)  # what Value.__init_subclass__ does (not reachable by super())
        if not cls.__dict__.get("_abstract", False):
            _register(cls)


def _register(cls: type[Message]) -> None:
    name = cls.__name__
    existing = _REGISTRY.get(name)
    if existing is not None and not _same_declaration(existing, cls):
        raise MessageDefinitionError(
            f"duplicate message type name {name!r}: {existing.__module__}."
            f"{existing.__qualname__} and {cls.__module__}.{cls.__qualname__}; the class "
            "name is the wire type tag, so it must be unique"
        )
    _REGISTRY[name] = cls


def _same_declaration(existing: type, cls: type) -> bool:
    """Tell a re-registration of one class statement from a real duplicate name.

    ``@dataclass(slots=True)`` builds a second, slotted class from the first, so one class
    statement registers twice: first a class without ``__slots__``, then the slotted one
    (whose ``__qualname__`` is fixed only afterwards), which replaces it. Re-running the
    same statement (a module reload) also replaces the old class.
    """
    if existing.__module__ != cls.__module__:
        return False
    if "__slots__" not in existing.__dict__ and "__slots__" in cls.__dict__:
        return True
    return bool(existing.__qualname__ == cls.__qualname__)


def all_message_types() -> tuple[type[Message], ...]:
    """Return every registered concrete message class, sorted by name."""
    return tuple(_REGISTRY[name] for name in sorted(_REGISTRY))


def message_type(name: str) -> type[Message] | None:
    """Return the registered message class whose name (type tag) is ``name``, or None."""
    return _REGISTRY.get(name)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Command(Message):
    """A request that one actor do something. Named in the imperative.

    Attributes:
        command_id: Unique id of this command; every event it causes echoes it.
        ts_init: When this object was created, ns since the UNIX epoch (UTC).
    """

    _abstract: ClassVar[bool] = True

    command_id: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Event(Message):
    """A fact: something happened. Named in the past tense.

    Attributes:
        ts_event: When it happened (exchange time for venue data), ns since the UNIX epoch.
        ts_init: When this object was created, ns since the UNIX epoch (UTC).
    """

    _abstract: ClassVar[bool] = True

    ts_event: UnixNanos


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Request(Message):
    """A question to one actor, answered later by a :class:`Response`; never blocks.

    Attributes:
        request_id: Unique id of this request; the response echoes it.
        reply_to: Stable id of the actor that receives the response (``"risk"``).
        ts_init: When this object was created, ns since the UNIX epoch (UTC).
    """

    _abstract: ClassVar[bool] = True

    request_id: str
    reply_to: ActorId


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Response(Message):
    """The answer to one :class:`Request`.

    Attributes:
        request_id: The ``request_id`` of the request this answers.
        ts_init: When this object was created, ns since the UNIX epoch (UTC).
    """

    _abstract: ClassVar[bool] = True

    request_id: str
