"""Private stream parsers: ``orders``, ``positions``, ``margins``, ``v2/user_trades``,
``user_trades`` -> account events.

:func:`parse_private` takes one decoded frame and the product id -> symbol map (frames may
carry only ``product_id``) and returns the events it carries. Snapshots become one
``OrdersSnapshot`` / ``PositionsSnapshot``; changes become ``OrderUpdated`` /
``PositionUpdated``; ``margins`` becomes ``WalletUpdated``; each trade record becomes
``FillReported``. A snapshot without a venue time uses ``ts_init`` as ``ts_event``
(positions snapshots carry none). Unknown types raise :class:`UnknownFrame`; bad fields raise
:class:`ParseError`.

Pure functions; any thread may call them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

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
    str_of,
    us_to_ns,
)
from exchange.delta._parse_public import UnknownFrame
from exchange.delta._parse_rest import (
    SIDES,
    parse_order,
    parse_position,
    parse_result_list,
    parse_wallet,
    symbol_for,
)
from messages import (
    Contracts,
    Fill,
    FillReported,
    Message,
    MessageError,
    OrdersSnapshot,
    OrderUpdated,
    PositionsSnapshot,
    PositionUpdated,
    StreamAction,
    UnixNanos,
    WalletUpdated,
)

__all__ = ["parse_private"]

_ACTIONS = {
    "snapshot": StreamAction.SNAPSHOT,
    "create": StreamAction.CREATE,
    "update": StreamAction.UPDATE,
    "delete": StreamAction.DELETE,
}
_ROLES = {"maker": True, "taker": False, "m": True, "t": False}

Symbols = Mapping[int, str]


def _event_ns(raw: Raw, key: str, where: str, ts_init: int) -> UnixNanos:
    value = raw.get(key)
    if value is None:
        return UnixNanos(ts_init)
    return UnixNanos(us_to_ns(value, f"{where}.{key}"))


def _orders(frame: Raw, ts_init: int, symbols: Symbols) -> list[Message]:
    w = "orders"
    action = enum_of(frame, "action", w, _ACTIONS)
    if action is StreamAction.SNAPSHOT:
        meta = frame.get("meta")
        meta = meta if isinstance(meta, Mapping) else {}
        orders = parse_result_list(frame.get("result"), f"{w}.result")
        symbol = frame.get("symbol")
        return [
            OrdersSnapshot(
                ts_event=_event_ns(meta, "timestamp", f"{w}.meta", ts_init),
                ts_init=UnixNanos(ts_init),
                symbol=symbol if isinstance(symbol, str) else None,
                orders=tuple(
                    parse_order(o, symbols, where=f"{w}.result[{i}]") for i, o in enumerate(orders)
                ),
                seq=opt_int(meta, "seq_no", f"{w}.meta"),
            )
        ]
    return [
        OrderUpdated(
            ts_event=UnixNanos(us_to_ns(frame.get("timestamp"), f"{w}.timestamp")),
            ts_init=UnixNanos(ts_init),
            order=parse_order(frame, symbols, where=w),
            action=action,
            reason=opt_str(frame, "reason", w),
            average_fill_price=opt_dec(frame, "average_fill_price", w),
            seq=opt_int(frame, "seq_no", w),
        )
    ]


def _positions(frame: Raw, ts_init: int, symbols: Symbols) -> list[Message]:
    w = "positions"
    action = enum_of(frame, "action", w, _ACTIONS)
    if action is StreamAction.SNAPSHOT:
        items = parse_result_list(frame.get("result"), f"{w}.result")
        return [
            PositionsSnapshot(
                ts_event=_event_ns(frame, "timestamp", w, ts_init),
                ts_init=UnixNanos(ts_init),
                positions=tuple(
                    parse_position(p, symbols, where=f"{w}.result[{i}]")
                    for i, p in enumerate(items)
                ),
            )
        ]
    return [
        PositionUpdated(
            ts_event=_event_ns(frame, "timestamp", w, ts_init),
            ts_init=UnixNanos(ts_init),
            position=parse_position(frame, symbols, where=w),
            action=action,
            reason=opt_str(frame, "reason", w),
        )
    ]


def _margins(frame: Raw, ts_init: int, _symbols: Symbols) -> list[Message]:
    return [
        WalletUpdated(
            ts_event=_event_ns(frame, "timestamp", "margins", ts_init),
            ts_init=UnixNanos(ts_init),
            balance=parse_wallet(frame, where="margins"),
        )
    ]


def _user_trades_v2(frame: Raw, ts_init: int, _symbols: Symbols) -> list[Message]:
    """``v2/user_trades``: compact keys, no commission (``fee`` is None)."""
    w = "v2/user_trades"
    ts_ns = UnixNanos(us_to_ns(frame.get("t"), f"{w}.t"))
    fill_type = frame.get("R")
    position_after = opt_int(frame, "po", w)
    fill = Fill(
        fill_id=str_of(frame, "f", w),
        order_id=str_of(frame, "o", w),
        client_order_id=opt_str(frame, "c", w),
        symbol=str_of(frame, "sy", w),
        side=enum_of(frame, "S", w, SIDES),
        price=dec(frame, "p", w),
        size=Contracts(int_of(frame, "s", w)),
        is_maker=enum_of(frame, "r", w, _ROLES),
        fee=None,
        fee_asset=None,
        fill_type=fill_type.lower() if isinstance(fill_type, str) else "normal",
        ts_event_ns=ts_ns,
    )
    return [
        FillReported(
            ts_event=ts_ns,
            ts_init=UnixNanos(ts_init),
            fill=fill,
            seq=opt_int(frame, "se", w),
            position_size_after=None if position_after is None else Contracts(position_after),
        )
    ]


def _user_trades(frame: Raw, ts_init: int, symbols: Symbols) -> list[Message]:
    """Legacy ``user_trades``: long keys; ``commission`` read when present."""
    w = "user_trades"
    ts_ns = UnixNanos(us_to_ns(frame.get("timestamp"), f"{w}.timestamp"))
    reason = frame.get("reason")
    fill = Fill(
        fill_id=str_of(frame, "fill_id", w),
        order_id=str_of(frame, "order_id", w),
        client_order_id=opt_str(frame, "client_order_id", w),
        symbol=symbol_for(frame, w, symbols),
        side=enum_of(frame, "side", w, SIDES),
        price=dec(frame, "price", w),
        size=Contracts(int_of(frame, "size", w)),
        is_maker=enum_of(frame, "role", w, _ROLES),
        fee=opt_dec(frame, "commission", w),
        fee_asset=opt_str(frame, "settling_asset_symbol", w),
        fill_type=reason.lower() if isinstance(reason, str) else "normal",
        ts_event_ns=ts_ns,
    )
    return [
        FillReported(
            ts_event=ts_ns,
            ts_init=UnixNanos(ts_init),
            fill=fill,
            seq=opt_int(frame, "seq_no", w),
            position_size_after=None,
        )
    ]


_PARSERS: dict[str, Callable[[Raw, int, Symbols], list[Message]]] = {
    "orders": _orders,
    "positions": _positions,
    "margins": _margins,
    "v2/user_trades": _user_trades_v2,
    "user_trades": _user_trades,
}


def parse_private(frame: Raw, ts_init: int, symbols: Symbols) -> list[Message]:
    """Return the events one private data frame carries.

    Args:
        frame: One decoded frame (a JSON object).
        ts_init: Creation time for the events, ns.
        symbols: Product id -> symbol, for records that carry only ``product_id``.

    Raises:
        UnknownFrame: ``type`` is not a private data channel.
        ParseError: A known frame lacks a field or holds an unusable value.
    """
    kind = frame.get("type")
    parser = _PARSERS.get(kind) if type(kind) is str else None
    if parser is None:
        raise UnknownFrame(repr(kind)[:40])
    if frame.get("success") is False:
        raise ParseError(f"{kind}.success", "false (the venue refused the snapshot)")
    try:
        return parser(obj(frame, str(kind)), ts_init, symbols)
    except MessageError as exc:  # a value the message refuses: the frame is bad
        raise ParseError(str(kind)[:40], str(exc)) from exc
