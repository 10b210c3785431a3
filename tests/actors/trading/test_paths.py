"""More whole-tree rule paths: timeout reprice, operator commands, refusals, hedge corners,
and exits or hedge closes that fill only in part."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from actors.trading import MarketStep, hedge_actor_id, position_actor_id
from messages import (
    EntryAbandoned,
    Flatten,
    HedgeClosed,
    HedgeDecision,
    HedgeOpened,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    PauseEntries,
    PositionClosed,
    PositionOpened,
    ResumeEntries,
    RiskDecision,
    RiskVerdict,
    TopOfBook,
    UnixNanos,
)
from tests.actors.trading.scenario import CANDLE_NS, START_NS, World, correlations, indicators
from tests.actors.trading.test_flow import (
    eth_long,
    long_candle,
    make_world,
    open_long,
    wallet_equals_ledgers,
)

BOTH = pytest.mark.parametrize("kind", ["threaded", "deterministic"])


def sol_long(t: int) -> Any:
    return indicators(
        "SOLUSD", "150", t=t, fast=151.0, mid=150.0, slow=148.0, trend=140.0, rsi=65.0,
        atr=1.0, r1=200.0, r2=210.0,
    )  # fmt: skip


def command(kind: type, **kw: Any) -> Any:
    return kind(command_id="op-1", ts_init=UnixNanos(START_NS), reason="operator", **kw)


def test_entry_timeout_reprices_then_cancels() -> None:
    w = make_world(
        execution={"entry_timeout_s": 60, "on_entry_timeout": "reprice", "max_timeout_reprices": 2}
    )
    try:
        w.candle(long_candle(START_NS))
        for _ in range(3):
            w.advance(61)
        placed = [a.client_order_id[-2:] for a in w.of(OrderAccepted)]
        assert placed == ["E0", "E1", "E2"]
        assert len(w.of(OrderCancelled)) == 3
        assert len(w.of(EntryAbandoned)) == 1
    finally:
        w.close()


@BOTH
def test_flatten_all_pauses_and_resume_allows_entries(kind: str) -> None:
    w = make_world(kind=kind, hedge={"enabled": False})
    try:
        open_long(w)
        w.send("risk", command(Flatten, symbol=None))
        assert w.of(PositionClosed)[-1].reason == "flatten"
        w.candle(long_candle(START_NS + CANDLE_NS, rsi=75.0))
        w.candle(long_candle(START_NS + 2 * CANDLE_NS))
        assert w.of(RiskDecision)[-1].reason.startswith("entries_paused")
        w.send("risk", command(ResumeEntries))
        w.candle(long_candle(START_NS + 3 * CANDLE_NS, rsi=75.0))
        w.candle(long_candle(START_NS + 4 * CANDLE_NS))
        assert w.of(RiskDecision)[-1].decision is not RiskVerdict.REJECTED
        wallet_equals_ledgers(w)
    finally:
        w.close()


@BOTH
def test_flatten_one_symbol_keeps_the_others(kind: str) -> None:
    w = make_world(kind=kind, hedge={"enabled": False}, risk={"max_leverage": 3.0})
    try:
        open_long(w)
        w.candle(eth_long(START_NS))
        w.market("ETHUSD", "3499.95", "3499.95")  # ask down to our bid 3499.95: filled
        eth = w.of(PositionOpened)[-1]
        assert eth.symbol == "ETHUSD"
        w.send("risk", command(Flatten, symbol="BTCUSD"))
        closed = w.of(PositionClosed)
        assert [c.symbol for c in closed] == ["BTCUSD"] and closed[0].reason == "flatten"
        assert w.runtime.entry(position_actor_id(eth.position_id)) is not None
    finally:
        w.close()


@BOTH
def test_pause_refuses_entries_until_resume(kind: str) -> None:
    w = make_world(kind=kind)
    try:
        w.send("risk", command(PauseEntries))
        w.candle(long_candle(START_NS))
        assert w.of(RiskDecision)[-1].reason.startswith("entries_paused")
        w.send("risk", command(ResumeEntries))
        w.candle(long_candle(START_NS + CANDLE_NS, rsi=75.0))
        w.candle(long_candle(START_NS + 2 * CANDLE_NS))
        assert w.of(RiskDecision)[-1].decision is RiskVerdict.RESIZED
    finally:
        w.close()


@BOTH
def test_max_open_positions_counts_pending_entries(kind: str) -> None:
    w = make_world(kind=kind, risk={"max_open_positions": 1})
    try:
        w.candle(long_candle(START_NS))  # pending, not filled
        w.candle(eth_long(START_NS))
        decision = w.of(RiskDecision)[-1]
        assert decision.symbol == "ETHUSD" and decision.reason.startswith("max_open_positions")
    finally:
        w.close()


@BOTH
def test_leverage_cap_under_one_contract_refuses(kind: str) -> None:
    w = make_world(kind=kind, hedge={"enabled": False})
    try:
        open_long(w)  # 142 x 70 USD of 10,000 at 1x: 60 USD of room left
        w.candle(sol_long(START_NS))
        decision = w.of(RiskDecision)[-1]
        assert decision.reason.startswith("min_size")
        assert {c.name: c.value for c in decision.checks}["leverage_cap"] == "0"
    finally:
        w.close()


def hedged_world(**hedge: Any) -> tuple[World, PositionOpened]:
    w = make_world(hedge={"trigger_stop_fraction": 0.3, **hedge})
    opened = open_long(w)
    w.correlate(correlations())
    w.market("ETHUSD", "3500", "3500.05")
    return w, opened


def stale_top(symbol: str, bid: str, ask: str) -> TopOfBook:
    return TopOfBook(
        ts_event=UnixNanos(START_NS),
        ts_init=UnixNanos(START_NS),
        symbol=symbol,
        best_bid=Decimal(bid),
        best_bid_size=None,
        best_ask=Decimal(ask),
        best_ask_size=None,
        synced=True,
        stale=True,
    )


def test_hedge_chunk_waits_while_its_book_is_stale() -> None:
    w, _ = hedged_world()
    try:
        w.market("BTCUSD", "69780", "69780.5")
        hedge = w.of(HedgeOpened)[-1]
        t0 = w.now()
        w.send(hedge_actor_id(hedge.hedge_id), stale_top("ETHUSD", "3500", "3500.05"))
        w.advance(60)  # chunk 2 due on a stale book: postponed one interval
        assert len([f for f in w.of(OrderFilled) if f.symbol == "ETHUSD"]) == 1
        w.market("ETHUSD", "3500", "3500.05")  # fresh again
        w.advance(60)
        w.advance(60)
        chunks = [f for f in w.of(OrderFilled) if f.symbol == "ETHUSD"]
        assert [f.ts_event - t0 for f in chunks] == [0, 120_000_000_000, 180_000_000_000]
    finally:
        w.close()


def test_partially_filled_hedge_close_closes_the_rest_on_the_next_price() -> None:
    w, _ = hedged_world(chunks=1)
    try:
        w.market("BTCUSD", "69780", "69780.5")
        assert w.of(HedgeOpened)[-1].target_size == -141
        w.send("gateway", MarketStep("ETHUSD", bid=Decimal(3460), ask=Decimal("3460.05"), depth=50))
        assert [f.size for f in w.of(OrderFilled) if f.symbol == "ETHUSD"] == [141, 50]
        assert w.of(OrderCancelled)[-1].filled_size == 50
        assert not w.of(HedgeClosed)
        w.market("ETHUSD", "3460", "3460.05")
        closed = w.of(HedgeClosed)[-1]
        assert closed.reason == "profit taken"
        assert [f.size for f in w.of(OrderFilled) if f.symbol == "ETHUSD"] == [141, 50, 91]
        w.market("BTCUSD", "71400", "71400.5", price="71400")
        wallet_equals_ledgers(w)
    finally:
        w.close()


@BOTH
def test_partially_filled_exit_closes_the_rest_on_the_next_price(kind: str) -> None:
    w = make_world(kind=kind, hedge={"enabled": False})
    try:
        open_long(w)
        w.send(
            "gateway", MarketStep("BTCUSD", bid=Decimal(69999), ask=Decimal("69999.5"), depth=100)
        )
        w.candle(long_candle(START_NS + CANDLE_NS, fast=69900.0))  # exit signal
        sells = [f.size for f in w.of(OrderFilled) if f.client_order_id.endswith("X1")]
        assert sells == [100] and not w.of(PositionClosed)
        w.market("BTCUSD", "69999", "69999.5")
        closed = w.of(PositionClosed)[-1]
        assert closed.reason == "exit signal"
        wallet_equals_ledgers(w)
    finally:
        w.close()


def test_an_entry_priced_past_its_stop_is_abandoned_not_placed() -> None:
    """The price moved through the stop between the candle's close and the entry: buying
    there would be stopped out at once (stop 69300 for the long candle's close 70000)."""
    w = make_world()
    try:
        w.market("BTCUSD", "69250", "69250.5")
        w.candle(long_candle(START_NS))
        (abandoned,) = w.of(EntryAbandoned)
        assert abandoned.reason == "price 69249.5 already past the stop 69300.0"
        assert w.of(OrderAccepted) == []
        w.candle(long_candle(START_NS + 2 * CANDLE_NS, close="69250"))  # risk freed the slot
        assert w.of(RiskDecision)[-1].decision is not RiskVerdict.REJECTED
    finally:
        w.close()


def test_a_position_started_later_never_hedges_into_a_symbol_already_taken() -> None:
    """Position B starts after position A (BTCUSD) and A's hedge (ETHUSD) opened, so it saw
    neither event; the exchange keeps one position per symbol, so a hedge of B in either
    would net with them. Risk's retained SymbolsInUse tells B: no eligible symbol, no hedge."""
    w = make_world(
        risk={"max_leverage": 5.0},
        hedge={"trigger_stop_fraction": 0.3, "max_hedges_per_position": 1},
    )
    try:
        open_long(w)
        w.correlate(correlations())
        w.market("ETHUSD", "3500", "3500.05")
        w.market("BTCUSD", "69780", "69780.5")  # A's hedge in ETHUSD
        assert [h.symbol for h in w.of(HedgeOpened)] == ["ETHUSD"]
        w.candle(sol_long(START_NS + CANDLE_NS))
        w.market("SOLUSD", "149.98", "149.99")  # the ask comes down to B's entry
        second = w.of(PositionOpened)[-1]
        assert second.symbol == "SOLUSD"
        w.correlate(correlations())
        w.market("SOLUSD", "149.3", "149.31")  # B's loss passes 0.3 x its stop distance
        assert [h.symbol for h in w.of(HedgeOpened)] == ["ETHUSD"]
    finally:
        w.close()


def test_two_positions_hedging_in_the_same_instant_cannot_both_take_one_symbol() -> None:
    """BTCUSD and ETHUSD longs both reach their hedge trigger on one market move; each one's
    best free symbol is SOLUSD. Risk grants it to one and refuses the other (journaled)."""
    w = make_world(
        risk={"max_leverage": 5.0},
        hedge={"trigger_stop_fraction": 0.3, "max_hedges_per_position": 1},
    )
    try:
        open_long(w)
        w.candle(eth_long(START_NS))
        w.market("ETHUSD", "3499.9", "3499.95")
        eth = w.of(PositionOpened)[-1]
        assert eth.symbol == "ETHUSD"
        w.correlate(correlations())
        w.market("SOLUSD", "150", "150.01")
        for step in (
            MarketStep("BTCUSD", price=None, bid=Decimal("69780"), ask=Decimal("69780.5")),
            MarketStep("ETHUSD", price=None, bid=Decimal("3480"), ask=Decimal("3480.05")),
        ):
            w.runtime.inject("gateway", step)
        w.settle()
        assert [h.symbol for h in w.of(HedgeOpened)] == ["SOLUSD"]
        decisions = sorted((d.granted, d.reason) for d in w.of(HedgeDecision))
        assert decisions == [(False, "SOLUSD hedged"), (True, "ok")]
    finally:
        w.close()
