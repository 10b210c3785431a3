"""Builders of the order commands the trading logic sends to the gateway (pure functions).

Every order is keyed by its deterministic client order id (also its ``command_id``) and
carries the ``position_id`` (a position or a hedge id) its events are published under.
"""

from __future__ import annotations

from decimal import Decimal

from messages import (
    CancelOrder,
    Contracts,
    OrderType,
    PlaceOrder,
    Side,
    TimeInForce,
    UnixNanos,
)

__all__ = ["cancel_order", "market_order", "place_order"]


def place_order(
    *,
    coid: str,
    owner: str,
    symbol: str,
    side: Side,
    size: int,
    kind: OrderType,
    limit: Decimal | None,
    stop: Decimal | None,
    now_ns: int,
    post_only: bool = False,
    reduce_only: bool = False,
    tif: TimeInForce = TimeInForce.GTC,
) -> PlaceOrder:
    """Return the ``PlaceOrder`` of one order of ``owner`` (a position or hedge id)."""
    return PlaceOrder(
        command_id=coid,
        ts_init=UnixNanos(now_ns),
        client_order_id=coid,
        symbol=symbol,
        side=side,
        size=Contracts(size),
        order_type=kind,
        limit_price=limit,
        stop_price=stop,
        post_only=post_only,
        reduce_only=reduce_only,
        time_in_force=tif,
        position_id=owner,
    )


def market_order(
    *, coid: str, owner: str, symbol: str, side: Side, size: int, now_ns: int, reduce_only: bool
) -> PlaceOrder:
    """Return an IOC market order (exits, flattens, hedge chunks and hedge closes)."""
    return place_order(
        coid=coid,
        owner=owner,
        symbol=symbol,
        side=side,
        size=size,
        kind=OrderType.MARKET,
        limit=None,
        stop=None,
        now_ns=now_ns,
        reduce_only=reduce_only,
        tif=TimeInForce.IOC,
    )


def cancel_order(coid: str, symbol: str, now_ns: int) -> CancelOrder:
    """Return the ``CancelOrder`` of one order by client order id."""
    return CancelOrder(
        command_id=f"cancel-{coid}",
        ts_init=UnixNanos(now_ns),
        client_order_id=coid,
        symbol=symbol,
    )
