"""Order requests -> Delta's JSON bodies (pure): place, edit, cancel, batch and bracket.

The product id comes from the loaded :class:`Product` (never hard-coded). Prices are sent
as decimal strings; flags as ``"true"``/``"false"`` (what the official MCP client sends;
the reference says the venue accepts booleans too). ``client_order_id`` must have 1 to
32 characters. Delta removed ``fok``, so a FOK order raises :class:`BadSchema` before
anything is sent.

Order types map as: LIMIT -> ``limit_order``; MARKET -> ``market_order``; STOP_* ->
``stop_order_type: stop_loss_order`` + ``stop_price``; TAKE_PROFIT_* -> ``take_profit_order``
+ ``stop_price``; ``*_LIMIT`` also sends ``limit_price``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from exchange.delta._errors import BadSchema
from messages import CLIENT_ORDER_ID_MAX_LEN, OrderType, PlaceOrder, Product, Side, TimeInForce

__all__ = [
    "Bracket",
    "bracket_body",
    "check_client_order_id",
    "edit_body",
    "order_body",
    "wire_id",
]

_SIDES = {Side.BUY: "buy", Side.SELL: "sell"}
_TIF = {TimeInForce.GTC: "gtc", TimeInForce.IOC: "ioc"}
_WIRE_TYPES: dict[OrderType, tuple[str, str | None]] = {
    OrderType.LIMIT: ("limit_order", None),
    OrderType.MARKET: ("market_order", None),
    OrderType.STOP_MARKET: ("market_order", "stop_loss_order"),
    OrderType.STOP_LIMIT: ("limit_order", "stop_loss_order"),
    OrderType.TAKE_PROFIT_MARKET: ("market_order", "take_profit_order"),
    OrderType.TAKE_PROFIT_LIMIT: ("limit_order", "take_profit_order"),
}
TRIGGERS = ("mark_price", "last_traded_price", "spot_price")


def wire_id(order_id: str) -> int | str:
    """Return a venue order id as sent: an int when it is all digits, else the text."""
    return int(order_id) if order_id.isdigit() else order_id


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _bad(param: str, message: str) -> BadSchema:
    return BadSchema(
        f"{param}: {message}",
        code="bad_schema",
        context={
            "schema_errors": [{"code": "validation_error", "message": message, "param": param}]
        },
    )


def check_client_order_id(coid: str) -> None:
    """Raise :class:`BadSchema` unless ``coid`` has 1 to 32 characters."""
    if not 1 <= len(coid) <= CLIENT_ORDER_ID_MAX_LEN:
        raise _bad("client_order_id", f"must have 1 to {CLIENT_ORDER_ID_MAX_LEN} characters")


@dataclass(frozen=True, slots=True, kw_only=True)
class Bracket:
    """Stop-loss and take-profit legs attached to an entry order or a position.

    Attributes:
        stop_loss_price: Stop trigger price, quote currency, or None.
        stop_loss_limit_price: Limit price once triggered (None = market), quote currency.
        take_profit_price: Take-profit trigger price, quote currency, or None.
        take_profit_limit_price: Limit price once triggered (None = market).
        trigger: ``mark_price``, ``last_traded_price`` or ``spot_price``.
    """

    stop_loss_price: Decimal | None = None
    stop_loss_limit_price: Decimal | None = None
    take_profit_price: Decimal | None = None
    take_profit_limit_price: Decimal | None = None
    trigger: str = "mark_price"


def order_body(
    order: PlaceOrder, product: Product, *, bracket: Bracket | None = None
) -> dict[str, Any]:
    """Return the ``POST /v2/orders`` body (also one element of a batch, minus product).

    Raises:
        BadSchema: FOK, a missing price for the order type, or a bad client order id.
    """
    check_client_order_id(order.client_order_id)
    tif = _TIF.get(order.time_in_force)
    if tif is None:
        raise _bad("time_in_force", f"{order.time_in_force} is not supported by Delta")
    kind, stop_kind = _WIRE_TYPES[order.order_type]
    body: dict[str, Any] = {
        "product_id": product.product_id,
        "size": int(order.size),
        "side": _SIDES[order.side],
        "order_type": kind,
        "time_in_force": tif,
        "post_only": _flag(order.post_only),
        "reduce_only": _flag(order.reduce_only),
        "client_order_id": order.client_order_id,
    }
    if kind == "limit_order":
        if order.limit_price is None or order.limit_price <= 0:
            raise _bad("limit_price", "a limit order needs a limit_price > 0")
        body["limit_price"] = str(order.limit_price)
    if stop_kind is not None:
        if order.stop_price is None or order.stop_price <= 0:
            raise _bad("stop_price", "a stop or take-profit order needs a stop_price > 0")
        body["stop_order_type"] = stop_kind
        body["stop_price"] = str(order.stop_price)
        body["stop_trigger_method"] = "mark_price"
    if bracket is not None:
        body.update(_bracket_fields(bracket, prefix="bracket_"))
    return body


def _bracket_fields(bracket: Bracket, *, prefix: str) -> dict[str, str]:
    if bracket.trigger not in TRIGGERS:
        raise _bad(f"{prefix}stop_trigger_method", f"must be one of {', '.join(TRIGGERS)}")
    out = {f"{prefix}stop_trigger_method": bracket.trigger}
    pairs = (
        ("stop_loss_price", bracket.stop_loss_price),
        ("stop_loss_limit_price", bracket.stop_loss_limit_price),
        ("take_profit_price", bracket.take_profit_price),
        ("take_profit_limit_price", bracket.take_profit_limit_price),
    )
    for name, value in pairs:
        if value is not None:
            out[f"{prefix}{name}"] = str(value)
    return out


def bracket_body(product: Product, bracket: Bracket) -> dict[str, Any]:
    """Return the ``POST /v2/orders/bracket`` body (legs on the open position).

    Raises:
        BadSchema: Neither a stop-loss nor a take-profit price is given.
    """
    if bracket.stop_loss_price is None and bracket.take_profit_price is None:
        raise _bad("stop_loss_order", "a bracket needs a stop-loss or a take-profit price")
    body: dict[str, Any] = {
        "product_id": product.product_id,
        "bracket_stop_trigger_method": bracket.trigger,
    }
    if bracket.stop_loss_price is not None:
        leg = {"order_type": "market_order", "stop_price": str(bracket.stop_loss_price)}
        if bracket.stop_loss_limit_price is not None:
            leg = {"order_type": "limit_order", "stop_price": str(bracket.stop_loss_price),
                   "limit_price": str(bracket.stop_loss_limit_price)}  # fmt: skip
        body["stop_loss_order"] = leg
    if bracket.take_profit_price is not None:
        leg = {"order_type": "market_order", "stop_price": str(bracket.take_profit_price)}
        if bracket.take_profit_limit_price is not None:
            leg = {"order_type": "limit_order", "stop_price": str(bracket.take_profit_price),
                   "limit_price": str(bracket.take_profit_limit_price)}  # fmt: skip
        body["take_profit_order"] = leg
    return body


def edit_body(
    product: Product,
    *,
    order_id: str,
    size: int | None = None,
    limit_price: Decimal | None = None,
    post_only: bool | None = None,
    stop_price: Decimal | None = None,
) -> dict[str, Any]:
    """Return the ``PUT /v2/orders`` body; ``size`` is the total size after the edit."""
    body: dict[str, Any] = {"id": wire_id(order_id), "product_id": product.product_id}
    if size is not None:
        body["size"] = size
    if limit_price is not None:
        body["limit_price"] = str(limit_price)
    if post_only is not None:
        body["post_only"] = _flag(post_only)
    if stop_price is not None:
        body["stop_price"] = str(stop_price)
    return body
