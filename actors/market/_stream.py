"""PublicStream: one market-data connection whose frames reach the per-symbol actors.

:class:`StreamRouter` is the routing logic (no threads of its own; it is given ``send`` and
``publish``): book messages go to the symbol's :class:`BookChannel` (ringing the book once),
candlestick frames and trades to the symbol's feed, everything else (ticker, mark price,
funding) is published under the symbol's key.

:class:`PublicStreamActor` owns a :class:`~exchange.delta.DeltaPublicStream`. **The router
runs on the stream's thread**: it only appends to channels and calls the runtime's ``send`` /
``publish``, which are thread-safe under the threaded runtime. Every (re)connection is
published as :class:`~messages.StreamConnected` before its first frame. A ``ResyncBook``
command resubscribes one symbol's book (``DeltaPublicStream.resync_book``). When the stream
gives up (``StreamFailed``) the actor fails and its supervisor restarts it; books are not
restarted (one_for_one) and resync from the new connection's snapshots.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import orjson

from actors._actor import Actor
from actors._clock import WallClock
from actors.market._channel import DOORBELL, BookChannel
from actors.market._common import book_id, feed_id
from exchange.delta import Channel, DeltaPublicStream, Send, StreamFailed, public_channels
from messages import (
    BookFeedFailed,
    BookSnapshot,
    BookUpdate,
    CandleUpdated,
    Message,
    ResyncBook,
    StreamConnected,
    Trade,
    UnixNanos,
)
from messages.settings import ExchangeSettings

__all__ = ["PublicStreamActor", "StreamRouter"]

_BOOK_TYPES = (BookSnapshot, BookUpdate, BookFeedFailed)


class StreamRouter:
    """Routes parsed stream messages by symbol (see the module docstring).

    Args:
        channels: Book channel per symbol.
        send: ``send(actor_id, message)``, thread-safe.
        publish: ``publish(message, key)``, thread-safe.
    """

    def __init__(
        self,
        channels: Mapping[str, BookChannel],
        *,
        send: Callable[[str, object], object],
        publish: Callable[[object, str | None], object],
    ) -> None:
        self._channels = dict(channels)
        self._books = {s: book_id(s) for s in channels}
        self._feeds = {s: feed_id(s) for s in channels}
        self._send = send
        self._publish = publish
        self.unrouted = 0

    def route(self, message: Message) -> None:
        """Deliver one message (called on the stream thread for every parsed message)."""
        kind = type(message)
        if kind in _BOOK_TYPES:
            symbol: str = message.symbol  # type: ignore[attr-defined]
            channel = self._channels.get(symbol)
            if channel is None:
                self.unrouted += 1
            elif channel.push(message):  # type: ignore[arg-type]
                self._send(self._books[symbol], DOORBELL)
        elif kind is CandleUpdated:
            self._to_feed(message.candle.symbol, message)  # type: ignore[attr-defined]
        elif kind is Trade:
            symbol = message.symbol  # type: ignore[attr-defined]
            self._to_feed(symbol, message)
            self._publish(message, symbol)  # for subscribers such as the paper engine
        else:
            self._publish(message, getattr(message, "symbol", None))

    def _to_feed(self, symbol: str, message: Message) -> None:
        target = self._feeds.get(symbol)
        if target is None:
            self.unrouted += 1
        else:
            self._send(target, message)


class _NotifyingStream(DeltaPublicStream):
    """A public stream that reports each new connection before its first frame, and
    subscribes the candles ahead of everything else (:func:`split_candles`)."""

    def __init__(self, *args: object, on_connected: Callable[[], None], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._on_connected = on_connected
        self._deferred: list[str] = []

    def on_connect(self, send: Send) -> None:
        """Subscribe (the candles first), then announce the connection (stream thread)."""
        self._deferred = []

        def first_candles(text: str) -> None:
            now, later = split_candles(text)
            send(now)
            self._deferred += later

        super().on_connect(first_candles)
        self._on_connected()

    def on_frame(self, frame: bytes, send: Send) -> None:
        """The first frame after the candles' subscription (its reply): subscribe the rest."""
        if self._deferred:
            self._send_deferred(send)
        super().on_frame(frame, send)

    def on_tick(self, send: Send) -> None:
        """Subscribe the rest if no frame came within a poll (about 100 ms)."""
        if self._deferred:
            self._send_deferred(send)
        super().on_tick(send)

    def _send_deferred(self, send: Send) -> None:
        deferred, self._deferred = self._deferred, []
        for text in deferred:
            send(text)


