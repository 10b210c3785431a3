"""Orders: the commands the execution actor sends and the events the exchange answers with.

Life of an order: ``PlaceOrder`` -> ``OrderAccepted`` or ``OrderRejected`` -> zero or more
``OrderFilled`` -> (``OrderCancelled`` unless fully filled). Every order event carries the
order's ``client_order_id``, which is deterministic (derived from the intent) so that a
retry after a timeout or a crash cannot place the same order twice. Events a command
causes also echo its ``command_id``.

Every event here changes money or exposure, so each is journaled before actors act on it.
Prices are ``Decimal`` quote currency; sizes are positive integer contracts; fees are
``Decimal`` in ``fee_asset``, positive when paid, negative for a rebate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from messages._base import Command, Event, Request, Response
from messages._enums import OrderStatus, OrderType, Side, TimeInForce
from messages._errors import InvalidFieldError
from messages._schema import Value
from messages._types import Contracts

CLIENT_ORDER_ID_MAX_LEN = 32
"""Delta Exchange accepts client order ids of at most 32 characters."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceOrder(Command):
    """Place one order on the exchange.

    Construction checks what the venue would refuse anyway: ``client_order_id`` has 1 to
    32 characters and ``size`` is positive (else :class:`InvalidFieldError`). Whether the
    prices fit the order type is the execution actor's check.

    Attributes:
        client_order_id: Our id for the order, 1 to 32 characters, deterministic.
        symbol: Venue symbol.
        side: Buy or sell.
        size: Order size, contracts, > 0.
        order_type: Limit, market, stop or take-profit.
        limit_price: Limit price, quote currency; None for market-type orders.
        stop_price: Trigger price, quote currency; None unless a stop or take-profit.
        post_only: True to cancel rather than take liquidity (maker only).
        reduce_only: True to only ever reduce the position.
        time_in_force: GTC, IOC or FOK.
        position_id: The position this order opens, changes or closes, or None.
        command_id: Echoed by ``OrderAccepted``/``OrderRejected``. ts_init: creation, ns.
    """

    client_order_id: str
    symbol: str
    side: Side
    size: Contracts
    order_type: OrderType
    limit_price: Decimal | None
    stop_price: Decimal | None
    post_only: bool
    reduce_only: bool
    time_in_force: TimeInForce
    position_id: str | None

    def __post_init__(self) -> None:
        """Check the field types, then the id length and the size."""
        Value.__post_init__(self)
        if not 1 <= len(self.client_order_id) <= CLIENT_ORDER_ID_MAX_LEN:
            raise InvalidFieldError(
                "PlaceOrder",
                "client_order_id",
                f"must have 1 to {CLIENT_ORDER_ID_MAX_LEN} characters, "
                f"has {len(self.client_order_id)}",
            )
        if self.size <= 0:
            raise InvalidFieldError("PlaceOrder", "size", f"must be > 0, is {self.size}")


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOrder(Command):
    """Cancel one open order.

    Attributes:
        client_order_id: The order to cancel.
        symbol: Venue symbol of the order.
        command_id: Echoed by the resulting ``OrderCancelled``. ts_init: creation, ns.
    """

    client_order_id: str
    symbol: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAllOrders(Command):
    """Cancel every open order of one symbol, or of every symbol.

    Attributes:
        symbol: Venue symbol, or None for all symbols.
        reason: Why, for the log and journal (``"flatten"``, ``"kill switch"``).
        command_id: Echoed by each resulting ``OrderCancelled``. ts_init: creation, ns.
    """

    symbol: str | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAccepted(Event):
    """The exchange accepted an order; it is open.

    Attributes:
        command_id: The ``PlaceOrder`` that asked for it.
        client_order_id: Our id for the order.
        order_id: The exchange's id for the order.
        symbol: Venue symbol.
        ts_event: Exchange time of acceptance, ns. ts_init: creation time, ns.
    """

    command_id: str
    client_order_id: str
    order_id: str
    symbol: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected(Event):
    """An order was refused, by the exchange or before it was sent.

    Attributes:
        command_id: The ``PlaceOrder`` that asked for it.
        client_order_id: Our id for the order.
        symbol: Venue symbol.
        reason_code: Machine-readable cause: the venue's error code
            (``"insufficient_margin"``) or ours (``"post_only_would_take"``).
        message: Human-readable detail, for the log.
        ts_event: When it was refused, ns. ts_init: creation time, ns.
    """

    command_id: str
    client_order_id: str
    symbol: str
    reason_code: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelled(Event):
    """An open order is closed without being fully filled.

    Attributes:
        command_id: The ``CancelOrder`` or ``CancelAllOrders`` that asked for it, or None
            when the exchange cancelled on its own (IOC remainder, post-only would take,
            self-trade prevention, liquidation).
        client_order_id: Our id for the order.
        order_id: The exchange's id, or None if the order was never accepted.
        symbol: Venue symbol.
        filled_size: Contracts filled before the cancel.
        reason: Why, as the venue or the canceller said.
        ts_event: Exchange time of the cancel, ns. ts_init: creation time, ns.
    """

    command_id: str | None
    client_order_id: str
    order_id: str | None
    symbol: str
    filled_size: Contracts
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilled(Event):
    """Part or all of an order traded.

    Attributes:
        fill_id: The exchange's id of this fill (unique; used to drop duplicates).
        client_order_id: Our id for the order.
        order_id: The exchange's id for the order.
        symbol: Venue symbol.
        side: The order's side.
        price: Fill price, quote currency.
        size: Contracts filled by this fill, > 0.
        leaves_size: Contracts of the order still open after this fill (0 = done).
        fee: Fee for this fill in ``fee_asset``; positive paid, negative rebate.
        fee_asset: Asset the fee is charged in, for example ``"USD"``.
        is_maker: True when the order provided liquidity.
        ts_event: Exchange time of the fill, ns. ts_init: creation time, ns.
    """

    fill_id: str
    client_order_id: str
    order_id: str
    symbol: str
    side: Side
    price: Decimal
    size: Contracts
    leaves_size: Contracts
    fee: Decimal
    fee_asset: str
    is_maker: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenOrder(Value):
    """One order as the exchange currently holds it (a value, used in reconciliation).

    Attributes:
        client_order_id: Our id for the order, or None for an order we did not place.
        order_id: The exchange's id.
        symbol: Venue symbol.
        side: Buy or sell.
        order_type: The order type.
        size: Original order size, contracts.
        filled_size: Contracts filled so far.
        limit_price: Limit price, quote currency, or None.
        stop_price: Trigger price, quote currency, or None.
        status: The exchange's status for it.
    """

    client_order_id: str | None
    order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    size: Contracts
    filled_size: Contracts
    limit_price: Decimal | None
    stop_price: Decimal | None
    status: OrderStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchOpenOrders(Request):
    """Ask the REST gateway for the exchange's open orders (reconciliation on start).

    Attributes:
        symbol: Venue symbol, or None for all symbols.
        request_id: Echoed by the reply. reply_to: actor that receives the reply.
        ts_init: Creation time, ns.
    """

    symbol: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchOpenOrdersReply(Response):
    """The exchange's open orders, or why they could not be fetched.

    Attributes:
        orders: The open orders; empty when ``error`` is set.
        error: None on success, else a one-line cause.
        request_id: The request's id. ts_init: creation time, ns.
    """

    orders: tuple[OpenOrder, ...]
    error: str | None
