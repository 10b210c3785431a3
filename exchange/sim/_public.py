"""Public market data as the wire shows it: REST bodies and WebSocket frames (compact, legacy).

Pure functions of engine state (read under the engine lock by the caller) and candles.
Prices are strings with the tick's decimals except where Delta sends JSON numbers (REST
candles, REST ticker OHLC and volume, legacy candlestick fields).
"""

from __future__ import annotations

from typing import Any

from exchange.sim._candles import Candle
from exchange.sim._core import EngineCore
from exchange.sim._model import BUY, SELL, BookDelta, PublicTrade
from exchange.sim._products import SimProduct
from exchange.sim._wire import us

__all__ = [
    "book_levels",
    "candle_frame",
    "candle_json",
    "delta_frame",
    "l1_frame",
    "l2_frame",
    "l2_json",
    "number",
    "snapshot_frame",
    "trade_frame",
    "trade_json",
    "trades_snapshot_frame",
]


def book_levels(
    core: EngineCore, symbol: str, depth: int
) -> tuple[list[list[str]], list[list[str]]]:
    """Best ``depth`` asks and bids as ``[[price, size], ...]`` wire strings, best first."""
    book = core.books[symbol]
    fmt = book.product.format_ticks
    asks = [[fmt(p), str(s)] for p, s in book.top(SELL, depth)]
    bids = [[fmt(p), str(s)] for p, s in book.top(BUY, depth)]
    return asks, bids


def snapshot_frame(core: EngineCore, symbol: str, now_ns: int, *, legacy: bool) -> dict[str, Any]:
    """An ``ob_updates`` (or legacy ``l2_updates``) snapshot of the whole book."""
    book = core.books[symbol]
    asks, bids = book_levels(core, symbol, 1000)
    if legacy:
        return {
            "type": "l2_updates",
            "action": "snapshot",
            "symbol": symbol,
            "asks": asks,
            "bids": bids,
            "sequence_no": book.seq,
            "timestamp": us(now_ns),
            "cs": book.checksum(),
        }
    return {
        "type": "ob_updates",
        "action": "snapshot",
        "sy": symbol,
        "a": asks,
        "b": bids,
        "seq": book.seq,
        "ts": us(now_ns),
        "cs": book.checksum(),
    }


def delta_frame(delta: BookDelta, product: SimProduct, *, legacy: bool) -> dict[str, Any]:
    """An ``ob_updates`` (or ``l2_updates``) update from one engine delta."""
    fmt = product.format_ticks
    asks = [[fmt(p), str(s)] for p, s in delta.asks]
    bids = [[fmt(p), str(s)] for p, s in delta.bids]
    if legacy:
        return {
            "type": "l2_updates",
            "action": "update",
            "symbol": delta.symbol,
            "asks": asks,
            "bids": bids,
            "sequence_no": delta.seq,
            "timestamp": us(delta.ts_ns),
            "cs": delta.checksum,
        }
    return {
        "type": "ob_updates",
        "action": "update",
        "sy": delta.symbol,
        "a": asks,
        "b": bids,
        "seq": delta.seq,
        "ts": us(delta.ts_ns),
        "cs": delta.checksum,
    }


def l2_json(core: EngineCore, symbol: str, depth: int, now_ns: int) -> dict[str, Any]:
    """``GET /v2/l2orderbook/{symbol}``: levels with cumulative ``depth``."""
    asks, bids = book_levels(core, symbol, depth)

    def side(levels: list[list[str]]) -> list[dict[str, Any]]:
        total, out = 0, []
        for price, size in levels:
            total += int(size)
            out.append({"price": price, "size": int(size), "depth": str(total)})
        return out

    return {
        "buy": side(bids),
        "sell": side(asks),
        "symbol": symbol,
        "last_updated_at": us(now_ns),
        "last_sequence_no": core.books[symbol].seq,
    }


def l2_frame(core: EngineCore, symbol: str, now_ns: int, *, legacy: bool) -> dict[str, Any]:
    """``ob_l2`` (top 15) or legacy ``l2_orderbook``."""
    asks, bids = book_levels(core, symbol, 15)
    if not legacy:
        return {
            "type": "ob_l2",
            "sy": symbol,
            "a": asks,
            "b": bids,
            "lts": us(now_ns),
            "ts": us(now_ns),
        }
    body = l2_json(core, symbol, 15, now_ns)
    for level in (*body["buy"], *body["sell"]):
        level["limit_price"] = level.pop("price")
    product = core.by_symbol[symbol]
    return {
        "type": "l2_orderbook",
        "symbol": symbol,
        "product_id": product.product_id,
        "buy": body["buy"],
        "sell": body["sell"],
        "last_sequence_no": core.books[symbol].seq,
        "last_updated_at": us(now_ns),
        "timestamp": us(now_ns),
    }


