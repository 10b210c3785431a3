"""Domain types shared by every message: units live in the type, not only in the name.

The NewTypes cost nothing at run time (they are the plain ``int`` or ``str``); they let
mypy catch a size passed as a time or a time passed as a size. Wrap a raw value once, where
it enters the system: ``UnixNanos(clock.now_ns())``, ``Contracts(10)``, ``ActorId("risk")``.

Money and exchange prices are ``decimal.Decimal`` (exact), never ``float``. Indicator
values are ``float``: they are statistics, not money.
"""

from __future__ import annotations

from typing import NewType

UnixNanos = NewType("UnixNanos", int)
"""A point in time: integer nanoseconds since the UNIX epoch, UTC."""

Contracts = NewType("Contracts", int)
"""A size in integer contracts. Signed where it is a position (long > 0, short < 0)."""

ActorId = NewType("ActorId", str)
"""The stable id of an actor, for example ``"risk"`` or ``"book:BTCUSD"``."""

__all__ = ["ActorId", "Contracts", "UnixNanos"]
