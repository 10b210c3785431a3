"""The pure trading logic, without a runtime: ids, signals, sizing, ledger, hedges."""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.trading import (
    EntryPlanner,
    HedgeTrigger,
    Leg,
    PositionLedger,
    RiskManager,
    SignalRules,
    chunk_sizes,
    client_order_id,
    leg_of,
    rule_inputs,
)
from actors.trading._execution import _ENDED_KEPT
from exchange.sim import default_products
from messages import Direction, EquityUpdated, Side, UnixNanos
from messages.settings import Settings
from tests.actors.trading.scenario import (
    START_NS,
    correlations,
    indicators,
    long_candle,
    short_candle,
)

PRODUCTS = {
    p.symbol: p
    for p in (
        __import__("actors.trading", fromlist=["product_of"]).product_of(s)
        for s in default_products()
    )
}
SETTINGS = Settings()


def equity(value: str, t: int = START_NS) -> EquityUpdated:
    v = Decimal(value)
    return EquityUpdated(
        ts_event=UnixNanos(t),
        ts_init=UnixNanos(t),
        asset="USD",
        balance=v,
        equity=v,
        available_margin=v,
        unrealised_pnl=Decimal(0),
    )


@given(
    st.text(min_size=1, max_size=80),
    st.sampled_from(list(vars(Leg).values())[2:9]),
    st.integers(0, 999_999),
)
def test_client_order_id_is_short_deterministic_and_names_its_leg(
    intent: str, leg: str, attempt: int
) -> None:
    coid = client_order_id(intent, leg, attempt)
    assert len(coid) <= 32 and coid == client_order_id(intent, leg, attempt)
    assert leg_of(coid) == leg
    assert coid != client_order_id(intent, leg, attempt + 1)


def test_signal_rules_gate_on_validity_and_pivots() -> None:
    rules = SignalRules("BTCUSD", SETTINGS.strategy, SETTINGS.risk, PRODUCTS["BTCUSD"])
    invalid = long_candle(START_NS, valid=("ema_fast", "ema_mid"))
    assert rules.on_indicators(invalid, held=0, now_ns=START_NS) is None
    near_r1 = long_candle(START_NS, r1=70300.0)  # 0.43 % below R1
    assert rules.on_indicators(near_r1, held=0, now_ns=START_NS) is None
    above_r1 = long_candle(START_NS, r1=69000.0, r2=70300.0)  # R2 is the next one
    assert rules.on_indicators(above_r1, held=0, now_ns=START_NS) is None
    free = long_candle(START_NS, r1=69000.0, r2=69500.0)  # above R2: no resistance
    signal = rules.on_indicators(free, held=0, now_ns=START_NS)
    assert signal is not None and signal.direction is Direction.LONG


def test_signal_rules_rsi_bounds_and_trend_filter() -> None:
    rules = SignalRules("BTCUSD", SETTINGS.strategy, SETTINGS.risk, PRODUCTS["BTCUSD"])
    assert rules.on_indicators(long_candle(0, rsi=70.0), held=0, now_ns=0) is None
    assert rules.on_indicators(long_candle(0, trend=71000.0), held=0, now_ns=0) is None
    assert rules.on_indicators(short_candle(0, rsi=30.0), held=0, now_ns=0) is None
    short = rules.on_indicators(short_candle(0, rsi=40.0), held=0, now_ns=0)
    assert short is not None and short.stop_price == Decimal(70700)
    assert short.take_profit_price == Decimal(68600)


def test_stop_distance_rounds_up_to_a_tick() -> None:
    rules = SignalRules("BTCUSD", SETTINGS.strategy, SETTINGS.risk, PRODUCTS["BTCUSD"])
    signal = rules.on_indicators(long_candle(0, atr=350.1), held=0, now_ns=0)
    assert signal is not None and signal.stop_price == Decimal("69299.5")


