"""Stable actor ids, deterministic position ids and client order ids, and price helpers.

Everything here is a pure function of its arguments, so a retry or a restart derives the
same ids again: the exchange refuses a second open order with a client order id it already
holds (``duplicate_client_order_id``), so the same intent can never be placed twice.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from messages import CLIENT_ORDER_ID_MAX_LEN, Side

__all__ = [
    "EXECUTION_ID",
    "GATEWAY_ID",
    "RISK_ID",
    "TRADING_ID",
    "Leg",
    "client_order_id",
    "hedge_actor_id",
    "leg_of",
    "opposite",
    "position_actor_id",
    "position_id_for",
    "to_decimal",
]

TRADING_ID = "trading"
"""The trading supervisor; positions and hedges are its dynamic children."""
RISK_ID = "risk"
EXECUTION_ID = "execution"
GATEWAY_ID = "gateway"
"""The order gateway every ``PlaceOrder``/``CancelOrder`` goes to (engine or REST)."""

_HASH_CHARS = 20


class Leg:
    """Short codes for what an order does; the suffix of its client order id."""

    ENTRY = "E"
    STOP = "SL"
    TARGET = "TP"
    EXIT = "X"
    FLATTEN = "K"
    HEDGE = "H"
    HEDGE_CLOSE = "HC"


def client_order_id(intent_id: str, leg: str, attempt: int) -> str:
    """Return the deterministic client order id of one order of one intent.

    ``<20 hex of blake2b(intent|leg|attempt)>-<leg><attempt>``, at most 32 characters for
    ``attempt`` below 10**7. The same (intent, leg, attempt) always gives the same id.
    """
    digest = hashlib.blake2b(
        f"{intent_id}|{leg}|{attempt}".encode(), digest_size=_HASH_CHARS // 2
    ).hexdigest()
    coid = f"{digest}-{leg}{attempt}"
    if len(coid) > CLIENT_ORDER_ID_MAX_LEN:
        msg = f"client order id {coid!r} is longer than {CLIENT_ORDER_ID_MAX_LEN}"
        raise ValueError(msg)
    return coid


def leg_of(coid: str) -> str:
    """Return the leg code of a client order id made by :func:`client_order_id` ("" if not)."""
    _, _, tail = coid.rpartition("-")
    return tail.rstrip("0123456789")


def position_id_for(signal_id: str) -> str:
    """Return the position id an entry signal opens: ``"p"`` + 12 hex of its hash."""
    return "p" + hashlib.blake2b(signal_id.encode(), digest_size=6).hexdigest()


def position_actor_id(position_id: str) -> str:
    """Stable id of a position's actor: ``"position:<id>"``."""
    return f"position:{position_id}"


def hedge_actor_id(hedge_id: str) -> str:
    """Stable id of a hedge's actor: ``"hedge:<id>"``."""
    return f"hedge:{hedge_id}"


def opposite(side: Side) -> Side:
    """Return the other side."""
    return Side.SELL if side is Side.BUY else Side.BUY


def to_decimal(value: float) -> Decimal:
    """Return a float statistic (indicator value, setting) as the Decimal of its shortest repr."""
    return Decimal(repr(float(value)))
