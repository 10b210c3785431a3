"""The in-process gateway's market moves: a bar-path step (``PathStep``, in ticks) must
look to every actor exactly as the general step (``MarketStep``, in prices) with the same
quote does, although a step in a quiet symbol reaches the engine only when something next
reads it.

The property runs random scripts of steps, orders, cancels, funding and subscriptions twice,
once with each kind of step, and compares everything the actors hear and the engine's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from actors import ChildSpec, DeterministicRuntime, SupervisorSpec, supervisor
from actors.trading import (
    GATEWAY_ID,
    USER_ID,
    ApplyFunding,
    EngineGateway,
    MarketMoves,
    MarketStep,
    PathStep,
)
from exchange.sim import MatchingEngine, default_products
from exchange.sim._barpath import DEPTH
from messages import (
    CancelAllOrders,
    EquityUpdated,
    MarkPrice,
    OrderRejected,
    OrderType,
    PlaceOrder,
    Side,
    TimeInForce,
    TopOfBook,
    UnixNanos,
)
from tests.actors.trading.scenario import Recorder

SYMBOLS = ("BTCUSD", "ETHUSD")
PRODUCTS = {p.symbol: p for p in default_products()}
BASE = {
    "BTCUSD": PRODUCTS["BTCUSD"].ticks_of("60000"),
    "ETHUSD": PRODUCTS["ETHUSD"].ticks_of("3000"),
}
PROBE = "probe"


@dataclass(frozen=True, slots=True)
class Listen:
    """Test script: the probe subscribes to ``kind`` under ``symbol``."""

    kind: type
    symbol: str


class Probe(Recorder):
    """The scenario's recorder of trading events, which also subscribes on command."""

    def receive(self, message: object) -> Any:
        if isinstance(message, Listen):
            self.context.subscribe(message.kind, key=message.symbol)
            return None
        return super().receive(message)


def _step(kind: str, symbol: str, ticks: int) -> Any:
    if kind == "path":
        return PathStep(symbol, ticks)
    product = PRODUCTS[symbol]
    price = product.price_of(ticks)
    return MarketStep(
        symbol, price=price, bid=price, ask=product.price_of(ticks + 1), volume=1, depth=DEPTH
    )


def _order(n: int, symbol: str, side: str, offset: int, post_only: bool) -> PlaceOrder:
    product = PRODUCTS[symbol]
    return PlaceOrder(
        ts_init=UnixNanos(0),
        command_id=f"c{n}",
        client_order_id=f"o{n}",
        symbol=symbol,
        side=Side.BUY if side == "buy" else Side.SELL,
        size=1,
        order_type=OrderType.LIMIT,
        limit_price=product.price_of(BASE[symbol] + offset),
        stop_price=None,
        post_only=post_only,
        reduce_only=False,
        time_in_force=TimeInForce.GTC,
        position_id=None,
    )


symbols = st.sampled_from(SYMBOLS)
operations = st.one_of(
    st.tuples(st.just("steps"), st.lists(st.tuples(symbols, st.integers(-5, 5)), min_size=1,
                                           max_size=3)),
    st.tuples(st.just("place"), symbols, st.sampled_from(["buy", "sell"]), st.integers(-4, 4),
              st.booleans()),
    st.tuples(st.just("cancel_all"), st.one_of(st.none(), symbols)),
    st.tuples(st.just("fund"), symbols),
    st.tuples(st.just("listen"), st.sampled_from([MarkPrice, TopOfBook]), symbols),
    st.tuples(st.just("read_top"), symbols),
)  # fmt: skip


