"""The REST client against the simulator over real sockets: every endpoint, every error
path, rate limits, retries, the breaker and idempotent placement."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from actors import SimulatedClock, WallClock
from exchange.delta import (
    AuthenticationFailed,
    BadSchema,
    Bracket,
    CircuitOpen,
    DeltaRestClient,
    DuplicateClientOrderId,
    InsufficientMargin,
    NotFound,
    PostOnlyWouldCross,
    RateLimited,
    ReduceOnlyViolated,
    ServerError,
    SignatureExpired,
)
from exchange.sim import SimExchange
from messages import (
    Contracts,
    OrderStatus,
    OrderType,
    PlaceOrder,
    Side,
    TimeInForce,
    UnixNanos,
)
from messages.settings import Secret
from tests.exchange.delta.conftest import fast_settings


def order(
    coid: str,
    *,
    side: Side = Side.BUY,
    size: int = 1,
    kind: OrderType = OrderType.LIMIT,
    price: Decimal | None = None,
    stop: Decimal | None = None,
    post_only: bool = False,
    reduce_only: bool = False,
    tif: TimeInForce = TimeInForce.GTC,
    symbol: str = "BTCUSD",
) -> PlaceOrder:
    return PlaceOrder(
        ts_init=UnixNanos(1),
        command_id=f"cmd-{coid}",
        client_order_id=coid,
        symbol=symbol,
        side=side,
        size=Contracts(size),
        order_type=kind,
        limit_price=price,
        stop_price=stop,
        post_only=post_only,
        reduce_only=reduce_only,
        time_in_force=tif,
        position_id=None,
    )


def far_bid(client: DeltaRestClient) -> Decimal:
    """A bid price 20 % under the market, on the tick grid (rests, never fills)."""
    book = client.get_order_book("BTCUSD")
    return client.product("BTCUSD").round_price(book.bids[0].price * Decimal("0.8"), up=False)


def test_market_data(client: DeltaRestClient) -> None:
    products = client.products
    assert set(products) >= {"BTCUSD", "ETHUSD", "SOLUSD"}
    assert client.get_product("ETHUSD").tick_size == products["ETHUSD"].tick_size
    ticker = client.get_ticker("BTCUSD")
    assert ticker.best_bid is not None and ticker.best_ask is not None
    assert ticker.best_bid < ticker.best_ask
    assert {t.symbol for t in client.get_tickers()} >= {"BTCUSD", "SOLUSD"}
    book = client.get_order_book("SOLUSD")
    assert book.bids and book.asks and book.bids[0].price < book.asks[0].price


def test_candle_history_pages_2000_per_call(sim: SimExchange, client: DeltaRestClient) -> None:
    # The newest minute the market has played (under load the market thread can trail the
    # clock the ticker reads by a few minutes at 900x).
    end_s = sim.candles.last_time_s("BTCUSD")
    assert end_s is not None
    requests_before = client.session.counters["requests"]
    candles = client.get_candles("BTCUSD", resolution="1m", start_s=end_s - 3000 * 60, end_s=end_s)
    assert client.session.counters["requests"] - requests_before == 2
    assert len(candles) == 3000
    times = [c.open_time_ns for c in candles]
    assert times == sorted(set(times))
    assert times[-1] == (end_s - 60) * 10**9


def test_place_find_edit_and_cancel(client: DeltaRestClient) -> None:
    price = far_bid(client)
    placed = client.place_order(order("life-1", price=price, post_only=True, size=2))
    assert placed.status is OrderStatus.OPEN and placed.client_order_id == "life-1"
    assert [o.order_id for o in client.get_open_orders("BTCUSD")] == [placed.order_id]
    assert client.get_order(placed.order_id).client_order_id == "life-1"
    assert client.get_order_by_client_id("life-1").order_id == placed.order_id
    tick = client.product("BTCUSD").tick_size
    edited = client.edit_order(
        symbol="BTCUSD", order_id=placed.order_id, size=3, limit_price=price - tick
    )
    assert edited.size == 3 and edited.limit_price == price - tick
    cancelled = client.cancel_order(symbol="BTCUSD", client_order_id="life-1")
    assert cancelled.status is OrderStatus.CANCELLED
    with pytest.raises(NotFound) as caught:
        client.cancel_order(symbol="BTCUSD", order_id=placed.order_id)
    assert caught.value.code == "open_order_not_found"
    with pytest.raises(NotFound):
        client.get_order_by_client_id("never-placed")
    assert client.get_open_orders() == ()


def test_batch_bracket_fills_positions_and_wallet(client: DeltaRestClient) -> None:
    price = far_bid(client)
    tick = client.product("BTCUSD").tick_size
    batch = client.place_orders(
        "BTCUSD", [order(f"batch-{i}", price=price - i * tick, post_only=True) for i in range(3)]
    )
    assert sorted(o.client_order_id or "" for o in batch) == ["batch-0", "batch-1", "batch-2"]
    cancelled = client.cancel_orders("BTCUSD", [batch[0].order_id])
    assert cancelled[0].status is OrderStatus.CANCELLED
    client.cancel_all_orders("BTCUSD")
    assert client.get_open_orders("BTCUSD") == ()

    filled = client.place_order(order("mkt-1", kind=OrderType.MARKET, size=5, tif=TimeInForce.IOC))
    assert filled.filled_size == 5
    position = client.get_position("BTCUSD")
    assert position.size == 5 and position.entry_price is not None
    assert [p.size for p in client.get_positions() if p.symbol == "BTCUSD"] == [5]
    fills = client.get_fills("BTCUSD")
    assert sum(f.size for f in fills) == 5 and all(f.fee is not None for f in fills)
    assert client.get_fills(start_ns=fills[0].ts_event_ns + 10**12) == ()
    (wallet,) = client.get_wallet_balances()
    assert wallet.balance < Decimal(100_000)  # taker fees were paid

    entry = position.entry_price
    btc = client.product("BTCUSD")
    client.place_bracket(
        "BTCUSD",
        Bracket(
            stop_loss_price=btc.round_price(entry * Decimal("0.5"), up=False),
            take_profit_price=btc.round_price(entry * Decimal(2), up=True),
        ),
    )
    kinds = {o.order_type for o in client.get_open_orders("BTCUSD")}
    assert kinds == {OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET}
    closed = client.place_order(
        order("close-1", side=Side.SELL, kind=OrderType.MARKET, size=5, reduce_only=True,
              tif=TimeInForce.IOC)
    )  # fmt: skip
    assert closed.filled_size == 5
    assert client.get_position("BTCUSD").size == 0


def test_business_rejections_are_typed(sim: SimExchange, client: DeltaRestClient) -> None:
    ask = client.get_order_book("BTCUSD").asks[0].price
    with pytest.raises(PostOnlyWouldCross) as crossed:
        client.place_order(order("po-1", price=ask + 100, post_only=True))
    assert crossed.value.code == "immediate_execution_post_only" and crossed.value.status == 400
    sim.add_account("poor-key", "poor-secret", Decimal(1))
    poor = DeltaRestClient(
        sim.rest_url,
        api_key=Secret("poor-key"),
        api_secret=Secret("poor-secret"),
        settings=fast_settings(),
        clock=WallClock(),
    )
    poor.load_products()
    with pytest.raises(InsufficientMargin) as margin:
        poor.place_order(order("big-1", kind=OrderType.MARKET, size=1000, tif=TimeInForce.IOC))
    assert "available_balance" in margin.value.context
    poor.close()
    with pytest.raises(ReduceOnlyViolated):
        client.place_order(
            order("ro-1", kind=OrderType.MARKET, reduce_only=True, tif=TimeInForce.IOC)
        )
    with pytest.raises(BadSchema) as schema:
        client.place_order(order("tick-1", price=far_bid(client) + Decimal("0.1")))
    assert schema.value.context.get("schema_errors")
    price = far_bid(client)
    client.place_order(order("dup-1", price=price))
    with pytest.raises(DuplicateClientOrderId):  # a first attempt's duplicate is reported
        client.place_order(order("dup-1", price=price))


def test_authentication_errors(sim: SimExchange) -> None:
    cases = [
        (Secret("no-such-key"), Secret("x"), WallClock(), AuthenticationFailed),
        (Secret(sim.api_key), Secret("wrong-secret"), WallClock(), AuthenticationFailed),
        (Secret(sim.api_key), Secret(sim.api_secret), SimulatedClock(10**18), SignatureExpired),
    ]
    for key, secret, clock, error in cases:
        rest = DeltaRestClient(
            sim.rest_url, api_key=key, api_secret=secret, settings=fast_settings(), clock=clock
        )
        with pytest.raises(error) as caught:
            rest.get_wallet_balances()
        assert caught.value.status == 401
        assert secret.reveal() not in str(caught.value)
        rest.close()


def test_429_is_waited_out_for_reads_and_reported_for_edits(
    sim: SimExchange, client: DeltaRestClient
) -> None:
    sim.faults.rate_limit(1, reset_ms=200)
    started = time.monotonic()
    assert client.get_wallet_balances()
    assert time.monotonic() - started >= 0.2
    assert client.session.counters["retries"] == 1
    placed = client.place_order(order("rl-1", price=far_bid(client)))
    sim.faults.rate_limit(1, reset_ms=300)
    with pytest.raises(RateLimited) as caught:
        client.edit_order(symbol="BTCUSD", order_id=placed.order_id, size=2)
    assert caught.value.retry_after_s == pytest.approx(0.3)


def test_server_errors_are_retried_then_open_the_breaker(
    sim: SimExchange, account: tuple[Secret, Secret]
) -> None:
    rest = DeltaRestClient(
        sim.rest_url,
        api_key=account[0],
        api_secret=account[1],
        settings=fast_settings(
            max_retries=2, circuit_breaker_failures=3, circuit_breaker_reset_s=1
        ),
        clock=WallClock(),
    )
    sim.faults.server_errors(2)
    assert rest.get_wallet_balances()  # two 503s, then success
    sim.faults.server_errors(10)
    with pytest.raises(ServerError):
        rest.get_wallet_balances()  # three 503s: the breaker opens on the third
    with pytest.raises(CircuitOpen):
        rest.get_wallet_balances()
    assert rest.health()["breaker"]["state"] == "OPEN"  # type: ignore[index]
    sim.faults.server_errors(0)
    time.sleep(1.05)  # the breaker's reset time is real time on the wall clock
    assert rest.get_wallet_balances()
    assert rest.health()["breaker"]["state"] == "CLOSED"  # type: ignore[index]
    rest.close()


def test_a_placement_retried_after_a_timeout_creates_one_order(
    sim: SimExchange, account: tuple[Secret, Secret]
) -> None:
    rest = DeltaRestClient(
        sim.rest_url,
        api_key=account[0],
        api_secret=account[1],
        settings=fast_settings(rest_timeout_ms=300, backoff_initial_ms=1000, backoff_max_ms=2000),
        clock=WallClock(),
    )
    rest.load_products()
    price = far_bid(rest)
    waited = rest.session.wait

    def wait(seconds: float) -> None:  # the first attempt timed out: the network recovers
        sim.faults.latency_ms = 0
        waited(seconds)

    rest.session.wait = wait
    sim.faults.latency_ms = 600  # the first attempt is answered after the client gave up
    placed = rest.place_order(order("idem-1", price=price))
    assert placed.client_order_id == "idem-1" and rest.session.counters["retries"] == 1
    assert [o.client_order_id for o in rest.get_open_orders("BTCUSD")] == ["idem-1"]
    rest.close()