def l1_frame(core: EngineCore, symbol: str, now_ns: int, *, legacy: bool) -> dict[str, Any]:
    """``ob_l1`` or legacy ``l1_orderbook``: best bid and ask."""
    asks, bids = book_levels(core, symbol, 1)
    ap, asz = asks[0] if asks else (None, None)
    bp, bsz = bids[0] if bids else (None, None)
    if legacy:
        return {
            "type": "l1_orderbook",
            "symbol": symbol,
            "product_id": core.by_symbol[symbol].product_id,
            "best_ask": ap,
            "ask_qty": asz,
            "best_bid": bp,
            "bid_qty": bsz,
            "last_sequence_no": core.books[symbol].seq,
            "last_updated_at": us(now_ns),
            "timestamp": us(now_ns),
        }
    return {
        "type": "ob_l1",
        "sy": symbol,
        "ap": ap,
        "as": asz,
        "bp": bp,
        "bs": bsz,
        "lts": us(now_ns),
        "ts": us(now_ns),
    }


def trade_json(trade: PublicTrade, product: SimProduct) -> dict[str, Any]:
    """A trade of ``GET /v2/trades/{symbol}`` (``side`` is the aggressor's)."""
    buyer = trade.buyer_role
    return {
        "side": BUY if buyer == "taker" else SELL,
        "size": trade.size,
        "price": product.format_ticks(trade.price_ticks),
        "timestamp": us(trade.ts_ns),
        "buyer_role": buyer,
        "seller_role": "maker" if buyer == "taker" else "taker",
    }


def trade_frame(trade: PublicTrade, product: SimProduct, *, legacy: bool) -> dict[str, Any]:
    """``trades`` (``r`` is the buyer's role) or legacy ``all_trades``."""
    if legacy:
        body = trade_json(trade, product)
        del body["side"]
        return {
            "type": "all_trades",
            "symbol": trade.symbol,
            "product_id": product.product_id,
            **body,
        }
    return {
        "type": "trades",
        "sy": trade.symbol,
        "p": product.format_ticks(trade.price_ticks),
        "s": trade.size,
        "r": "t" if trade.buyer_role == "taker" else "m",
        "t": us(trade.ts_ns),
        "ts": us(trade.ts_ns),
    }


def trades_snapshot_frame(core: EngineCore, symbol: str) -> dict[str, Any]:
    """Legacy ``all_trades_snapshot``: the last 50 trades."""
    product = core.by_symbol[symbol]
    trades = []
    for trade in list(core.trades[symbol])[-50:]:
        body = trade_json(trade, product)
        del body["side"]
        trades.append(body)
    return {"type": "all_trades_snapshot", "symbol": symbol, "trades": trades}


def number(product: SimProduct, ticks: int) -> float | int:
    """A price as a JSON number (REST candles and ticker OHLC are numbers on Delta)."""
    value = product.price_of(ticks)
    return int(value) if value == value.to_integral_value() else float(value)


def candle_json(candle: Candle, product: SimProduct) -> dict[str, Any]:
    """A REST candle: ``time`` in seconds, JSON numbers."""
    volume = candle.volume
    return {
        "time": candle.start_s,
        "open": number(product, candle.open),
        "high": number(product, candle.high),
        "low": number(product, candle.low),
        "close": number(product, candle.close),
        "volume": int(volume) if volume == int(volume) else round(volume, 8),
    }


def candle_frame(
    candle: Candle, product: SimProduct, resolution: str, *, legacy: bool
) -> dict[str, Any]:
    """``candlestick_<res>``; ``ts`` is the candle's last update (inside the candle)."""
    fmt = product.format_ticks
    if legacy:
        body = candle_json(candle, product)
        return {
            "type": f"candlestick_{resolution}",
            "symbol": product.symbol,
            "resolution": resolution,
            "candle_start_time": candle.start_s * 1_000_000,
            "open": body["open"],
            "high": body["high"],
            "low": body["low"],
            "close": body["close"],
            "volume": body["volume"],
            "timestamp": us(candle.last_ns),
        }
    volume = candle.volume
    return {
        "type": f"candlestick_{resolution}",
        "sy": product.symbol,
        "res": resolution,
        "o": fmt(candle.open),
        "h": fmt(candle.high),
        "l": fmt(candle.low),
        "c": fmt(candle.close),
        "v": int(volume) if volume == int(volume) else round(volume, 8),
        "ts": us(candle.last_ns),
    }
