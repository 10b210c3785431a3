"""The WebSocket servers and the hub that fans engine events out to subscribed clients.

Two listeners share one asyncio event loop on a daemon thread: the *private* host (like
``socket.india``: private channels and the legacy public channels) and the *public* host
(like ``public-socket.india``: compact public channels). The engine facade calls
:meth:`WsServer.on_events` under its lock from any thread; that only appends to a deque
and, if needed, schedules :meth:`_drain` on the loop, which formats each event once per
wire format and queues the bytes on every subscribed connection. A connection skips
events numbered at or below the event id its snapshot reflected, so snapshot plus updates
never duplicate or miss. Periodic channels (ticker, ob_l1, ob_l2, mark_price) are sent
every ``period_s`` real seconds.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from typing import Any

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve

from exchange.sim._candles import RESOLUTIONS, CandleStore
from exchange.sim._facade import SimEngine
from exchange.sim._faults import Faults
from exchange.sim._public import (
    candle_frame,
    l1_frame,
    l2_frame,
    snapshot_frame,
    trades_snapshot_frame,
)
from exchange.sim._tickers import funding_frame, mark_frame, ticker_frame
from exchange.sim._wire import position_json
from exchange.sim._ws_conn import Connection
from exchange.sim._ws_fanout import dispatch
from exchange.sim._ws_frames import orders_snapshot, positions_snapshot, wallet_frame

__all__ = ["WsServer"]

log = logging.getLogger(__name__)

_CANDLES = {f"candlestick_{r}" for r in RESOLUTIONS}
PUBLIC_CHANNELS = {
    "ticker",
    "ob_l1",
    "ob_l2",
    "ob_updates",
    "trades",
    "mark_price",
    "funding_rate",
    *_CANDLES,
}
PRIVATE_CHANNELS = {"orders", "positions", "margins", "v2/user_trades", "user_trades"}
LEGACY_CHANNELS = {
    "v2/ticker",
    "l1_orderbook",
    "l2_orderbook",
    "l2_updates",
    "all_trades",
    "mark_price",
    "funding_rate",
    *_CANDLES,
}
_BOOK = {"ob_updates": False, "l2_updates": True}
_PERIODIC = {
    "ticker": False,
    "v2/ticker": True,
    "ob_l1": False,
    "l1_orderbook": True,
    "ob_l2": False,
    "l2_orderbook": True,
    "mark_price": None,
}
_NO_SYMBOLS = {"margins"}


class WsServer:
    """Both WebSocket listeners and the hub (see the module docstring)."""

    def __init__(
        self,
        engine: SimEngine,
        candles: CandleStore,
        faults: Faults,
        *,
        host: str,
        idle_timeout_s: float = 60.0,
        heartbeat_s: float = 30.0,
        period_s: float = 1.0,
    ) -> None:
        self.engine = engine
        self.candles = candles
        self.faults = faults
        self.host = host
        self.idle_timeout_s = idle_timeout_s
        self.heartbeat_s = heartbeat_s
        self.period_s = period_s
        self.conns: set[Connection] = set()
        self.candle_cursor: dict[tuple[str, int], int] = {}
        self._subs: dict[tuple[str, str], set[Connection]] = {}
        self._pending: deque[tuple[int, object]] = deque()
        self._scheduled = False
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._servers: list[Server] = []
        self.ports: tuple[int, int] = (0, 0)
        engine.subscribe(self.on_events)
        faults.on_drop(self._drop_soon)

    # --- lifecycle (caller's thread) --------------------------------------------------------

    def start(self, private_port: int, public_port: int) -> tuple[int, int]:
        """Bind both listeners and serve on a daemon thread; return the bound ports."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._bind(private_port, public_port))
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="sim-ws", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self.ports

    async def _bind(self, private_port: int, public_port: int) -> None:
        kw: dict[str, Any] = {
            "compression": None,
            "max_size": 1 << 20,
            "ping_interval": 20,
            "close_timeout": 1,
        }
        private = await serve(self._private_handler, self.host, private_port, **kw)
        public = await serve(self._public_handler, self.host, public_port, **kw)
        self._servers = [private, public]
        ports = [next(iter(s.sockets)).getsockname()[1] for s in self._servers]
        self.ports = (int(ports[0]), int(ports[1]))
        self._loop.create_task(self._periodic())

    def stop(self) -> None:
        """Close every connection and both listeners; stop the loop thread (idempotent)."""
        if self._thread is None:
            return

        async def shutdown() -> None:
            for server in self._servers:
                server.close()
            for server in self._servers:
                await server.wait_closed()
            current = asyncio.current_task()
            others = [t for t in asyncio.all_tasks() if t is not current]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=5)
        except Exception:
            log.warning("sim ws: listeners did not close cleanly", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._thread = None
        self._loop.close()

    def call(self, fn: Any, *args: Any) -> None:
        """Run ``fn(*args)`` on the loop thread (thread-safe)."""
        self._loop.call_soon_threadsafe(fn, *args)

    # --- connections (loop thread) -----------------------------------------------------------

    async def _private_handler(self, ws: ServerConnection) -> None:
        await self._serve(ws, public_host=False)

    async def _public_handler(self, ws: ServerConnection) -> None:
        await self._serve(ws, public_host=True)

    async def _serve(self, ws: ServerConnection, *, public_host: bool) -> None:
        conn = Connection(
            ws,
            self,
            public_host=public_host,
            idle_timeout_s=self.idle_timeout_s,
            heartbeat_s=self.heartbeat_s,
        )
        self.conns.add(conn)
        await conn.serve()

    def _drop_soon(self) -> None:
        if self._thread is not None:
            self._loop.call_soon_threadsafe(self._drop_all)

    def _drop_all(self) -> None:
        for conn in list(self.conns):
            conn.abort()

    def credentials(self, api_key: str) -> tuple[str, int] | None:
        """(secret, user id) of an accepted key."""
        return self.engine.credentials(api_key)

    def forget(self, conn: Connection) -> None:
        """Remove a closed connection from every index."""
        self.conns.discard(conn)
        for key in [(n, s) for n, syms in conn.channels.items() for s in syms]:
            self._subs.get(key, set()).discard(conn)
        conn.channels.clear()

    def drop_private(self, conn: Connection) -> None:
        """``unauth``: forget the connection's private subscriptions."""
        self.unsubscribe(conn, [{"name": n} for n in list(conn.channels) if n in PRIVATE_CHANNELS])

    def unsubscribe(self, conn: Connection, channels: list[dict[str, Any]]) -> None:
        """Remove subscriptions; no symbols removes the whole channel."""
        for spec in channels:
            name = spec["name"]
            held = conn.channels.get(name, set())
            symbols = set(spec.get("symbols") or held)
            for symbol in symbols & held:
                self._subs.get((name, symbol), set()).discard(conn)
            held -= symbols
            if not held:
                conn.channels.pop(name, None)

    # --- subscribing (loop thread) ------------------------------------------------------------

    def subscribe(
        self, conn: Connection, channels: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[bytes]]:
        """Register subscriptions and build their snapshots (see the module docstring)."""
        allowed = PUBLIC_CHANNELS if conn.public_host else LEGACY_CHANNELS | PRIVATE_CHANNELS
        errors: list[dict[str, Any]] = []
        frames: list[bytes] = []
        with self.engine.locked() as core:
            event_id = self.engine.event_id
            now = self.engine.clock.now_ns()
            for spec in channels:
                name = spec["name"]
                if name not in allowed:
                    errors.append({"name": name, "error": f"invalid channel name {name}"})
                    continue
                if name in PRIVATE_CHANNELS and conn.user_id is None:
                    errors.append(
                        {
                            "name": name,
                            "error": f"subscription forbidden on {name}. Unauthorized user",
                        }
                    )
                    continue
                symbols, bad = self._symbols(name, spec.get("symbols"), list(core.by_symbol))
                if bad:
                    errors.append({"name": name, "error": f"invalid symbols {','.join(bad)}"})
                    continue
                held = conn.channels.setdefault(name, set())
                for symbol in symbols:
                    held.add(symbol)
                    self._subs.setdefault((name, symbol), set()).add(conn)
                    frames.extend(
                        self._snapshot(conn, core, name, symbol, now=now, event_id=event_id)
                    )
        return errors, frames

    def _symbols(
        self, name: str, asked: list[str] | None, listed: list[str]
    ) -> tuple[list[str], list[str]]:
        if name in _NO_SYMBOLS:
            return ["all"], []
        names: list[str] = []
        bad: list[str] = []
        for raw in asked or []:
            symbol = raw.removeprefix("MARK:") if name == "mark_price" else raw
            if symbol == "all" and name not in ("ob_updates",):
                names.append("all")
            elif symbol == "perpetual_futures":
                names.extend(listed)
            elif symbol in listed:
                names.append(symbol)
            else:
                bad.append(raw)
        return names, bad

    def _snapshot(
        self, conn: Connection, core: Any, name: str, symbol: str, *, now: int, event_id: int
    ) -> list[bytes]:
        legacy = not conn.public_host
        conn.since[(name, symbol)] = event_id
        dump = orjson.dumps
        if symbol == "all":
            if name == "margins" and conn.user_id is not None:
                wallet = core.accounts[conn.user_id].wallet(core.marks())
                return [dump(wallet_frame(wallet, "snapshot", now))]
            return []
        if name in _BOOK:
            return [dump(snapshot_frame(core, symbol, now, legacy=_BOOK[name]))]
        if name == "all_trades":
            return [dump(trades_snapshot_frame(core, symbol))]
        if name == "funding_rate":
            return [dump(funding_frame(core, symbol, now, legacy=legacy))]
        if name in _PERIODIC:
            return [self._periodic_frame(core, name, symbol, now, legacy)]
        if name.startswith("candlestick_"):
            res = name.removeprefix("candlestick_")
            seconds = RESOLUTIONS[res]
            now_s = now // 1_000_000_000
            self.candle_cursor.setdefault((symbol, seconds), now_s - now_s % seconds)
            got = self.candles.query(symbol, seconds, now_s - now_s % seconds, now_s)
            product = core.by_symbol[symbol]
            return [dump(candle_frame(c, product, res, legacy=legacy)) for c in got[-1:]]
        if name == "orders" and conn.user_id is not None:
            product = core.by_symbol[symbol]
            orders = list(core.accounts[conn.user_id].orders_of(product.product_id))
            conn.order_seq[symbol] = conn.order_seq.get(symbol, 0) + 1
            return [dump(orders_snapshot(orders, product, conn.order_seq[symbol], now))]
        if name == "positions" and conn.user_id is not None:
            product = core.by_symbol[symbol]
            account = core.accounts[conn.user_id]
            pos = account.positions[product.product_id]
            mark = core.marks().get(product.product_id)
            bodies = (
                [
                    position_json(
                        pos, product, leverage=account.leverage[product.product_id], mark=mark
                    )
                ]
                if pos.size
                else []
            )
            return [dump(positions_snapshot(bodies, now))]
        return []

    def _periodic_frame(self, core: Any, name: str, symbol: str, now: int, legacy: bool) -> bytes:
        if name in ("ticker", "v2/ticker"):
            body = ticker_frame(core, self.candles, symbol, now, legacy=legacy)
        elif name in ("ob_l1", "l1_orderbook"):
            body = l1_frame(core, symbol, now, legacy=legacy)
        elif name in ("ob_l2", "l2_orderbook"):
            body = l2_frame(core, symbol, now, legacy=legacy)
        else:
            body = mark_frame(core, symbol, now, legacy=legacy)
        return orjson.dumps(body)

    async def _periodic(self) -> None:
        while True:
            await asyncio.sleep(self.period_s)
            try:
                self._send_periodic()
            except Exception:
                log.exception("sim ws: periodic publication failed")

    def _send_periodic(self) -> None:
        with self.engine.locked() as core:
            now = self.engine.clock.now_ns()
            for (name, symbol), conns in list(self._subs.items()):
                if name not in _PERIODIC or not conns:
                    continue
                for_symbols = list(core.by_symbol) if symbol == "all" else [symbol]
                for sym in for_symbols:
                    frames: dict[bool, bytes] = {}
                    for conn in list(conns):
                        legacy = not conn.public_host
                        if legacy not in frames:
                            frames[legacy] = self._periodic_frame(core, name, sym, now, legacy)
                        conn.push(frames[legacy])

    # --- fan-out ---------------------------------------------------------------------------

    def on_events(self, numbered: Any) -> None:
        """Engine listener (any thread, under the engine lock): queue and wake the loop."""
        self._pending.extend(numbered)
        if not self._scheduled and self._thread is not None:
            self._scheduled = True
            self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        self._scheduled = False
        pending = self._pending
        while pending:
            event_id, event = pending.popleft()
            try:
                dispatch(self, event_id, event)
            except Exception:
                log.exception("sim ws: could not publish %s", type(event).__name__)

    def subscribed(self, prefix: str) -> list[tuple[str, str]]:
        """(channel, symbol) keys with subscribers whose channel starts with ``prefix``."""
        return [key for key, conns in self._subs.items() if conns and key[0].startswith(prefix)]

    def targets(self, name: str, symbol: str, event_id: int) -> list[Connection]:
        """Connections subscribed to ``name`` for ``symbol`` (or all) that still need
        event ``event_id`` (their snapshot is older)."""
        found = []
        for key in ((name, symbol), (name, "all")):
            for conn in self._subs.get(key, ()):
                if event_id > conn.since.get(key, 0):
                    found.append(conn)
        return found
