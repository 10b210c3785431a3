"""REST object parsers: Delta's JSON objects -> immutable values and messages.

Each function takes one decoded object from a ``result`` and returns a value from
``messages``; a missing or unusable field raises :class:`ParseError` naming it
(``"order.limit_price"``). Venue enums go through the explicit maps below. Recorded samples
of every object live in ``tests/data/delta/`` and are replayed by the tests.

Pure functions, no I/O; any thread may call them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from exchange.delta._errors import ParseError
from exchange.delta._fields import (
    Raw,
    dec,
    enum_of,
    int_of,
    obj,
    opt_dec,
    opt_int,
    opt_str,
    opt_time_ns,
    seq,
    str_of,
    time_ns,
    us_to_ns,
)
from messages import (
    BookLevel,
    BookSnapshot,
    Candle,
    Contracts,
    Fill,
    NotionalType,
    OpenOrder,
    OrderStatus,
    OrderType,
    PositionSnapshot,
    Product,
    ProductState,
    Side,
    Ticker,
    UnixNanos,
    WalletBalance,
)

__all__ = [
    "FUNDING_PERCENT",
    "RESOLUTION_S",
    "SIDES",
    "order_status",
    "order_type",
    "parse_candle",
    "parse_fill",
    "parse_l2_book",
    "parse_order",
    "parse_position",
    "parse_product",
    "parse_result_list",
    "parse_ticker",
    "parse_wallet",
    "symbol_for",
]

SIDES: Mapping[str, Side] = {"buy": Side.BUY, "sell": Side.SELL}
_STATES = {
    "live": ProductState.LIVE,
    "expired": ProductState.EXPIRED,
    "upcoming": ProductState.UPCOMING,
}
_NOTIONAL = {"vanilla": NotionalType.VANILLA, "inverse": NotionalType.INVERSE}
_ORDER_KINDS = {"limit_order": "limit", "market_order": "market"}
_STOP_KINDS = {"stop_loss_order": "stop", "take_profit_order": "take_profit"}
_ORDER_TYPES = {
    ("limit", None): OrderType.LIMIT,
    ("market", None): OrderType.MARKET,
    ("market", "stop"): OrderType.STOP_MARKET,
    ("limit", "stop"): OrderType.STOP_LIMIT,
    ("market", "take_profit"): OrderType.TAKE_PROFIT_MARKET,
    ("limit", "take_profit"): OrderType.TAKE_PROFIT_LIMIT,
}
RESOLUTION_S: Mapping[str, int] = {
    "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200,
    "4h": 14400, "6h": 21600, "12h": 43200, "1d": 86400, "1w": 604800,
}  # fmt: skip
"""Delta's candle resolutions, in seconds."""

FUNDING_PERCENT = Decimal(100)
"""Delta quotes funding rates in percent; messages carry fractions (rate / 100)."""


def symbol_for(raw: Raw, where: str, symbols: Mapping[int, str]) -> str:
    """Return the record's symbol: ``product_symbol``/``symbol``, else via ``product_id``."""
    for key in ("product_symbol", "symbol", "sy"):
        text = raw.get(key)
        if isinstance(text, str) and text:
            return text
    product_id = opt_int(raw, "product_id", where)
    if product_id is not None and product_id in symbols:
        return symbols[product_id]
    raise ParseError(f"{where}.product_symbol", "missing (and product_id unknown)")


def parse_product(raw: Raw) -> Product:
    """Parse one ``/v2/products`` object.

    ``funding_interval_s`` comes from ``product_specs.rate_exchange_interval`` (India);
    None when absent. ``settling_asset`` is read, never assumed (the docs conflict).
    """
    w = "product"
    specs = raw.get("product_specs")
    interval = opt_int(specs, "rate_exchange_interval", f"{w}.product_specs") if isinstance(
        specs, Mapping
    ) else None  # fmt: skip
    return Product(
        product_id=int_of(raw, "id", w),
        symbol=str_of(raw, "symbol", w),
        contract_type=str_of(raw, "contract_type", w),
        state=enum_of(raw, "state", w, _STATES),
        notional_type=enum_of(raw, "notional_type", w, _NOTIONAL),
        contract_value=dec(raw, "contract_value", w),
        tick_size=dec(raw, "tick_size", w),
        maker_fee_rate=dec(raw, "maker_commission_rate", w),
        taker_fee_rate=dec(raw, "taker_commission_rate", w),
        funding_interval_s=interval,
        settling_asset=_asset(raw, "settling_asset", w),
        quoting_asset=_asset(raw, "quoting_asset", w),
    )


