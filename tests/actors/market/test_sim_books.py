"""Books against the simulator over real sockets: after every injected gap, bad checksum or
dropped connection the book actor's book equals the simulator's once resynced."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from actors.market import book_id
from exchange.sim import SimExchange
from messages import BookHealth, TopOfBook
from tests.actors.market.conftest import (
    SYMBOLS,
    Market,
    market_settings,
    sim_book,
    start_market,
    wait_until,
)


@pytest.fixture
def market(manual_sim: SimExchange) -> Iterator[Market]:
    settings = market_settings()
    settings = replace(settings, bot=replace(settings.bot, timeframe="1m"))
    running = start_market(manual_sim, settings, (TopOfBook, BookHealth))
    try:
        yield running
    finally:
        assert running.runtime.shutdown(timeout_s=60) == []


def settled(market: Market, symbol: str) -> bool:
    book = market.actor(book_id(symbol)).book
    return bool(book.synced and book.seq == market.sim.engine.core.books[symbol].seq)


def assert_equal_books(market: Market, symbol: str) -> None:
    wait_until(lambda: settled(market, symbol), what=f"{symbol} book settled")
    book = market.actor(book_id(symbol)).book
    assert (book.bids(), book.asks()) == sim_book(market.sim, symbol)


def step(market: Market, n: int = 1) -> None:
    for _ in range(n):
        market.sim.market.step()


def test_books_sync_and_equal_the_simulator(market: Market) -> None:
    step(market, 3)
    for symbol in SYMBOLS:
        assert_equal_books(market, symbol)
        book = market.actor(book_id(symbol)).book
        best = (book.bids()[0][0], book.asks()[0][0])

        def published(symbol: str = symbol, best: object = best) -> bool:
            # The TopOfBook reflecting the settled book reaches the sink one hop later.
            tops = market.sink.of(TopOfBook, symbol)
            return bool(tops) and (tops[-1].best_bid, tops[-1].best_ask) == best

        wait_until(published, what=f"{symbol} top of book published")
        top = market.sink.of(TopOfBook, symbol)[-1]
        assert top.synced and not top.stale


@pytest.mark.parametrize("fault", ["gap", "checksum", "drop"])
def test_book_resyncs_after_fault(market: Market, fault: str) -> None:
    step(market, 2)
    for symbol in SYMBOLS:
        assert_equal_books(market, symbol)
    before = {s: market.actor(book_id(s)).book.resyncs for s in SYMBOLS}
    faults = market.sim.faults
    if fault == "gap":
        faults.skip_sequence("BTCUSD")
    elif fault == "checksum":
        faults.corrupt_checksum("BTCUSD")
    else:
        faults.drop_connections()
    step(market)
    if fault != "drop":
        wait_until(lambda: market.actor(book_id("BTCUSD")).book.resyncs > before["BTCUSD"])
        # Other symbols are untouched by one symbol's resync.
        assert all(market.actor(book_id(s)).book.resyncs == before[s] for s in SYMBOLS[1:])
    step(market, 2)
    for symbol in SYMBOLS:
        assert_equal_books(market, symbol)
