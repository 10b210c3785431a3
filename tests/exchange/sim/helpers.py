"""Helpers for the simulator tests: signed REST calls and bounded WebSocket reads."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import websockets

from exchange.delta._signing import sign_request, sign_ws_auth

UA = {"User-Agent": "sim-tests"}


def signed(
    client: httpx.Client,
    key: str,
    secret: str,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    body: Any = None,
    timestamp: str | None = None,
    raw_body: bytes | None = None,
) -> httpx.Response:
    """Send a request signed exactly as Delta expects."""
    query = "?" + urlencode(params) if params else ""
    data = raw_body if raw_body is not None else (b"" if body is None else orjson.dumps(body))
    stamp = timestamp or str(int(time.time()))
    signature = sign_request(
        secret, method=method, timestamp=stamp, path=path, query=query, body=data
    )
    headers = {
        **UA,
        "api-key": key,
        "timestamp": stamp,
        "signature": signature,
        "Content-Type": "application/json",
    }
    return client.request(method, path + query, content=data, headers=headers)


class Ws:
    """A websockets client with bounded reads (every wait has a deadline)."""

    def __init__(self, conn: websockets.ClientConnection) -> None:
        self.conn = conn

    @classmethod
    async def open(cls, url: str) -> Ws:
        return cls(await websockets.connect(url, max_size=None, open_timeout=5))

    async def send(self, body: dict[str, Any]) -> None:
        await self.conn.send(orjson.dumps(body).decode())

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        return orjson.loads(await asyncio.wait_for(self.conn.recv(), timeout))

    async def until(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching frame before the deadline")
            frame = await self.recv(left)
            if match(frame):
                return frame

    async def subscribe(self, *channels: tuple[str, list[str] | None]) -> dict[str, Any]:
        specs = [{"name": n} if s is None else {"name": n, "symbols": s} for n, s in channels]
        await self.send({"type": "subscribe", "payload": {"channels": specs}})
        return await self.until(lambda f: f.get("type") == "subscriptions")

    async def auth(
        self, key: str, secret: str, kind: str = "key-auth", stamp: str | None = None
    ) -> dict[str, Any]:
        stamp = stamp or str(int(time.time()))
        payload = {"api-key": key, "signature": sign_ws_auth(secret, stamp), "timestamp": stamp}
        await self.send({"type": kind, "payload": payload})
        return await self.recv()

    async def close(self) -> None:
        await self.conn.close()
