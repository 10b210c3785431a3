"""Delta's public and private streams: thin wrappers that give the stream loop a meaning.

Each wrapper is a :class:`StreamHandler` plus a :class:`StreamLoop`. It subscribes on
connect (and again after every reconnect), answers the control frames, parses data frames
into messages and hands each to ``sink``. **sink runs on the stream thread**; it must be
quick and thread-safe (an actor's ``tell``).

- :class:`DeltaPublicStream`: market data, on the compact public host (``ob_updates``,
  ``trades``, ``ticker``, ``mark_price``, ``candlestick_*``, ``funding_rate``) or on the
  legacy channels of the private host (``l2_updates``, ``all_trades``, ``v2/ticker``, ...).
  An ``ob_updates`` ``error`` emits ``BookFeedFailed`` and resubscribes the symbol 3 s later
  (clock time); :meth:`DeltaPublicStream.resync_book` does the same at once for a caller
  that found a sequence gap or a checksum mismatch.
- :class:`DeltaPrivateStream`: ``key-auth`` (HMAC of ``GET + timestamp + /live``; the
  timestamp is UNIX seconds of the clock, sent as a string), then ``orders``,
  ``positions``, ``margins`` and ``v2/user_trades`` once the venue confirms. A refused
  key-auth is fatal (the stream reports ``StreamFailed``); a ``500`` reply reconnects.

Every frame is counted: ``parsed``, ``control``, ``unknown`` (a type we do not parse) and
``malformed`` (not JSON, not an object, or a field missing/bad). Unknown and malformed frames
are logged (the first ten of each, then every thousandth) and never stop the stream.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from actors._clock import Clock
from exchange.delta._errors import ExchangeError, ParseError, StreamFailed, error_from_reply
from exchange.delta._parse_private import parse_private
from exchange.delta._parse_public import UnknownFrame, parse_public
from exchange.delta._signing import sign_ws_auth
from exchange.delta._stream import Send, StreamConfig, StreamLoop
from messages import Message, MessageError
from messages.settings import ExchangeSettings, Secret

__all__ = [
    "Channel",
    "DeltaPrivateStream",
    "DeltaPublicStream",
    "private_channels",
    "public_channels",
]

log = logging.getLogger(__name__)

Channel = tuple[str, tuple[str, ...]]
"""A subscription: channel name and symbols (empty for symbol-less channels)."""

_NS = 1_000_000_000
_RESUB_DELAY_S = 3
_PING = '{"type":"ping"}'
_HEARTBEAT = '{"type":"enable_heartbeat"}'


def public_channels(
    symbols: Sequence[str], *, compact: bool, candles: Sequence[str] = ("15m",)
) -> tuple[Channel, ...]:
    """Return the market-data subscriptions for ``symbols`` on the compact or legacy host."""
    syms = tuple(symbols)
    marks = tuple(f"MARK:{s}" for s in syms)
    book, trades, ticker = (
        ("ob_updates", "trades", "ticker") if compact else ("l2_updates", "all_trades", "v2/ticker")
    )
    return (
        (book, syms),
        (trades, syms),
        (ticker, syms),
        ("mark_price", marks),
        ("funding_rate", syms),
        *((f"candlestick_{res}", syms) for res in candles),
    )


def private_channels(symbols: Sequence[str]) -> tuple[Channel, ...]:
    """Return the account subscriptions (``margins`` takes no symbols)."""
    syms = tuple(symbols)
    return (("orders", syms), ("positions", syms), ("margins", ()), ("v2/user_trades", syms))


def _subscribe(kind: str, channels: Sequence[Channel]) -> str:
    payload = [
        {"name": name, "symbols": list(symbols)} if symbols else {"name": name}
        for name, symbols in channels
    ]
    return orjson.dumps({"type": kind, "payload": {"channels": payload}}).decode()


class _Base:
    """Frame counting, logging and control frames shared by both streams."""

    name = "stream"

    def __init__(self, *, clock: Clock, sink: Callable[[Message], None]) -> None:
        self._clock = clock
        self._sink = sink
        self.counts: collections.Counter[str] = collections.Counter()
        self.subscribed: tuple[Channel, ...] = ()
        self.subscription_errors: list[str] = []
        self.loop: StreamLoop

    def _note(self, what: str, detail: object, frame: bytes) -> None:
        self.counts[what] += 1
        n = self.counts[what]
        if n <= 10 or n % 1000 == 0:
            log.warning("stream %s: %s frame #%d (%s): %.160r", self.name, what, n, detail, frame)

    def _decode(self, frame: bytes) -> dict[str, Any] | None:
        try:
            decoded = orjson.loads(frame)
        except orjson.JSONDecodeError as exc:
            self._note("malformed", f"not JSON: {exc}", frame)
            return None
        if type(decoded) is not dict:
            self._note("malformed", "not an object", frame)
            return None
        return decoded

    def _emit(self, messages: list[Message]) -> None:
        for message in messages:
            try:
                self._sink(message)
            except Exception:  # a consumer bug must not stop the stream
                self.counts["sink_errors"] += 1
                log.exception("stream %s: sink failed on %s", self.name, type(message).__name__)

    def _control(self, frame: Mapping[str, Any], kind: object) -> bool:
        """Handle the frames both hosts send; return True when ``frame`` was one."""
        if kind in ("heartbeat", "pong"):
            self.counts["control"] += 1
            return True
        if kind == "subscriptions":
            self.counts["control"] += 1
            channels = frame.get("channels")
            active = []
            for item in channels if isinstance(channels, list) else ():
                if isinstance(item, Mapping) and item.get("error"):
                    self.subscription_errors.append(str(item.get("error"))[:200])
                    log.warning("stream %s: subscription refused: %s", self.name, item)
                elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
                    syms = item.get("symbols")
                    active.append((item["name"], tuple(syms) if isinstance(syms, list) else ()))
            self.subscribed = tuple(active)
            return True
        return False

    def health(self) -> dict[str, object]:
        """The loop's state and counters plus this stream's frame counts."""
        return {**self.loop.health(), **self.counts, "subscribed": len(self.subscribed)}

    def start(self) -> None:
        """Start the stream thread (see :class:`StreamLoop`)."""
        self.loop.start()

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Stop the stream; True when its thread ended within ``timeout_s``."""
        return self.loop.stop(timeout_s)

    def on_disconnect(self, reason: str) -> None:
        """Forget the subscriptions (the venue forgets them too)."""
        self.subscribed = ()
        log.info("stream %s: disconnected (%s)", self.name, reason)


