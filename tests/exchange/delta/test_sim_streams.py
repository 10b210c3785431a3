"""The streams against the simulator over real sockets: compact and legacy public channels,
private channels after key-auth, reconnect under injected drops, malformed frames, refused
auth, and giving up after reconnect_max_retries."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from decimal import Decimal

import pytest

from actors import WallClock
from exchange.delta import (
    DeltaPrivateStream,
    DeltaPublicStream,
    DeltaRestClient,
    StreamFailed,
    StreamState,
    book_checksum,
    private_channels,
    public_channels,
)
from exchange.sim import SimExchange
from messages import (
    BookSnapshot,
    BookUpdate,
    CandleUpdated,
    FillReported,
    FundingRate,
    MarkPrice,
    OrdersSnapshot,
    OrderType,
    OrderUpdated,
    PositionsSnapshot,
    PositionUpdated,
    Ticker,
    TimeInForce,
    Trade,
    WalletUpdated,
)
from messages.settings import Secret
from tests.exchange.delta.conftest import Collector, fast_settings, wait_until
from tests.exchange.delta.test_sim_rest import order


class Book:
    """A minimal book keeper that checks sequence and checksum like the real one must."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, str] = {}
        self.asks: dict[Decimal, str] = {}
        self.seq: int | None = None
        self.verified = 0

    def apply(self, message: BookSnapshot | BookUpdate) -> None:
        if isinstance(message, BookSnapshot):
            self.bids, self.asks, self.seq = {}, {}, message.seq
        else:
            assert self.seq is not None and message.seq == self.seq + 1
            self.seq = message.seq
        for side, levels in ((self.bids, message.bids), (self.asks, message.asks)):
            for level in levels:
                if level.size == 0:
                    side.pop(level.price, None)
                else:
                    side[level.price] = str(level.size)
        asks = [(str(p), self.asks[p]) for p in sorted(self.asks)]
        bids = [(str(p), self.bids[p]) for p in sorted(self.bids, reverse=True)]
        assert book_checksum(asks, bids) == message.checksum
        self.verified += 1


@pytest.fixture
def sink() -> Collector:
    return Collector()


@pytest.fixture
def public(sim: SimExchange, sink: Collector) -> Iterator[DeltaPublicStream]:
    stream = DeltaPublicStream(
        sim.public_ws_url,
        channels=public_channels(["BTCUSD", "ETHUSD"], compact=True, candles=("1m",)),
        settings=fast_settings(),
        clock=WallClock(),
        sink=sink,
    )
    stream.start()
    yield stream
    assert stream.stop(timeout_s=3)


def test_compact_public_channels(public: DeltaPublicStream, sink: Collector) -> None:
    sink.wait_for(BookSnapshot, lambda m: m.symbol == "BTCUSD")
    sink.wait_for(BookUpdate, lambda m: m.symbol == "BTCUSD")
    for cls in (Trade, Ticker, MarkPrice, FundingRate, CandleUpdated):
        sink.wait_for(cls)  # type: ignore[type-var]
    assert sink.wait_for(MarkPrice).symbol in ("BTCUSD", "ETHUSD")
    book = Book()
    for message in sink.of(BookSnapshot) + sink.of(BookUpdate):
        if message.symbol == "BTCUSD" and (
            book.seq is not None or isinstance(message, BookSnapshot)
        ):
            book.apply(message)
    assert book.verified >= 2
    health = public.health()
    assert health["state"] == "CONNECTED" and health["parsed"] > 0
    assert health.get("malformed", 0) == 0 and health.get("unknown", 0) == 0


def test_legacy_public_channels(sim: SimExchange, sink: Collector) -> None:
    stream = DeltaPublicStream(
        sim.ws_url,
        channels=public_channels(["SOLUSD"], compact=False, candles=("1m",)),
        settings=fast_settings(),
        clock=WallClock(),
        sink=sink,
    )
    stream.start()
    try:
        sink.wait_for(BookSnapshot)
        sink.wait_for(BookUpdate)
        for cls in (Trade, Ticker, MarkPrice, FundingRate, CandleUpdated):
            sink.wait_for(cls)  # type: ignore[type-var]
        assert stream.health().get("malformed", 0) == 0
    finally:
        assert stream.stop(timeout_s=3)