def split_candles(text: str) -> tuple[str, list[str]]:
    """``text`` to send now, and what to send after the first frame that answers it.

    A subscription holding candlestick channels and others becomes the candlesticks now,
    the others after. The venue answers a subscription with every channel's snapshot once
    it has built them all (on the simulator the tickers' alone take several milliseconds)
    and handles the next one first; the feeds need only the forming candle to publish their
    history, which is all a restart waits for. Anything else is sent as it is.
    """
    try:
        frame = orjson.loads(text)
        channels = frame["payload"]["channels"] if frame["type"] == "subscribe" else []
        candles = [c for c in channels if str(c["name"]).startswith("candlestick_")]
    except (orjson.JSONDecodeError, TypeError, KeyError):
        candles = []
    if not candles or len(candles) == len(channels):
        return text, []
    others = [c for c in channels if c not in candles]
    now, later = (
        orjson.dumps({"type": "subscribe", "payload": {"channels": part}}).decode()
        for part in (candles, others)
    )
    return now, [later]


@dataclass(frozen=True, slots=True)
class _StreamGaveUp:
    """Stream thread to its actor: the loop gave up (runtime-internal)."""

    error: StreamFailed = field(compare=False)


class PublicStreamActor(Actor):
    """Owns the public market-data connection (see the module docstring).

    Args:
        url: The compact public WebSocket URL.
        channels: Book channel per symbol (the symbols subscribed).
        timeframe: Candle resolution subscribed (``"15m"``).
        settings: ``[exchange]``: heartbeat, backoff, retries.
        stop_timeout_s: Real seconds allowed for the stream thread to end on stop.
    """

    def __init__(
        self,
        url: str,
        *,
        channels: Mapping[str, BookChannel],
        timeframe: str,
        settings: ExchangeSettings,
        stop_timeout_s: float = 3.0,
    ) -> None:
        self.url = url
        self.channels = dict(channels)
        self.timeframe = timeframe
        self.settings = settings
        self.stop_timeout_s = stop_timeout_s
        self.stream: DeltaPublicStream | None = None
        self._connections = itertools.count(1)

    def subscriptions(self) -> Sequence[Channel]:
        """The channels subscribed: books, trades and candles of every symbol (the candles
        are sent as a subscription of their own, first: :func:`split_candles`)."""
        wanted = ("ob_updates", "trades", "ticker", "mark_price", "funding_rate")
        channels = public_channels(tuple(self.channels), compact=True, candles=(self.timeframe,))
        return tuple(c for c in channels if c[0] in wanted or c[0].startswith("candlestick_"))

    def on_start(self) -> None:
        """Open the connection on its own thread (the venue's pace: a wall clock)."""
        ctx = self.context
        router = StreamRouter(self.channels, send=ctx.send, publish=self._publish)
        self.stream = _NotifyingStream(
            self.url,
            channels=self.subscriptions(),
            settings=self.settings,
            clock=WallClock(),
            sink=router.route,
            on_failure=lambda error: ctx.send(ctx.actor_id, _StreamGaveUp(error)),
            on_connected=self._connected,
        )
        self.stream.start()

    def on_stop(self) -> None:
        """Close the connection and wait for the stream thread."""
        if self.stream is not None and not self.stream.stop(self.stop_timeout_s):
            self.context.log.warning("%s: stream thread did not end", self.context.actor_id)

    def on_resync_book(self, command: ResyncBook) -> None:
        """Resubscribe one symbol's book so that a fresh snapshot follows."""
        if self.stream is not None:
            self.stream.resync_book(command.symbol)

    def on_stream_gave_up(self, event: _StreamGaveUp) -> None:
        """The stream exhausted its reconnects: fail so the supervisor restarts it."""
        raise event.error

    def describe(self) -> dict[str, object]:
        """The stream's connection state and frame counters."""
        return {} if self.stream is None else self.stream.health()

    def _publish(self, message: object, key: str | None) -> None:
        self.context.publish(message, key=key)

    def _connected(self) -> None:
        now = UnixNanos(self.context.now_ns())
        connected = StreamConnected(ts_event=now, ts_init=now, connection=next(self._connections))
        self.context.publish(connected)
