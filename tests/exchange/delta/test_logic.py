"""Pure logic without sockets: error mapping, weight budget, backoff, circuit breaker,
order bodies, query encoding and endpoints."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from actors import SimulatedClock
from exchange.delta import (
    AuthenticationFailed,
    Backoff,
    BadSchema,
    Bracket,
    BreakerState,
    CircuitBreaker,
    DuplicateClientOrderId,
    ExchangeError,
    Fatal,
    InsufficientMargin,
    IpNotWhitelisted,
    NotFound,
    PostOnlyWouldCross,
    RateLimited,
    Rejected,
    Retryable,
    ServerError,
    SignatureExpired,
    WeightBudget,
    encode_query,
    endpoints_for,
    error_from_reply,
    order_body,
    parse_product,
    weight_of,
)
from messages import (
    Contracts,
    OrderType,
    PlaceOrder,
    Side,
    TimeInForce,
    UnixNanos,
)
from messages.settings import ExchangeSettings
from tests.exchange.delta._data import payloads

S = 1_000_000_000


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, {"error": "InvalidApiKey", "message": "Api Key not found"}, AuthenticationFailed),
        (401, {"success": False, "error": {"code": "UnauthorizedApiAccess"}}, AuthenticationFailed),
        (401, {"success": False, "error": {"code": "Signature Mismatch"}}, AuthenticationFailed),
        (401, {"success": False, "error": {"code": "invalid_signature"}}, AuthenticationFailed),
        (401, {"success": False, "error": {"code": "invalid_api_key"}}, AuthenticationFailed),
        (401, {"success": False, "error": {"code": "signature_mismatch"}}, AuthenticationFailed),
        (
            401,
            {"error": "SignatureExpired", "message": "your signature has expired"},
            SignatureExpired,
        ),
        (
            401,
            {
                "success": False,
                "error": {
                    "code": "ip_not_whitelisted_for_api_key",
                    "context": {"client_ip": "1.2.3.4"},
                },
            },
            IpNotWhitelisted,
        ),
        (
            400,
            {
                "success": False,
                "error": {"code": "insufficient_margin", "context": {"available_balance": "1"}},
            },
            InsufficientMargin,
        ),
        (
            400,
            {"success": False, "error": {"code": "immediate_execution_post_only"}},
            PostOnlyWouldCross,
        ),
        (
            400,
            {"success": False, "error": {"code": "bad_schema", "context": {"schema_errors": []}}},
            BadSchema,
        ),
        (400, {"success": False, "error": {"code": "open_order_not_found"}}, NotFound),
        (
            400,
            {"success": False, "error": {"code": "duplicate_client_order_id"}},
            DuplicateClientOrderId,
        ),
        (400, {"success": False, "error": {"code": "something_new"}}, Rejected),
        (404, None, NotFound),
        (403, {"error": "Forbidden", "message": "Request blocked by CDN"}, AuthenticationFailed),
        (429, None, RateLimited),
        (503, None, ServerError),
    ],
)
def test_every_code_spelling_maps_to_its_class(status: int, body: object, cls: type) -> None:
    error = error_from_reply(status, body, what="GET /v2/x")
    assert type(error) is cls
    assert error.status == status
    assert isinstance(error, Retryable) == (error.retry_after_s is not None)


def test_the_error_carries_code_and_context() -> None:
    body = {"success": False, "error": {"code": "insufficient_margin", "context": {"a": "1"}}}
    error = error_from_reply(400, body, what="POST /v2/orders")
    assert error.code == "insufficient_margin" and error.context == {"a": "1"}
    assert "POST /v2/orders" in str(error) and "insufficient_margin" in repr(error)


def test_the_tree_has_three_branches() -> None:
    for cls in (RateLimited, ServerError):
        assert issubclass(cls, Retryable)
    for cls in (InsufficientMargin, PostOnlyWouldCross, BadSchema, NotFound):
        assert issubclass(cls, Rejected)
    for cls in (AuthenticationFailed, SignatureExpired, IpNotWhitelisted):
        assert issubclass(cls, Fatal)
    for branch in (Retryable, Rejected, Fatal):
        assert issubclass(branch, ExchangeError)


def test_weights_follow_the_reference() -> None:
    assert weight_of("GET", "/v2/products") == 3
    assert weight_of("GET", "/v2/products/BTCUSD") == 3
    assert weight_of("GET", "/v2/l2orderbook/BTCUSD") == 3
    assert weight_of("POST", "/v2/orders") == 5
    assert weight_of("GET", "/v2/fills") == 10
    assert weight_of("POST", "/v2/orders/batch") == 25
    assert weight_of("GET", "/v2/orders/client_order_id/x") == 1


def test_the_budget_is_a_fixed_five_minute_window() -> None:
    clock = SimulatedClock(start_ns=1_000 * 300 * S + 10 * S)
    budget = WeightBudget(clock, per_window=10)
    assert budget.try_spend(5) == 0 and budget.try_spend(5) == 0
    assert budget.try_spend(1) == pytest.approx(290.0)
    clock.advance_to(clock.now_ns() + 290 * S)
    assert budget.try_spend(10) == 0
    budget.close_for(2.5)
    assert budget.try_spend(1) == pytest.approx(2.5)


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    backoff = Backoff(initial_ms=100, max_ms=1000, rng=random.Random(1))
    for attempt, ceiling in enumerate([0.1, 0.2, 0.4, 0.8, 1.0, 1.0]):
        delay = backoff.delay_s(attempt)
        assert ceiling / 2 <= delay <= ceiling


def test_the_breaker_opens_half_opens_and_closes() -> None:
    clock = SimulatedClock(start_ns=0)
    breaker = CircuitBreaker(clock, failures=3, reset_s=10)
    for _ in range(3):
        assert breaker.before_call() == 0
        breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert breaker.before_call() == pytest.approx(10)
    clock.advance_to(10 * S)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.before_call() == 0  # the one trial
    assert breaker.before_call() > 0  # no second trial
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and breaker.times_opened == 2
    clock.advance_to(20 * S)
    assert breaker.before_call() == 0
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.health()["state"] == "CLOSED"


def _order(**changes: object) -> PlaceOrder:
    fields: dict[str, object] = {
        "ts_init": UnixNanos(1),
        "command_id": "c1",
        "client_order_id": "p1-entry",
        "symbol": "BTCUSD",
        "side": Side.BUY,
        "size": Contracts(3),
        "order_type": OrderType.LIMIT,
        "limit_price": Decimal("65000.5"),
        "stop_price": None,
        "post_only": True,
        "reduce_only": False,
        "time_in_force": TimeInForce.GTC,
        "position_id": None,
    }
    fields.update(changes)
    return PlaceOrder(**fields)  # type: ignore[arg-type]


def test_order_bodies() -> None:
    product = parse_product(payloads("product")[0])
    body = order_body(_order(), product)
    assert body == {
        "product_id": 27,
        "size": 3,
        "side": "buy",
        "order_type": "limit_order",
        "time_in_force": "gtc",
        "post_only": "true",
        "reduce_only": "false",
        "client_order_id": "p1-entry",
        "limit_price": "65000.5",
    }
    stop = order_body(
        _order(order_type=OrderType.STOP_MARKET, limit_price=None, stop_price=Decimal(60000)),
        product,
        bracket=Bracket(take_profit_price=Decimal(70000)),
    )
    assert stop["order_type"] == "market_order" and stop["stop_order_type"] == "stop_loss_order"
    assert stop["bracket_take_profit_price"] == "70000"
    with pytest.raises(BadSchema):
        order_body(_order(time_in_force=TimeInForce.FOK), product)
    with pytest.raises(BadSchema):
        order_body(_order(limit_price=None), product)


def test_the_query_is_encoded_once_in_order() -> None:
    assert encode_query(None) == ""
    assert encode_query([("product_id", 1), ("state", "open")]) == "?product_id=1&state=open"
    assert encode_query([("a", None), ("b", True), ("c", "x y,z")]) == "?b=true&c=x+y%2Cz"


def test_regions_and_environments() -> None:
    india = endpoints_for(ExchangeSettings())
    assert india.rest_url == "https://api.india.delta.exchange"
    assert india.public_ws_url == "wss://public-socket.india.delta.exchange"
    testnet = endpoints_for(ExchangeSettings(testnet=True))
    assert testnet.rest_url == "https://cdn-ind.testnet.deltaex.org"
    assert testnet.ws_url == "wss://socket-ind.testnet.deltaex.org"
    world = endpoints_for(ExchangeSettings(region="global"))
    assert world.rest_url == "https://api.delta.exchange" and not world.compact_public
    custom = endpoints_for(ExchangeSettings(rest_url="http://127.0.0.1:1/", ws_url="ws://h:2"))
    assert custom.rest_url == "http://127.0.0.1:1" and custom.ws_url == "ws://h:2"
