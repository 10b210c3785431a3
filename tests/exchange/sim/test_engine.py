"""The matching engine as pure logic: no sockets, no threads, time passed in."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.sim import MatchingEngine, OrderRejected, OrderRequest, default_products
from exchange.sim._barpath import quote
from exchange.sim._model import (
    BookDelta,
    Filled,
    Order,
    OrderChanged,
    Position,
    PositionChanged,
    WalletChanged,
)

BTC = 27


@pytest.fixture
def engine() -> MatchingEngine:
    e = MatchingEngine(default_products())
    e.add_account(1, Decimal(10000))
    # BTCUSD: bids 100.0 x10, 99.5 x10; asks 101.0 x10, 101.5 x5
    p = e.by_symbol["BTCUSD"]
    e.market_tick(
        "BTCUSD",
        1,
        bids={p.ticks_of("100"): 10, p.ticks_of("99.5"): 10},
        asks={p.ticks_of("101"): 10, p.ticks_of("101.5"): 5},
        mark_ticks=p.ticks_of("100.5"),
    )
    return e


def t(price: str) -> int:
    return default_products()[0].ticks_of(price)


def req(side: str, size: int, price: str | None = None, **kw: object) -> OrderRequest:
    kind = "limit_order" if price is not None else "market_order"
    limit = t(price) if price is not None else None
    return OrderRequest(
        product_id=BTC, size=size, side=side, order_type=kind, limit_ticks=limit, **kw
    )  # type: ignore[arg-type]


def position(e: MatchingEngine) -> tuple[int, Decimal | None, Decimal]:
    pos = e.accounts[1].positions[BTC]
    return pos.size, pos.entry_price, pos.realized_pnl


def test_market_order_walks_the_book_as_taker_with_taker_fees(engine: MatchingEngine) -> None:
    order, events = engine.place_order(1, req("buy", 12), 2)
    fills = [e.fill for e in events if isinstance(e, Filled)]
    assert [(f.size, f.price_ticks, f.role) for f in fills] == [
        (10, t("101"), "taker"),
        (2, t("101.5"), "taker"),
    ]
    # fee = size x 0.001 BTC x price x 0.0005
    assert fills[0].commission == Decimal("10") * Decimal("0.001") * Decimal("101") * Decimal(
        "0.0005"
    )
    assert order.state == "closed"
    size, entry, _ = position(engine)
    assert size == 12 and entry == (10 * Decimal(101) + 2 * Decimal("101.5")) / 12
    assert any(isinstance(e, BookDelta) for e in events)
    assert engine.books["BTCUSD"].market["sell"] == {t("101.5"): 3}


def test_post_only_that_would_cross_is_rejected(engine: MatchingEngine) -> None:
    with pytest.raises(OrderRejected) as err:
        engine.place_order(1, req("buy", 1, "101", post_only=True), 2)
    assert err.value.code == "immediate_execution_post_only"
    assert engine.accounts[1].open_orders == {}


def test_resting_limit_fills_as_maker_when_traded_through(engine: MatchingEngine) -> None:
    order, _ = engine.place_order(1, req("buy", 4, "100", post_only=True), 2)
    assert order.state == "open" and order.ahead == 10  # behind the market's 10 at 100.0
    # a sell of 12 at 100.0: 10 ahead of us trade first, then 2 of ours
    events = engine.market_tick("BTCUSD", 3, trade=(t("100"), 12, "sell"))
    fills = [e.fill for e in events if isinstance(e, Filled)]
    assert [(f.size, f.role) for f in fills] == [(2, "maker")]
    assert fills[0].commission == 2 * Decimal("0.001") * 100 * Decimal("0.0002")
    # a trade below our price fills the rest fully
    events = engine.market_tick("BTCUSD", 4, trade=(t("99.5"), 1, "sell"))
    assert [e.fill.size for e in events if isinstance(e, Filled)] == [2]
    assert engine.orders[order.id].state == "closed"


def test_realised_pnl_and_entry_are_exact(engine: MatchingEngine) -> None:
    engine.place_order(1, req("buy", 10, "101"), 2)  # taker at 101.0
    engine.market_tick("BTCUSD", 3, asks={t("105"): 100}, bids={t("104"): 100})
    engine.place_order(1, req("sell", 4), 4)  # taker at 104.0
    size, entry, realized = position(engine)
    assert (size, entry) == (6, Decimal(101))
    assert realized == 4 * Decimal("0.001") * (Decimal(104) - Decimal(101))
    engine.place_order(1, req("sell", 10), 5)  # closes 6, opens 4 short at 104
    size, entry, realized = position(engine)
    assert (size, entry) == (-4, Decimal(104))
    assert realized == 10 * Decimal("0.001") * 3
    fees = sum((f.commission for f in engine.accounts[1].fills), Decimal(0))
    assert engine.accounts[1].balance == Decimal(10000) + realized - fees


def test_stop_loss_triggers_on_mark_and_executes_as_market(engine: MatchingEngine) -> None:
    engine.place_order(1, req("buy", 5, "101"), 2)
    stop = OrderRequest(
        product_id=BTC,
        size=5,
        side="sell",
        order_type="market_order",
        stop_order_type="stop_loss_order",
        stop_ticks=t("99"),
        reduce_only=True,
    )
    order, _ = engine.place_order(1, stop, 3)
    assert order.state == "pending"
    engine.market_tick("BTCUSD", 4, mark_ticks=t("99.5"))
    assert engine.orders[order.id].state == "pending"
    events = engine.market_tick("BTCUSD", 5, mark_ticks=t("99"))
    reasons = [e.reason for e in events if isinstance(e, OrderChanged)]
    assert "stop_trigger" in reasons
    assert engine.orders[order.id].state == "closed"
    assert position(engine)[0] == 0


def test_take_profit_limit_triggers_on_last_traded_price(engine: MatchingEngine) -> None:
    engine.place_order(1, req("buy", 2, "101"), 2)
    tp = OrderRequest(
        product_id=BTC,
        size=2,
        side="sell",
        order_type="limit_order",
        limit_ticks=t("103"),
        stop_order_type="take_profit_order",
        stop_ticks=t("103"),
        stop_trigger_method="last_traded_price",
        reduce_only=True,
    )
    order, _ = engine.place_order(1, tp, 3)
    engine.market_tick("BTCUSD", 4, trade=(t("102"), 1, "buy"))
    assert engine.orders[order.id].state == "pending"
    engine.market_tick(
        "BTCUSD", 5, trade=(t("103"), 1, "buy"), bids={t("102.5"): 50}, asks={t("104"): 50}
    )
    assert engine.orders[order.id].state == "open"  # limit 103 rests (the ask is 104)
    engine.market_tick("BTCUSD", 6, trade=(t("103.5"), 1, "buy"))
    assert engine.orders[order.id].state == "closed" and position(engine)[0] == 0


def test_reduce_only_cannot_open_and_is_clipped(engine: MatchingEngine) -> None:
    with pytest.raises(OrderRejected) as err:
        engine.place_order(1, req("sell", 1, reduce_only=True), 2)
    assert err.value.code == "reduce_only_violation"
    engine.place_order(1, req("buy", 3, "101"), 3)
    order, _ = engine.place_order(1, req("sell", 10, reduce_only=True), 4)
    assert order.filled == 3 and position(engine)[0] == 0


def test_bracket_on_entry_creates_oco_legs_after_the_fill(engine: MatchingEngine) -> None:
    entry = OrderRequest(
        product_id=BTC,
        size=4,
        side="buy",
        order_type="limit_order",
        limit_ticks=t("101"),
        bracket_stop_loss_ticks=t("98"),
        bracket_take_profit_ticks=t("106"),
    )
    order, _ = engine.place_order(1, entry, 2)
    legs = [engine.orders[i] for i in engine.orders[order.id].bracket_children]
    assert sorted(leg.stop_order_type for leg in legs) == ["stop_loss_order", "take_profit_order"]
    assert all(leg.size == 4 and leg.reduce_only and leg.state == "pending" for leg in legs)
    engine.market_tick(
        "BTCUSD", 3, mark_ticks=t("106"), bids={t("105.5"): 100}, asks={t("106.5"): 100}
    )
    states = sorted(engine.orders[leg.id].state for leg in legs)
    assert states == ["cancelled", "closed"] and position(engine)[0] == 0


def test_position_bracket_closes_whatever_the_size(engine: MatchingEngine) -> None:
    engine.place_order(1, req("buy", 3, "101"), 2)
    made, _ = engine.place_bracket(
        1, 3, product_id=BTC, stop_loss=(t("99"), None), take_profit=None
    )
    engine.place_order(1, req("buy", 2, "101.5"), 4)
    engine.market_tick("BTCUSD", 5, mark_ticks=t("99"))
    assert engine.orders[made[0].id].state == "closed" and position(engine)[0] == 0


def test_insufficient_margin(engine: MatchingEngine) -> None:
    engine.set_leverage(1, BTC, 1, 2)
    engine.market_tick("BTCUSD", 3, asks={t("101"): 10**6}, bids={t("100"): 10**6})
    # 100,000 contracts x 0.001 x 101 = 10,100 USD > 10,000 at 1x
    with pytest.raises(OrderRejected) as err:
        engine.place_order(1, req("buy", 100_000, "101"), 4)
    assert err.value.code == "insufficient_margin"
    assert Decimal(err.value.context["required_additional_balance"]) == Decimal(100)  # type: ignore[arg-type]
    engine.place_order(1, req("buy", 99_000, "101"), 5)


def test_duplicate_client_order_id_is_refused_while_open(engine: MatchingEngine) -> None:
    first, _ = engine.place_order(1, req("buy", 1, "99", client_order_id="abc"), 2)
    with pytest.raises(OrderRejected) as err:
        engine.place_order(1, req("buy", 1, "99", client_order_id="abc"), 3)
    assert err.value.code == "duplicate_client_order_id"
    assert err.value.context["order_id"] == first.id
    engine.cancel_order(1, 4, client_order_id="abc")
    assert engine.find_order(1, client_order_id="abc").state == "cancelled"  # type: ignore[union-attr]
    second, _ = engine.place_order(1, req("buy", 1, "99", client_order_id="abc"), 5)
    assert engine.find_order(1, client_order_id="abc").id == second.id  # type: ignore[union-attr]


def test_edit_reprices_loses_priority_and_checks_post_only(engine: MatchingEngine) -> None:
    order, _ = engine.place_order(1, req("buy", 2, "99.5", post_only=True), 2)
    with pytest.raises(OrderRejected):
        engine.edit_order(1, 3, order_id=order.id, limit_ticks=t("101"))
    edited, _ = engine.edit_order(1, 4, order_id=order.id, limit_ticks=t("100"), size=5)
    assert (edited.limit_ticks, edited.size, edited.unfilled, edited.ahead) == (t("100"), 5, 5, 10)
    count, _ = engine.cancel_all(1, 5, product_id=BTC)
    assert count == 1 and engine.accounts[1].open_orders == {}


def test_funding_moves_money_between_longs_and_shorts(engine: MatchingEngine) -> None:
    engine.place_order(1, req("buy", 10, "101"), 2)
    balance = engine.accounts[1].balance
    events = engine.apply_funding("BTCUSD", Decimal("0.01"), 10, 3)
    paid = 10 * Decimal("0.001") * Decimal("100.5") * Decimal("0.01") / 100
    assert engine.accounts[1].balance == balance - paid
    assert engine.accounts[1].positions[BTC].realized_funding == -paid
    assert any(isinstance(e, WalletChanged) for e in events)
    assert any(isinstance(e, PositionChanged) for e in events)


def test_book_deltas_are_sequential_and_checksummed(engine: MatchingEngine) -> None:
    book = engine.books["BTCUSD"]
    seq = book.seq
    engine.place_order(1, req("buy", 1, "99", post_only=True), 2)
    engine.place_order(1, req("buy", 1, "99", post_only=True), 3)
    assert book.seq == seq + 2
    assert book.level_size("buy", t("99")) == 2


# --- the bar path's step --------------------------------------------------------------------

_orders = st.lists(
    st.tuples(
        st.sampled_from(["buy", "sell"]),
        st.integers(1, 5),  # size
        st.integers(-4, 4),  # limit, ticks from the first step's price
        st.sampled_from([None, "mark_price", "last_traded_price"]),  # a stop, by this price
    ),
    max_size=3,
)


def _engine_state(e: MatchingEngine) -> tuple[object, ...]:
    account = e.accounts[1]
    book = e.books["BTCUSD"]
    return (
        e.last.get("BTCUSD"),
        e.mark.get("BTCUSD"),
        {side: dict(levels) for side, levels in book.market.items()},
        sorted((o.id, o.state, o.unfilled, o.ahead) for o in e.orders.values()),
        account.balance,
        account.positions[BTC].size,
    )


@given(
    orders=_orders,
    steps=st.lists(st.tuples(st.integers(-5, 5), st.integers(0, 3)), min_size=1, max_size=6),
)
@settings(max_examples=400, deadline=None)
def test_path_step_is_market_tick_with_the_bar_paths_quote(
    orders: list[tuple[str, int, int, str | None]], steps: list[tuple[int, int]]
) -> None:
    """The fast path for a step that reaches nothing of ours changes nothing but speed:
    the same events and the same engine state as the general market move, step after step
    (a step without volume leaves the last traded price, which some stops trigger on)."""
    base = t("100")
    engines = []
    for _ in range(2):
        e = MatchingEngine(default_products(), book_deltas=False)
        e.add_account(1, Decimal(10000))
        e.market_tick("BTCUSD", 1, trade=(base, 1, None), mark_ticks=base,
                      bids={base: 10}, asks={base + 1: 10})  # fmt: skip
        for n, (side, size, offset, stop) in enumerate(orders):
            price = base + offset
            kind = (
                {"stop_order_type": "stop_loss_order", "stop_ticks": price,
                 "stop_trigger_method": stop}
                if stop else {}
            )  # fmt: skip
            request = OrderRequest(
                product_id=BTC, size=size, side=side, order_type="market_order" if stop else
                "limit_order", limit_ticks=None if stop else price, client_order_id=f"o{n}",
                **kind,
            )  # type: ignore[arg-type]  # fmt: skip
            with contextlib.suppress(OrderRejected):
                e.place_order(1, request, 2)
        engines.append(e)
    fast, general = engines
    for n, (offset, volume) in enumerate(steps):
        ticks, now = base + offset, 10 + n
        got = fast.path_step("BTCUSD", now, ticks, volume, tape=False)
        bid, bid_size, ask, ask_size = quote(ticks)
        want = general.market_tick(
            "BTCUSD", now, trade=(ticks, volume, None) if volume else None, mark_ticks=ticks,
            bids={bid: bid_size}, asks={ask: ask_size}, tape=False,
        )  # fmt: skip
        assert got == want
        assert _engine_state(fast) == _engine_state(general)


def test_order_and_position_snapshots_are_equal_detached_copies() -> None:
    """Events carry snapshots: later changes to the engine's order must not reach them."""
    order = Order(
        id=7, user_id=1, product_id=27, symbol="BTCUSD", side="buy", order_type="limit_order",
        size=5, unfilled=5, limit_ticks=140_000, time_in_force="gtc", post_only=True,
        reduce_only=False, client_order_id="c-1", state="open", created_ns=1, updated_ns=1,
        bracket={"stop_loss_price": 139_000}, bracket_children=[8],
    )  # fmt: skip
    clone = order.snapshot()
    assert clone == order and clone is not order
    order.unfilled, order.state = 2, "closed"
    order.bracket["take_profit_price"] = 141_000
    order.bracket_children.append(9)
    assert (clone.unfilled, clone.state, clone.bracket_children) == (5, "open", [8])
    assert clone.bracket == {"stop_loss_price": 139_000}
    position = Position(user_id=1, product_id=27, symbol="BTCUSD", size=3)
    copied = position.snapshot()
    position.size = 0
    assert (copied.size, copied.symbol, copied == position) == (3, "BTCUSD", False)
