"""Benchmark helper: make the simulator publish book updates as fast as it can.

``flood_book_updates(sim, "BTCUSD", 100_000)`` changes one level of the book per update
(alternating sides, near the top so every checksum changes) and publishes each as its own
``ob_updates`` / ``l2_updates`` frame with seq + 1 and a correct checksum. Subscribe a
client to ``ob_updates`` first; it then receives exactly ``count`` update frames after its
snapshot (stop the market, or use ``market="manual"``, so no other update interleaves).
:func:`measure_updates_per_second` does both with a plain websockets client.
"""

from __future__ import annotations

import asyncio
import threading
import time

import orjson
import websockets

from exchange.sim._exchange import SimExchange
from exchange.sim._model import BUY, SELL

__all__ = ["flood_book_updates", "measure_updates_per_second"]

_BATCH = 256


def flood_book_updates(sim: SimExchange, symbol: str, count: int) -> None:
    """Publish ``count`` book updates of ``symbol`` as fast as possible (caller's thread)."""
    engine = sim.engine
    book = engine.core.books[symbol]
    with engine.locked():
        bid = book.best_market(BUY) or 1000
        ask = book.best_market(SELL) or bid + 2
    step = max(1, book.product.level_step_ticks)
    done = 0
    while done < count:
        n = min(_BATCH, count - done)
        with engine.locked():
            now = engine.clock.now_ns()
            events = []
            for i in range(done, done + n):
                side, base = (BUY, bid - step * (i % 5)) if i % 2 else (SELL, ask + step * (i % 5))
                book.set_market_level(side, base, 100 + i % 997)
                events.append(book.take_delta(now))
            engine.publish(events)
        done += n


def measure_updates_per_second(sim: SimExchange, symbol: str, count: int) -> float:
    """Subscribe a plain websockets client to ``ob_updates``, flood ``count`` updates and
    return the updates per second the client received (first to last update frame)."""

    async def client(ready: threading.Event) -> float:
        async with websockets.connect(sim.public_ws_url, max_size=None, compression=None) as ws:
            sub = {
                "type": "subscribe",
                "payload": {"channels": [{"name": "ob_updates", "symbols": [symbol]}]},
            }
            await ws.send(orjson.dumps(sub).decode())
            seen = 0
            start = 0.0
            while seen < count:
                frame = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
                if frame.get("action") == "snapshot":
                    ready.set()
                elif frame.get("action") == "update":
                    seen += 1
                    if seen == 1:
                        start = time.perf_counter()
            return count / max(1e-9, time.perf_counter() - start)

    ready = threading.Event()
    result: list[float] = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(client(ready))))
    thread.start()
    if not ready.wait(10):
        raise TimeoutError("no ob_updates snapshot within 10 s")
    flood_book_updates(sim, symbol, count)
    thread.join(60)
    return result[0]
