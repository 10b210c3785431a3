"""The venue-agnostic stream loop against a tiny local WebSocket server: pings, staleness
on the injected clock, backoff reset, handler errors, bounded stop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from actors import ScaledClock, WallClock
from exchange.delta import (
    AuthenticationFailed,
    Send,
    StreamConfig,
    StreamFailed,
    StreamLoop,
    StreamState,
)
from tests.exchange.delta.conftest import wait_until


class Recorder:
    """A handler that records everything and can be told to misbehave."""

    def __init__(self) -> None:
        self.connects = 0
        self.frames: list[bytes] = []
        self.raise_on: dict[bytes, Exception] = {}

    def on_connect(self, send: Send) -> None:
        self.connects += 1
        send("hello")

    def on_frame(self, frame: bytes, send: Send) -> None:  # noqa: ARG002 - protocol
        self.frames.append(frame)
        if frame in self.raise_on:
            raise self.raise_on[frame]

    def on_tick(self, send: Send) -> None:
        pass

    def on_disconnect(self, reason: str) -> None:
        pass


class Peer:
    """A local server: answers "ping" with "pong", echoes "hello" as "hi", can go silent."""

    def __init__(self) -> None:
        self.silent = threading.Event()
        self.received: list[str] = []
        self.server: Server = serve(self._handle, "127.0.0.1", 0)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}"
        self.to_send: list[str] = []
        self.stream_every_s: float | None = None
        self.streaming = threading.Event()
        self.pings_while_streaming = 0

    def _handle(self, ws: ServerConnection) -> None:
        try:
            for message in ws:
                text = message if isinstance(message, str) else message.decode()
                self.received.append(text)
                if self.silent.is_set():
                    continue
                if text == "ping":
                    self.pings_while_streaming += self.streaming.is_set()
                    ws.send("pong")
                elif text == "hello":
                    ws.send("hi")
                    for extra in self.to_send:
                        ws.send(extra)
                    if self.stream_every_s is not None:
                        threading.Thread(target=self._stream, args=(ws,), daemon=True).start()
        except ConnectionClosed:
            pass

    def _stream(self, ws: ServerConnection) -> None:
        """Send a frame every ``stream_every_s`` for up to 5 s: a connection never idle."""
        self.streaming.set()
        try:
            for i in range(int(5 / (self.stream_every_s or 1))):
                ws.send(f"tick {i}")
                self.silent.wait(self.stream_every_s)
        except ConnectionClosed:
            pass
        finally:
            self.streaming.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def peer() -> Iterator[Peer]:
    server = Peer()
    yield server
    server.close()


def _loop(url: str, handler: Any, clock: Any = None, **changes: Any) -> StreamLoop:
    values: dict[str, Any] = {
        "name": "t",
        "url": url,
        "stale_after_s": 5.0,
        "ping_after_s": 0.2,
        "ping_message": "ping",
        "backoff_initial_ms": 10,
        "backoff_max_ms": 50,
        "max_retries": 3,
    }
    values.update(changes)
    return StreamLoop(StreamConfig(**values), handler, clock=clock or WallClock())


def test_pings_when_idle_and_stops_in_bounded_time(peer: Peer) -> None:
    handler = Recorder()
    loop = _loop(peer.url, handler)
    loop.start()
    wait_until(lambda: b"pong" in handler.frames)
    assert handler.frames[0] == b"hi" and loop.counters["pings"] >= 1
    assert loop.stop(timeout_s=2) and loop.state is StreamState.STOPPED


def test_pings_even_while_frames_keep_arriving(peer: Peer) -> None:
    # A busy feed must still show the server signs of life: some servers drop a client that
    # has sent nothing for a while, however much they send it.
    peer.stream_every_s = 0.002
    handler = Recorder()
    loop = _loop(peer.url, handler, ping_after_s=0.05)
    loop.start()
    wait_until(lambda: peer.pings_while_streaming >= 1)
    assert loop.stop(timeout_s=2)


def test_a_silent_connection_goes_stale_on_the_clock_and_reconnects(peer: Peer) -> None:
    handler = Recorder()
    peer.silent.set()
    # 35 s of staleness on a clock running 100x: 0.35 s of real time.
    loop = _loop(peer.url, handler, clock=ScaledClock(speed=100.0), stale_after_s=35.0,
                 ping_after_s=None, ping_message=None)  # fmt: skip
    loop.start()
    wait_until(lambda: loop.counters["stale"] >= 2)
    assert handler.connects >= 2 and loop.counters["reconnects"] >= 1
    assert loop.stop(timeout_s=2)


def test_handler_bugs_are_counted_and_fatal_errors_end_the_loop(peer: Peer) -> None:
    handler = Recorder()
    handler.raise_on[b"bug"] = KeyError("oops")
    handler.raise_on[b"fatal"] = AuthenticationFailed("refused", code="invalid_signature")
    peer.to_send = ["bug", "after-bug", "fatal"]
    failures: list[StreamFailed] = []
    loop = StreamLoop(_loop(peer.url, handler).config, handler, clock=WallClock(),
                      on_failure=failures.append)  # fmt: skip
    loop.start()
    wait_until(lambda: bool(failures))
    assert b"after-bug" in handler.frames and loop.counters["handler_errors"] == 1
    assert loop.state is StreamState.FAILED and loop.error is failures[0]
    assert isinstance(failures[0].__cause__, AuthenticationFailed)
    assert loop.stop(timeout_s=2)


def test_stop_before_start_and_double_start() -> None:
    loop = _loop("ws://127.0.0.1:9", Recorder())
    assert loop.stop(timeout_s=0.1) and loop.state is StreamState.STOPPED
    other = _loop("ws://127.0.0.1:9", Recorder(), max_retries=1000)
    other.start()
    with pytest.raises(RuntimeError):
        other.start()
    assert other.stop(timeout_s=2)
