"""The one stream loop: connect, hook, read, keep alive, detect staleness, reconnect.

It knows no venue (STYLE rule 9). A :class:`StreamHandler` supplies everything
venue-specific: what to send on connect (authentication, subscriptions), what a frame
means, and periodic work. Frames are handed over raw (bytes).

Threading: :meth:`StreamLoop.start` starts one daemon thread, ``stream:<name>``, which owns
the websockets **sync** client connection; **every handler callback runs on that thread**,
and every frame is sent from it (other threads queue work through the handler, which the
loop drains in :meth:`StreamHandler.on_tick`). :meth:`StreamLoop.stop` may be called from
any thread and returns within its timeout.

Behaviour per connection: connect (``open_timeout``) -> ``on_connect(send)`` -> read with a
short poll. Time is read from the injected :class:`Clock`: every ``ping_after_s`` the loop
sends ``ping_message``, busy or not (a server may drop a client that stays silent, however
much it receives); when nothing arrived for ``stale_after_s``
the connection is declared stale and closed. A failure (refused connect, drop, stale, a
``Retryable`` error from the handler) is followed by a reconnect after exponential backoff
with jitter; the backoff resets once a connection delivered its first frame. After
``max_retries`` consecutive failures, or at once on a ``Fatal`` error from the handler
(refused authentication), the loop reports :class:`StreamFailed` to ``on_failure`` and its
thread ends in state FAILED. Any other handler exception is logged and counted, never fatal.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from actors._clock import Clock
from exchange.delta._errors import Fatal, Retryable, StreamFailed
from exchange.delta._limits import Backoff

__all__ = ["Send", "StreamConfig", "StreamHandler", "StreamLoop", "StreamState"]

log = logging.getLogger(__name__)

Send = Callable[[str], None]
"""Send one text frame on the current connection (only from the stream thread)."""

_NS = 1_000_000_000
_POLL_S = 0.1


class StreamState(enum.StrEnum):
    """Where a stream loop is: connecting, connected, waiting to reconnect, or done."""

    NEW = "NEW"
    CONNECTING = "CONNECTING"
    CONNECTED = "CONNECTED"
    BACKOFF = "BACKOFF"
    STOPPED = "STOPPED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamConfig:
    """What one stream loop connects to and how patient it is.

    Attributes:
        name: Short name for logs and the thread (``"public"``, ``"private"``).
        url: WebSocket URL.
        stale_after_s: Declare the connection dead after this long without a frame (clock).
        ping_after_s: Send ``ping_message`` after this long without a frame (clock).
        ping_message: Application-level ping text, or None for none.
        backoff_initial_ms: First reconnect delay; doubles with jitter.
        backoff_max_ms: Cap on the reconnect delay.
        max_retries: Consecutive failed connections before the loop gives up.
        open_timeout_s: Real seconds allowed for the TCP + WebSocket handshake.
    """

    name: str
    url: str
    stale_after_s: float
    ping_after_s: float | None
    ping_message: str | None
    backoff_initial_ms: int
    backoff_max_ms: int
    max_retries: int
    open_timeout_s: float = 10.0


class StreamHandler(Protocol):
    """The venue-specific half of a stream; every method runs on the stream thread."""

    def on_connect(self, send: Send) -> None:
        """A connection opened: authenticate and/or subscribe."""

    def on_frame(self, frame: bytes, send: Send) -> None:
        """One frame arrived. Raise ``Fatal`` to give up, ``Retryable`` to reconnect."""

    def on_tick(self, send: Send) -> None:
        """Called every poll (about 100 ms) while connected: send queued work."""

    def on_disconnect(self, reason: str) -> None:
        """The connection ended (drop, stale, stop); subscriptions are gone."""


class _Stale(Exception):
    """Internal: no frame within ``stale_after_s``."""


class StreamLoop:
    """The venue-agnostic reconnecting reader (see the module docstring)."""

    def __init__(
        self,
        config: StreamConfig,
        handler: StreamHandler,
        *,
        clock: Clock,
        on_failure: Callable[[StreamFailed], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._handler = handler
        self._clock = clock
        self._on_failure = on_failure
        self._backoff = Backoff(
            initial_ms=config.backoff_initial_ms, max_ms=config.backoff_max_ms, rng=rng
        )
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None
        self._ws: ClientConnection | None = None
        self.state = StreamState.NEW
        self.error: StreamFailed | None = None
        self.counters: dict[str, int] = {
            "connects": 0,
            "reconnects": 0,
            "failures": 0,
            "frames": 0,
            "stale": 0,
            "pings": 0,
            "handler_errors": 0,
        }
        self.last_frame_ns: int | None = None

    def __repr__(self) -> str:
        return f"StreamLoop({self.config.name!r}, {self.config.url!r}, {self.state})"

    # --- control (any thread) -------------------------------------------------------------

    def start(self) -> None:
        """Start the stream thread. Raises RuntimeError if already started."""
        if self._thread is not None:
            raise RuntimeError(f"stream {self.config.name} already started")
        self._thread = threading.Thread(
            target=self._run, name=f"stream:{self.config.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Close the connection and end the thread; True when it ended within ``timeout_s``."""
        self._stop.set()
        ws = self._ws
        if ws is not None:
            try:
                ws.close()
            except Exception:  # best effort from a foreign thread
                log.debug("stream %s: close failed", self.config.name, exc_info=True)
        if self._thread is None:
            self.state = StreamState.STOPPED
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def wait_connected(self, timeout_s: float) -> bool:
        """Block until a connection is open (for tests and start-up); False on timeout."""
        return self._connected.wait(timeout_s)

    @property
    def connected(self) -> bool:
        """True while a connection is open."""
        return self._connected.is_set()

    def health(self) -> dict[str, object]:
        """State, counters and the age of the last frame (clock ns), for health reports."""
        age = None if self.last_frame_ns is None else self._clock.now_ns() - self.last_frame_ns
        return {"state": self.state.value, "last_frame_age_ns": age, **self.counters}

    # --- the thread -----------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self.state = StreamState.CONNECTING
            try:
                good = self._session()
            except Fatal as exc:
                self._fail(f"fatal: {exc}", exc)
                return
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, InvalidURI,
                    _Stale, Retryable) as exc:  # fmt: skip
                good = self._good
                if not self._stop.is_set():
                    log.warning("stream %s: %s: %s", self.config.name, type(exc).__name__, exc)
            finally:
                self._ws = None
                if self._connected.is_set():
                    self._connected.clear()
                    self._handler.on_disconnect("closed")
            if self._stop.is_set():
                break
            failures = 0 if good else failures
            failures += 1
            self.counters["failures"] += 1
            if failures > self.config.max_retries:
                self._fail(f"{failures - 1} reconnects failed in a row", None)
                return
            self.state = StreamState.BACKOFF
            delay = self._backoff.delay_s(failures - 1)
            deadline = self._clock.now_ns() + int(delay * _NS)
            self._stop.wait(self._clock.real_seconds_until(deadline))
            self.counters["reconnects"] += 1
        self.state = StreamState.STOPPED

    def _fail(self, reason: str, cause: BaseException | None) -> None:
        self.error = StreamFailed(f"stream {self.config.name}: {reason}", code="stream_failed")
        self.error.__cause__ = cause
        self.state = StreamState.FAILED
        log.error("%s", self.error)
        if self._on_failure is not None:
            self._on_failure(self.error)

    def _session(self) -> bool:
        """Run one connection; return True if it delivered a frame (a good connect)."""
        self._good = False
        cfg = self.config
        with connect(
            cfg.url,
            open_timeout=cfg.open_timeout_s,
            close_timeout=1,
            ping_interval=None,
            compression=None,
            max_size=2**23,
            proxy=None,
        ) as ws:
            self._ws = ws
            if self._stop.is_set():
                return False
            self.counters["connects"] += 1
            self.state = StreamState.CONNECTED
            self._connected.set()
            send = self._sender(ws)
            self._handler.on_connect(send)
            last_rx = last_ping = self._clock.now_ns()
            while not self._stop.is_set():
                try:
                    frame = ws.recv(timeout=self._poll_s(last_rx), decode=False)
                except TimeoutError:
                    now = self._clock.now_ns()
                    if now - last_rx >= cfg.stale_after_s * _NS:
                        self.counters["stale"] += 1
                        raise _Stale(f"no frame for {cfg.stale_after_s}s") from None
                    last_ping = self._ping_if_due(send, now, last_ping)
                    self._tick(send)
                    continue
                last_rx = self._clock.now_ns()
                self.last_frame_ns = last_rx
                self.counters["frames"] += 1
                self._good = True
                self._deliver(frame if isinstance(frame, bytes) else frame.encode(), send)
                if self.counters["frames"] % 64 == 0:
                    last_ping = self._ping_if_due(send, last_rx, last_ping)
                    self._tick(send)
        return self._good

    def _ping_if_due(self, send: Callable[[str], None], now: int, last_ping: int) -> int:
        """Send the ping when ``ping_after_s`` passed since the last one; return its time."""
        after = self.config.ping_after_s
        if not self.config.ping_message or after is None or now - last_ping < after * _NS:
            return last_ping
        send(self.config.ping_message)
        self.counters["pings"] += 1
        return now

    def _poll_s(self, last_rx: int) -> float:
        limit = last_rx + int(self.config.stale_after_s * _NS)
        return max(0.001, min(_POLL_S, self._clock.real_seconds_until(limit)))

    def _sender(self, ws: ClientConnection) -> Send:
        def send(text: str) -> None:
            ws.send(text)

        return send

    def _deliver(self, frame: bytes, send: Send) -> None:
        try:
            self._handler.on_frame(frame, send)
        except (Fatal, Retryable):
            raise
        except Exception:  # a handler bug must not kill the stream (rule 6)
            self.counters["handler_errors"] += 1
            log.exception("stream %s: handler failed on frame %.120r", self.config.name, frame)

    def _tick(self, send: Send) -> None:
        try:
            self._handler.on_tick(send)
        except (Fatal, Retryable):
            raise
        except Exception:  # see _deliver
            self.counters["handler_errors"] += 1
            log.exception("stream %s: on_tick failed", self.config.name)

    _good = False
