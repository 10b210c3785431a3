"""Wire formats of account records: orders, fills, positions, wallets, and products.

Pure functions from engine records to JSON-ready dicts with Delta's field names and types:
prices and money are strings (prices with the product's tick decimals), sizes and ids are
ints, ``created_at`` is ISO 8601 with microseconds, WebSocket ``timestamp`` is UNIX µs.
Both servers use them, so REST and WebSocket always agree. Any thread may call them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from exchange.sim._model import Fill, Order, Position, Wallet
from exchange.sim._products import SimProduct

__all__ = [
    "SETTLING_ASSET",
    "fill_json",
    "iso",
    "money",
    "order_json",
    "position_json",
    "product_json",
    "us",
    "wallet_json",
]

SETTLING_ASSET = "USD"
_MAX_PLACES = 12


def us(ts_ns: int) -> int:
    """ns -> µs (Delta's WebSocket and ticker timestamps)."""
    return ts_ns // 1000


def iso(ts_ns: int) -> str:
    """ns -> ISO 8601 UTC with microseconds and a ``Z`` (order and fill ``created_at``)."""
    moment = dt.datetime.fromtimestamp(ts_ns // 1000 / 1_000_000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def money(value: Decimal) -> str:
    """An exact amount as a plain decimal string (at most 12 places, never an exponent)."""
    if value.as_tuple().exponent < -_MAX_PLACES:  # type: ignore[operator]
        value = value.quantize(Decimal(1).scaleb(-_MAX_PLACES))
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text


def _price(product: SimProduct, ticks: int | None) -> str | None:
    return None if ticks is None else product.format_ticks(ticks)


def order_json(order: Order, product: SimProduct) -> dict[str, Any]:
    """An order as REST returns it (and as the ``orders`` snapshot lists it)."""
    filled = order.filled
    average = money(order.filled_value / filled) if filled else None
    bracket = order.bracket
    return {
        "id": order.id,
        "user_id": order.user_id,
        "product_id": order.product_id,
        "product_symbol": order.symbol,
        "size": order.size,
        "unfilled_size": order.unfilled,
        "side": order.side,
        "order_type": order.order_type,
        "limit_price": _price(product, order.limit_ticks),
        "state": order.state,
        "time_in_force": order.time_in_force,
        "post_only": order.post_only,
        "reduce_only": order.reduce_only,
        "client_order_id": order.client_order_id,
        "average_fill_price": average,
        "commission": money(order.commission),
        "paid_commission": money(order.commission),
        "stop_order_type": order.stop_order_type,
        "stop_price": _price(product, order.stop_ticks),
        "stop_trigger_method": order.stop_trigger_method,
        "trail_amount": None,
        "close_on_trigger": order.close_on_trigger,
        "bracket_order": order.bracket_order or None,
        "bracket_stop_loss_price": _price(product, bracket.get("sl")),
        "bracket_stop_loss_limit_price": _price(product, bracket.get("sl_limit")),
        "bracket_take_profit_price": _price(product, bracket.get("tp")),
        "bracket_take_profit_limit_price": _price(product, bracket.get("tp_limit")),
        "bracket_stop_trigger_method": order.bracket_trigger_method if bracket else None,
        "cancellation_reason": order.cancellation_reason,
        "meta_data": {"source": "api"},
        "created_at": iso(order.created_ns),
        "updated_at": iso(order.updated_ns),
    }


def fill_json(fill: Fill, product: SimProduct) -> dict[str, Any]:
    """A fill as ``GET /v2/fills`` returns it (``commission`` < 0 would be a rebate)."""
    return {
        "id": fill.id,
        "user_id": fill.user_id,
        "order_id": str(fill.order_id),
        "client_order_id": fill.client_order_id,
        "side": fill.side,
        "size": fill.size,
        "price": product.format_ticks(fill.price_ticks),
        "role": fill.role,
        "fill_type": "normal",
        "commission": money(fill.commission),
        "created_at": iso(fill.created_ns),
        "product_id": fill.product_id,
        "product_symbol": fill.symbol,
        "settling_asset_symbol": SETTLING_ASSET,
        "meta_data": {
            "effective_commission_rate": money(fill.commission_rate),
            "order_type": fill.order_type,
            "new_position": fill.position_after,
        },
    }


def position_json(
    position: Position, product: SimProduct, *, leverage: int, mark: Decimal | None
) -> dict[str, Any]:
    """A margined position (``GET /v2/positions/margined``, the ``positions`` channel)."""
    entry = position.entry_price
    size = position.size
    margin = product.notional(size, entry) / leverage if entry is not None else Decimal(0)
    liquidation = bankruptcy = None
    if entry is not None and size:
        sign = 1 if size > 0 else -1
        cushion = Decimal(1) / leverage
        keep = product.maintenance_margin_pct / 100
        bankruptcy = entry * (1 - sign * cushion)
        liquidation = entry * (1 - sign * (cushion - keep))
    unrealized = (
        size * product.contract_value * (mark - entry)
        if entry is not None and mark is not None
        else Decimal(0)
    )
    return {
        "user_id": position.user_id,
        "product_id": position.product_id,
        "product_symbol": position.symbol,
        "size": size,
        "entry_price": money(entry) if entry is not None else None,
        "margin": money(margin),
        "liquidation_price": _round_price(product, liquidation),
        "bankruptcy_price": _round_price(product, bankruptcy),
        "adl_level": "1",
        "auto_topup": False,
        "commission": money(position.commission),
        "realized_pnl": money(position.realized_pnl),
        "realized_funding": money(position.realized_funding),
        "unrealized_pnl": money(unrealized),
        "mark_price": money(mark) if mark is not None else None,
        "updated_at": iso(position.updated_ns),
    }


def _round_price(product: SimProduct, price: Decimal | None) -> str | None:
    if price is None or price <= 0:
        return None
    return product.format_ticks(int((price / product.tick_size).to_integral_value()))


def wallet_json(wallet: Wallet) -> dict[str, Any]:
    """The USD wallet (``GET /v2/wallet/balances``, the ``margins`` channel)."""
    blocked = wallet.order_margin + wallet.position_margin
    return {
        "id": 1,
        "user_id": wallet.user_id,
        "asset_id": 3,
        "asset_symbol": SETTLING_ASSET,
        "balance": money(wallet.balance),
        "available_balance": money(wallet.available_balance),
        "available_balance_for_robo": money(wallet.available_balance),
        "blocked_margin": money(blocked),
        "order_margin": money(wallet.order_margin),
        "position_margin": money(wallet.position_margin),
        "commission": money(wallet.commission),
        "cross_asset_liability": "0",
        "cross_locked_collateral": "0",
        "cross_order_margin": "0",
        "cross_position_margin": "0",
        "portfolio_margin": "0",
        "trading_fee_credit": "0",
        "interest_credit": "0",
        "pending_referral_bonus": "0",
        "unvested_amount": "0",
    }


def product_json(product: SimProduct) -> dict[str, Any]:
    """A product as ``GET /v2/products`` returns it."""
    asset = {"id": 3, "symbol": SETTLING_ASSET, "precision": 8}
    return {
        "id": product.product_id,
        "symbol": product.symbol,
        "description": f"{product.underlying} Perpetual futures, quoted in USD (simulated)",
        "contract_type": "perpetual_futures",
        "state": "live",
        "trading_status": "operational",
        "notional_type": "vanilla",
        "contract_value": money(product.contract_value),
        "contract_unit_currency": product.underlying,
        "tick_size": money(product.tick_size),
        "impact_size": 10000,
        "initial_margin": money(product.initial_margin_pct),
        "maintenance_margin": money(product.maintenance_margin_pct),
        "initial_margin_scaling_factor": "0.0001",
        "maintenance_margin_scaling_factor": "0.00005",
        "default_leverage": str(product.default_leverage),
        "max_leverage_notional": "200000",
        "position_size_limit": product.position_size_limit,
        "maker_commission_rate": money(product.maker_rate),
        "taker_commission_rate": money(product.taker_rate),
        "funding_method": "mark_price",
        "annualized_funding": "10.95",
        "price_band": "2.5",
        "is_quanto": False,
        "settlement_time": None,
        "launch_time": "2020-01-01T00:00:00Z",
        "product_specs": {
            "funding_clamp_value": 0.05,
            "only_reduce_only_orders_allowed": False,
            "rate_exchange_interval": product.funding_interval_s,
        },
        "underlying_asset": {
            "id": product.product_id,
            "symbol": product.underlying,
            "precision": 8,
        },
        "quoting_asset": asset,
        "settling_asset": asset,
        "spot_index": {
            "symbol": f".DEX{product.underlying[:2]}USD",
            "tick_size": money(product.tick_size),
            "index_type": "spot_pair",
        },
    }
