"""Enumerations shared by market data and trading messages.

Every enum is an ``enum.StrEnum`` whose values are the member names, so the wire form
(``"BUY"``) reads the same as the code (``Side.BUY``). Venue spellings ("buy",
"limit_order") are mapped to these in ``exchange/delta/``, never here.
"""

from __future__ import annotations

import enum


class Side(enum.StrEnum):
    """The side of an order, a fill or a trade (for a trade: the taker's side)."""

    BUY = "BUY"
    SELL = "SELL"


class OrderType(enum.StrEnum):
    """How an order executes.

    ``LIMIT`` rests at ``limit_price``; ``MARKET`` takes liquidity now. The stop and
    take-profit types wait until the mark price crosses ``stop_price``, then become a
    market order (``*_MARKET``) or a limit order at ``limit_price`` (``*_LIMIT``).
    """

    LIMIT = "LIMIT"
    MARKET = "MARKET"
    STOP_MARKET = "STOP_MARKET"
    STOP_LIMIT = "STOP_LIMIT"
    TAKE_PROFIT_MARKET = "TAKE_PROFIT_MARKET"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"


class TimeInForce(enum.StrEnum):
    """How long an order stays open: until cancelled, immediate-or-cancel, fill-or-kill."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(enum.StrEnum):
    """Where an order is in its life, as the exchange reports it.

    ``PENDING`` is sent but not yet acknowledged; ``OPEN`` rests with nothing filled;
    ``PARTIALLY_FILLED`` rests with some filled; the last three are final.
    """

    PENDING = "PENDING"
    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"


class Direction(enum.StrEnum):
    """What a strategy signal asks for: enter long, enter short, or exit the position."""

    LONG = "LONG"
    SHORT = "SHORT"
    EXIT = "EXIT"


class RiskVerdict(enum.StrEnum):
    """What the risk actor decided about a proposed trade.

    ``APPROVED`` as proposed, ``RESIZED`` approved with a smaller size, ``REJECTED`` not
    traded.
    """

    APPROVED = "APPROVED"
    RESIZED = "RESIZED"
    REJECTED = "REJECTED"
