"""Benchmark of the market path: stream parsing -> coalescing channel -> book actor -> TopOfBook.

Run ``python -m tests.bench.market [--json FILE] [--quick]``. Frames are real compact
``ob_updates`` bytes (snapshot, then updates with seq + 1 and correct checksums, each
changing the top of book) handed to ``DeltaPublicStream.on_frame`` on a feeder thread, as
the stream thread does after a socket read; the socket itself is measured by
``tests.bench.exchange``. Metrics:

- ``actor_updates_per_s``: 3 symbols, frames as fast as the feeder can go, through parsing,
  routing, the channel and three book actors (ThreadedRuntime); until every book has applied
  the last update. Goal: at least 30,000.
- ``actor_latency_p50_us`` / ``_p99_us``: 3 symbols at 500 updates/s each; from the frame's
  arrival (before parsing) to the publication of the TopOfBook that reflects it (its ts_init).
  Goal: p99 under 2 ms.
- ``direct_*``: the same frames with the book logic called directly in the feeder thread (no
  runtime); the ratios are actor / direct (the runtime's overhead).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import orjson

from actors import Actor, ChildSpec, Strategy, Supervisor, SupervisorSpec, ThreadedRuntime
from actors.market import BookChannel, OrderBook, OrderBookActor, StreamRouter, book_id
from exchange.delta import DeltaPublicStream, book_checksum
from messages import Message, TopOfBook
from messages.settings import ExchangeSettings
from tests.bench._report import parse_args, write_report

SYMBOLS = ("BTCUSD", "ETHUSD", "SOLUSD")
T0_US = 1_712_000_000_000_000
_SEC = 1_000_000_000


def _frames(symbol: str, count: int, base: int) -> tuple[bytes, list[bytes]]:
    """A 25-level snapshot and ``count`` updates, each changing the best bid or ask size."""
    bids = {base - i: 100 + i for i in range(25)}
    asks = {base + 1 + i: 100 + i for i in range(25)}

    def wire(side: dict[int, int], reverse: bool) -> list[list[str]]:
        return [[f"{p}.5", str(s)] for p, s in sorted(side.items(), reverse=reverse)]

    def cs() -> int:
        return book_checksum(
            [tuple(x) for x in wire(asks, False)], [tuple(x) for x in wire(bids, True)]
        )  # type: ignore[misc]

    snap = {
        "type": "ob_updates",
        "action": "snapshot",
        "sy": symbol,
        "seq": 0,
        "ts": T0_US,
        "a": wire(asks, False),
        "b": wire(bids, True),
        "cs": cs(),
    }
    updates = []
    for i in range(1, count + 1):
        side, price = (bids, base) if i % 2 else (asks, base + 1)
        side[price] = 50 + (i * 7919) % 5000
        key = "b" if i % 2 else "a"
        frame = {
            "type": "ob_updates",
            "action": "update",
            "sy": symbol,
            "seq": i,
            "ts": T0_US + i,
            key: [[f"{price}.5", str(side[price])]],
            "ab"[key == "a"]: [],
            "cs": cs(),
        }
        updates.append(orjson.dumps(frame))
    return orjson.dumps(snap), updates


class _Probe(Actor):
    def __init__(self, out: list[tuple[str, int, int]]) -> None:
        self.out = out

    def on_start(self) -> None:
        self.context.subscribe(TopOfBook)

    def on_top_of_book(self, top: TopOfBook) -> None:
        self.out.append((top.symbol, top.ts_event, top.ts_init))


def _interleave(per_symbol: dict[str, list[bytes]]) -> list[tuple[str, int, bytes]]:
    n = len(next(iter(per_symbol.values())))
    return [(s, i + 1, per_symbol[s][i]) for i in range(n) for s in SYMBOLS]


def _stream(sink: Any) -> DeltaPublicStream:
    return DeltaPublicStream(
        "ws://127.0.0.1:9", channels=(), settings=ExchangeSettings(), clock=_WALL, sink=sink
    )


class _Wall:
    def now_ns(self) -> int:
        return time.time_ns()

    def real_seconds_until(self, ts_ns: int) -> float:
        return max(0.0, (ts_ns - time.time_ns()) / _SEC)


_WALL = _Wall()


def _latencies(recv: dict[tuple[str, int], int], tops: list[tuple[str, int, int]]) -> np.ndarray:
    """Per update: publication time of the first TopOfBook reflecting it minus its arrival."""
    out = []
    by_symbol: dict[str, list[tuple[int, int]]] = {s: [] for s in SYMBOLS}
    for symbol, ts_event, ts_init in tops:
        by_symbol[symbol].append(((ts_event // 1000) - T0_US, ts_init))
    for symbol, seen in by_symbol.items():
        seqs = np.array([s for s, _ in seen])
        times = np.array([t for _, t in seen])
        for (sym, seq), arrived in recv.items():
            if sym != symbol or seq == 0:
                continue
            k = int(np.searchsorted(seqs, seq))
            if k < len(seqs):
                out.append(times[k] - arrived)
    return np.array(out, dtype=np.float64) / 1000.0


def run_actor(
    frames: dict[str, tuple[bytes, list[bytes]]], *, rate: float | None
) -> dict[str, Any]:
    """Feed the frames through the stream parser into three book actors."""
    channels = {s: BookChannel(s) for s in SYMBOLS}
    tops: list[tuple[str, int, int]] = []
    children = [ChildSpec(actor_id="probe", factory=lambda: _Probe(tops))]
    children += [
        ChildSpec(
            actor_id=book_id(s),
            factory=lambda s=s: OrderBookActor(  # type: ignore[misc]
                channels[s],
                stale_after_ns=60 * _SEC,
                resync_retry_ns=60 * _SEC,
                tick_ns=_SEC,
                health_ns=60 * _SEC,
            ),
        )
        for s in SYMBOLS
    ]
    spec = SupervisorSpec(strategy=Strategy.ONE_FOR_ONE, children=tuple(children))
    runtime = ThreadedRuntime(clock=_WALL)  # type: ignore[arg-type]
    runtime.start_root(ChildSpec(actor_id="root", factory=lambda: Supervisor(spec)))
    try:
        router = StreamRouter(channels, send=runtime.send, publish=runtime.publish)
        stream = _stream(router.route)
        for snap, _ in frames.values():
            stream.on_frame(snap, None)  # type: ignore[arg-type]
        books = [runtime.entry(book_id(s)).actor.book for s in SYMBOLS]  # type: ignore[union-attr]
        _wait(lambda: all(b.synced for b in books))
        tops.clear()
        recv, elapsed = _feed(stream, frames, rate)
        last = len(next(iter(frames.values()))[1])
        _wait(lambda: all(b.seq == last for b in books))
        elapsed = time.perf_counter() - elapsed
        assert all(b.synced and b.resyncs == 0 for b in books)
        return {
            "rate": len(recv) / elapsed,
            "lat": _latencies(recv, list(tops)),
            "max_batch": max(b.max_batch for b in books),
        }
    finally:
        runtime.shutdown()


def run_direct(
    frames: dict[str, tuple[bytes, list[bytes]]], *, rate: float | None
) -> dict[str, Any]:
    """The same frames, the book logic called in the feeder thread."""
    books = {s: OrderBook(s, stale_after_ns=60 * _SEC, resync_retry_ns=60 * _SEC) for s in SYMBOLS}
    tops: list[tuple[str, int, int]] = []

    def sink(message: Message) -> None:
        step = books[message.symbol].on_batch([message], overflowed=False, now_ns=time.time_ns())  # type: ignore[attr-defined, list-item]
        if step.top is not None:
            tops.append((step.top.symbol, step.top.ts_event, step.top.ts_init))

    stream = _stream(sink)
    for snap, _ in frames.values():
        stream.on_frame(snap, None)  # type: ignore[arg-type]
    tops.clear()
    recv, start = _feed(stream, frames, rate)
    elapsed = time.perf_counter() - start
    return {"rate": len(recv) / elapsed, "lat": _latencies(recv, tops)}


def _feed(
    stream: DeltaPublicStream, frames: dict[str, tuple[bytes, list[bytes]]], rate: float | None
) -> tuple[dict[tuple[str, int], int], float]:
    order = _interleave({s: f[1] for s, f in frames.items()})
    recv: dict[tuple[str, int], int] = {}
    start = time.perf_counter()
    wall = time.time_ns
    for i, (symbol, seq, frame) in enumerate(order):
        if rate is not None:
            due = start + i / rate
            while (now := time.perf_counter()) < due:
                time.sleep(min(0.0005, due - now))
        recv[(symbol, seq)] = wall()
        stream.on_frame(frame, None)  # type: ignore[arg-type]
    return recv, start


def _wait(condition: Any, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not met")
        time.sleep(0.001)


def main() -> None:
    """Run the benchmark and print (and optionally write) the report."""
    args = parse_args(__doc__ or "")
    burst = 5_000 if args.quick else 60_000  # per symbol
    paced_s = 1.0 if args.quick else 10.0
    base = {"BTCUSD": 68_000, "ETHUSD": 3_500, "SOLUSD": 150}
    flood = {s: _frames(s, burst, base[s]) for s in SYMBOLS}
    paced = {s: _frames(s, int(500 * paced_s), base[s]) for s in SYMBOLS}
    actor_flood = run_actor(flood, rate=None)
    direct_flood = run_direct(flood, rate=None)
    actor_paced = run_actor(paced, rate=1500.0)
    direct_paced = run_direct(paced, rate=1500.0)
    metrics = {
        "actor_updates_per_s": actor_flood["rate"],
        "direct_updates_per_s": direct_flood["rate"],
        "actor_max_coalesced_batch": float(actor_flood["max_batch"]),
        "actor_latency_p50_us": float(np.percentile(actor_paced["lat"], 50)),
        "actor_latency_p99_us": float(np.percentile(actor_paced["lat"], 99)),
        "direct_latency_p50_us": float(np.percentile(direct_paced["lat"], 50)),
        "direct_latency_p99_us": float(np.percentile(direct_paced["lat"], 99)),
        "paced_updates_per_s": actor_paced["rate"],
    }
    m = metrics
    ratios = {
        "throughput_direct_vs_actor": m["direct_updates_per_s"] / m["actor_updates_per_s"],
        "latency_p50_actor_vs_direct": m["actor_latency_p50_us"] / m["direct_latency_p50_us"],
        "latency_p99_actor_vs_direct": m["actor_latency_p99_us"] / m["direct_latency_p99_us"],
    }
    write_report("market", metrics, ratios, args.json)


if __name__ == "__main__":
    main()