@given(st.decimals(1000, 1_000_000, places=2), st.integers(1000, 100_000), st.integers(1, 5000))
def test_sizing_never_risks_more_than_the_cap(eq: Decimal, price: int, stop_gap: int) -> None:
    risk = RiskManager(SETTINGS.risk, PRODUCTS)
    risk.on_equity(equity(str(eq)), now_ns=START_NS)
    signal = long_candle(START_NS)
    rules = SignalRules("BTCUSD", SETTINGS.strategy, SETTINGS.risk, PRODUCTS["BTCUSD"])
    sig = rules.on_indicators(signal, held=0, now_ns=0)
    assert sig is not None
    from dataclasses import replace

    sig = replace(sig, price=Decimal(price), stop_price=Decimal(price - stop_gap))
    decision = risk.decide(sig, "p1", now_ns=START_NS)
    cv = Decimal("0.001")
    if decision.size:
        assert decision.size * stop_gap * cv <= eq * Decimal("0.015")
        assert decision.size * price * cv <= eq
    else:
        assert decision.reason.startswith("min_size")


def test_drawdown_latches_until_reset() -> None:
    risk = RiskManager(SETTINGS.risk, PRODUCTS)
    assert risk.on_equity(equity("10000"), now_ns=START_NS) is None
    tripped = risk.on_equity(equity("9000"), now_ns=START_NS)
    assert tripped is not None and tripped.peak_equity == Decimal(10000)
    assert risk.on_equity(equity("8000"), now_ns=START_NS) is None  # latched: once
    assert risk.killed
    risk.reset_kill_switch("c1", "ok", now_ns=START_NS)
    assert not risk.killed and risk.peak == Decimal(8000)


@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(1, 50), st.integers(1, 2000)), min_size=1, max_size=30
    )
)
def test_ledger_matches_a_replay_of_cash_flows(fills: list[tuple[bool, int, int]]) -> None:
    cv = Decimal("0.01")
    ledger = PositionLedger(cv)
    for buy, size, ticks in fills:
        ledger.apply(Side.BUY if buy else Side.SELL, size, Decimal(ticks) / 2, Decimal("0.1"))
    # Close at a final price: realised total == -(sum of signed cash flows) x cv.
    final = Decimal(777)
    if ledger.size:
        ledger.apply(
            Side.SELL if ledger.size > 0 else Side.BUY, abs(ledger.size), final, Decimal(0)
        )
    cash = sum(
        (Decimal(ticks) / 2 * (size if buy else -size) for buy, size, ticks in fills), Decimal(0)
    )
    net_size = sum(size if buy else -size for buy, size, _ in fills)
    cash += final * -net_size
    assert ledger.size == 0
    # Exact up to the average entry's 28-digit division (the exchange books the same way).
    assert abs(ledger.realised_pnl - (-cash * cv)) < Decimal("1e-20")
    assert ledger.fees == Decimal("0.1") * len(fills)


@given(st.integers(0, 10_000), st.integers(1, 20))
def test_chunks_sum_to_total(total: int, chunks: int) -> None:
    sizes = chunk_sizes(total, chunks)
    assert sum(sizes) == total and len(sizes) <= chunks
    assert not sizes or max(sizes) - min(sizes) <= 1


def test_hedge_trigger_skips_held_and_stale_symbols() -> None:
    trigger = HedgeTrigger(
        SETTINGS.hedge, PRODUCTS, position_id="p1", symbol="BTCUSD", symbols=SETTINGS.bot.symbols
    )
    ledger = PositionLedger(Decimal("0.001"))
    ledger.apply(Side.BUY, 100, Decimal(70000), Decimal(0))
    from messages import TopOfBook

    def top(sym: str, bid: str, ask: str, *, stale: bool = False) -> TopOfBook:
        return TopOfBook(
            ts_event=UnixNanos(0),
            ts_init=UnixNanos(0),
            symbol=sym,
            best_bid=Decimal(bid),
            best_bid_size=None,
            best_ask=Decimal(ask),
            best_ask_size=None,
            synced=True,
            stale=stale,
        )

    tops = {
        "ETHUSD": top("ETHUSD", "3500", "3500.05", stale=True),
        "SOLUSD": top("SOLUSD", "150", "150.02"),
    }
    matrix = correlations()
    args = {"stop_price": Decimal(69300), "top_of": tops.get, "correlation_now": lambda: matrix}
    assert trigger.check(ledger, price=Decimal(69700), busy=set(), **args) is None  # < 0.5
    plan = trigger.check(ledger, price=Decimal(69600), busy=set(), **args)
    assert plan is not None and plan.symbol == "SOLUSD" and plan.side is Side.SELL
    assert plan.target_size == -23  # 0.5 x 100 x 0.001 x 69600 / 150.01 = 23.2
    assert trigger.check(ledger, price=Decimal(69600), busy={"SOLUSD"}, **args) is None
    assert math.isclose(float(trigger.level()), 1.0)


