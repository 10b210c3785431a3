"""OrderBook: one symbol's L2 book from a snapshot plus updates, with integrity checks.

Pure logic (STYLE rule 2): no threads, no clock, no I/O. The :class:`OrderBookActor` shell
hands it batches of book messages with the runtime clock's time and sends what it returns.

Integrity: an update must carry ``seq`` = previous + 1 and, after it is applied, the book's
best ten levels per side must hash to its ``checksum`` (``exchange.delta.book_checksum`` over
the wire text of price and size; a ``Decimal`` parsed from the wire prints back as the same
text). A gap, a mismatch, an error frame or a dropped coalescing buffer leaves the book
*unsynced*: updates are ignored until a fresh snapshot rebuilds it, and the result asks for a
resync (resubscribe) unless the stream already does so (error frames). A book that saw no
message for ``stale_after_ns`` is *stale*. Both flags travel in every :class:`TopOfBook`.

Prices are ``Decimal`` keys; each side keeps a sorted price list, so finding the best levels
and the checksum's top ten costs a slice, and an update that only changes sizes does no search.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import NamedTuple

from exchange.delta import CHECKSUM_DEPTH, book_checksum
from messages import (
    BookFeedFailed,
    BookHealth,
    BookLevel,
    BookSnapshot,
    BookUpdate,
    Contracts,
    TopOfBook,
    UnixNanos,
)

__all__ = ["BookStep", "OrderBook"]

BookMessage = BookSnapshot | BookUpdate | BookFeedFailed
_APPLIED = "applied"
_IGNORED = "ignored"


class BookStep(NamedTuple):
    """What one call asks the shell to do.

    Attributes:
        top: A changed top of book to publish, or None.
        resync: A reason to ask the stream for a fresh snapshot, or None.
    """

    top: TopOfBook | None
    resync: str | None


class _Side:
    """One side: size and wire text by price, and the prices in ascending order."""

    __slots__ = ("prices", "sizes", "texts")

    def __init__(self) -> None:
        self.sizes: dict[Decimal, int] = {}
        self.texts: dict[Decimal, str] = {}
        self.prices: list[Decimal] = []

    def reset(self, levels: Iterable[BookLevel]) -> None:
        self.sizes = {lv.price: lv.size for lv in levels if lv.size != 0}
        self.texts = {p: str(p) for p in self.sizes}
        self.prices = sorted(self.sizes)

    def apply(self, levels: Sequence[BookLevel]) -> None:
        sizes = self.sizes
        for level in levels:
            price, size = level.price, level.size
            if size == 0:
                if sizes.pop(price, None) is not None:
                    del self.texts[price]
                    prices = self.prices
                    del prices[bisect_left(prices, price)]
            else:
                if price not in sizes:
                    insort(self.prices, price)
                    self.texts[price] = str(price)
                sizes[price] = size

    def wire(self, prices: Iterable[Decimal]) -> list[tuple[str, str]]:
        sizes, texts = self.sizes, self.texts
        return [(texts[p], str(sizes[p])) for p in prices]


class OrderBook:
    """The book of one symbol; see the module docstring.

    Args:
        symbol: Venue symbol.
        stale_after_ns: Runtime-clock time without a book message after which it is stale.
        resync_retry_ns: An unsynced book asks again for a snapshot after this long.
    """

    def __init__(self, symbol: str, *, stale_after_ns: int, resync_retry_ns: int) -> None:
        self.symbol = symbol
        self.stale_after_ns = stale_after_ns
        self.resync_retry_ns = resync_retry_ns
        self._bids = _Side()
        self._asks = _Side()
        self.seq: int | None = None
        self.synced = False
        self.stale = True
        self._last_rx_ns: int | None = None
        self._last_event_ns = 0
        self._resync_asked_ns: int | None = None
        self._published: tuple[object, ...] | None = None
        self.resyncs = 0
        self.gaps = 0
        self.checksum_errors = 0
        self.feed_errors = 0
        self.overflows = 0
        self.updates = 0
        self.ignored = 0
        self.max_batch = 0

    # -- reading ---------------------------------------------------------------------------

    def bids(self) -> tuple[tuple[Decimal, int], ...]:
        """Bid levels, best (highest) first, as (price, contracts)."""
        side = self._bids
        return tuple((p, side.sizes[p]) for p in reversed(side.prices))

    def asks(self) -> tuple[tuple[Decimal, int], ...]:
        """Ask levels, best (lowest) first, as (price, contracts)."""
        side = self._asks
        return tuple((p, side.sizes[p]) for p in side.prices)

    def checksum(self) -> int:
        """The CRC32 of the best ten levels per side, as the venue computes it."""
        asks, bids = self._asks, self._bids
        return book_checksum(
            asks.wire(asks.prices[:CHECKSUM_DEPTH]),
            bids.wire(reversed(bids.prices[-CHECKSUM_DEPTH:])),
        )

    def health(self, now_ns: int) -> BookHealth:
        """The book's health fields at ``now_ns`` (runtime clock)."""
        last = self._last_rx_ns
        return BookHealth(
            ts_event=UnixNanos(now_ns),
            ts_init=UnixNanos(now_ns),
            symbol=self.symbol,
            synced=self.synced,
            stale=self.stale,
            age_ns=None if last is None else max(0, now_ns - last),
            resyncs=self.resyncs,
            gaps=self.gaps,
            checksum_errors=self.checksum_errors,
            feed_errors=self.feed_errors,
            overflows=self.overflows,
            updates=self.updates,
            max_batch=self.max_batch,
        )

    # -- inputs ----------------------------------------------------------------------------

    def on_batch(self, batch: Sequence[BookMessage], *, overflowed: bool, now_ns: int) -> BookStep:
        """Apply a drained batch in order and return at most one top of book and one resync.

        ``overflowed`` says the coalescing buffer was dropped before this batch: the book
        lost updates, so it is unsynced until a snapshot in this batch or a later one.
        """
        resync: str | None = None
        if overflowed:
            self.overflows += 1
            resync = self._lose_sync("overflow", now_ns)
        applied = 0
        for message in batch:
            kind = type(message)
            if kind is BookUpdate:
                outcome = self._update(message)  # type: ignore[arg-type]
                if outcome is _APPLIED:
                    applied += 1
                elif outcome is not _IGNORED:
                    resync = self._lose_sync(outcome, now_ns)
            elif kind is BookSnapshot:
                applied += 1
                ok = self._snapshot(message)  # type: ignore[arg-type]
                resync = None if ok else self._lose_sync("checksum", now_ns)
            elif kind is BookFeedFailed:
                self.feed_errors += 1
                self._lose_sync("error", now_ns)
                resync = None  # the stream resubscribes by itself after an error frame
        if applied:
            self._last_rx_ns = now_ns
            self.stale = False
            self.max_batch = max(self.max_batch, applied)
        return BookStep(self._top(now_ns), resync)

    def on_tick(self, now_ns: int) -> BookStep:
        """Timer check: mark the book stale, and repeat an unanswered resync request."""
        last = self._last_rx_ns
        self.stale = last is None or now_ns - last > self.stale_after_ns
        resync = None
        asked = self._resync_asked_ns
        if not self.synced and (asked is None or now_ns - asked >= self.resync_retry_ns):
            self._resync_asked_ns = now_ns
            resync = "timeout"
        return BookStep(self._top(now_ns), resync)

    def on_start(self, now_ns: int, *, restarted: bool) -> str | None:
        """A new incarnation: a restarted book asks for a snapshot at once."""
        if restarted:
            self._resync_asked_ns = now_ns
            return "start"
        self._resync_asked_ns = now_ns  # the stream's first subscription brings one
        return None

    # -- internals -------------------------------------------------------------------------

    def _snapshot(self, message: BookSnapshot) -> bool:
        """Rebuild from a snapshot; False when its checksum does not match."""
        self._bids.reset(message.bids)
        self._asks.reset(message.asks)
        self.seq = message.seq
        self._last_event_ns = message.ts_event
        if message.checksum is not None and self.checksum() != message.checksum:
            self.checksum_errors += 1
            return False
        self.synced = True
        self._resync_asked_ns = None
        return True

    def _update(self, message: BookUpdate) -> str:
        """Apply one update: ``_APPLIED``, ``_IGNORED``, or the reason integrity broke."""
        if not self.synced:
            self.ignored += 1
            return _IGNORED
        seq = self.seq
        if seq is not None and seq >= 0:
            if message.seq <= seq:
                self.ignored += 1  # already contained in the snapshot
                return _IGNORED
            if message.seq != seq + 1:
                self.gaps += 1
                return "gap"
        self._bids.apply(message.bids)
        self._asks.apply(message.asks)
        self.seq = message.seq
        self._last_event_ns = message.ts_event
        self.updates += 1
        if message.checksum is not None and self.checksum() != message.checksum:
            self.checksum_errors += 1
            return "checksum"
        return _APPLIED

    def _lose_sync(self, reason: str, now_ns: int) -> str:
        self.resyncs += 1
        self.synced = False
        self._resync_asked_ns = now_ns
        return reason

    def _top(self, now_ns: int) -> TopOfBook | None:
        bids, asks = self._bids, self._asks
        bid = bids.prices[-1] if bids.prices else None
        ask = asks.prices[0] if asks.prices else None
        key = (
            bid,
            None if bid is None else bids.sizes[bid],
            ask,
            None if ask is None else asks.sizes[ask],
            self.synced,
            self.stale,
        )
        if key == self._published:
            return None
        self._published = key
        return TopOfBook(
            ts_event=UnixNanos(self._last_event_ns or now_ns),
            ts_init=UnixNanos(now_ns),
            symbol=self.symbol,
            best_bid=bid,
            best_bid_size=None if bid is None else Contracts(bids.sizes[bid]),
            best_ask=ask,
            best_ask_size=None if ask is None else Contracts(asks.sizes[ask]),
            synced=self.synced,
            stale=self.stale,
        )