def _asset(raw: Raw, key: str, where: str) -> str:
    return str_of(obj(raw.get(key), f"{where}.{key}"), "symbol", f"{where}.{key}")


def parse_ticker(raw: Raw, ts_init: int) -> Ticker:
    """Parse a ``/v2/tickers`` object (also the legacy ``v2/ticker`` frame).

    Numbers arrive as strings or JSON numbers; both are read exactly. ``funding_rate`` is
    in percent on the wire and a fraction in the message.
    """
    w = "ticker"
    quotes = raw.get("quotes")
    quotes = quotes if isinstance(quotes, Mapping) else {}
    funding = opt_dec(raw, "funding_rate", w)
    return Ticker(
        ts_event=UnixNanos(us_to_ns(raw.get("timestamp"), f"{w}.timestamp")),
        ts_init=UnixNanos(ts_init),
        symbol=str_of(raw, "symbol", w),
        last_price=opt_dec(raw, "close", w),
        mark_price=opt_dec(raw, "mark_price", w),
        index_price=opt_dec(raw, "spot_price", w),
        best_bid=opt_dec(quotes, "best_bid", f"{w}.quotes"),
        best_ask=opt_dec(quotes, "best_ask", f"{w}.quotes"),
        high_24h=opt_dec(raw, "high", w),
        low_24h=opt_dec(raw, "low", w),
        volume_24h=opt_dec(raw, "volume", w),
        open_interest=opt_dec(raw, "oi_contracts", w),
        funding_rate=None if funding is None else funding / FUNDING_PERCENT,
    )


def _levels(raw: Raw, key: str, where: str) -> tuple[BookLevel, ...]:
    out = []
    for i, level in enumerate(seq(raw.get(key), f"{where}.{key}")):
        at = f"{where}.{key}[{i}]"
        item = obj(level, at)
        out.append(
            BookLevel(price=dec(item, "price", at), size=Contracts(int_of(item, "size", at)))
        )
    return tuple(out)


def parse_l2_book(raw: Raw, ts_init: int) -> BookSnapshot:
    """Parse ``/v2/l2orderbook/{symbol}``.

    REST books carry no sequence number, so ``seq`` is -1: no stream update follows it.
    ``checksum`` is None. ``last_updated_at`` (µs) is the event time.
    """
    w = "l2orderbook"
    return BookSnapshot(
        ts_event=UnixNanos(us_to_ns(raw.get("last_updated_at"), f"{w}.last_updated_at")),
        ts_init=UnixNanos(ts_init),
        symbol=str_of(raw, "symbol", w),
        seq=-1,
        bids=_levels(raw, "buy", w),
        asks=_levels(raw, "sell", w),
        checksum=None,
    )


def parse_candle(raw: Raw, *, symbol: str, resolution_s: int) -> Candle:
    """Parse one ``/v2/history/candles`` object; ``time`` is the open time in seconds."""
    w = "candle"
    open_s = int_of(raw, "time", w)
    if not 0 <= open_s < 2**63 // 10**9 - resolution_s:
        raise ParseError(f"{w}.time", f"not a time in seconds: {open_s}")
    return Candle(
        symbol=symbol,
        open_time_ns=UnixNanos(open_s * 10**9),
        close_time_ns=UnixNanos((open_s + resolution_s) * 10**9),
        open=dec(raw, "open", w),
        high=dec(raw, "high", w),
        low=dec(raw, "low", w),
        close=dec(raw, "close", w),
        volume=dec(raw, "volume", w),
    )


def order_type(raw: Raw, where: str) -> OrderType:
    """Map ``order_type`` + ``stop_order_type`` to :class:`OrderType`.

    The private stream omits ``order_type``; then a present ``limit_price`` means limit.
    """
    kind_text = raw.get("order_type")
    if kind_text is None:
        kind = "market" if raw.get("limit_price") in (None, "") else "limit"
    else:
        kind = enum_of(raw, "order_type", where, _ORDER_KINDS)
    stop = raw.get("stop_order_type")
    stop_kind = None if stop is None else enum_of(raw, "stop_order_type", where, _STOP_KINDS)
    return _ORDER_TYPES[(kind, stop_kind)]


