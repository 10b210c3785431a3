"""A burst of book updates (10x and more the normal rate): the book keeps up through the
coalescing channel, inboxes and memory stay bounded, and the book still equals the
simulator's afterwards."""

from __future__ import annotations

import threading
import tracemalloc

from actors.market import book_id
from exchange.sim import SimExchange
from exchange.sim.bench import flood_book_updates
from tests.actors.market.conftest import (
    SYMBOLS,
    market_settings,
    sim_book,
    start_market,
    wait_until,
)


def test_burst_keeps_inboxes_and_memory_bounded(manual_sim: SimExchange) -> None:
    market = start_market(manual_sim, market_settings(), ())
    try:
        manual_sim.market.step()
        for symbol in SYMBOLS:
            wait_until(lambda s=symbol: market.actor(book_id(s)).book.synced, what=symbol)
        # The simulator's own send queues grow during a flood (it is in this process), so
        # memory is measured where it is ours: allocations by the client and the actors.
        tracemalloc.start()
        peaks: dict[str, int] = {}
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.01):
                for actor in market.runtime.health_report().actors:
                    peaks[actor.actor_id] = max(peaks.get(actor.actor_id, 0), actor.inbox_size)

        sampler = threading.Thread(target=sample)
        sampler.start()
        count = 10_000
        try:
            for symbol in SYMBOLS:
                flood_book_updates(manual_sim, symbol, count)
            ours_mb = _ours_mb(tracemalloc.take_snapshot())
            tracemalloc.stop()
            target = {s: manual_sim.engine.core.books[s].seq for s in SYMBOLS}
            for symbol in SYMBOLS:
                book = market.actor(book_id(symbol)).book
                wait_until(lambda b=book, s=symbol: b.seq == target[s], what=f"{symbol} caught up")
        finally:
            done.set()
            sampler.join()
        for symbol in SYMBOLS:
            actor = market.actor(book_id(symbol))
            assert actor.book.synced and actor.book.resyncs == 0
            assert (actor.book.bids(), actor.book.asks()) == sim_book(manual_sim, symbol)
            assert actor.channel.high_water <= actor.channel.max_pending
            assert actor.book.max_batch > 1, "updates were coalesced"
            assert peaks.get(book_id(symbol), 0) <= 5, peaks
        assert max(peaks.values()) <= 50, peaks
        assert ours_mb < 20, ours_mb
    finally:
        assert market.runtime.shutdown(timeout_s=60) == []


def _ours_mb(snapshot: tracemalloc.Snapshot) -> float:
    mine = ("/actors/", "/exchange/delta/", "/messages/", "websockets")
    stats = snapshot.statistics("filename")
    return sum(s.size for s in stats if any(m in s.traceback[0].filename for m in mine)) / 2**20
