"""Whole-tree rule paths against the in-process engine.

Paths that need no simulated-time jump run under both runtimes (the ``world`` fixture);
timing paths (entry timeout, chunk timing, UTC midnight) use the deterministic runtime.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from actors.trading import ApplyFunding, position_id_for
from messages import (
    EntryAbandoned,
    EquityUpdated,
    HedgeClosed,
    HedgeOpened,
    IndicatorsUpdated,
    KillSwitchReset,
    KillSwitchTriggered,
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    PositionClosed,
    PositionOpened,
    ResetKillSwitch,
    RiskDecision,
    RiskVerdict,
    Signal,
    TopOfBook,
    UnixNanos,
)
from tests.actors.trading.scenario import (
    BALANCE,
    CANDLE_NS,
    START_NS,
    World,
    correlations,
    indicators,
    long_candle,
    short_candle,
)

DAY_S = 86_400


def make_world(*, kind: str = "deterministic", **sections: Any) -> World:
    w = World(kind=kind, **sections)
    for sym, bid, ask in (
        ("BTCUSD", "70000", "70000.5"),
        ("ETHUSD", "3500", "3500.05"),
        ("SOLUSD", "150", "150.01"),
    ):
        w.market(sym, bid, ask, price=bid)
    return w


@pytest.fixture(params=["threaded", "deterministic"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    """A default world under each runtime."""
    w = make_world(kind=request.param)
    yield w
    w.close()


def open_long(w: World, t: int = START_NS) -> PositionOpened:
    w.candle(long_candle(t))
    w.market("BTCUSD", "69999", "69999.5")  # the ask comes down to our bid: a maker fill
    return w.of(PositionOpened)[-1]


def eth_long(t: int) -> IndicatorsUpdated:
    """ETHUSD candle in a long regime (stop 40 below with ATR 20)."""
    return indicators(
        "ETHUSD", "3500", t=t, fast=3520.0, mid=3500.0, slow=3450.0, trend=3300.0, rsi=65.0,
        atr=20.0, r1=4000.0, r2=4200.0,
    )  # fmt: skip


def wallet_equals_ledgers(w: World) -> None:
    nets = [c.realised_pnl - c.fees + c.funding for c in w.of(PositionClosed)]
    nets += [h.realised_pnl - h.fees + h.funding for h in w.of(HedgeClosed)]
    assert w.balance() - BALANCE == sum(nets, Decimal(0))


def test_long_entry_target_hit_pnl_equals_wallet(world: World) -> None:
    world.candle(long_candle(START_NS))
    decision = world.of(RiskDecision)[-1]
    assert decision.decision is RiskVerdict.RESIZED and decision.size == 142
    placed = world.of(OrderAccepted)[-1]
    assert placed.client_order_id.endswith("-E0")
    opened = open_long(world)
    assert opened.size == 142 and opened.entry_price == Decimal("69999.5")
    assert opened.stop_price == Decimal(69300) and opened.take_profit_price == Decimal(71400)
    world.send("gateway", ApplyFunding("BTCUSD", Decimal("0.01")))
    world.market("BTCUSD", "71400", "71400.5", price="71400")
    closed = world.of(PositionClosed)[-1]
    assert closed.reason == "target"
    assert closed.realised_pnl == 142 * Decimal("0.001") * (Decimal(71400) - Decimal("69999.5"))
    assert closed.funding < 0
    assert [f.is_maker for f in world.of(OrderFilled)] == [True, False]
    wallet_equals_ledgers(world)


def test_short_entry_stop_hit(world: World) -> None:
    world.candle(short_candle(START_NS))
    assert world.of(Signal)[-1].stop_price == Decimal(70700)
    world.market("BTCUSD", "70001", "70001.5")  # bid rises to our ask 70001: filled
    assert world.of(PositionOpened)[-1].size < 0
    world.market("BTCUSD", "70700", "70700.5", price="70700")
    closed = world.of(PositionClosed)[-1]
    assert closed.reason == "stop" and closed.realised_pnl < 0
    wallet_equals_ledgers(world)


def test_execution_hears_a_symbols_tops_only_while_an_entry_is_in_flight(world: World) -> None:
    """Live, tops move many times a second and nearly always with no entry in flight."""

    def watched() -> set[str | None]:
        return {k for t, k in world.runtime.subscriptions("execution") if t is TopOfBook}

    assert watched() == set()
    world.candle(short_candle(START_NS))
    assert watched() == {"BTCUSD"}
    world.market("BTCUSD", "70001", "70001.5")  # filled: it rests on its stop and target
    assert world.of(PositionOpened)
    assert watched() == set()
    world.candle(short_candle(START_NS + CANDLE_NS, fast=70100.0))  # fast above mid: exit
    assert world.of(PositionClosed)[-1].reason == "exit signal"
    world.settle()
    assert watched() == set()


def test_opposite_cross_exit_closes_at_market(world: World) -> None:
    open_long(world)
    world.candle(long_candle(START_NS + CANDLE_NS))  # still aligned: nothing
    world.candle(long_candle(START_NS + 2 * CANDLE_NS, fast=69900.0))  # fast below mid
    assert world.of(Signal)[-1].direction.value == "EXIT"
    closed = world.of(PositionClosed)[-1]
    assert closed.reason == "exit signal"
    wallet_equals_ledgers(world)


def test_one_signal_per_regime_and_per_symbol_refusal(world: World) -> None:
    world.candle(long_candle(START_NS))
    world.candle(long_candle(START_NS + CANDLE_NS))
    assert len(world.of(Signal)) == 1
    world.candle(long_candle(START_NS + 2 * CANDLE_NS, rsi=75.0))  # regime ends
    world.candle(long_candle(START_NS + 3 * CANDLE_NS))  # and starts again
    decision = world.of(RiskDecision)[-1]
    assert decision.decision is RiskVerdict.REJECTED
    assert decision.reason.startswith("max_positions_per_symbol")


def test_post_only_reject_reprices_from_new_top(world: World) -> None:
    stale = TopOfBook(
        ts_event=UnixNanos(START_NS),
        ts_init=UnixNanos(START_NS),
        symbol="BTCUSD",
        best_bid=Decimal(70001),
        best_bid_size=None,
        best_ask=Decimal("70001.5"),
        best_ask_size=None,
        synced=True,
        stale=False,
    )
    # The book stream lags the venue: the top it last published (retained, so the entry's
    # subscription brings it) is better than the venue's book by the time the order lands.
    world.runtime.publish(stale, "BTCUSD", retain=True)
    world.candle(long_candle(START_NS))
    rejected = world.of(OrderRejected)
    assert [r.reason_code for r in rejected] == ["immediate_execution_post_only"]
    world.market("BTCUSD", "69999.5", "70000")
    accepted = world.of(OrderAccepted)[-1]
    assert accepted.client_order_id.endswith("-E1")
    world.market("BTCUSD", "69998", "69999")
    assert world.of(PositionOpened)[-1].entry_price == Decimal(69999)


def test_unfilled_entry_times_out_and_frees_the_slot() -> None:
    w = make_world(execution={"entry_timeout_s": 60})
    try:
        w.candle(long_candle(START_NS))
        w.advance(61)
        abandoned = w.of(EntryAbandoned)
        assert len(abandoned) == 1 and "cancelled" in abandoned[0].reason
        w.candle(long_candle(START_NS + CANDLE_NS, rsi=75.0))
        w.candle(long_candle(START_NS + 2 * CANDLE_NS))
        assert w.of(RiskDecision)[-1].decision is not RiskVerdict.REJECTED
    finally:
        w.close()


def test_hedge_chunks_profit_take_and_rehedge() -> None:
    w = make_world(
        hedge={
            "trigger_stop_fraction": 0.3,
            "rehedge_step_fraction": 0.2,
            "max_hedges_per_position": 2,
        }
    )
    try:
        open_long(w)
        w.correlate(correlations())
        w.market("ETHUSD", "3500", "3500.05")
        w.market("BTCUSD", "69780", "69780.5")  # adverse 219.25 >= 0.3 x 699.5
        hedge = w.of(HedgeOpened)[-1]
        assert hedge.symbol == "ETHUSD" and hedge.target_size == -141 and hedge.chunks == 3
        t0 = w.now()
        w.advance(60)
        w.advance(60)
        chunks = [f for f in w.of(OrderFilled) if f.symbol == "ETHUSD"]
        assert [f.size for f in chunks] == [47, 47, 47]
        assert [f.ts_event - t0 for f in chunks] == [0, 60_000_000_000, 120_000_000_000]
        w.market("ETHUSD", "3460", "3460.05")  # the short hedge gains > 1 %
        assert w.of(HedgeClosed)[-1].reason == "profit taken"
        w.market("BTCUSD", "69640", "69640.5")  # adverse 359.25 >= 0.5 x 699.5
        assert len(w.of(HedgeOpened)) == 2
        w.market("BTCUSD", "69500", "69500.5")
        assert len(w.of(HedgeOpened)) == 2  # at most two hedges
        w.market("BTCUSD", "69300", "69300.5", price="69300")  # stop: the hedge closes too
        assert w.of(PositionClosed)[-1].reason == "stop"
        assert w.of(HedgeClosed)[-1].reason == "parent closed"
        wallet_equals_ledgers(w)
    finally:
        w.close()


@pytest.mark.parametrize("kind", ["threaded", "deterministic"])
def test_kill_switch_latches_flattens_and_resumes(kind: str) -> None:
    """A stop's realised loss breaches the drawdown (risk sees the venue's equity, the wallet
    balance): the kill switch closes the other position and refuses entries until reset."""
    w = make_world(
        kind=kind,
        risk={"max_drawdown_pct": Decimal("0.5"), "max_leverage": 5.0},
        hedge={"enabled": False},
    )
    try:
        open_long(w)
        w.candle(eth_long(START_NS))
        w.market("ETHUSD", "3499.9", "3499.95")  # the ask comes down to the ETH entry
        assert {p.symbol for p in w.of(PositionOpened)} == {"BTCUSD", "ETHUSD"}
        w.market("BTCUSD", "69300", "69300.5", price="69300")  # BTC's stop: -1 % realised
        assert len(w.of(KillSwitchTriggered)) == 1
        closed = {c.symbol: c.reason for c in w.of(PositionClosed)}
        assert closed == {"BTCUSD": "stop", "ETHUSD": "flatten"}
        w.candle(long_candle(START_NS + CANDLE_NS, rsi=75.0))
        w.candle(long_candle(START_NS + 2 * CANDLE_NS))
        assert w.of(RiskDecision)[-1].reason.startswith("kill_switch")
        w.send(
            "risk", ResetKillSwitch(command_id="op-1", ts_init=UnixNanos(w.now()), reason="checked")
        )
        assert w.of(KillSwitchReset)[-1].command_id == "op-1"
        w.candle(long_candle(START_NS + 3 * CANDLE_NS, rsi=75.0))
        w.candle(long_candle(START_NS + 4 * CANDLE_NS))
        assert w.of(RiskDecision)[-1].decision is not RiskVerdict.REJECTED
        wallet_equals_ledgers(w)
    finally:
        w.close()


def test_daily_loss_blocks_until_next_utc_day() -> None:
    w = make_world(risk={"daily_loss_pct": Decimal("0.5")}, hedge={"enabled": False})
    try:
        open_long(w)
        w.market("BTCUSD", "69300", "69300.5", price="69300")
        assert w.of(PositionClosed)[-1].reason == "stop"
        assert w.of(EquityUpdated)[-1].balance < BALANCE * Decimal("0.995")
        w.candle(long_candle(START_NS + CANDLE_NS, rsi=75.0))
        w.candle(long_candle(START_NS + 2 * CANDLE_NS))
        assert w.of(RiskDecision)[-1].reason.startswith("daily_loss")
        w.advance(DAY_S)
        w.candle(long_candle(START_NS + 3 * CANDLE_NS, rsi=75.0))
        w.candle(long_candle(START_NS + 4 * CANDLE_NS))
        assert w.of(RiskDecision)[-1].decision is not RiskVerdict.REJECTED
    finally:
        w.close()


def test_position_id_is_deterministic() -> None:
    assert position_id_for("BTCUSD-1-LONG") == position_id_for("BTCUSD-1-LONG")


def test_a_candle_seen_again_or_computed_late_fires_no_entry() -> None:
    """After a restart the feed may publish candles again, or backfill candles from the
    downtime: the same candle never signals twice, and a late candle opens nothing."""
    w = make_world()
    try:
        w.candle(long_candle(START_NS))
        w.candle(long_candle(START_NS))
        assert len(w.of(Signal)) == 1
        w.candle(short_candle(START_NS + CANDLE_NS, fast=70500.0, mid=70000.0, slow=69000.0))
        late = short_candle(START_NS + 2 * CANDLE_NS)
        w.candle(replace(late, ts_init=UnixNanos(late.ts_event + 2 * CANDLE_NS)))
        assert len(w.of(Signal)) == 1 and len(w.of(RiskDecision)) == 1
    finally:
        w.close()


def test_no_hedge_in_a_symbol_with_an_approved_entry_still_resting() -> None:
    """The exchange keeps one position per symbol: a hedge where an entry may still fill would
    net with it (and its reduce-only close would then be refused)."""
    w = make_world(hedge={"trigger_stop_fraction": 0.3})
    try:
        open_long(w)
        eth = indicators(
            "ETHUSD", "3500", t=START_NS + CANDLE_NS, fast=3550.0, mid=3500.0, slow=3450.0,
            trend=3000.0, rsi=65.0, atr=17.5, r1=3600.0, r2=3700.0,
        )  # fmt: skip
        w.candle(eth)
        assert [d.symbol for d in w.of(RiskDecision)][-1] == "ETHUSD"
        assert not [p for p in w.of(PositionOpened) if p.symbol == "ETHUSD"]  # still resting
        w.correlate(correlations())
        w.market("ETHUSD", "3500", "3500.05")
        w.market("SOLUSD", "150", "150.01")
        w.market("BTCUSD", "69780", "69780.5")  # adverse 219.25 >= 0.3 x 699.5
        assert [h.symbol for h in w.of(HedgeOpened)] == ["SOLUSD"]
    finally:
        w.close()
