"""The WebSocket servers over real sockets: auth, books, private channels, keepalive, faults."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest
import websockets

from exchange.delta._checksum import book_checksum
from exchange.sim import SimExchange
from tests.exchange.sim.conftest import make_sim
from tests.exchange.sim.helpers import UA, Ws, signed

BOOK = {"bids": [("70000.0", 100), ("69999.5", 50)], "asks": [("70001.0", 100), ("70001.5", 50)]}


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 30))


def apply(book: dict[str, dict[str, str]], frame: dict[str, Any]) -> None:
    for side, key in (("a", "a"), ("b", "b")):
        for price, size in frame[key]:
            if size == "0":
                book[side].pop(price, None)
            else:
                book[side][price] = size


def checksum(book: dict[str, dict[str, str]]) -> int:
    asks = sorted(book["a"].items(), key=lambda kv: float(kv[0]))
    bids = sorted(book["b"].items(), key=lambda kv: -float(kv[0]))
    return book_checksum(asks, bids)


def is_update(frame: dict[str, Any]) -> bool:
    return frame.get("type") == "ob_updates" and frame.get("action") == "update"


def test_key_auth_answers(sim: SimExchange) -> None:
    async def go() -> None:
        ws = await Ws.open(sim.ws_url)
        ok = await ws.auth(sim.api_key, sim.api_secret)
        assert ok == {
            "type": "key-auth",
            "success": True,
            "status_code": 200,
            "status": "authenticated",
        }
        assert (await ws.auth("nope", "x"))["status"] == "api_key_not_found"
        assert (await ws.auth(sim.api_key, "bad"))["status"] == "invalid_signature"
        old = str(int(time.time()) - 60)
        expired = await ws.auth(sim.api_key, sim.api_secret, stamp=old)
        assert (expired["status_code"], expired["status"]) == (408, "request_expired")
        await ws.send({"type": "key-auth", "payload": {"api-key": sim.api_key}})
        assert (await ws.recv())["status"] == "incomplete_payload"
        legacy = await ws.auth(sim.api_key, sim.api_secret, kind="auth")
        assert legacy["type"] == "success"
        await ws.close()

    run(go())


def test_private_channels_need_auth_and_subscriptions_accumulate(sim: SimExchange) -> None:
    async def go() -> None:
        ws = await Ws.open(sim.ws_url)
        ack = await ws.subscribe(("orders", ["all"]))
        assert "Unauthorized" in ack["channels"][0]["error"]
        ack = await ws.subscribe(("v2/ticker", ["BTCUSD"]))
        ack = await ws.subscribe(("l2_updates", ["ETHUSD"]))
        names = [c["name"] for c in ack["channels"]]
        assert names == ["l2_updates", "v2/ticker"]
        await ws.send({"type": "unsubscribe", "payload": {"channels": [{"name": "v2/ticker"}]}})
        ack = await ws.until(lambda f: f.get("type") == "subscriptions")
        assert [c["name"] for c in ack["channels"]] == ["l2_updates"]
        bad = await ws.subscribe(("nonsense", ["BTCUSD"]))
        assert "invalid channel" in bad["channels"][-1]["error"]
        await ws.send({"type": "ping"})
        assert (await ws.until(lambda f: f["type"] == "pong"))["type"] == "pong"
        await ws.close()

    run(go())


def test_ob_updates_seq_and_checksum_match_rest(sim: SimExchange) -> None:
    sim.engine.set_book("BTCUSD", **BOOK)

    async def go() -> None:
        ws = await Ws.open(sim.public_ws_url)
        await ws.subscribe(("ob_updates", ["BTCUSD"]))
        snap = await ws.until(lambda f: f.get("action") == "snapshot")
        book = {"a": dict(snap["a"]), "b": dict(snap["b"])}
        assert checksum(book) == snap["cs"]
        seq = snap["seq"]
        for i in range(20):
            sim.market.step()
            if i == 10:
                sim.engine.set_book("BTCUSD", **BOOK)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                frame = await ws.recv(0.5)
            except TimeoutError:
                break
            if is_update(frame):
                assert frame["seq"] == seq + 1
                seq = frame["seq"]
                apply(book, frame)
                assert checksum(book) == frame["cs"]
        assert seq > snap["seq"]
        async with httpx.AsyncClient(base_url=sim.rest_url, headers=UA) as http:
            rest = (await http.get("/v2/l2orderbook/BTCUSD")).json()["result"]
        assert rest["last_sequence_no"] == seq
        levels = {
            "a": {lvl["price"]: str(lvl["size"]) for lvl in rest["sell"]},
            "b": {lvl["price"]: str(lvl["size"]) for lvl in rest["buy"]},
        }
        assert levels == book
        await ws.close()

    run(go())


def test_private_channels_are_consistent_with_rest_after_fills(sim: SimExchange) -> None:
    sim.engine.set_book("BTCUSD", **BOOK)

    async def go() -> None:
        ws = await Ws.open(sim.ws_url)
        await ws.auth(sim.api_key, sim.api_secret)
        await ws.subscribe(
            ("orders", ["BTCUSD"]),
            ("positions", ["BTCUSD"]),
            ("margins", None),
            ("v2/user_trades", ["BTCUSD"]),
        )
        snap = await ws.until(lambda f: f["type"] == "orders" and f["action"] == "snapshot")
        assert snap["result"] == [] and snap["meta"]["seq_no"] == 1
        with httpx.Client(base_url=sim.rest_url, headers=UA) as http:
            placed = signed(
                http,
                sim.api_key,
                sim.api_secret,
                "POST",
                "/v2/orders",
                body={
                    "product_id": 27,
                    "size": 7,
                    "side": "buy",
                    "order_type": "market_order",
                    "client_order_id": "mkt-1",
                },
            ).json()["result"]
            pos_rest = signed(
                http, sim.api_key, sim.api_secret, "GET", "/v2/positions/margined"
            ).json()["result"][0]
            wallet_rest = signed(
                http, sim.api_key, sim.api_secret, "GET", "/v2/wallet/balances"
            ).json()["result"][0]
        seen: dict[str, list[dict[str, Any]]] = {}
        while not {"orders", "positions", "margins", "v2/user_trades"} <= {
            k for k, v in seen.items() if any(f.get("action") != "snapshot" for f in v)
        }:
            frame = await ws.recv()
            seen.setdefault(frame["type"], []).append(frame)
        updates = [f for f in seen["orders"] if f["action"] != "snapshot"]
        assert [f["seq_no"] for f in updates] == list(range(2, 2 + len(updates)))
        assert updates[0]["order_id"] == placed["id"] and updates[0]["client_order_id"] == "mkt-1"
        trade = seen["v2/user_trades"][0]
        assert (trade["o"], trade["s"], trade["r"], trade["se"], trade["po"]) == (
            placed["id"],
            7,
            "taker",
            1,
            7,
        )
        position = [f for f in seen["positions"] if f["action"] != "snapshot"][-1]
        assert (position["size"], position["entry_price"]) == (
            pos_rest["size"],
            pos_rest["entry_price"],
        )
        margin = [f for f in seen["margins"] if f["action"] == "update"][-1]
        assert margin["balance"] == wallet_rest["balance"]
        await ws.close()

    run(go())


def test_candlestick_channel_matches_history(sim: SimExchange) -> None:
    async def go() -> None:
        ws = await Ws.open(sim.public_ws_url)
        await ws.subscribe(("candlestick_1m", ["ETHUSD"]))
        start = sim.clock.now_ns()
        frames = []
        for _ in range(3):
            sim.market.step()
        while True:
            try:
                frames.append(await ws.recv(0.5))
            except TimeoutError:
                break
        candles = [f for f in frames if f["type"] == "candlestick_1m"]
        assert candles and all(f["sy"] == "ETHUSD" and f["res"] == "1m" for f in candles)
        last = candles[-1]
        begin = last["ts"] // 1_000_000 // 60 * 60
        async with httpx.AsyncClient(base_url=sim.rest_url, headers=UA) as http:
            rest = (
                await http.get(
                    "/v2/history/candles",
                    params={"symbol": "ETHUSD", "resolution": "1m", "start": begin, "end": begin},
                )
            ).json()["result"]
        assert rest[0]["time"] == begin >= start // 10**9 - 60
        assert f"{rest[0]['close']:.2f}" == last["c"] and f"{rest[0]['high']:.2f}" == last["h"]
        await ws.close()

    run(go())


def test_heartbeat_and_idle_drop() -> None:
    with make_sim(heartbeat_s=0.2, idle_timeout_s=1.0) as sim:

        async def go() -> None:
            ws = await Ws.open(sim.public_ws_url)
            await ws.send({"type": "enable_heartbeat"})
            assert (await ws.recv(2))["type"] == "heartbeat"
            await ws.send({"type": "disable_heartbeat"})

            async def drain() -> None:
                while True:  # heartbeats stopped: nothing comes until the idle drop
                    await ws.recv(3)

            with pytest.raises(websockets.ConnectionClosed):
                await drain()

        run(go())


def _faulted(
    sim: SimExchange,
    arm: Callable[[], None],
    check: Callable[[list[dict[str, Any]], dict[str, Any]], None],
) -> None:
    async def go() -> None:
        ws = await Ws.open(sim.public_ws_url)
        await ws.subscribe(("ob_updates", ["BTCUSD"]))
        snap = await ws.until(lambda f: f.get("action") == "snapshot")
        arm()
        for _ in range(3):
            sim.market.step()
        frames = []
        while len([f for f in frames if is_update(f)]) < 3:
            frames.append(await ws.recv())
        check(frames, snap)
        await ws.close()

    run(go())


def test_fault_skip_sequence(sim: SimExchange) -> None:
    def check(frames: list[dict[str, Any]], snap: dict[str, Any]) -> None:
        seqs = [f["seq"] for f in frames if is_update(f)]
        assert seqs[0] == snap["seq"] + 2 and seqs[1] == seqs[0] + 1

    _faulted(sim, lambda: sim.faults.skip_sequence("BTCUSD"), check)


def test_fault_corrupt_checksum(sim: SimExchange) -> None:
    def check(frames: list[dict[str, Any]], snap: dict[str, Any]) -> None:
        book = {"a": dict(snap["a"]), "b": dict(snap["b"])}
        updates = [f for f in frames if is_update(f)]
        results = []
        for frame in updates:
            apply(book, frame)
            results.append(checksum(book) == frame["cs"])
        assert results == [False, True, True]

    _faulted(sim, lambda: sim.faults.corrupt_checksum("BTCUSD"), check)


def test_fault_malformed_frames_then_recovery(sim: SimExchange) -> None:
    async def go() -> None:
        ws = await Ws.open(sim.public_ws_url)
        sim.faults.malformed_frames(2)
        await ws.send({"type": "ping"})
        raw = [await asyncio.wait_for(ws.conn.recv(), 5) for _ in range(3)]
        assert raw[2] == '{"type":"pong"}'
        assert raw[0] == raw[1] and not raw[0].endswith("}")
        await ws.close()

    run(go())


def test_fault_drop_connections(sim: SimExchange) -> None:
    async def go() -> None:
        one, two = await Ws.open(sim.ws_url), await Ws.open(sim.public_ws_url)
        await one.send({"type": "ping"})
        await one.recv()
        sim.faults.drop_connections()
        for ws in (one, two):
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv(5)
        again = await Ws.open(sim.public_ws_url)
        await again.send({"type": "ping"})
        assert (await again.recv())["type"] == "pong"
        await again.close()

    run(go())


def test_fault_latency_delays_frames(sim: SimExchange) -> None:
    async def go() -> None:
        ws = await Ws.open(sim.public_ws_url)
        sim.faults.latency_ms = 200
        start = time.monotonic()
        await ws.send({"type": "ping"})
        await ws.recv()
        assert time.monotonic() - start >= 0.2
        sim.faults.latency_ms = 0
        await ws.close()

    run(go())
