"""Private WebSocket frames (orders, positions, margins, user trades) from engine events.

Pure functions; the WebSocket hub calls them on its event-loop thread. Field names and types
follow the reference's section 5.6; order fields repeat the REST order's, so a client can
parse both with one parser.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exchange.sim._model import Fill, Order, Position, Wallet
from exchange.sim._products import SimProduct
from exchange.sim._wire import order_json, position_json, us, wallet_json

__all__ = [
    "order_frame",
    "orders_snapshot",
    "position_frame",
    "positions_snapshot",
    "user_trade_frame",
    "wallet_frame",
]


def order_frame(
    order: Order, product: SimProduct, action: str, reason: str | None, *, seq_no: int, ts_ns: int
) -> dict[str, Any]:
    """An ``orders`` create/update/delete frame; ``seq_no`` counts per symbol per connection."""
    body = order_json(order, product)
    return {
        "type": "orders",
        "action": action,
        "reason": reason,
        "symbol": order.symbol,
        "order_id": order.id,
        **body,
        "seq_no": seq_no,
        "timestamp": us(ts_ns),
    }


def orders_snapshot(
    orders: list[Order], product: SimProduct, seq_no: int, ts_ns: int
) -> dict[str, Any]:
    """The ``orders`` snapshot of one symbol (open and pending orders)."""
    return {
        "type": "orders",
        "action": "snapshot",
        "success": True,
        "symbol": product.symbol,
        "meta": {"seq_no": seq_no, "timestamp": us(ts_ns)},
        "result": [order_json(o, product) for o in orders],
    }


def position_frame(
    position: Position,
    product: SimProduct,
    action: str,
    *,
    leverage: int,
    mark: Decimal | None,
    ts_ns: int,
) -> dict[str, Any]:
    """A ``positions`` create/update/delete frame."""
    body = position_json(position, product, leverage=leverage, mark=mark)
    return {
        "type": "positions",
        "action": action,
        "reason": None,
        "symbol": product.symbol,
        **body,
        "timestamp": us(ts_ns),
    }


def positions_snapshot(bodies: list[dict[str, Any]], ts_ns: int) -> dict[str, Any]:
    """The ``positions`` snapshot (already formatted positions)."""
    return {
        "type": "positions",
        "action": "snapshot",
        "success": True,
        "result": bodies,
        "timestamp": us(ts_ns),
    }


def wallet_frame(wallet: Wallet, action: str, ts_ns: int) -> dict[str, Any]:
    """A ``margins`` frame."""
    return {"type": "margins", "action": action, **wallet_json(wallet), "timestamp": us(ts_ns)}


def user_trade_frame(fill: Fill, product: SimProduct, *, legacy: bool) -> dict[str, Any]:
    """``v2/user_trades`` (compact; ``se`` per symbol) or legacy ``user_trades``."""
    price = product.format_ticks(fill.price_ticks)
    if legacy:
        return {
            "type": "user_trades",
            "symbol": fill.symbol,
            "fill_id": fill.id,
            "reason": "normal",
            "product_id": fill.product_id,
            "order_id": fill.order_id,
            "side": fill.side,
            "size": fill.size,
            "price": price,
            "role": fill.role,
            "client_order_id": fill.client_order_id,
            "timestamp": us(fill.created_ns),
            "seq_no": fill.seq,
        }
    return {
        "type": "v2/user_trades",
        "sy": fill.symbol,
        "f": fill.id,
        "R": "normal",
        "u": fill.user_id,
        "o": fill.order_id,
        "S": fill.side,
        "s": fill.size,
        "p": price,
        "po": fill.position_after,
        "r": fill.role,
        "c": fill.client_order_id,
        "t": us(fill.created_ns),
        "se": fill.seq,
    }
