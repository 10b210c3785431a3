"""One WebSocket client: its requests (auth, subscribe, ping, heartbeat) and its send queue.

Runs on the WebSocket server's event-loop thread only. :meth:`Connection.serve` reads
requests until the client leaves or stays silent for ``idle_timeout_s``; a writer task
drains the send queue, applying the latency, malformed-frame and drop faults. Snapshots
and the subscription index live in the hub (:mod:`exchange.sim._ws_server`), which this
module reaches through the small :class:`Hub` protocol.

Auth (``key-auth``; legacy ``auth`` accepted) answers as the reference's section 2.2 says,
measured on the WALL clock: 400 ``incomplete_payload``, 408 ``request_expired``, 404
``api_key_not_found``, 401 ``invalid_signature``. Errors in requests are answered with
``{"type":"error","error":{"code":...,"message":...}}`` and the connection stays open.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any, Protocol

import orjson
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from exchange.delta._signing import SIGNATURE_VALIDITY_S, sign_ws_auth, signatures_match
from exchange.sim._faults import Faults

__all__ = ["Connection", "Hub"]

log = logging.getLogger(__name__)

_BATCH = 512
MALFORMED = b'{"type":"ob_updates","action":"update","sy":"BTC'


class Hub(Protocol):
    """What a connection needs from the server."""

    faults: Faults

    def credentials(self, api_key: str) -> tuple[str, int] | None:
        """(secret, user id) of an accepted key."""
        ...

    def subscribe(
        self, conn: Connection, channels: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[bytes]]:
        """Register; return per-channel errors for the ack and the snapshot frames."""
        ...

    def unsubscribe(self, conn: Connection, channels: list[dict[str, Any]]) -> None:
        """Drop subscriptions (all symbols of a channel when none are named)."""
        ...

    def drop_private(self, conn: Connection) -> None:
        """Forget the connection's private subscriptions (``unauth``)."""
        ...

    def forget(self, conn: Connection) -> None:
        """The connection closed: remove it everywhere."""
        ...


