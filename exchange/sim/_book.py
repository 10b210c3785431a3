"""One product's L2 book: synthetic market liquidity plus our resting orders, price-time.

Pure logic, no locks: the engine calls it under the facade's lock. Prices are ticks, sizes
contracts. The *aggregate* size of a level (what the wire shows) is the market's size plus
the unfilled size of our orders resting there. Changed levels are remembered until
:meth:`Book.take_delta` turns them into one :class:`BookDelta` with the next sequence
number and the CRC32 checksum of the best ten levels. A book built with
``track_changes=False`` (an in-process engine whose caller ignores deltas, the backtest's)
remembers nothing and never makes a delta: the same matching, without the bookkeeping.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping

from exchange.delta._checksum import CHECKSUM_DEPTH, book_checksum
from exchange.sim._model import BUY, SELL, BookDelta, Order
from exchange.sim._products import SimProduct

__all__ = ["Book"]


class Book:
    """The book of one product; ``bids`` are the buy side, ``asks`` the sell side."""

    def __init__(self, product: SimProduct, *, track_changes: bool = True) -> None:
        self.product = product
        self.market: dict[str, dict[int, int]] = {BUY: {}, SELL: {}}
        self.orders: dict[str, dict[int, list[Order]]] = {BUY: {}, SELL: {}}
        self.seq = 0
        self.track_changes = track_changes
        self._dirty: dict[str, set[int]] = {BUY: set(), SELL: set()}

    # --- reading -------------------------------------------------------------------------

    def level_size(self, side: str, ticks: int) -> int:
        """Aggregate contracts at ``ticks`` on ``side`` (market plus our unfilled orders)."""
        queue = self.orders[side].get(ticks)
        size = self.market[side].get(ticks, 0)
        return size + sum(o.unfilled for o in queue) if queue else size

    def best_market(self, side: str) -> int | None:
        """Best price of the market's own liquidity on ``side`` (ours excluded), or None."""
        levels = self.market[side]
        if not levels:
            return None
        return max(levels) if side == BUY else min(levels)

    def market_top(self) -> tuple[int | None, int | None, int | None, int | None]:
        """(bid, bid size, ask, ask size): the market's best prices (ours excluded) and the
        aggregate size there (ours included), as a venue's top of book shows them."""
        bids, asks = self.market[BUY], self.market[SELL]
        bid = max(bids) if bids else None
        ask = min(asks) if asks else None
        ours_bids, ours_asks = self.orders[BUY], self.orders[SELL]
        bid_size = ask_size = None
        if bid is not None:
            bid_size = self.level_size(BUY, bid) if ours_bids else bids[bid]
        if ask is not None:
            ask_size = self.level_size(SELL, ask) if ours_asks else asks[ask]
        return bid, bid_size, ask, ask_size

    def top(self, side: str, depth: int) -> list[tuple[int, int]]:
        """Best ``depth`` aggregate levels of ``side``, best first, as (ticks, contracts)."""
        market, ours = self.market[side], self.orders[side]
        prices = (market.keys() | ours.keys()) if ours else market.keys()
        best = heapq.nlargest(depth, prices) if side == BUY else heapq.nsmallest(depth, prices)
        if not ours:
            return [(p, market[p]) for p in best]
        return [(p, self.level_size(side, p)) for p in best]

    def checksum(self) -> int:
        """CRC32 of the best ten levels per side as the wire renders them."""
        fmt = self.product.format_ticks
        asks = [(fmt(p), str(s)) for p, s in self.top(SELL, CHECKSUM_DEPTH)]
        bids = [(fmt(p), str(s)) for p, s in self.top(BUY, CHECKSUM_DEPTH)]
        return book_checksum(asks, bids)

    def resting(self, side: str) -> Iterable[Order]:
        """Our resting orders on ``side``, in no particular order."""
        for queue in self.orders[side].values():
            yield from queue

    # --- changing ------------------------------------------------------------------------

    def set_market_side(self, side: str, levels: Mapping[int, int]) -> None:
        """Replace the market's liquidity on ``side``; our queue positions shrink to fit."""
        old = self.market[side]
        new = {p: s for p, s in levels.items() if s > 0}
        self.market[side] = new
        ours = self.orders[side]
        if not (self.track_changes or ours) or old == new:
            return  # nothing to remember, no queue to shrink
        if self.track_changes:
            dirty = self._dirty[side]
            for price in old.keys() | new.keys():
                if old.get(price, 0) != new.get(price, 0):
                    dirty.add(price)
        for price, queue in ours.items():
            size = new.get(price, 0)
            if old.get(price, 0) != size:
                for order in queue:
                    order.ahead = min(order.ahead, size)

    def set_market_level(self, side: str, ticks: int, size: int) -> None:
        """Set one market level (0 deletes it)."""
        levels = self.market[side]
        if levels.get(ticks, 0) == size:
            return
        if size > 0:
            levels[ticks] = size
        else:
            levels.pop(ticks, None)
        if self.track_changes:
            self._dirty[side].add(ticks)
        for order in self.orders[side].get(ticks, ()):
            order.ahead = min(order.ahead, size)

    def take_market(self, side: str, ticks: int, size: int) -> None:
        """Remove ``size`` contracts of market liquidity at ``ticks`` (a taker ate them)."""
        self.set_market_level(side, ticks, max(0, self.market[side].get(ticks, 0) - size))

    def add_order(self, order: Order) -> None:
        """Rest ``order`` at the back of its level's queue, behind the market's size there."""
        assert order.limit_ticks is not None
        order.ahead = self.market[order.side].get(order.limit_ticks, 0)
        self.orders[order.side].setdefault(order.limit_ticks, []).append(order)
        if self.track_changes:
            self._dirty[order.side].add(order.limit_ticks)

    def remove_order(self, order: Order) -> None:
        """Take ``order`` out of the book (filled, cancelled or repriced); absent is a no-op."""
        if order.limit_ticks is None:
            return
        queue = self.orders[order.side].get(order.limit_ticks)
        if queue and order in queue:
            queue.remove(order)
            if not queue:
                del self.orders[order.side][order.limit_ticks]
            if self.track_changes:
                self._dirty[order.side].add(order.limit_ticks)

    def touch(self, side: str, ticks: int) -> None:
        """Mark a level changed (an order resting there was partly filled)."""
        if self.track_changes:
            self._dirty[side].add(ticks)

    def has_changes(self) -> bool:
        """True when some level changed since the last delta."""
        return bool(self._dirty[BUY] or self._dirty[SELL])

    def take_delta(self, ts_ns: int) -> BookDelta | None:
        """Return the changed levels as the next delta (seq + 1), or None if nothing changed."""
        if not self.has_changes():
            return None
        asks = tuple((p, self.level_size(SELL, p)) for p in sorted(self._dirty[SELL]))
        bids = tuple((p, self.level_size(BUY, p)) for p in sorted(self._dirty[BUY], reverse=True))
        self._dirty = {BUY: set(), SELL: set()}
        self.seq += 1
        return BookDelta(self.product.symbol, self.seq, asks, bids, self.checksum(), ts_ns)

    def skip_sequence(self) -> None:
        """Burn one sequence number (fault injection: the next delta leaves a gap)."""
        self.seq += 1