def order_status(state: object, size: int, unfilled: int, where: str) -> OrderStatus:
    """Map Delta's ``state`` (+ fill progress) to :class:`OrderStatus`.

    ``open`` is OPEN or PARTIALLY_FILLED; ``pending`` (an untriggered stop) is OPEN;
    ``closed`` is FILLED when nothing is left, else CANCELLED; ``cancelled`` is CANCELLED.
    """
    if state in ("open", "pending"):
        return OrderStatus.OPEN if unfilled >= size else OrderStatus.PARTIALLY_FILLED
    if state == "closed":
        return OrderStatus.FILLED if unfilled == 0 else OrderStatus.CANCELLED
    if state == "cancelled":
        return OrderStatus.CANCELLED
    if state == "rejected":
        return OrderStatus.REJECTED
    raise ParseError(f"{where}.state", f"unknown value {state!r:.40}")


def parse_order(raw: Raw, symbols: Mapping[int, str], *, where: str = "order") -> OpenOrder:
    """Parse an order object (REST and the private ``orders`` snapshot).

    The id key is ``id`` on REST and ``order_id`` on the stream; both are read.
    """
    size = int_of(raw, "size", where)
    unfilled = opt_int(raw, "unfilled_size", where)
    unfilled = size if unfilled is None else unfilled
    order_id = opt_str(raw, "id", where) or str_of(raw, "order_id", where)
    return OpenOrder(
        client_order_id=opt_str(raw, "client_order_id", where),
        order_id=order_id,
        symbol=symbol_for(raw, where, symbols),
        side=enum_of(raw, "side", where, SIDES),
        order_type=order_type(raw, where),
        size=Contracts(size),
        filled_size=Contracts(size - unfilled),
        limit_price=opt_dec(raw, "limit_price", where),
        stop_price=opt_dec(raw, "stop_price", where),
        status=order_status(raw.get("state"), size, unfilled, where),
    )


def parse_position(
    raw: Raw, symbols: Mapping[int, str], *, where: str = "position"
) -> PositionSnapshot:
    """Parse a position object (``/v2/positions[/margined]`` and the private stream).

    ``updated_at`` may be ISO text or µs; ``entry_price`` is None for a flat position.
    """
    return PositionSnapshot(
        symbol=symbol_for(raw, where, symbols),
        product_id=opt_int(raw, "product_id", where),
        size=Contracts(int_of(raw, "size", where)),
        entry_price=opt_dec(raw, "entry_price", where),
        margin=opt_dec(raw, "margin", where),
        liquidation_price=opt_dec(raw, "liquidation_price", where),
        realised_pnl=opt_dec(raw, "realized_pnl", where),
        updated_ns=_opt_ns(opt_time_ns(raw, "updated_at", where)),
    )


def _opt_ns(value: int | None) -> UnixNanos | None:
    return None if value is None else UnixNanos(value)


_ROLES = {"maker": True, "taker": False}


def parse_fill(raw: Raw, symbols: Mapping[int, str]) -> Fill:
    """Parse one ``/v2/fills`` object. ``commission`` < 0 is a rebate."""
    w = "fill"
    meta = raw.get("meta_data")
    coid = opt_str(raw, "client_order_id", w)
    if coid is None and isinstance(meta, Mapping):
        coid = opt_str(meta, "client_order_id", f"{w}.meta_data")
    fill_type = raw.get("fill_type")
    return Fill(
        fill_id=str_of(raw, "id", w),
        order_id=str_of(raw, "order_id", w),
        client_order_id=coid,
        symbol=symbol_for(raw, w, symbols),
        side=enum_of(raw, "side", w, SIDES),
        price=dec(raw, "price", w),
        size=Contracts(int_of(raw, "size", w)),
        is_maker=enum_of(raw, "role", w, _ROLES),
        fee=dec(raw, "commission", w),
        fee_asset=opt_str(raw, "settling_asset_symbol", w),
        fill_type=fill_type.lower() if isinstance(fill_type, str) else "normal",
        ts_event_ns=UnixNanos(time_ns(raw, "created_at", w)),
    )


def parse_wallet(raw: Raw, *, where: str = "wallet") -> WalletBalance:
    """Parse one ``/v2/wallet/balances`` entry (also the private ``margins`` frame)."""
    return WalletBalance(
        asset=str_of(raw, "asset_symbol", where),
        balance=dec(raw, "balance", where),
        available_balance=dec(raw, "available_balance", where),
        order_margin=opt_dec(raw, "order_margin", where),
        position_margin=opt_dec(raw, "position_margin", where),
    )


def parse_result_list(result: Any, where: str) -> list[Raw]:
    """Return ``result`` as a list of objects, or raise :class:`ParseError`."""
    return [obj(item, f"{where}[{i}]") for i, item in enumerate(seq(result, where))]
