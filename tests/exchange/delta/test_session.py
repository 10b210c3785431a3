"""The REST client against httpx.MockTransport: signing, exact bytes, retries, breaker,
and secrets that never leak. No sockets."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

import httpx
import orjson
import pytest

from actors import SimulatedClock
from exchange.delta import (
    USER_AGENT,
    AuthenticationFailed,
    CircuitOpen,
    DeltaRestClient,
    ParseError,
    RateLimited,
    RequestTimeout,
    ServerError,
    parse_product,
    sign_request,
)
from messages import Contracts, OrderType, PlaceOrder, Product, Side, TimeInForce, UnixNanos
from messages.settings import ExchangeSettings, Secret
from tests.exchange.delta._data import payloads

KEY = "key-abcdef-123456"
SECRET = "secret-0123456789-very-private"
T0 = 1_700_000_000 * 10**9

Handler = Callable[[httpx.Request], httpx.Response]


def _client(
    handler: Handler, *, signed: bool = True, **settings: int
) -> tuple[DeltaRestClient, list[float]]:
    clock = SimulatedClock(start_ns=T0)
    client = DeltaRestClient(
        "https://delta.test",
        api_key=Secret(KEY) if signed else None,
        api_secret=Secret(SECRET) if signed else None,
        settings=ExchangeSettings(**settings),  # type: ignore[arg-type]
        clock=clock,
        transport=httpx.MockTransport(handler),
    )
    sleeps: list[float] = []

    def wait(seconds: float) -> None:  # simulated time moves instead of real time
        sleeps.append(seconds)
        clock.advance_to(clock.now_ns() + int(seconds * 1e9))

    client.session.wait = wait
    return client, sleeps


def _ok(result: object, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, content=orjson.dumps({"success": True, "result": result}), headers=headers
    )


def _product_handler(inner: Handler) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/products":
            return _ok(payloads("product"))
        return inner(request)

    return handler


def _order(coid: str = "p1-entry") -> PlaceOrder:
    return PlaceOrder(
        ts_init=UnixNanos(1),
        command_id="c1",
        client_order_id=coid,
        symbol="BTCUSD",
        side=Side.BUY,
        size=Contracts(2),
        order_type=OrderType.LIMIT,
        limit_price=Decimal("60000.5"),
        stop_price=None,
        post_only=True,
        reduce_only=False,
        time_in_force=TimeInForce.GTC,
        position_id=None,
    )


def test_a_request_is_signed_over_exactly_what_is_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _ok(payloads("order")[0])

    client, _ = _client(_product_handler(handler))
    client.load_products()
    client.place_order(_order())
    request = seen[-1]
    assert request.headers["User-Agent"] == USER_AGENT
    assert request.headers["api-key"] == KEY
    assert request.headers["timestamp"] == "1700000000"
    expected = sign_request(
        SECRET,
        method="POST",
        timestamp="1700000000",
        path=request.url.raw_path.decode(),
        query="",
        body=request.content,
    )
    assert request.headers["signature"] == expected
    assert orjson.loads(request.content)["client_order_id"] == "p1-entry"


def test_the_query_string_sent_is_the_one_signed() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _ok([])

    client, _ = _client(_product_handler(handler))
    client.load_products()
    client.get_fills("BTCUSD", start_ns=1_000_000_000)
    raw = seen[-1].url.raw_path.decode()
    path, _, query = raw.partition("?")
    assert query == "product_ids=27&start_time=1000000&page_size=50"
    assert seen[-1].headers["signature"] == sign_request(
        SECRET, method="GET", timestamp="1700000000", path=path, query="?" + query, body=b""
    )


def test_delete_carries_a_signed_json_body() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _ok({**payloads("order")[0], "state": "cancelled"})

    client, _ = _client(_product_handler(handler))
    client.load_products()
    client.cancel_order(symbol="BTCUSD", client_order_id="p1-entry")
    assert seen[-1].method == "DELETE"
    assert orjson.loads(seen[-1].content) == {"product_id": 27, "client_order_id": "p1-entry"}


def test_reads_are_retried_with_backoff_and_writes_are_not() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if request.method == "GET" and calls["n"] <= 2:
            return httpx.Response(503, content=b"upstream down")
        if request.method == "PUT":
            return httpx.Response(502)
        return _ok(payloads("wallet"))

    client, sleeps = _client(handler, backoff_initial_ms=100, backoff_max_ms=1000)
    assert client.get_wallet_balances()[0].asset == "USD"
    assert len(sleeps) == 2 and client.session.counters["retries"] == 2
    client._products["BTCUSD"] = _btc()
    with pytest.raises(ServerError):
        client.edit_order(symbol="BTCUSD", order_id="1", size=3)
    assert len(sleeps) == 2  # the edit was not retried


def _btc() -> Product:
    return parse_product(payloads("product")[0])


def test_429_waits_for_the_reset_header() -> None:
    calls = {"n": 0}

    def handler(_: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(429, headers={"X-RATE-LIMIT-RESET": "2500"})
        return _ok(payloads("wallet"))

    client, sleeps = _client(handler, backoff_max_ms=5000)
    client.get_wallet_balances()
    assert sleeps == [pytest.approx(2.5)]


def test_a_reset_longer_than_the_backoff_cap_is_raised_not_waited() -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"X-RATE-LIMIT-RESET": "60000"})

    client, sleeps = _client(handler, backoff_max_ms=5000)
    with pytest.raises(RateLimited) as caught:
        client.get_wallet_balances()
    assert caught.value.retry_after_s == pytest.approx(60) and sleeps == []


def test_the_breaker_opens_after_repeated_failures_and_shows_in_health() -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client, _ = _client(handler, circuit_breaker_failures=3, max_retries=5)
    with pytest.raises(CircuitOpen):
        client.get_wallet_balances()
    health = client.health()
    assert health["breaker"] == {"state": "OPEN", "consecutive_failures": 3, "times_opened": 1}


def test_a_timeout_is_typed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client, _ = _client(handler, max_retries=0)
    with pytest.raises(RequestTimeout) as caught:
        client.get_wallet_balances()
    assert caught.value.retry_after_s is not None


@pytest.mark.parametrize(
    "content", [b"", b"<html>", b"[1,2]", b'{"result":[]}', b'{"success":true,"result":{}}']
)
def test_an_unreadable_success_is_a_parse_error(content: bytes) -> None:
    client, _ = _client(lambda _: httpx.Response(200, content=content), max_retries=0)
    with pytest.raises(ParseError):
        client.get_wallet_balances()


def test_an_unsigned_client_refuses_signed_calls() -> None:
    client, _ = _client(lambda _: _ok([]), signed=False)
    with pytest.raises(AuthenticationFailed):
        client.get_wallet_balances()


def test_secrets_never_appear_in_reprs_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401, content=orjson.dumps({"success": False, "error": {"code": "Signature Mismatch"}})
        )

    client, _ = _client(handler)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationFailed) as caught:
        client.get_wallet_balances()
    texts = [repr(client), repr(client.session), str(caught.value), repr(caught.value)]
    texts += [str(caught.value.context), caplog.text]
    for text in texts:
        assert KEY not in text and SECRET not in text