def test_reconnect_after_drops_resubscribes(
    sim: SimExchange, public: DeltaPublicStream, sink: Collector
) -> None:
    sink.wait_for(BookSnapshot)
    for drop in range(1, 3):
        connects = public.loop.counters["connects"]
        sink.clear()
        sim.faults.drop_connections()
        wait_until(lambda n=drop: public.loop.counters["reconnects"] >= n)
        # Connected again (a snapshot still in flight from the old connection must not
        # count), then the new subscription's snapshot.
        wait_until(lambda c=connects: public.loop.counters["connects"] > c)
        sink.wait_for(BookSnapshot)
    assert public.loop.counters["connects"] >= 3
    wait_until(lambda: public.loop.state is StreamState.CONNECTED)


def test_malformed_frames_are_counted_not_fatal(
    sim: SimExchange, public: DeltaPublicStream, sink: Collector
) -> None:
    sink.wait_for(BookSnapshot)
    sim.faults.malformed_frames(3)
    wait_until(lambda: public.counts["malformed"] >= 3)
    sink.clear()
    sink.wait_for(BookUpdate)
    assert public.loop.state is StreamState.CONNECTED


def test_book_resync_on_request(public: DeltaPublicStream, sink: Collector) -> None:
    sink.wait_for(BookSnapshot, lambda m: m.symbol == "ETHUSD")
    sink.clear()
    public.resync_book("ETHUSD")
    sink.wait_for(BookSnapshot, lambda m: m.symbol == "ETHUSD")
    assert public.counts["resyncs"] == 1


def test_private_channels_after_key_auth(
    sim: SimExchange, account: tuple[Secret, Secret], client: DeltaRestClient, sink: Collector
) -> None:
    symbols = {p.product_id: s for s, p in client.products.items()}
    stream = DeltaPrivateStream(
        sim.ws_url,
        api_key=account[0],
        api_secret=account[1],
        channels=private_channels(["BTCUSD"]),
        settings=fast_settings(),
        clock=WallClock(),
        sink=sink,
        symbols=symbols,
    )
    stream.start()
    try:
        sink.wait_for(OrdersSnapshot)
        sink.wait_for(PositionsSnapshot)
        assert stream.authenticated
        placed = client.place_order(
            order("ws-mkt-1", kind=OrderType.MARKET, size=2, tif=TimeInForce.IOC)
        )
        fill = sink.wait_for(FillReported, lambda m: m.fill.order_id == placed.order_id)
        assert fill.fill.client_order_id == "ws-mkt-1" and fill.fill.size >= 1
        sink.wait_for(OrderUpdated, lambda m: m.order.client_order_id == "ws-mkt-1")
        sink.wait_for(PositionUpdated, lambda m: m.position.symbol == "BTCUSD")
        sink.wait_for(WalletUpdated)
        assert repr(stream).count(account[1].reveal()) == 0
    finally:
        assert stream.stop(timeout_s=3)


def test_refused_key_auth_fails_the_stream(sim: SimExchange, sink: Collector) -> None:
    failures: list[StreamFailed] = []
    stream = DeltaPrivateStream(
        sim.ws_url,
        api_key=Secret(sim.api_key),
        api_secret=Secret("wrong"),
        channels=private_channels(["BTCUSD"]),
        settings=fast_settings(),
        clock=WallClock(),
        sink=sink,
        symbols={},
        on_failure=failures.append,
    )
    stream.start()
    wait_until(lambda: bool(failures))
    assert stream.loop.state is StreamState.FAILED
    assert "invalid_signature" in str(failures[0].__cause__)
    assert stream.stop(timeout_s=3)


def test_gives_up_after_reconnect_max_retries(sink: Collector) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    failures: list[StreamFailed] = []
    stream = DeltaPublicStream(
        f"ws://127.0.0.1:{port}",
        channels=public_channels(["BTCUSD"], compact=True),
        settings=fast_settings(reconnect_max_retries=3, backoff_initial_ms=10, backoff_max_ms=40),
        clock=WallClock(),
        sink=sink,
        on_failure=failures.append,
    )
    stream.start()
    wait_until(lambda: bool(failures))
    assert stream.loop.counters["failures"] == 4 and stream.loop.counters["connects"] == 0
    assert stream.health()["state"] == "FAILED"
    assert stream.stop(timeout_s=3)