def refusal(name: str) -> str:
    """Set up a RiskManager so that ``name`` is the first failed check; return the reason."""
    from dataclasses import replace

    from messages import RiskVerdict

    settings = replace(SETTINGS.risk, max_open_positions=2)
    risk = RiskManager(settings, PRODUCTS)
    if name != "equity_known":
        risk.on_equity(equity("10000"), now_ns=START_NS)
    rules = SignalRules("BTCUSD", SETTINGS.strategy, SETTINGS.risk, PRODUCTS["BTCUSD"])
    signal = rules.on_indicators(long_candle(START_NS), held=0, now_ns=START_NS)
    assert signal is not None
    if name == "kill_switch":
        risk.killed = True
    elif name == "entries_paused":
        risk.paused = True
    elif name == "daily_loss":
        risk.on_equity(equity("9400"), now_ns=START_NS)
    elif name == "max_open_positions":
        risk.position_opened("a", "ETHUSD", 1, Decimal(3500))
        risk.position_opened("b", "SOLUSD", 1, Decimal(150))
    elif name == "max_positions_per_symbol":
        risk.position_opened("a", "BTCUSD", 1, Decimal(70000))
    elif name == "hedge_on_symbol":
        risk.hedged_symbols["h1"] = "BTCUSD"
    elif name == "stop_distance":
        signal = replace(signal, stop_price=signal.price)
    elif name == "margin_cap":
        low = replace(equity("10000"), available_margin=Decimal(50))
        risk.on_equity(low, now_ns=START_NS)
    decision = risk.decide(signal, "p1", now_ns=START_NS)
    assert decision.decision is RiskVerdict.REJECTED
    return decision.reason


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("kill_switch", "kill_switch"),
        ("entries_paused", "entries_paused"),
        ("daily_loss", "daily_loss"),
        ("max_open_positions", "max_open_positions"),
        ("max_positions_per_symbol", "max_positions_per_symbol"),
        ("hedge_on_symbol", "hedge_on_symbol"),
        ("equity_known", "equity_known"),
        ("stop_distance", "stop_distance"),
        ("margin_cap", "min_size"),  # 50 USD of margin < one 70 USD contract
    ],
)
def test_each_refusal_reason(setup: str, reason: str) -> None:
    assert refusal(setup).startswith(reason + ":")


def test_a_hedge_closing_with_a_chunk_in_flight_waits_for_it_and_closes_it() -> None:
    """The parent closes while a chunk order is on its way: the hedge may not report itself
    done at size 0, or that chunk's fill would leave an unmanaged position on the exchange."""
    from actors.trading import HedgePlan, HedgeRunner
    from messages import TopOfBook

    plan = HedgePlan(
        hedge_id="p1-h1",
        parent_position_id="p1",
        symbol="ETHUSD",
        side=Side.SELL,
        chunks=(5, 5),
        correlation=0.8,
        reason="test",
    )
    runner = HedgeRunner(plan, SETTINGS.hedge, PRODUCTS["ETHUSD"])
    top = TopOfBook(
        ts_event=UnixNanos(0),
        ts_init=UnixNanos(0),
        symbol="ETHUSD",
        best_bid=Decimal("3500"),
        best_bid_size=None,
        best_ask=Decimal("3500.05"),
        best_ask_size=None,
        synced=True,
        stale=False,
    )
    (chunk,), more = runner.chunk_due(top, now_ns=START_NS)
    assert more and chunk.size == 5
    assert runner.close("parent closed", now_ns=START_NS) == []
    assert not runner.finished(), "a chunk in flight may still fill"
    runner.ledger.apply(Side.SELL, 5, Decimal("3500"), Decimal(0))
    runner.order_ended(chunk.client_order_id)
    (close,) = runner.close("parent closed", now_ns=START_NS)
    assert (close.side, close.size, close.reduce_only) == (Side.BUY, 5, True)
    assert runner.chunk_due(top, now_ns=START_NS) == ([], False), "no chunk after the close"
    runner.ledger.apply(Side.BUY, 5, Decimal("3499"), Decimal(0))
    runner.order_ended(close.client_order_id)
    assert runner.finished()


