"""Benchmark of the Delta client: parse cost against orjson, and simulator book throughput.

Run ``python -m tests.bench.exchange [--json FILE] [--quick]``. Metrics:

- frames per second through the client's whole parse path (``orjson.loads`` +
  ``parse_public`` -> immutable messages) over distinct compact ``ob_updates`` updates (two
  changed levels), ``trades`` frames and 20-level ``ob_updates`` snapshots, and for a bare
  ``orjson.loads`` of the same bytes; the ratios are client time / ``orjson.loads`` time
  (goal: at most 3 for the update and trade frames);
- book updates per second the simulator publishes to one plain WebSocket client
  (``exchange.sim.bench.measure_updates_per_second``; goal: at least 20,000), and the rate
  at which a :class:`DeltaPublicStream` receives, parses and delivers the same flood;
- the simulator's candle store: ns per recorded market step (``CandleStore.add``, a step a
  second, so a minute closes every 60) against appending the step's tuple to a list (the
  least any record of a step costs; the ratio is store / append), and the ms to answer the
  bot's start-up history request (2,881 15m candles aggregated from 60 days of minutes).
"""

from __future__ import annotations

import threading
import time
import timeit
from collections.abc import Callable

import orjson

from exchange.delta import DeltaPublicStream, parse_public
from messages import BookSnapshot, BookUpdate, Message
from tests.bench._report import parse_args, write_report

UPDATE = orjson.dumps({
    "type": "ob_updates", "action": "update", "sy": "BTCUSD",
    "a": [["68525.0", "3313"]], "b": [["68524.5", "0"]],
    "seq": 6200, "ts": 1712000000100000, "cs": 2178756498,
})  # fmt: skip
TRADE = orjson.dumps({
    "type": "trades", "sy": "BTCUSD", "p": "72141.5", "s": 3, "r": "t",
    "t": 1712000000123456, "ts": 1712000000124000,
})  # fmt: skip
SNAPSHOT = orjson.dumps({
    "type": "ob_updates", "action": "snapshot", "sy": "BTCUSD",
    "a": [[f"{68525 + i * 0.5:.1f}", str(100 + i)] for i in range(20)],
    "b": [[f"{68524.5 - i * 0.5:.1f}", str(90 + i)] for i in range(20)],
    "seq": 6199, "ts": 1712000000000000, "cs": 2178756498,
})  # fmt: skip
TS = 1_712_000_000_000_000_000


def _frames(kind: str, count: int) -> list[bytes]:
    """``count`` distinct frames of one kind, as a live feed sends them: prices near the
    top of the book (so they repeat, as they do), sizes and times always new."""
    out = []
    for i in range(count):
        if kind == "ob_update":
            bid, ask = 68524.5 - (i % 7) * 0.5, 68525.0 + (i % 5) * 0.5
            frame = orjson.loads(UPDATE) | {
                "a": [[f"{ask:.1f}", str(100 + i)]],
                "b": [[f"{bid:.1f}", str((i * 7) % 300)]],
                "seq": 6200 + i,
                "ts": 1712000000100000 + i,
            }
        elif kind == "trade":
            frame = orjson.loads(TRADE) | {
                "p": f"{72141.5 + (i % 9) * 0.5:.1f}",
                "s": 1 + i % 50,
                "r": "tm"[i % 2],
                "t": 1712000000123456 + i,
            }
        else:
            frame = orjson.loads(SNAPSHOT) | {"seq": i}
        out.append(orjson.dumps(frame))
    return out


def _per_frame_s(func: Callable[[bytes], object], frames: list[bytes]) -> float:
    def run() -> None:
        for frame in frames:
            func(frame)

    return min(timeit.repeat(run, number=1, repeat=7)) / len(frames)


def parse_rates(*, quick: bool) -> tuple[dict[str, float], dict[str, float]]:
    """Frames per second (client and bare orjson) and the ratios, per frame kind."""
    count = 2_000 if quick else 20_000
    metrics: dict[str, float] = {}
    ratios: dict[str, float] = {}
    loads = orjson.loads

    def client(frame: bytes) -> object:
        return parse_public(loads(frame), TS)

    for name in ("ob_update", "trade", "ob_snapshot20"):
        frames = _frames(name, count)
        bare = _per_frame_s(loads, frames)
        ours = _per_frame_s(client, frames)
        metrics[f"{name}_client_frames_per_s"] = 1 / ours
        metrics[f"{name}_orjson_frames_per_s"] = 1 / bare
        ratios[f"{name}_client_vs_orjson"] = ours / bare
    return metrics, ratios


