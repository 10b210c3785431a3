"""Fan-out: turn one numbered engine event into frames for the connections that want it.

Runs on the WebSocket loop thread only (called by the hub's drain). Each event is
formatted at most once per wire format (compact or legacy) and the same bytes are queued
on every target connection. Private events go only to the owner's connections.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from exchange.sim._candles import RESOLUTIONS
from exchange.sim._market import CandlesTicked
from exchange.sim._model import (
    BookDelta,
    Filled,
    FundingApplied,
    OrderChanged,
    PositionChanged,
    PublicTrade,
    WalletChanged,
)
from exchange.sim._public import candle_frame, delta_frame, trade_frame
from exchange.sim._tickers import funding_frame
from exchange.sim._ws_frames import order_frame, position_frame, user_trade_frame, wallet_frame

if TYPE_CHECKING:
    from exchange.sim._ws_server import WsServer

__all__ = ["dispatch"]

_NS = 1_000_000_000


def dispatch(hub: WsServer, event_id: int, event: object) -> None:
    """Queue the frames ``event`` produces on every connection that subscribed to them."""
    kind = type(event)
    if kind is BookDelta:
        _book(hub, event_id, event)  # type: ignore[arg-type]
    elif kind is PublicTrade:
        _trade(hub, event_id, event)  # type: ignore[arg-type]
    elif kind is CandlesTicked:
        _candles(hub, event)  # type: ignore[arg-type]
    elif kind is FundingApplied:
        _funding(hub, event_id, event)  # type: ignore[arg-type]
    elif kind in (OrderChanged, Filled, PositionChanged, WalletChanged):
        _private(hub, event_id, event)


def _book(hub: WsServer, event_id: int, delta: BookDelta) -> None:
    product = hub.engine.core.by_symbol[delta.symbol]
    for name, legacy in (("ob_updates", False), ("l2_updates", True)):
        conns = hub.targets(name, delta.symbol, event_id)
        if conns:
            frame = orjson.dumps(delta_frame(delta, product, legacy=legacy))
            for conn in conns:
                conn.push(frame)


def _trade(hub: WsServer, event_id: int, trade: PublicTrade) -> None:
    product = hub.engine.core.by_symbol[trade.symbol]
    for name, legacy in (("trades", False), ("all_trades", True)):
        conns = hub.targets(name, trade.symbol, event_id)
        if conns:
            frame = orjson.dumps(trade_frame(trade, product, legacy=legacy))
            for conn in conns:
                conn.push(frame)


def _funding(hub: WsServer, event_id: int, event: FundingApplied) -> None:
    conns = hub.targets("funding_rate", event.symbol, event_id)
    if not conns:
        return
    with hub.engine.locked() as core:
        frames = {
            legacy: orjson.dumps(funding_frame(core, event.symbol, event.ts_ns, legacy=legacy))
            for legacy in (False, True)
        }
    for conn in conns:
        conn.push(frames[not conn.public_host])


def _candles(hub: WsServer, tick: CandlesTicked) -> None:
    """Publish closed candles since each cursor (final values), then the current one."""
    now_s = tick.ts_ns // _NS
    symbols = list(hub.engine.core.by_symbol)
    for name, symbol in hub.subscribed("candlestick_"):
        res = name.removeprefix("candlestick_")
        seconds = RESOLUTIONS[res]
        for sym in symbols if symbol == "all" else [symbol]:
            cursor = hub.candle_cursor.get((sym, seconds), now_s - now_s % seconds)
            got = hub.candles.query(sym, seconds, cursor, now_s)
            if not got:
                continue
            hub.candle_cursor[(sym, seconds)] = got[-1].start_s
            product = hub.engine.core.by_symbol[sym]
            conns = hub.targets(name, sym, 1 << 62)
            frames = {
                legacy: [orjson.dumps(candle_frame(c, product, res, legacy=legacy)) for c in got]
                for legacy in (False, True)
            }
            for conn in conns:
                for frame in frames[not conn.public_host]:
                    conn.push(frame)


def _private(hub: WsServer, event_id: int, event: object) -> None:
    core = hub.engine.core
    user_id = event.user_id  # type: ignore[attr-defined]
    if isinstance(event, WalletChanged):
        conns = hub.targets("margins", "all", event_id)
        frame = orjson.dumps(wallet_frame(event.wallet, "update", event.ts_ns))
        for conn in conns:
            if conn.user_id == user_id:
                conn.push(frame)
        return
    if isinstance(event, OrderChanged):
        symbol = event.order.symbol
        product = core.by_symbol[symbol]
        for conn in hub.targets("orders", symbol, event_id):
            if conn.user_id == user_id:
                conn.order_seq[symbol] = conn.order_seq.get(symbol, 0) + 1
                conn.send_json(
                    order_frame(
                        event.order,
                        product,
                        event.action,
                        event.reason,
                        seq_no=conn.order_seq[symbol],
                        ts_ns=event.ts_ns,
                    )
                )
    elif isinstance(event, Filled):
        fill = event.fill
        product = core.by_symbol[fill.symbol]
        for name, legacy in (("v2/user_trades", False), ("user_trades", True)):
            for conn in hub.targets(name, fill.symbol, event_id):
                if conn.user_id == user_id:
                    conn.send_json(user_trade_frame(fill, product, legacy=legacy))
    elif isinstance(event, PositionChanged):
        pos = event.position
        product = core.by_symbol[pos.symbol]
        conns = [c for c in hub.targets("positions", pos.symbol, event_id) if c.user_id == user_id]
        if conns:
            account = core.accounts[user_id]
            mark = core.mark.get(pos.symbol)
            frame = orjson.dumps(
                position_frame(
                    pos,
                    product,
                    event.action,
                    leverage=account.leverage[pos.product_id],
                    mark=product.price_of(mark) if mark is not None else None,
                    ts_ns=event.ts_ns,
                )
            )
            for conn in conns:
                conn.push(frame)