class Connection:
    """State and loops of one client (see the module docstring)."""

    def __init__(
        self,
        ws: ServerConnection,
        hub: Hub,
        *,
        public_host: bool,
        idle_timeout_s: float,
        heartbeat_s: float,
    ) -> None:
        self.ws = ws
        self.hub = hub
        self.public_host = public_host
        self.user_id: int | None = None
        self.channels: dict[str, set[str]] = {}
        self.since: dict[tuple[str, str], int] = {}
        self.order_seq: dict[str, int] = {}
        self._out: deque[bytes] = deque()
        self._ready = asyncio.Event()
        self._idle_timeout_s = idle_timeout_s
        self._heartbeat_s = heartbeat_s
        self._heartbeat: asyncio.Task[None] | None = None

    # --- sending ---------------------------------------------------------------------------

    def push(self, frame: bytes) -> None:
        """Queue one JSON frame (text) for this client."""
        self._out.append(frame)
        self._ready.set()

    def send_json(self, body: dict[str, Any]) -> None:
        """Queue one frame built from ``body``."""
        self.push(orjson.dumps(body))

    async def _writer(self) -> None:
        """Drain the queue. Without active faults, frames go out in batches: many frames
        framed into the protocol, then one socket write and one drain (websockets' own
        ``send_context``), which is what lets one client get >20,000 frames/s."""
        faults = self.hub.faults
        ws = self.ws
        out = self._out
        while True:
            await self._ready.wait()
            self._ready.clear()
            while out:
                if faults.latency_ms or faults.drop_connection_rate or faults.malformed_pending():
                    if not await self._send_one(out.popleft(), faults):
                        return
                    continue
                async with ws.send_context():
                    for _ in range(min(len(out), _BATCH)):
                        ws.protocol.send_text(out.popleft())

    async def _send_one(self, frame: bytes, faults: Faults) -> bool:
        """Send one frame the slow way: latency, an armed malformed frame first, maybe a drop."""
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        while faults.take_malformed():
            await self.ws.send(MALFORMED, text=True)
        await self.ws.send(frame, text=True)
        if faults.take_drop():
            self.abort()
            return False
        return True

    def abort(self) -> None:
        """Drop the TCP connection without a closing handshake (a simulated network drop)."""
        transport = self.ws.transport
        if transport is not None:
            transport.abort()

    # --- reading ---------------------------------------------------------------------------

    async def serve(self) -> None:
        """Read and answer requests until the client leaves or idles out."""
        writer = asyncio.create_task(self._writer())
        try:
            while True:
                try:
                    raw = await asyncio.wait_for(self.ws.recv(), self._idle_timeout_s)
                except TimeoutError:
                    await self.ws.close(4000, "idle for too long")
                    return
                self.on_request(raw)
        except ConnectionClosed:
            return
        finally:
            writer.cancel()
            if self._heartbeat is not None:
                self._heartbeat.cancel()
            self.hub.forget(self)

    def on_request(self, raw: str | bytes) -> None:
        """Answer one client message; never raises for bad input."""
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self._error("invalid_json", "the message is not valid JSON")
            return
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            self._error("bad_request", "a message is a JSON object with a string type")
            return
        kind = message["type"]
        payload = message.get("payload")
        if kind == "ping":
            self.send_json({"type": "pong"})
        elif kind in ("key-auth", "auth"):
            self._auth(kind, payload)
        elif kind == "unauth":
            self.user_id = None
            self.hub.drop_private(self)
            self.send_json({"type": "unauth", "success": True})
        elif kind in ("subscribe", "unsubscribe"):
            self._subscription(kind, payload)
        elif kind == "enable_heartbeat":
            if self._heartbeat is None:
                self._heartbeat = asyncio.get_running_loop().create_task(self._beat())
        elif kind == "disable_heartbeat":
            if self._heartbeat is not None:
                self._heartbeat.cancel()
                self._heartbeat = None
        else:
            self._error("unknown_type", f"unknown message type {kind[:50]!r}")

    def _error(self, code: str, message: str) -> None:
        self.send_json({"type": "error", "error": {"code": code, "message": message}})

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_s)
            self.send_json({"type": "heartbeat"})

    def _auth(self, kind: str, payload: object) -> None:
        def answer(code: int, status: str) -> None:
            ok = code == 200
            body: dict[str, Any] = {
                "type": kind,
                "success": ok,
                "status_code": code,
                "status": status,
            }
            if kind == "auth" and ok:
                body = {"type": "success", "message": "Authenticated"}
            self.send_json(body)

        if not isinstance(payload, dict):
            answer(400, "incomplete_payload")
            return
        key, signature, stamp = (payload.get(k) for k in ("api-key", "signature", "timestamp"))
        if not isinstance(key, str) or not isinstance(signature, str):
            answer(400, "incomplete_payload")
            return
        if isinstance(stamp, bool) or not isinstance(stamp, int | str):
            answer(400, "incomplete_payload")
            return
        stamp_text = str(stamp)
        if not stamp_text.isdigit() or len(stamp_text) > 12:
            answer(400, "incomplete_payload")
            return
        if abs(time.time() - int(stamp_text)) > SIGNATURE_VALIDITY_S:
            answer(408, "request_expired")
            return
        found = self.hub.credentials(key)
        if found is None:
            answer(404, "api_key_not_found")
            return
        secret, user_id = found
        if not signatures_match(sign_ws_auth(secret, stamp_text), signature):
            answer(401, "invalid_signature")
            return
        self.user_id = user_id
        answer(200, "authenticated")

    def _subscription(self, kind: str, payload: object) -> None:
        channels = payload.get("channels") if isinstance(payload, dict) else None
        valid = isinstance(channels, list) and all(
            isinstance(c, dict)
            and isinstance(c.get("name"), str)
            and (
                c.get("symbols") is None
                or (
                    isinstance(c["symbols"], list) and all(isinstance(s, str) for s in c["symbols"])
                )
            )
            for c in channels
        )
        if not valid:
            self._error("bad_request", "payload.channels must be a list of {name, symbols}")
            return
        assert isinstance(channels, list)
        errors: list[dict[str, Any]] = []
        snapshots: list[bytes] = []
        if kind == "unsubscribe":
            self.hub.unsubscribe(self, channels)
        else:
            errors, snapshots = self.hub.subscribe(self, channels)
        listed = [{"name": n, "symbols": sorted(s)} for n, s in sorted(self.channels.items())]
        self.send_json({"type": "subscriptions", "channels": listed + errors})
        for frame in snapshots:
            self.push(frame)
