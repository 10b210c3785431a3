"""OrderBook logic without threads: hypothesis against a dict reference, checksums, gaps,
error frames, overflow, staleness; BookChannel coalescing and its bound."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from actors.market import BookChannel, OrderBook
from exchange.delta import book_checksum
from messages import BookFeedFailed, BookLevel, BookSnapshot, BookUpdate, Contracts, UnixNanos

T0 = 1_700_000_000_000_000_000
SEC = 1_000_000_000


def checksum_of(bids: dict[Decimal, int], asks: dict[Decimal, int]) -> int:
    a = [(str(p), str(asks[p])) for p in sorted(asks)]
    b = [(str(p), str(bids[p])) for p in sorted(bids, reverse=True)]
    return book_checksum(a, b)


def levels(side: dict[Decimal, int]) -> tuple[BookLevel, ...]:
    return tuple(BookLevel(price=p, size=Contracts(s)) for p, s in side.items())


def snapshot(seq: int, bids: dict[Decimal, int], asks: dict[Decimal, int]) -> BookSnapshot:
    return BookSnapshot(
        ts_event=UnixNanos(T0),
        ts_init=UnixNanos(T0),
        symbol="BTCUSD",
        seq=seq,
        bids=levels(bids),
        asks=levels(asks),
        checksum=checksum_of(bids, asks),
    )


def update(
    seq: int, bids: dict[Decimal, int], asks: dict[Decimal, int], cs: int | None
) -> BookUpdate:
    return BookUpdate(
        ts_event=UnixNanos(T0 + seq),
        ts_init=UnixNanos(T0),
        symbol="BTCUSD",
        seq=seq,
        bids=levels(bids),
        asks=levels(asks),
        checksum=cs,
    )


def new_book() -> OrderBook:
    return OrderBook("BTCUSD", stale_after_ns=10 * SEC, resync_retry_ns=5 * SEC)


prices = st.integers(1, 400).map(lambda t: Decimal(t) / 2)  # ticks of 0.5, e.g. "100.5"
side = st.dictionaries(prices, st.integers(1, 10_000), max_size=30)
change = st.dictionaries(prices, st.integers(0, 10_000), max_size=6)


@settings(max_examples=150, deadline=None)
@given(bids=side, asks=side, changes=st.lists(st.tuples(change, change), max_size=40))
def test_book_equals_a_dict_reference(bids: dict, asks: dict, changes: list) -> None:
    book = new_book()
    step = book.on_batch([snapshot(10, bids, asks)], overflowed=False, now_ns=T0)
    assert book.synced and step.resync is None
    ref_b, ref_a = dict(bids), dict(asks)
    batch = []
    for i, (cb, ca) in enumerate(changes):
        for ref, ch in ((ref_b, cb), (ref_a, ca)):
            for p, s in ch.items():
                if s:
                    ref[p] = s
                else:
                    ref.pop(p, None)
        batch.append(update(11 + i, cb, ca, checksum_of(ref_b, ref_a)))
    step = book.on_batch(batch, overflowed=False, now_ns=T0 + 1)
    assert book.synced and step.resync is None
    assert book.bids() == tuple(sorted(ref_b.items(), reverse=True))
    assert book.asks() == tuple(sorted(ref_a.items()))
    assert book.checksum() == checksum_of(ref_b, ref_a)
    if ref_b and step.top is not None:
        assert step.top.best_bid == max(ref_b)


def test_gap_checksum_and_error_each_unsync_and_ask_for_resync_once() -> None:
    bids, asks = {Decimal("100.0"): 5}, {Decimal("100.5"): 7}
    for bad, reason in (
        (update(12, {Decimal("99.5"): 1}, {}, None), "gap"),
        (update(11, {Decimal("99.5"): 1}, {}, 12345), "checksum"),
    ):
        book = new_book()
        book.on_batch([snapshot(10, bids, asks)], overflowed=False, now_ns=T0)
        later = update(13, {}, {}, None)
        step = book.on_batch([bad, later], overflowed=False, now_ns=T0)
        assert (book.synced, step.resync, book.resyncs) == (False, reason, 1)
        assert step.top is not None and step.top.synced is False
        step = book.on_batch([snapshot(20, bids, asks)], overflowed=False, now_ns=T0)
        assert book.synced and step.top is not None and step.top.synced
    book = new_book()
    book.on_batch([snapshot(10, bids, asks)], overflowed=False, now_ns=T0)
    failed = BookFeedFailed(
        ts_event=UnixNanos(T0), ts_init=UnixNanos(T0), symbol="BTCUSD", reason="x"
    )
    step = book.on_batch([failed], overflowed=False, now_ns=T0)
    assert step.resync is None and not book.synced and book.feed_errors == 1  # stream resubscribes
    assert book.on_tick(T0 + 6 * SEC).resync == "timeout"  # ...or we ask again later


def test_overflow_resyncs_and_staleness_is_published() -> None:
    book = new_book()
    book.on_batch([snapshot(1, {Decimal(1): 1}, {Decimal(2): 1})], overflowed=False, now_ns=T0)
    step = book.on_tick(T0 + 11 * SEC)
    assert step.top is not None and step.top.stale and book.stale
    step = book.on_batch([], overflowed=True, now_ns=T0 + 12 * SEC)
    assert step.resync == "overflow" and book.overflows == 1 and not book.synced


def test_channel_rings_once_and_drops_when_over_its_bound() -> None:
    channel = BookChannel("BTCUSD", max_pending=3)
    msg = update(1, {}, {}, None)
    rings = [channel.push(msg) for _ in range(3)]
    assert rings == [True, False, False]
    batch, overflowed = channel.drain()
    assert len(batch) == 3 and not overflowed
    for _ in range(5):
        channel.push(msg)
    batch, overflowed = channel.drain()
    assert overflowed and len(batch) == 1 and channel.dropped == 4