def _config(name: str, url: str, settings: ExchangeSettings) -> StreamConfig:
    return StreamConfig(
        name=name,
        url=url,
        stale_after_s=settings.ws_heartbeat_timeout_s,
        ping_after_s=settings.ws_heartbeat_timeout_s / 2,
        ping_message=_PING,
        backoff_initial_ms=settings.backoff_initial_ms,
        backoff_max_ms=settings.backoff_max_ms,
        max_retries=settings.reconnect_max_retries,
    )


class DeltaPublicStream(_Base):
    """Market data over one connection; see the module docstring."""

    name = "public"

    def __init__(
        self,
        url: str,
        *,
        channels: Sequence[Channel],
        settings: ExchangeSettings,
        clock: Clock,
        sink: Callable[[Message], None],
        on_failure: Callable[[StreamFailed], None] | None = None,
    ) -> None:
        super().__init__(clock=clock, sink=sink)
        self.channels = tuple(channels)
        self._book_channel = next(
            (n for n, _ in self.channels if n in ("ob_updates", "l2_updates")), "ob_updates"
        )
        self._resync: dict[str, int] = {}
        self._lock = threading.Lock()
        self.loop = StreamLoop(
            _config("public", url, settings), self, clock=clock, on_failure=on_failure
        )

    def resync_book(self, symbol: str, *, delay_s: float = 0.0) -> None:
        """Ask for a fresh book snapshot of ``symbol`` (unsubscribe + subscribe).

        Any thread may call it; the stream thread sends it within about 100 ms (after
        ``delay_s`` seconds of clock time).
        """
        with self._lock:
            self._resync[symbol] = self._clock.now_ns() + int(delay_s * _NS)

    def on_connect(self, send: Send) -> None:
        """Enable heartbeats and subscribe every channel."""
        with self._lock:
            self._resync.clear()
        send(_HEARTBEAT)
        send(_subscribe("subscribe", self.channels))

    def on_tick(self, send: Send) -> None:
        """Send due book resubscriptions."""
        if not self._resync:
            return
        now = self._clock.now_ns()
        with self._lock:
            due = [s for s, at in self._resync.items() if at <= now]
            for symbol in due:
                del self._resync[symbol]
        if due:
            channel = ((self._book_channel, tuple(due)),)
            send(_subscribe("unsubscribe", channel))
            send(_subscribe("subscribe", channel))
            self.counts["resyncs"] += len(due)

    def on_frame(self, frame: bytes, send: Send) -> None:  # noqa: ARG002 - protocol
        """Parse one frame and emit its messages; count everything else."""
        ts_init = self._clock.now_ns()
        decoded = self._decode(frame)
        if decoded is None:
            return
        kind = decoded.get("type")
        if self._control(decoded, kind):
            return
        try:
            messages = parse_public(decoded, ts_init)
        except UnknownFrame as exc:
            self._note("unknown", exc, frame)
            return
        except (ParseError, MessageError, ValueError, TypeError, ArithmeticError) as exc:
            self._note("malformed", exc, frame)
            return
        self.counts["parsed"] += 1
        if decoded.get("action") == "error" and messages:
            symbol = getattr(messages[0], "symbol", None)
            if isinstance(symbol, str):
                self.resync_book(symbol, delay_s=_RESUB_DELAY_S)
        self._emit(messages)