def sim_rates(*, quick: bool) -> dict[str, float]:
    """Book updates per second from the simulator to a plain client and to our stream."""
    from actors import ScaledClock, WallClock
    from exchange.sim import SimExchange, default_products
    from exchange.sim.bench import flood_book_updates, measure_updates_per_second
    from messages.settings import ExchangeSettings, Settings

    count = 20_000 if quick else 200_000
    out: dict[str, float] = {}
    with SimExchange(Settings().sim, clock=ScaledClock(speed=900.0), products=default_products(),
                     market="manual") as sim:  # fmt: skip
        out["sim_book_updates_per_s_plain_client"] = measure_updates_per_second(
            sim, "BTCUSD", count
        )
        got = {"n": 0, "t0": 0.0, "t1": 0.0}
        snapshot = threading.Event()
        done = threading.Event()

        def sink(message: Message) -> None:
            if isinstance(message, BookSnapshot):
                snapshot.set()
            elif isinstance(message, BookUpdate):
                got["n"] += 1
                if got["n"] == 1:
                    got["t0"] = time.perf_counter()
                if got["n"] == count:
                    got["t1"] = time.perf_counter()
                    done.set()

        stream = DeltaPublicStream(
            sim.public_ws_url,
            channels=(("ob_updates", ("BTCUSD",)),),
            settings=ExchangeSettings(),
            clock=WallClock(),
            sink=sink,
        )
        stream.start()
        try:
            if not snapshot.wait(10):
                raise TimeoutError("no snapshot")
            flood_book_updates(sim, "BTCUSD", count)
            if not done.wait(120):
                raise TimeoutError(f"only {got['n']} of {count} updates arrived")
            out["sim_book_updates_per_s_delta_stream"] = count / (got["t1"] - got["t0"])
        finally:
            stream.stop()
    return out


def candle_rates(*, quick: bool) -> tuple[dict[str, float], dict[str, float]]:
    """The simulator's candle store: ns per step against a list append; a history query."""
    import numpy as np

    from exchange.sim import CandleStore

    count = 60_000 if quick else 600_000
    t0 = 1_700_000_000 // 86_400 * 86_400
    steps = [((t0 + i) * 1_000_000_000, 100_000 + i % 97, 1.0) for i in range(count)]

    def store_steps() -> None:
        store = CandleStore(["X"])
        for ts, ticks, volume in steps:
            store.add("X", ts, ticks, volume)

    def append_steps() -> None:
        kept: list[tuple[int, int, float]] = []
        for step in steps:
            kept.append(step)

    ours = min(timeit.repeat(store_steps, number=1, repeat=3)) / count
    bare = min(timeit.repeat(append_steps, number=1, repeat=3)) / count
    minutes = 60 * 24 * 60
    store = CandleStore(["X"])
    ts = (t0 + 60 * np.arange(minutes, dtype=np.int64)) * 1_000_000_000
    store.add_bulk("X", ts, 100_000 + np.arange(minutes) % 97, np.ones(minutes))
    end = t0 + minutes * 60
    query = min(
        timeit.repeat(lambda: store.query("X", 900, end - 2_881 * 900, end), number=1, repeat=5)
    )
    metrics = {
        "sim_candle_store_add_ns_per_step": ours * 1e9,
        "sim_list_append_ns_per_step": bare * 1e9,
        "sim_candle_history_2881x15m_ms": query * 1e3,
    }
    return metrics, {"sim_candle_store_add_vs_list_append": ours / bare}


def main() -> None:
    """Run the benchmark and print (and optionally write) the report."""
    args = parse_args(__doc__ or "")
    metrics, ratios = parse_rates(quick=args.quick)
    candle_metrics, candle_ratios = candle_rates(quick=args.quick)
    metrics.update(candle_metrics)
    ratios.update(candle_ratios)
    metrics.update(sim_rates(quick=args.quick))
    write_report("exchange", metrics, ratios, args.json)


if __name__ == "__main__":
    main()
