"""Public stream parsers: compact (public-socket host) and legacy (socket host) frames.

:func:`parse_public` takes one decoded frame and returns the messages it carries (usually
one). The compact channels (``ticker``, ``ob_updates``, ``trades``, ``mark_price``,
``candlestick_*``, ``funding_rate``) are told from the legacy ones (``v2/ticker``,
``l2_updates``, ``all_trades`` + ``all_trades_snapshot``, and the same three shared names)
by the symbol key: compact frames carry ``sy``, legacy frames ``symbol``.

Conventions: every venue time is µs and becomes ns here, once; prices are ``Decimal`` from
the wire text; sizes are integer contracts (``1.0`` and ``"1"`` both accepted). A frame
type this module does not know raises :class:`UnknownFrame`; a known frame with a missing
or bad field raises :class:`ParseError`. Both are counted by the stream, never fatal.

Unconfirmed and how it is handled: compact candles carry no start time, so the open time
is ``floor(ts / resolution) * resolution``; compact trades carry no trade id, so
``trade_id`` is ``"<symbol>:<trade µs>"``; funding rates are read as percent (``0.01`` =
0.01 %, a fraction of 0.0001) on both hosts.

Pure functions; any thread may call them.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from exchange.delta._errors import ParseError
from exchange.delta._fields import (
    Raw,
    dec,
    int_of,
    obj,
    opt_dec,
    opt_int,
    seq,
    str_of,
    to_dec,
    us_to_ns,
)
from exchange.delta._parse_book import (
    BUYER_ROLE,
    parse_l2_updates,
    parse_ob_updates,
    parse_trades,
)
from exchange.delta._parse_rest import FUNDING_PERCENT, RESOLUTION_S, parse_ticker
from messages import (
    Candle,
    CandleUpdated,
    Contracts,
    FundingRate,
    MarkPrice,
    Message,
    MessageError,
    Side,
    Ticker,
    Trade,
    UnixNanos,
)

__all__ = ["UnknownFrame", "parse_public"]

_NS = 1000
_MARK = "MARK:"


class UnknownFrame(Exception):
    """Internal: the frame's ``type`` is not a public data channel this module parses.

    Caught by the stream wrapper, which counts and logs it (rule 6); never escapes.
    """


def _ts(frame: Raw, key: str, where: str) -> UnixNanos:
    value = frame.get(key)
    if type(value) is int:
        return UnixNanos(value * _NS)
    if value is None:
        raise ParseError(f"{where}.{key}", "missing")
    return UnixNanos(us_to_ns(value, f"{where}.{key}"))


def _aggressor(frame: Raw, key: str, where: str) -> Side:
    """The taker's side from the **buyer's** role: buyer taker -> BUY aggressor."""
    role = frame.get(key)
    side = BUYER_ROLE.get(role) if type(role) is str else None
    if side is None:
        raise ParseError(f"{where}.{key}", f"unknown buyer role {role!r:.20}")
    return side


def _legacy_trade(raw: Raw, symbol: str, ts_init: int, where: str) -> Trade:
    trade_us = int_of(raw, "timestamp", where)
    trade_id = raw.get("id") or raw.get("trade_id")
    return Trade(
        ts_event=UnixNanos(trade_us * _NS),
        ts_init=UnixNanos(ts_init),
        symbol=symbol,
        trade_id=str(trade_id) if trade_id is not None else f"{symbol}:{trade_us}",
        price=dec(raw, "price", where),
        size=Contracts(int_of(raw, "size", where)),
        side=_aggressor(raw, "buyer_role", where),
    )


def _all_trades(frame: Raw, ts_init: int) -> list[Message]:
    return [_legacy_trade(frame, str_of(frame, "symbol", "all_trades"), ts_init, "all_trades")]


def _all_trades_snapshot(frame: Raw, ts_init: int) -> list[Message]:
    """The last trades, sent once on subscribe; oldest first after sorting by time."""
    w = "all_trades_snapshot"
    symbol = str_of(frame, "symbol", w)
    trades = [
        _legacy_trade(obj(t, f"{w}.trades[{i}]"), symbol, ts_init, f"{w}.trades[{i}]")
        for i, t in enumerate(seq(frame.get("trades"), f"{w}.trades"))
    ]
    trades.sort(key=lambda t: t.ts_event)
    return list(trades)


def _mark_price(frame: Raw, ts_init: int) -> list[Message]:
    """``mark_price`` on both hosts; the ``MARK:`` prefix is removed from the symbol."""
    if "sy" in frame:
        symbol, price, ts = str_of(frame, "sy", "mark_price"), dec(frame, "p", "mark_price"), "ts"
    else:
        symbol, price = str_of(frame, "symbol", "mark_price"), dec(frame, "price", "mark_price")
        ts = "timestamp"
    return [
        MarkPrice(
            ts_event=_ts(frame, ts, "mark_price"),
            ts_init=UnixNanos(ts_init),
            symbol=symbol.removeprefix(_MARK),
            price=price,
        )
    ]


def _funding_rate(frame: Raw, ts_init: int) -> list[Message]:
    """``funding_rate`` on both hosts; percent on the wire, a fraction in the message."""
    w = "funding_rate"
    if "sy" in frame:
        symbol, rate = str_of(frame, "sy", w), dec(frame, "fr", w)
        next_us, ts = opt_int(frame, "nfr", w), "ts"
    else:
        symbol, rate = str_of(frame, "symbol", w), dec(frame, "funding_rate", w)
        next_us, ts = opt_int(frame, "next_funding_realization", w), "timestamp"
    return [
        FundingRate(
            ts_event=_ts(frame, ts, w),
            ts_init=UnixNanos(ts_init),
            symbol=symbol,
            rate=rate / FUNDING_PERCENT,
            next_funding_ns=None if next_us is None else UnixNanos(next_us * _NS),
        )
    ]


def _candlestick(frame: Raw, ts_init: int) -> list[Message]:
    """``candlestick_<res>`` on both hosts.

    Compact frames have no start time: open = floor(ts / res) * res. Mark-price candles
    (``MARK:`` symbols) have no volume and fail with :class:`ParseError`; the bot does not
    subscribe to them.
    """
    kind = str(frame["type"])
    w = kind
    res_name = kind.removeprefix("candlestick_")
    res_s = RESOLUTION_S.get(res_name)
    if res_s is None:
        raise ParseError(f"{w}.type", f"unknown resolution {res_name!r:.20}")
    res_ns = res_s * 10**9
    if "sy" in frame:
        ts_event = _ts(frame, "ts", w)
        open_ns = ts_event // res_ns * res_ns
        symbol, keys = str_of(frame, "sy", w), ("o", "h", "l", "c", "v")
    else:
        ts_event = _ts(frame, "timestamp", w)
        open_ns = us_to_ns(frame.get("candle_start_time"), f"{w}.candle_start_time")
        symbol, keys = str_of(frame, "symbol", w), ("open", "high", "low", "close", "volume")
    o, h, lo, c, v = (dec(frame, k, w) for k in keys)
    candle = Candle(
        symbol=symbol,
        open_time_ns=UnixNanos(open_ns),
        close_time_ns=UnixNanos(open_ns + res_ns),
        open=o,
        high=h,
        low=lo,
        close=c,
        volume=v,
    )
    return [
        CandleUpdated(
            ts_event=ts_event, ts_init=UnixNanos(ts_init), candle=candle, resolution=res_name
        )
    ]


def _compact_ticker(frame: Raw, ts_init: int) -> list[Message]:
    """Compact ``ticker``: one :class:`Ticker` per entry of ``d``.

    ``q`` is ``[best_ask, ask_size, best_bid, bid_size, impact_mid]``, ``ohlc`` is
    ``[open, high, low, close]``, ``oi[0]`` is open interest in contracts.
    """
    w = "ticker"
    ts_event = _ts(frame, "ts", w)
    spot = opt_dec(frame, "sp", w)
    out: list[Message] = []
    for i, item in enumerate(seq(frame.get("d"), f"{w}.d")):
        at = f"{w}.d[{i}]"
        entry = obj(item, at)
        ohlc = _opt_list(entry.get("ohlc"), 4, f"{at}.ohlc")
        quotes = _opt_list(entry.get("q"), 4, f"{at}.q")
        oi = _opt_list(entry.get("oi"), 1, f"{at}.oi")
        out.append(
            Ticker(
                ts_event=ts_event,
                ts_init=UnixNanos(ts_init),
                symbol=str_of(entry, "s", at) if "s" in entry else str_of(frame, "sy", w),
                last_price=_at(ohlc, 3, f"{at}.ohlc"),
                mark_price=opt_dec(entry, "m", at),
                index_price=spot,
                best_bid=_at(quotes, 2, f"{at}.q"),
                best_ask=_at(quotes, 0, f"{at}.q"),
                high_24h=_at(ohlc, 1, f"{at}.ohlc"),
                low_24h=_at(ohlc, 2, f"{at}.ohlc"),
                volume_24h=None,
                open_interest=_at(oi, 0, f"{at}.oi"),
                funding_rate=None,
            )
        )
    return out


def _opt_list(value: object, min_len: int, field: str) -> list[object] | None:
    if value is None:
        return None
    if type(value) is not list or len(value) < min_len:
        raise ParseError(field, f"expected an array of at least {min_len}")
    return value


def _at(values: list[object] | None, i: int, field: str) -> Decimal | None:
    if values is None or values[i] is None or values[i] == "":
        return None
    return to_dec(values[i], f"{field}[{i}]")


def _legacy_ticker(frame: Raw, ts_init: int) -> list[Message]:
    return [parse_ticker(frame, ts_init)]


_PARSERS: dict[str, Callable[[Raw, int], list[Message]]] = {
    "ob_updates": parse_ob_updates,
    "l2_updates": parse_l2_updates,
    "trades": parse_trades,
    "all_trades": _all_trades,
    "all_trades_snapshot": _all_trades_snapshot,
    "ticker": _compact_ticker,
    "v2/ticker": _legacy_ticker,
    "mark_price": _mark_price,
    "funding_rate": _funding_rate,
}


def parse_public(frame: Raw, ts_init: int) -> list[Message]:
    """Return the messages one public data frame carries.

    Args:
        frame: One decoded frame (a JSON object).
        ts_init: Creation time for the messages, ns (the stream reads its clock once).

    Raises:
        UnknownFrame: ``type`` is not a data channel parsed here (control frames such as
            ``subscriptions`` or ``heartbeat`` are the stream's business).
        ParseError: A known frame lacks a field or holds an unusable value.
    """
    kind = frame.get("type")
    if type(kind) is not str:
        raise UnknownFrame(repr(kind)[:40])
    parser = _PARSERS.get(kind)
    if parser is None:
        if not kind.startswith("candlestick_"):
            raise UnknownFrame(kind[:40])
        parser = _candlestick
    try:
        return parser(frame, ts_init)
    except MessageError as exc:  # a value the message refuses: the frame is bad
        raise ParseError(kind[:40], str(exc)) from exc