class DeltaPrivateStream(_Base):
    """Account events over the authenticated connection; see the module docstring."""

    name = "private"

    def __init__(
        self,
        url: str,
        *,
        api_key: Secret,
        api_secret: Secret,
        channels: Sequence[Channel],
        settings: ExchangeSettings,
        clock: Clock,
        sink: Callable[[Message], None],
        symbols: Mapping[int, str],
        on_failure: Callable[[StreamFailed], None] | None = None,
    ) -> None:
        super().__init__(clock=clock, sink=sink)
        self._key = api_key
        self._secret = api_secret
        self.channels = tuple(channels)
        self._symbols = dict(symbols)
        self.authenticated = False
        self.loop = StreamLoop(
            _config("private", url, settings), self, clock=clock, on_failure=on_failure
        )

    def __repr__(self) -> str:
        return f"DeltaPrivateStream({self.loop!r})"

    def on_connect(self, send: Send) -> None:
        """Enable heartbeats and authenticate; subscriptions follow the confirmation."""
        self.authenticated = False
        timestamp = str(self._clock.now_ns() // _NS)
        signature = sign_ws_auth(self._secret.reveal(), timestamp)
        payload = {"api-key": self._key.reveal(), "signature": signature, "timestamp": timestamp}
        send(_HEARTBEAT)
        send(orjson.dumps({"type": "key-auth", "payload": payload}).decode())

    def on_tick(self, send: Send) -> None:
        """Nothing periodic."""

    def on_frame(self, frame: bytes, send: Send) -> None:
        """Handle auth replies, then parse account frames and emit their events.

        Raises:
            AuthenticationFailed: key-auth refused (fatal: the loop gives up).
            ServerError: key-auth answered 500 (the loop reconnects).
        """
        ts_init = self._clock.now_ns()
        decoded = self._decode(frame)
        if decoded is None:
            return
        kind = decoded.get("type")
        if kind in ("key-auth", "auth"):
            self._auth_reply(decoded, send)
            return
        if self._control(decoded, kind) or kind in ("success", "unauth"):
            if kind == "success":
                self._auth_reply({"success": True}, send)
            return
        try:
            messages = parse_private(decoded, ts_init, self._symbols)
        except UnknownFrame as exc:
            self._note("unknown", exc, frame)
            return
        except (ParseError, MessageError, ValueError, TypeError, ArithmeticError) as exc:
            self._note("malformed", exc, frame)
            return
        self.counts["parsed"] += 1
        self._emit(messages)

    def _auth_reply(self, frame: Mapping[str, Any], send: Send) -> None:
        self.counts["control"] += 1
        if frame.get("success") is True:
            if not self.authenticated:
                self.authenticated = True
                send(_subscribe("subscribe", self.channels))
            return
        status = frame.get("status_code")
        code = frame.get("status") or frame.get("message") or "auth_failed"
        error: ExchangeError = error_from_reply(
            status if isinstance(status, int) else 401,
            {"error": {"code": str(code)}},
            what="key-auth",
        )
        raise error