def _play(kind: str, script: list[tuple[Any, ...]]) -> tuple[list[object], tuple[object, ...]]:
    """Run ``script`` with ``kind`` steps; what the probe heard and the engine's state."""
    engine = MatchingEngine(default_products(), book_deltas=False)
    engine.add_account(USER_ID, Decimal(100_000))
    heard: list[object] = []
    gateway = ChildSpec(
        actor_id=GATEWAY_ID,
        factory=lambda: EngineGateway(
            products=default_products(), balance=Decimal(100_000), engine=engine
        ),
    )
    probe = ChildSpec(actor_id=PROBE, factory=lambda: Probe(heard))
    runtime = DeterministicRuntime(start_ns=1_000, seed=1, trace=False)
    runtime.start_root(supervisor("root", SupervisorSpec(children=(probe, gateway))))
    runtime.run_until_idle()
    for symbol in SYMBOLS:  # a market to start from, in every symbol
        runtime.inject(GATEWAY_ID, MarketMoves((_step(kind, symbol, BASE[symbol]),)))
    runtime.run_until_idle()
    for n, op in enumerate(script):
        runtime.advance(1_000)
        if op[0] == "steps":
            moves = tuple(_step(kind, s, BASE[s] + offset) for s, offset in op[1])
            runtime.inject(GATEWAY_ID, MarketMoves(moves))
        elif op[0] == "place":
            runtime.inject(GATEWAY_ID, _order(n, *op[1:]))
        elif op[0] == "cancel_all":
            cancel = CancelAllOrders(
                ts_init=UnixNanos(0), command_id=f"c{n}", symbol=op[1], reason="test"
            )
            runtime.inject(GATEWAY_ID, cancel)
        elif op[0] == "fund":
            runtime.inject(GATEWAY_ID, MarketMoves((ApplyFunding(op[1], Decimal("0.01")),)))
        elif op[0] == "listen":
            runtime.inject(PROBE, Listen(op[1], op[2]))
        else:
            heard.append(("latest", runtime.latest(TopOfBook, op[1])))
        runtime.run_until_idle()
    runtime.inject(GATEWAY_ID, CancelAllOrders(  # the engine as anything reading it sees it
        ts_init=UnixNanos(0), command_id="end", symbol="SOLUSD", reason="test"))  # fmt: skip
    runtime.run_until_idle()
    account = engine.accounts[USER_ID]
    state = (
        {s: (engine.last.get(s), engine.mark.get(s), engine.books[s].market) for s in SYMBOLS},
        account.balance,
        {pid: p.size for pid, p in account.positions.items()},
        sorted((o.client_order_id, o.state, o.unfilled) for o in engine.orders.values()),
    )
    return heard, state


@settings(max_examples=120, deadline=None)
@given(script=st.lists(operations, max_size=12))
def test_a_path_step_looks_like_the_general_step_to_everyone(
    script: list[tuple[Any, ...]],
) -> None:
    assert _play("path", script) == _play("market", script)


def test_a_quiet_step_reaches_the_engine_before_an_order_reads_it() -> None:
    """The case the property covers at random: a quiet step, then a post-only sell at the
    new bid, refused for crossing a book the engine had not been given yet."""
    ticks = BASE["BTCUSD"] + 40
    script = [("steps", [("BTCUSD", 40)]), ("read_top", "BTCUSD"),
              ("place", "BTCUSD", "sell", 40, True)]  # fmt: skip
    heard, state = _play("path", script)
    latest = next(h[1] for h in heard if isinstance(h, tuple))
    assert latest.best_bid == PRODUCTS["BTCUSD"].price_of(ticks)
    assert latest.best_ask == PRODUCTS["BTCUSD"].price_of(ticks + 1)
    assert [type(h) for h in heard if not isinstance(h, tuple | EquityUpdated)] == [OrderRejected]
    assert state[0]["BTCUSD"][:2] == (ticks, ticks)


def test_a_symbols_deferred_step_reaches_the_engine_before_its_next_busy_step() -> None:
    """A quiet step stays behind through another symbol's busy step, but not through its own
    symbol's: a mark heard from then on must not repeat a price the market already had."""
    script = [("steps", [("BTCUSD", 3)]), ("listen", MarkPrice, "BTCUSD"),
              ("steps", [("ETHUSD", 1), ("BTCUSD", 3)]), ("steps", [("BTCUSD", 4)])]  # fmt: skip
    heard, state = _play("path", script)
    assert (heard, state) == _play("market", script)
    marks = [h.price for h in heard if isinstance(h, MarkPrice)]
    assert marks == [PRODUCTS["BTCUSD"].price_of(BASE["BTCUSD"] + 4)]


def test_a_stopped_gateway_hands_its_deferred_steps_to_the_engine() -> None:
    """The engine outlives a gateway restarted with its siblings: what the stopped gateway
    had deferred is in the engine before the next incarnation reads it."""
    engine = MatchingEngine(default_products(), book_deltas=False)
    engine.add_account(USER_ID, Decimal(100_000))
    gateway = ChildSpec(
        actor_id=GATEWAY_ID,
        factory=lambda: EngineGateway(
            products=default_products(), balance=Decimal(100_000), engine=engine
        ),
    )
    runtime = DeterministicRuntime(start_ns=1_000, seed=1, trace=False)
    runtime.start_root(supervisor("root", SupervisorSpec(children=(gateway,))))
    ticks = BASE["ETHUSD"] + 3
    runtime.inject(GATEWAY_ID, MarketMoves((PathStep("ETHUSD", ticks),)))
    runtime.run_until_idle()
    runtime.stop_actor(GATEWAY_ID, 0)
    assert (engine.last["ETHUSD"], engine.mark["ETHUSD"]) == (ticks, ticks)
    assert engine.books["ETHUSD"].market_top() == (ticks, DEPTH, ticks + 1, DEPTH)
