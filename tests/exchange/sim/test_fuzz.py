"""Hypothesis: malformed and truncated requests get typed error envelopes, never a crash."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.sim import SimExchange
from tests.exchange.sim.conftest import make_sim
from tests.exchange.sim.helpers import UA, Ws, signed

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=10,
)
order_keys = st.sampled_from(
    [
        "product_id",
        "product_symbol",
        "size",
        "side",
        "order_type",
        "limit_price",
        "post_only",
        "reduce_only",
        "client_order_id",
        "stop_order_type",
        "stop_price",
        "time_in_force",
        "id",
        "orders",
        "stop_loss_order",
        "take_profit_order",
        "leverage",
        "bracket_stop_loss_price",
    ]
)
order_bodies = st.dictionaries(order_keys, json_values, max_size=8)
ENDPOINTS = [
    ("POST", "/v2/orders"),
    ("PUT", "/v2/orders"),
    ("DELETE", "/v2/orders"),
    ("POST", "/v2/orders/batch"),
    ("DELETE", "/v2/orders/batch"),
    ("POST", "/v2/orders/bracket"),
    ("DELETE", "/v2/orders/all"),
    ("POST", "/v2/products/27/orders/leverage"),
]


@pytest.fixture(scope="module")
def fuzz_sim() -> Iterator[SimExchange]:
    with make_sim(rate_limit_budget=10**9) as sim:
        sim.engine.set_book("BTCUSD", bids=[("70000.0", 100)], asks=[("70001.0", 100)])
        yield sim


def _check_envelope(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 400, 404), response.text
    body = orjson.loads(response.content)
    assert isinstance(body, dict) and isinstance(body["success"], bool)
    if not body["success"]:
        assert isinstance(body["error"]["code"], str)
    return body


@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), body=order_bodies)
def test_random_order_bodies_get_envelopes(
    fuzz_sim: SimExchange, endpoint: tuple[str, str], body: dict[str, Any]
) -> None:
    with httpx.Client(base_url=fuzz_sim.rest_url, headers=UA) as http:
        method, path = endpoint
        _check_envelope(
            signed(http, fuzz_sim.api_key, fuzz_sim.api_secret, method, path, body=body)
        )


@FUZZ
@given(raw=st.binary(max_size=200))
def test_random_bytes_bodies_get_envelopes(fuzz_sim: SimExchange, raw: bytes) -> None:
    with httpx.Client(base_url=fuzz_sim.rest_url, headers=UA) as http:
        response = signed(
            http, fuzz_sim.api_key, fuzz_sim.api_secret, "POST", "/v2/orders", raw_body=raw
        )
        assert _check_envelope(response)["success"] is False


@FUZZ
@given(cut=st.integers(min_value=1, max_value=120), extra=st.binary(max_size=30))
def test_truncated_http_requests_never_kill_the_server(
    fuzz_sim: SimExchange, cut: int, extra: bytes
) -> None:
    port = int(fuzz_sim.rest_url.rsplit(":", 1)[1])
    body = b'{"product_id":27,"size":1,"side":"buy","limit_price":"1.0"}'
    request = (
        b"POST /v2/orders HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request[:cut] + extra)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    if answer:
        assert answer.startswith(b"HTTP/1.")
        head, _, rest = answer.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )  # the first response only: trailing bytes may have made a second request
        payload = rest[:length]
        if payload:  # a typed envelope, or the CDN's 403 when User-Agent was cut off
            reply = orjson.loads(payload)
            assert reply.get("success") is False or reply["error"] == "Forbidden"
        else:
            assert b" 200 " not in head
    with httpx.Client(base_url=fuzz_sim.rest_url, headers=UA) as http:
        assert http.get("/v2/settings").status_code == 200


ws_frames = st.one_of(
    st.binary(max_size=60),
    st.text(max_size=60),
    json_values.map(lambda v: orjson.dumps(v).decode()),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                ["subscribe", "unsubscribe", "key-auth", "auth", "ping", "unauth", "zzz"]
            )
        },
        optional={"payload": json_values},
    ).map(lambda v: orjson.dumps(v).decode()),
)


@FUZZ
@given(frames=st.lists(ws_frames, min_size=1, max_size=5))
def test_random_ws_frames_get_typed_answers(fuzz_sim: SimExchange, frames: list[Any]) -> None:
    async def go() -> None:
        for url in (fuzz_sim.ws_url, fuzz_sim.public_ws_url):
            ws = await Ws.open(url)
            for frame in frames:
                await ws.conn.send(frame)
            await ws.send({"type": "ping"})
            while True:  # every answer is JSON with a type, and the connection still serves
                reply = await ws.recv(5)
                assert isinstance(reply.get("type"), str)
                if reply["type"] == "pong":
                    break
            await ws.close()

    asyncio.run(asyncio.wait_for(go(), 30))
