"""The trading tree over RestGateway against a real SimExchange (sockets, ThreadedRuntime).

Prices come from the simulator's own REST book (standing in for the market subtree's
TopOfBook), the signal from a scripted IndicatorsUpdated; orders, fills and the wallet go
over REST and the private stream.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from actors import ChildSpec, SupervisorSpec, ThreadedRuntime, supervisor
from actors._clock import WallClock
from actors.trading import rest_gateway_spec, trading_tree
from exchange.delta import DeltaRestClient
from exchange.sim import SimExchange, default_products
from messages import OrderFilled, PositionClosed, PositionOpened, TopOfBook, UnixNanos
from messages.settings import Secret, Settings
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
        protective = wait_for(
            lambda: [o for o in client.get_open_orders("BTCUSD") if o.stop_price is not None]
        )
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
