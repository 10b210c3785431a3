"""Periodic market statistics as the wire shows them: tickers, mark price, funding rate.

Pure functions of engine state (read under the engine lock by the caller) and candles, for
``GET /v2/tickers`` and the ``ticker`` / ``v2/ticker``, ``mark_price`` and ``funding_rate``
channels. 24-hour figures come from the candle store.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exchange.sim._candles import Candle, CandleStore
from exchange.sim._core import EngineCore
from exchange.sim._public import book_levels, number
from exchange.sim._wire import money, us

__all__ = ["funding_frame", "mark_frame", "ticker_frame", "ticker_json"]

_DAY_S = 86400


def _day(candles: CandleStore, symbol: str, now_ns: int) -> tuple[Candle | None, float]:
    now_s = now_ns // 1_000_000_000
    got = candles.query(symbol, 60, now_s - _DAY_S, now_s)
    if not got:
        return None, 0.0
    volume = sum(c.volume for c in got)
    return Candle(
        got[0].start_s,
        got[0].open,
        max(c.high for c in got),
        min(c.low for c in got),
        got[-1].close,
        volume,
        got[-1].last_ns,
    ), volume


def ticker_json(core: EngineCore, candles: CandleStore, symbol: str, now_ns: int) -> dict[str, Any]:
    """A REST ticker (also the legacy ``v2/ticker`` frame body)."""
    product = core.by_symbol[symbol]
    asks, bids = book_levels(core, symbol, 1)
    mark_ticks = core.mark.get(symbol, core.last.get(symbol, 0))
    mark = product.price_of(mark_ticks)
    day, volume = _day(candles, symbol, now_ns)
    pos_oi = sum(abs(a.positions[product.product_id].size) for a in core.accounts.values())
    body: dict[str, Any] = {
        "symbol": symbol,
        "product_id": product.product_id,
        "contract_type": "perpetual_futures",
        "timestamp": us(now_ns),
        "mark_price": product.format_ticks(mark_ticks),
        "spot_price": product.format_ticks(mark_ticks),
        "funding_rate": money(core.funding_rate_pct[symbol]),
        "oi": money(pos_oi * product.contract_value),
        "oi_contracts": str(pos_oi),
        "price_band": {
            "lower_limit": money(mark * Decimal("0.975")),
            "upper_limit": money(mark * Decimal("1.025")),
        },
        "quotes": {
            "best_ask": asks[0][0] if asks else None,
            "ask_size": asks[0][1] if asks else None,
            "best_bid": bids[0][0] if bids else None,
            "bid_size": bids[0][1] if bids else None,
        },
        "volume": volume,
        "turnover_usd": float(Decimal(volume) * product.contract_value * mark),
    }
    if day is not None:
        body.update(
            open=number(product, day.open),
            high=number(product, day.high),
            low=number(product, day.low),
            close=number(product, day.close),
        )
    return body


def ticker_frame(
    core: EngineCore, candles: CandleStore, symbol: str, now_ns: int, *, legacy: bool
) -> dict[str, Any]:
    """Compact ``ticker`` or legacy ``v2/ticker``."""
    body = ticker_json(core, candles, symbol, now_ns)
    if legacy:
        return {"type": "v2/ticker", **body}
    q = body["quotes"]
    band = body["price_band"]
    fmt = core.by_symbol[symbol].format_ticks
    ohlc = [str(body.get(k)) for k in ("open", "high", "low", "close")]
    change = "0"
    if body.get("open"):
        change = f"{(float(body['close']) / float(body['open']) - 1) * 100:.2f}"
    mark = body["mark_price"]
    return {
        "type": "ticker",
        "sy": symbol,
        "ts": body["timestamp"],
        "sp": mark,
        "d": [
            {
                "s": symbol,
                "i": body["product_id"],
                "m": mark,
                "m24hc": change,
                "ohlc": ohlc,
                "oi": [body["oi_contracts"], "0"],
                "pb": [band["lower_limit"], band["upper_limit"]],
                "q": [
                    q["best_ask"],
                    q["ask_size"],
                    q["best_bid"],
                    q["bid_size"],
                    fmt(core.mark.get(symbol, 0)),
                ],
                "qiv": [None, None, None],
                "g": None,
                "to": [str(body["volume"]), str(body["turnover_usd"])],
            }
        ],
    }


def mark_frame(core: EngineCore, symbol: str, now_ns: int, *, legacy: bool) -> dict[str, Any]:
    """``mark_price`` (symbol ``MARK:<symbol>``), compact or legacy."""
    product = core.by_symbol[symbol]
    price = product.format_ticks(core.mark.get(symbol, core.last.get(symbol, 0)))
    if not legacy:
        return {"type": "mark_price", "sy": f"MARK:{symbol}", "p": price, "ts": us(now_ns)}
    return {
        "type": "mark_price",
        "symbol": f"MARK:{symbol}",
        "product_id": product.product_id,
        "price": price,
        "timestamp": us(now_ns),
    }


def funding_frame(core: EngineCore, symbol: str, now_ns: int, *, legacy: bool) -> dict[str, Any]:
    """``funding_rate`` (rate in %, interval in s, next payment in µs)."""
    product = core.by_symbol[symbol]
    rate = core.funding_rate_pct[symbol]
    nxt = us(core.next_funding_ns[symbol])
    if not legacy:
        return {
            "type": "funding_rate",
            "sy": symbol,
            "fr": float(rate),
            "fi": product.funding_interval_s,
            "nfr": nxt,
            "ts": us(now_ns),
        }
    return {
        "type": "funding_rate",
        "symbol": symbol,
        "product_id": product.product_id,
        "funding_rate": float(rate),
        "funding_rate_8h": float(rate),
        "predicted_funding_rate": float(rate),
        "next_funding_realization": nxt,
        "timestamp": us(now_ns),
    }