_EMAS = st.sampled_from(
    [
        (71_000.0, 70_000.0, 69_000.0),  # long aligned
        (69_000.0, 70_000.0, 71_000.0),  # short aligned
        (70_000.0, 70_000.0, 69_000.0),
        (71_000.0, 70_000.0, 70_000.0),
        (70_000.0, 70_000.0, 70_000.0),
        (71_000.0, 69_000.0, 70_000.0),
        (math.nan, 70_000.0, 69_000.0),
    ]
)
"""ema_fast, ema_mid, ema_slow: both alignments, ties, a crossing, NaN."""
_TRENDS = st.sampled_from([65_000.0, 70_000.0, 75_000.0, math.nan])
_PIVOTS = st.sampled_from([69_650.0, 70_000.0, 70_350.0, math.nan])
"""Around a close of 70,000: ties, the pivot buffer's edge (0.5 % = 350), NaN."""
_RSI = st.sampled_from([30.0, 35.0, 40.0, 60.0, 65.0, 70.0, math.nan])


@settings(max_examples=500)
@given(
    st.lists(
        st.tuples(_EMAS, _TRENDS, _PIVOTS, _PIVOTS, _PIVOTS, _PIVOTS, _RSI),
        min_size=1,
        max_size=30,
    ),
    st.booleans(),
)
def test_rule_inputs_are_what_the_rules_read_of_each_candle(
    rows: list[tuple[tuple[float, float, float], float, float, float, float, float, float]],
    trend_filter: bool,
) -> None:
    """The backtest skips a candle whose rule inputs equal the previous one's: the batch
    inputs must be exactly what the per-candle rules compare, ties and NaN included."""
    strategy = replace(SETTINGS.strategy, trend_filter=trend_filter)
    rules = SignalRules("BTCUSD", strategy, SETTINGS.risk, PRODUCTS["BTCUSD"])
    names = ("fast", "mid", "slow", "trend", "r1", "r2", "s1", "s2", "rsi")
    candles = [
        indicators("BTCUSD", "70000", t=0, **dict(zip(names, (*emas, *rest), strict=True)))
        for emas, *rest in rows
    ]
    columns = {
        name: np.array([getattr(c, name) for c in candles])
        for name in ("ema_fast", "ema_mid", "ema_slow", "ema_trend", "rsi", "pivot_r1",
                     "pivot_r2", "pivot_s1", "pivot_s2")
    }  # fmt: skip
    columns["close"] = np.full(len(candles), 70_000.0)
    batch = rule_inputs(strategy, columns)
    for c, row in zip(candles, batch.tolist(), strict=True):
        one = [c.ema_fast > c.ema_mid, c.ema_fast < c.ema_mid]
        one += [rules._regime(c, long=True), rules._regime(c, long=False)]
        assert row == one


def test_an_ended_position_id_is_never_opened_again_and_the_memory_of_them_is_bounded() -> None:
    """Its client order ids would repeat ones the exchange has seen. The last
    ``_ENDED_KEPT`` ids are remembered, across a snapshot too."""
    rules = SignalRules("BTCUSD", SETTINGS.strategy, SETTINGS.risk, PRODUCTS["BTCUSD"])
    signal = rules.on_indicators(long_candle(START_NS), held=0, now_ns=START_NS)
    assert signal is not None
    planner = EntryPlanner(SETTINGS.execution, PRODUCTS)
    for n in range(_ENDED_KEPT + 1):
        assert planner.open(signal, 1, f"p{n}"), f"p{n} opens"
        planner.position_finished(f"p{n}")
    assert planner.ended == [f"p{n}" for n in range(1, _ENDED_KEPT + 1)]
    assert planner.open(signal, 1, "p0"), "the oldest is forgotten"
    assert planner.open(signal, 1, f"p{_ENDED_KEPT}") == []
    restored = EntryPlanner(SETTINGS.execution, PRODUCTS)
    restored.ended = list(planner.ended)  # as a snapshot loads it
    assert restored.open(signal, 1, "p5") == [] and restored.open(signal, 1, "p0")
