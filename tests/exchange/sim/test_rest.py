"""The REST server over real sockets: auth as Delta answers it, envelopes, orders, faults."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal

import httpx
import pytest

from exchange.delta._checksum import book_checksum
from exchange.sim import SimExchange
from tests.exchange.sim.conftest import make_sim
from tests.exchange.sim.helpers import UA, signed

BOOK = {"bids": [("70000.0", 100), ("69999.5", 50)], "asks": [("70001.0", 100), ("70001.5", 50)]}


def call(
    sim: SimExchange, client: httpx.Client, method: str, path: str, **kw: object
) -> httpx.Response:
    return signed(client, sim.api_key, sim.api_secret, method, path, **kw)  # type: ignore[arg-type]


def place(sim: SimExchange, client: httpx.Client, **body: object) -> httpx.Response:
    return call(sim, client, "POST", "/v2/orders", body={"product_symbol": "BTCUSD", **body})


# --- authentication ---------------------------------------------------------------------------


def test_missing_user_agent_gets_the_cdn_403(sim: SimExchange) -> None:
    response = httpx.get(sim.rest_url + "/v2/products", headers={"User-Agent": ""})
    assert response.status_code == 403
    assert response.json() == {"error": "Forbidden", "message": "Request blocked by CDN"}


def test_auth_failures_are_answered_as_delta_does(sim: SimExchange, client: httpx.Client) -> None:
    unknown = signed(client, "nope", "x", "GET", "/v2/orders")
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "InvalidApiKey"
    bad = signed(client, sim.api_key, "wrong-secret", "GET", "/v2/orders")
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "Signature Mismatch"
    old = str(int(time.time()) - 30)
    expired = signed(client, sim.api_key, sim.api_secret, "GET", "/v2/orders", timestamp=old)
    assert expired.status_code == 401 and expired.json()["error"] == "SignatureExpired"
    bare = client.get("/v2/orders")
    assert bare.status_code == 401 and bare.json()["error"]["code"] == "UnauthorizedApiAccess"
    assert call(sim, client, "GET", "/v2/orders").status_code == 200


def test_signature_covers_the_raw_query_and_body(sim: SimExchange, client: httpx.Client) -> None:
    good = call(sim, client, "GET", "/v2/orders", params={"product_ids": "27", "states": "open"})
    assert good.status_code == 200
    stamp = str(int(time.time()))
    forged = signed(
        client,
        sim.api_key,
        sim.api_secret,
        "GET",
        "/v2/orders",
        params={"product_ids": "27"},
        timestamp=stamp,
    )
    tampered = client.get("/v2/orders?product_ids=3136", headers=dict(forged.request.headers))
    assert tampered.status_code == 401


# --- public endpoints -------------------------------------------------------------------------


def test_products_tickers_settings_envelopes(sim: SimExchange, client: httpx.Client) -> None:
    products = client.get("/v2/products").json()
    assert products["success"] is True and "meta" in products
    btc = next(p for p in products["result"] if p["symbol"] == "BTCUSD")
    assert (btc["id"], btc["contract_value"], btc["tick_size"]) == (27, "0.001", "0.5")
    assert btc["product_specs"]["rate_exchange_interval"] == 28800
    assert client.get("/v2/products/ETHUSD").json()["result"]["id"] == 3136
    ticker = client.get("/v2/tickers/BTCUSD").json()["result"]
    assert isinstance(ticker["mark_price"], str) and isinstance(ticker["timestamp"], int)
    assert len(client.get("/v2/tickers").json()["result"]) == 3
    server_time = client.get("/v2/settings").json()["result"]["server_time"]
    assert abs(server_time - sim.clock.now_ns() // 1000) < 5_000_000
    missing = client.get("/v2/products/NOPE")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "invalid_contract"
    assert client.get("/v2/nothing").json()["error"]["code"] == "not_found"


def test_candle_history_is_there_and_capped(sim: SimExchange, client: httpx.Client) -> None:
    now = sim.clock.now_ns() // 10**9
    got = client.get(
        "/v2/history/candles",
        params={"symbol": "BTCUSD", "resolution": "1m", "start": now - 3 * 3600, "end": now},
    ).json()
    candles = got["result"]
    assert 110 <= len(candles) <= 121
    assert all(b["time"] - a["time"] == 60 for a, b in itertools.pairwise(candles))
    assert all(c["low"] <= min(c["open"], c["close"]) <= c["high"] for c in candles)
    fifteen = client.get(
        "/v2/history/candles",
        params={"symbol": "BTCUSD", "resolution": "15m", "start": now - 7200, "end": now},
    ).json()["result"]
    first = [c for c in candles if fifteen[1]["time"] <= c["time"] < fifteen[1]["time"] + 900]
    assert fifteen[1]["high"] == max(c["high"] for c in first)
    assert fifteen[1]["open"] == first[0]["open"] and fifteen[1]["close"] == first[-1]["close"]
    bad = client.get("/v2/history/candles", params={"symbol": "BTCUSD"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_schema"


def test_l2_matches_the_engine_book(sim: SimExchange, client: httpx.Client) -> None:
    sim.engine.set_book("BTCUSD", **BOOK)
    body = client.get("/v2/l2orderbook/BTCUSD").json()["result"]
    assert body["buy"][0] == {"price": "70000.0", "size": 100, "depth": "100"}
    assert body["sell"][1] == {"price": "70001.5", "size": 50, "depth": "150"}
    levels = lambda side: [(lvl["price"], str(lvl["size"])) for lvl in body[side]]  # noqa: E731
    assert (
        book_checksum(levels("sell"), levels("buy")) == sim.engine.core.books["BTCUSD"].checksum()
    )


# --- orders -----------------------------------------------------------------------------------


def test_order_lifecycle_over_rest(sim: SimExchange, client: httpx.Client) -> None:
    sim.engine.set_book("BTCUSD", **BOOK)
    placed = place(
        sim,
        client,
        size=3,
        side="buy",
        order_type="limit_order",
        limit_price="69990.0",
        post_only="true",
        client_order_id="c-1",
    )
    order = placed.json()["result"]
    assert placed.status_code == 200 and order["state"] == "open"
    assert (order["limit_price"], order["size"], order["post_only"]) == ("69990.0", 3, True)
    assert order["created_at"].endswith("Z")
    dup = place(sim, client, size=1, side="buy", limit_price="69990.0", client_order_id="c-1")
    assert dup.status_code == 400 and dup.json()["error"]["code"] == "duplicate_client_order_id"
    cross = place(sim, client, size=1, side="buy", limit_price="70001.0", post_only=True)
    assert cross.json()["error"]["code"] == "immediate_execution_post_only"
    by_coid = call(sim, client, "GET", "/v2/orders/client_order_id/c-1").json()["result"]
    assert by_coid["id"] == order["id"]
    edited = call(
        sim,
        client,
        "PUT",
        "/v2/orders",
        body={"id": order["id"], "product_id": 27, "limit_price": "69995.0"},
    )
    assert edited.json()["result"]["limit_price"] == "69995.0"
    listed = call(sim, client, "GET", "/v2/orders", params={"product_ids": "27"}).json()
    assert [o["id"] for o in listed["result"]] == [order["id"]]
    cancelled = call(
        sim, client, "DELETE", "/v2/orders", body={"id": order["id"], "product_id": 27}
    )
    assert cancelled.json()["result"]["state"] == "cancelled"
    assert cancelled.json()["result"]["cancellation_reason"] == "cancelled_by_user"
    again = call(sim, client, "DELETE", "/v2/orders", body={"id": order["id"], "product_id": 27})
    assert again.json()["error"]["code"] == "open_order_not_found"
    closed = call(sim, client, "GET", "/v2/orders/client_order_id/c-1").json()["result"]
    assert closed["state"] == "cancelled"
    history = call(sim, client, "GET", "/v2/orders/history").json()["result"]
    assert history[0]["id"] == order["id"]


def test_fills_positions_wallet_after_a_market_order(
    sim: SimExchange, client: httpx.Client
) -> None:
    sim.engine.set_book("BTCUSD", **BOOK)
    response = place(sim, client, size=120, side="buy", order_type="market_order")
    assert response.json()["result"]["state"] == "closed"
    fills = call(sim, client, "GET", "/v2/fills").json()["result"]
    assert [(f["price"], f["size"], f["role"]) for f in fills] == [
        ("70001.5", 20, "taker"),
        ("70001.0", 100, "taker"),
    ]
    fee = Decimal(fills[1]["commission"])
    assert fee == 100 * Decimal("0.001") * Decimal("70001.0") * Decimal("0.0005")
    pos = call(sim, client, "GET", "/v2/positions", params={"product_id": 27}).json()["result"]
    assert pos["size"] == 120
    assert Decimal(pos["entry_price"]) == (100 * Decimal("70001") + 20 * Decimal("70001.5")) / 120
    margined = call(sim, client, "GET", "/v2/positions/margined").json()["result"]
    assert margined[0]["product_symbol"] == "BTCUSD" and margined[0]["size"] == 120
    wallet = call(sim, client, "GET", "/v2/wallet/balances").json()
    total_fee = sum(Decimal(f["commission"]) for f in fills)
    assert Decimal(wallet["result"][0]["balance"]) == Decimal(10000) - total_fee
    assert "net_equity" in wallet["meta"]


def test_batch_bracket_leverage_and_cancel_all(sim: SimExchange, client: httpx.Client) -> None:
    sim.engine.set_book("BTCUSD", **BOOK)
    batch = call(
        sim,
        client,
        "POST",
        "/v2/orders/batch",
        body={
            "product_id": 27,
            "orders": [
                {"size": 1, "side": "buy", "limit_price": "69000.0"},
                {"size": 1, "side": "buy", "limit_price": "69000.3"},  # not a tick: skipped
                {"size": 2, "side": "sell", "limit_price": "71000.0"},
            ],
        },
    )
    assert [o["size"] for o in batch.json()["result"]] == [1, 2]
    lev = call(sim, client, "POST", "/v2/products/27/orders/leverage", body={"leverage": "10"})
    assert lev.json()["result"]["leverage"] == "10"
    place(sim, client, size=5, side="buy", order_type="market_order")
    bracket = call(
        sim,
        client,
        "POST",
        "/v2/orders/bracket",
        body={
            "product_id": 27,
            "stop_loss_order": {"order_type": "market_order", "stop_price": "69000.0"},
            "take_profit_order": {
                "order_type": "limit_order",
                "stop_price": "72000.0",
                "limit_price": "72000.0",
            },
            "bracket_stop_trigger_method": "mark_price",
        },
    )
    legs = bracket.json()["result"]
    assert sorted(o["stop_order_type"] for o in legs) == ["stop_loss_order", "take_profit_order"]
    gone = call(
        sim,
        client,
        "DELETE",
        "/v2/orders/all",
        body={
            "product_id": 27,
            "cancel_limit_orders": "true",
            "cancel_stop_orders": "true",
            "cancel_reduce_only_orders": "true",
        },
    )
    assert gone.json() == {"success": True}
    assert call(sim, client, "GET", "/v2/orders").json()["result"] == []


def test_insufficient_margin_over_rest(sim: SimExchange, client: httpx.Client) -> None:
    sim.engine.set_book("BTCUSD", bids=[("70000.0", 10**6)], asks=[("70001.0", 10**6)])
    call(sim, client, "POST", "/v2/products/27/orders/leverage", body={"leverage": 1})
    response = place(sim, client, size=200_000, side="buy", limit_price="69000.0")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "insufficient_margin"
    assert set(error["context"]) == {"available_balance", "required_additional_balance"}


# --- rate limits and faults ----------------------------------------------------------------------


def test_weight_budget_gives_429_with_reset() -> None:
    with (
        make_sim(rate_limit_budget=10) as sim,
        httpx.Client(base_url=sim.rest_url, headers=UA) as client,
    ):
        codes = [client.get("/v2/products").status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        limited = client.get("/v2/products")
        reset = int(limited.headers["X-RATE-LIMIT-RESET"])
        assert 0 < reset <= 300_000
        assert limited.json()["success"] is False


def test_injected_429_5xx_and_latency(sim: SimExchange, client: httpx.Client) -> None:
    sim.faults.rate_limit(2, reset_ms=1500)
    first = client.get("/v2/products")
    assert first.status_code == 429 and first.headers["X-RATE-LIMIT-RESET"] == "1500"
    assert client.get("/v2/products").status_code == 429
    assert client.get("/v2/products").status_code == 200
    sim.faults.server_errors(1)
    failed = client.get("/v2/tickers")
    assert failed.status_code == 503 and failed.json()["success"] is False
    sim.faults.latency_ms = 150
    start = time.monotonic()
    client.get("/v2/settings")
    assert time.monotonic() - start >= 0.15
    sim.faults.latency_ms = 0
    sim.faults.reject_orders(1)
    rejected = place(sim, client, size=1, side="buy", limit_price="1000.0")
    assert rejected.json()["error"]["code"] == "unavailable"


@pytest.mark.parametrize("body", [b"{", b"[1,2]", b'"x"', b'{"size": "big"}', b"\xff\xfe"])
def test_malformed_bodies_get_bad_schema(
    sim: SimExchange, client: httpx.Client, body: bytes
) -> None:
    response = signed(client, sim.api_key, sim.api_secret, "POST", "/v2/orders", raw_body=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_schema"
