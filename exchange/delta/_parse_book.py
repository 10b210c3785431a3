"""The hot path: book (``ob_updates``, ``l2_updates``) and trade (``trades``) frames.

These frames arrive thousands of times a second, so they are parsed with a budget of a few
times ``orjson.loads``. Two measured shortcuts, and what keeps them safe:

- The messages are built **without** the generic construction check of ``messages``
  (``Value.__post_init__``, about 1 µs a message): the slots are filled through their
  descriptors. In exchange this module checks every value itself, exactly as strictly:
  symbols are ``str``, sequence numbers, checksums, sizes and times are ``int`` within the
  signed 64-bit range, prices are finite ``Decimal`` from the wire text, sides are ``Side``
  members, collections are tuples. ``tests/exchange/delta`` asserts that every message built
  here equals the one the checked constructor builds and survives the codec.
- Wire price strings are converted to ``Decimal`` through a bounded cache (a book repeats
  the same prices); ``Decimal`` is immutable, so sharing one is safe.

Pure functions; any thread may call them (the cache is a dict, safe under the GIL).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from exchange.delta._errors import ParseError
from exchange.delta._fields import Raw, to_dec, to_int
from messages import BookFeedFailed, BookLevel, BookSnapshot, BookUpdate, Message, Side, Trade

__all__ = ["BUYER_ROLE", "parse_l2_updates", "parse_ob_updates", "parse_trades"]

_INT64 = 2**63 - 1
_MAX_US = _INT64 // 1000
_CACHE_MAX = 4_096
"""Price strings remembered before the cache starts over: a book's prices cluster near the
touch, so a few thousand hit nearly every time; 65,536 held ~16 MB that a long run grew into."""
_prices: dict[str, Decimal] = {}
_new = object.__new__

BUYER_ROLE: dict[object, Side] = {
    "t": Side.BUY,
    "m": Side.SELL,
    "taker": Side.BUY,
    "maker": Side.SELL,
}
"""The **buyer's** role -> the aggressor's side: a taker buyer means a BUY aggressor."""


def _setters(cls: type, names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(getattr(cls, name).__set__ for name in names)


_BOOK_FIELDS = ("ts_event", "ts_init", "symbol", "seq", "bids", "asks", "checksum")
_TRADE_FIELDS = ("ts_event", "ts_init", "symbol", "trade_id", "price", "size", "side")


def _builder(cls: type, names: tuple[str, ...]) -> Any:
    """Return ``build(*values)`` filling ``names`` in order; unrolled for speed."""
    setters = _setters(cls, names)
    args = ", ".join(f"v{i}" for i in range(len(names)))
    body = "".join(f"    s{i}(o, v{i})\n" for i in range(len(names)))
    source = f"def build({args}):\n    o = new(cls)\n{body}    return o\n"
    scope: dict[str, Any] = {"new": _new, "cls": cls}
    scope.update({f"s{i}": setter for i, setter in enumerate(setters)})
    exec(source, scope)
    return scope["build"]


_LEVEL = _builder(BookLevel, ("price", "size"))
_BUILD_BOOK = {cls: _builder(cls, _BOOK_FIELDS) for cls in (BookSnapshot, BookUpdate)}
_TRADE = _builder(Trade, _TRADE_FIELDS)
_UPDATE = _BUILD_BOOK[BookUpdate]


def _price(text: object, field: str) -> Decimal:
    if type(text) is str:
        cached = _prices.get(text)
        if cached is not None:
            return cached
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ParseError(field, f"not a decimal: {text!r:.40}") from None
        if not value.is_finite():
            raise ParseError(field, f"not finite: {text!r:.40}")
        if len(_prices) >= _CACHE_MAX:
            _prices.clear()
        _prices[text] = value
        return value
    return to_dec(text, field)


def _int(value: object, field: str) -> int:
    result = value if type(value) is int else to_int(value, field)
    if not -_INT64 - 1 <= result <= _INT64:
        raise ParseError(field, "outside the signed 64-bit range")
    return result


def _time_ns(value: object, field: str) -> int:
    micros = value if type(value) is int else to_int(value, field)
    if not 0 <= micros <= _MAX_US:
        raise ParseError(field, f"not a µs time: {value!r:.40}")
    return micros * 1000


def _levels(raw: object, field: str) -> tuple[BookLevel, ...]:
    if type(raw) is not list:
        raise ParseError(field, "expected an array of [price, size]")
    out = []
    prices = _prices
    for level in raw:
        if type(level) is not list or len(level) != 2:
            raise ParseError(field, f"bad level {level!r:.60}")
        text, size = level
        price = prices.get(text) if type(text) is str else None
        if price is None:
            price = _price(text, field)
        if type(size) is str and size.isdecimal() and len(size) < 19:
            size = int(size)
        else:
            size = _int(size, field)
        out.append(_LEVEL(price, size))
    return tuple(out)


def _book(frame: Raw, keys: tuple[str, ...], ts_init: int, where: str) -> Message:
    """Build a snapshot or update from ``keys`` = (symbol, seq, time, asks, bids)."""
    sym_key, seq_key, ts_key, ask_key, bid_key = keys
    action = frame.get("action")
    cls = BookUpdate if action == "update" else BookSnapshot if action == "snapshot" else None
    if cls is None:
        raise ParseError(f"{where}.action", f"unknown value {action!r:.40}")
    symbol = frame.get(sym_key)
    if type(symbol) is not str:
        raise ParseError(f"{where}.{sym_key}", "missing" if symbol is None else "not a string")
    seq = frame.get(seq_key)
    if seq is None:
        raise ParseError(f"{where}.{seq_key}", "missing")
    ts = frame.get(ts_key)
    if ts is None:
        raise ParseError(f"{where}.{ts_key}", "missing")
    checksum = frame.get("cs")
    values = (
        _time_ns(ts, f"{where}.{ts_key}"),
        ts_init,
        symbol,
        _int(seq, f"{where}.{seq_key}"),
        _levels(frame.get(bid_key), f"{where}.{bid_key}"),
        _levels(frame.get(ask_key), f"{where}.{ask_key}"),
        None if checksum is None else _int(checksum, f"{where}.cs"),
    )
    return _BUILD_BOOK[cls](*values)  # type: ignore[no-any-return]


def _book_error(frame: Raw, ts_init: int) -> Message:
    symbol = frame.get("sy") or frame.get("symbol")
    if not isinstance(symbol, str):
        raise ParseError("book_error.symbol", "missing")
    reason = frame.get("msg") or frame.get("message") or "error"
    return BookFeedFailed(ts_event=ts_init, ts_init=ts_init, symbol=symbol, reason=str(reason))  # type: ignore[arg-type]


_COMPACT = ("sy", "seq", "ts", "a", "b")
_LEGACY = ("symbol", "sequence_no", "timestamp", "asks", "bids")


def parse_ob_updates(frame: Raw, ts_init: int) -> list[Message]:
    """Compact ``ob_updates``: snapshot, update (seq + 1; size 0 deletes) or error.

    The common case (an update with int ``seq``/``ts``/``cs`` and a str symbol) is inlined;
    anything else takes the general path with the same checks.
    """
    action = frame.get("action")
    symbol = frame.get("sy")
    seq = frame.get("seq")
    ts = frame.get("ts")
    cs = frame.get("cs")
    if (
        action == "update"
        and type(symbol) is str
        and type(seq) is int
        and type(ts) is int
        and type(cs) is int
        and 0 <= seq <= _INT64
        and 0 <= ts <= _MAX_US
        and 0 <= cs <= _INT64
    ):
        return [
            _UPDATE(
                ts * 1000,
                ts_init,
                symbol,
                seq,
                _levels(frame.get("b"), "ob_updates.b"),
                _levels(frame.get("a"), "ob_updates.a"),
                cs,
            )
        ]
    if action == "error":
        return [_book_error(frame, ts_init)]
    return [_book(frame, _COMPACT, ts_init, "ob_updates")]


def parse_l2_updates(frame: Raw, ts_init: int) -> list[Message]:
    """Legacy ``l2_updates``: the same meaning with long key names."""
    if frame.get("action") == "error":
        return [_book_error(frame, ts_init)]
    return [_book(frame, _LEGACY, ts_init, "l2_updates")]


def parse_trades(frame: Raw, ts_init: int) -> list[Message]:
    """Compact ``trades``: ``r`` is the buyer's role; the venue sends no trade id, so
    ``trade_id`` is ``"<symbol>:<trade µs>"``."""
    symbol = frame.get("sy")
    if type(symbol) is not str:
        raise ParseError("trades.sy", "missing" if symbol is None else "not a string")
    trade_us = frame.get("t")
    if trade_us is None:
        raise ParseError("trades.t", "missing")
    ts_event = _time_ns(trade_us, "trades.t")
    price = frame.get("p")
    size = frame.get("s")
    if price is None or size is None:
        raise ParseError("trades.p" if price is None else "trades.s", "missing")
    role = frame.get("r")
    side = BUYER_ROLE.get(role) if type(role) is str else None
    if side is None:
        raise ParseError("trades.r", f"unknown buyer role {role!r:.20}")
    values = (
        ts_event,
        ts_init,
        symbol,
        f"{symbol}:{ts_event // 1000}",
        _price(price, "trades.p"),
        _int(size, "trades.s"),
        side,
    )
    return [_TRADE(*values)]
