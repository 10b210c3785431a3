"""Typed reading of REST bodies and query strings, raising Delta's ``bad_schema`` on mistakes.

Flags may be JSON booleans or the strings ``"true"``/``"false"``; sizes and ids ints (or
digit strings); prices strings (or JSON numbers) that must be whole ticks. Every helper
raises :class:`~exchange.sim._errors.OrderRejected` (``bad_schema``) naming the parameter,
so no malformed request can raise anything else. Pure; any thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exchange.sim._core import EngineCore
from exchange.sim._errors import bad_schema
from exchange.sim._model import OrderRequest
from exchange.sim._products import SimProduct

__all__ = ["as_bool", "as_int", "as_price", "as_str", "order_request", "product_of"]

_ORDER_TYPES = ("limit_order", "market_order")
_STOP_TYPES = ("stop_loss_order", "take_profit_order")
_TRIGGERS = ("mark_price", "last_traded_price", "spot_price")
MAX_CLIENT_ORDER_ID = 32


def as_int(body: Mapping[str, Any], key: str, *, required: bool = False) -> int | None:
    """An integer field (int or digit string); None when absent and not required."""
    value = body.get(key)
    if value is None:
        if required:
            raise bad_schema(key, f"{key} is required")
        return None
    if isinstance(value, bool):
        raise bad_schema(key, f"{key} must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 30:
        return int(value)
    raise bad_schema(key, f"{key} must be an integer")


def as_bool(body: Mapping[str, Any], key: str, default: bool) -> bool:
    """A flag: JSON bool or ``"true"``/``"false"``."""
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise bad_schema(key, f"{key} must be true or false")


def as_str(
    body: Mapping[str, Any], key: str, *, choices: tuple[str, ...] = (), default: str | None = None
) -> str | None:
    """A string field, optionally one of ``choices``."""
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, str) or (choices and value not in choices):
        allowed = f" one of {', '.join(choices)}" if choices else " a string"
        raise bad_schema(key, f"{key} must be{allowed}")
    return value


def as_price(product: SimProduct, body: Mapping[str, Any], key: str) -> int | None:
    """A price in ticks (from a string or a JSON number); None when absent."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise bad_schema(key, f"{key} must be a decimal string")
    try:
        ticks = product.ticks_of(str(value))
    except ValueError as exc:
        raise bad_schema(key, str(exc)) from exc
    if ticks <= 0:
        raise bad_schema(key, f"{key} must be greater than 0")
    return ticks


def product_of(core: EngineCore, body: Mapping[str, Any]) -> SimProduct:
    """The product named by ``product_id`` or ``product_symbol`` (exactly one needed)."""
    pid = as_int(body, "product_id")
    symbol = as_str(body, "product_symbol")
    if pid is None and symbol is None:
        raise bad_schema("product_id", "product_id or product_symbol is required")
    return core.product(pid, symbol)


def order_request(core: EngineCore, body: Mapping[str, Any]) -> OrderRequest:
    """Parse a ``POST /v2/orders`` body."""
    product = product_of(core, body)
    size = as_int(body, "size", required=True)
    assert size is not None
    side = as_str(body, "side", choices=("buy", "sell"))
    if side is None:
        raise bad_schema("side", "side is required")
    order_type = as_str(body, "order_type", choices=_ORDER_TYPES, default="limit_order")
    coid = as_str(body, "client_order_id")
    if coid is not None and not 0 < len(coid) <= MAX_CLIENT_ORDER_ID:
        raise bad_schema("client_order_id", "client_order_id must be 1 to 32 characters")
    if body.get("trail_amount") is not None or body.get("bracket_trail_amount") is not None:
        raise bad_schema("trail_amount", "trailing stops are not simulated")
    stop_type = as_str(body, "stop_order_type", choices=_STOP_TYPES)
    limit = as_price(product, body, "limit_price")
    if order_type == "market_order" and limit is not None and not stop_type:
        limit = None  # Delta ignores a limit on market orders
    return OrderRequest(
        product_id=product.product_id,
        size=size,
        side=side,
        order_type=order_type or "limit_order",
        limit_ticks=limit,
        time_in_force=as_str(body, "time_in_force", choices=("gtc", "ioc"), default="gtc") or "gtc",
        post_only=as_bool(body, "post_only", False),
        reduce_only=as_bool(body, "reduce_only", False),
        client_order_id=coid,
        stop_order_type=stop_type,
        stop_ticks=as_price(product, body, "stop_price"),
        stop_trigger_method=as_str(body, "stop_trigger_method", choices=_TRIGGERS) or "mark_price",
        bracket_stop_loss_ticks=as_price(product, body, "bracket_stop_loss_price"),
        bracket_stop_loss_limit_ticks=as_price(product, body, "bracket_stop_loss_limit_price"),
        bracket_take_profit_ticks=as_price(product, body, "bracket_take_profit_price"),
        bracket_take_profit_limit_ticks=as_price(product, body, "bracket_take_profit_limit_price"),
        bracket_stop_trigger_method=as_str(body, "bracket_stop_trigger_method", choices=_TRIGGERS)
        or "mark_price",
    )
