"""The trading tree over RestGateway against a real SimExchange (sockets, ThreadedRuntime).

Prices come from the simulator's own REST book (standing in for the market subtree's
TopOfBook), the signal from a scripted IndicatorsUpdated; orders, fills and the wallet go
over REST and the private stream.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from actors import ChildSpec, SupervisorSpec, ThreadedRuntime, supervisor
from actors._clock import WallClock
from actors._durable import STORAGE_ID, JournalEntry, decode_entry, encode_entry
from actors._storage_writer import StorageWriter
from actors.trading import GATEWAY_ID, rest_gateway_spec, trading_tree
from actors.trading._ids import Leg, client_order_id
from actors.trading._orders import place_order
from exchange.delta import DeltaRestClient
from exchange.sim import SimExchange, default_products
from messages import (
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    OrderType,
    PositionClosed,
    PositionOpened,
    ReconcileDiscrepancy,
    Side,
    TopOfBook,
    UnixNanos,
)
from messages.settings import Secret, Settings
from storage import Store
from tests.actors.trading.scenario import Recorder, long_candle


def wait_for(condition: Callable[[], Any], timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (result := condition()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)  # poll interval of a bounded wait on a condition
    return result


@pytest.fixture
def sim() -> Iterator[SimExchange]:
    with SimExchange(
        Settings().sim, clock=WallClock(), products=default_products(), market="manual"
    ) as exchange:
        yield exchange


def test_entry_protected_and_closed_over_rest_pnl_equals_wallet(sim: SimExchange) -> None:
    settings = Settings()
    key, secret = Secret(sim.api_key), Secret(sim.api_secret)
    client = DeltaRestClient(
        sim.rest_url, api_key=key, api_secret=secret, settings=settings.exchange, clock=WallClock()
    )
    products = client.load_products()
    sim.market.step(prices={"BTCUSD": "70000.0"})
    start_balance = client.get_wallet_balances()[0].balance
    log: list[Any] = []
    gateway = rest_gateway_spec(
        settings, rest_url=sim.rest_url, ws_url=sim.ws_url, api_key=key, api_secret=secret
    )
    recorder = ChildSpec(actor_id="recorder", factory=lambda: Recorder(log))
    tree = trading_tree(settings, products=products, gateway_spec=gateway)
    runtime = ThreadedRuntime(seed=3)
    try:
        runtime.start_root(supervisor("root", SupervisorSpec(children=(recorder, tree))))

        def top() -> TopOfBook:
            book = client.get_order_book("BTCUSD")
            now = UnixNanos(time.time_ns())
            return TopOfBook(
                ts_event=now,
                ts_init=now,
                symbol="BTCUSD",
                best_bid=book.bids[0].price,
                best_bid_size=None,
                best_ask=book.asks[0].price,
                best_ask_size=None,
                synced=True,
                stale=False,
            )

        first = top()
        runtime.send("execution", first)
        runtime.send("strategy:BTCUSD", long_candle(time.time_ns() // 10**9 * 10**9))
        entry = wait_for(lambda: client.get_open_orders("BTCUSD"))
        assert entry[0].limit_price == first.best_bid - products["BTCUSD"].tick_size
        sim.market.step(prices={"BTCUSD": str(entry[0].limit_price - 50)})  # trades through
        opened = wait_for(lambda: [m for m in log if isinstance(m, PositionOpened)])[0]
        def stops() -> list[Any]:  # the stop and the target: two REST placements
            found = [o for o in client.get_open_orders("BTCUSD") if o.stop_price is not None]
            return found if len(found) == 2 else []

        protective = wait_for(stops)
        assert sorted(o.stop_price for o in protective) == sorted(
            [opened.stop_price, opened.take_profit_price]
        )
        sim.market.step(prices={"BTCUSD": str(opened.take_profit_price + 10)})  # target
        closed = wait_for(lambda: [m for m in log if isinstance(m, PositionClosed)])[0]
        assert closed.reason == "target"
        assert next(f.is_maker for f in log if isinstance(f, OrderFilled))
        wait_for(lambda: not client.get_open_orders("BTCUSD"))
        change = client.get_wallet_balances()[0].balance - start_balance
        assert change == closed.realised_pnl - closed.fees + closed.funding
        assert closed.realised_pnl > 0 and closed.fees > Decimal(0)
    finally:
        assert runtime.shutdown(timeout_s=60.0) == []
        client.close()


def test_restart_finds_an_unacknowledged_order_by_client_id_and_places_a_lost_one(
    sim: SimExchange, tmp_path: Path
) -> None:
    """Three placements were on disk when the process died: one reached the exchange but its
    answer never came back, one never left, one never left and is older than the entry
    timeout. After the restart the first is found by client order id (not placed again), the
    second is placed, the third is refused as stale; each difference is reported."""
    settings = Settings()
    key, secret = Secret(sim.api_key), Secret(sim.api_secret)
    client = DeltaRestClient(
        sim.rest_url, api_key=key, api_secret=secret, settings=settings.exchange, clock=WallClock()
    )
    client.load_products()
    sim.market.step(prices={"BTCUSD": "70000.0"})
    now = time.time_ns()
    old_ns = now - 2 * settings.execution.entry_timeout_s * 10**9
    sent, lost, stale = (
        place_order(
            coid=client_order_id("p-restart", Leg.ENTRY, attempt),
            owner="p-restart",
            symbol="BTCUSD",
            side=Side.BUY,
            size=5,
            kind=OrderType.LIMIT,
            limit=Decimal(69000 - attempt),
            stop=None,
            now_ns=now if attempt < 2 else old_ns,
            post_only=True,
        )
        for attempt in (0, 1, 2)
    )
    client.place_order(sent)  # the exchange has it; the bot never heard back
    store = Store.open(tmp_path, settings.storage)
    entries = [JournalEntry(event=cmd, target=GATEWAY_ID) for cmd in (sent, lost, stale)]
    store.append([encode_entry(e) for e in entries])
    writer = ChildSpec(
        actor_id=STORAGE_ID, factory=lambda: StorageWriter(store=store, settings=settings.storage)
    )
    gateway = rest_gateway_spec(
        settings, rest_url=sim.rest_url, ws_url=sim.ws_url, api_key=key, api_secret=secret
    )
    runtime = ThreadedRuntime(seed=5)
    try:
        runtime.start_root(supervisor("root", SupervisorSpec(children=(writer, gateway))))

        def journal() -> list[Any]:
            return [decode_entry(data).event for _, data in store.read_journal()]

        wait_for(lambda: sum(isinstance(e, OrderAccepted) for e in journal()) == 2)
        found = [e for e in journal() if isinstance(e, ReconcileDiscrepancy)]
        assert [(d.kind, d.client_order_id) for d in found] == [
            ("order_never_placed", lost.client_order_id),
            ("stale_entry_dropped", stale.client_order_id),
        ]
        refused = [e for e in journal() if isinstance(e, OrderRejected)]
        assert [(r.client_order_id, r.reason_code) for r in refused] == [
            (stale.client_order_id, "stale_after_restart")
        ]
        with sim.engine.locked() as core:
            account = core.accounts[1]
            coids = [o.client_order_id for o in account.open_orders.values()]
            coids += [o.client_order_id for o in account.closed]
        assert sorted(coids) == sorted([sent.client_order_id, lost.client_order_id])
    finally:
        assert runtime.shutdown(timeout_s=60.0) == []
        client.close()
        store.close()
