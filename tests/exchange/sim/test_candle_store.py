"""The simulator's candle store: exact aggregation against a plain model, bounded memory,
saved and restored (including the older list layout)."""

from __future__ import annotations

import pickle
from collections import defaultdict

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.sim import CandleStore
from exchange.sim._candles import Candle

NS = 1_000_000_000
T0 = 1_700_000_000 // 3600 * 3600  # an hour boundary, UNIX seconds


def _model(
    steps: list[tuple[int, int, float]], resolution: int, start: int, end: int
) -> list[Candle]:
    """Candles of ``resolution`` from raw steps (time ns, ticks, volume), the obvious way."""
    buckets: dict[int, list[tuple[int, int, float]]] = defaultdict(list)
    for ts, ticks, volume in steps:
        buckets[ts // NS // resolution * resolution].append((ts, ticks, volume))
    out = []
    for bucket in sorted(buckets):
        if start <= bucket <= end:
            rows = buckets[bucket]
            prices = [r[1] for r in rows]
            out.append(
                Candle(
                    bucket,
                    prices[0],
                    max(prices),
                    min(prices),
                    prices[-1],
                    sum(r[2] for r in rows),
                    rows[-1][0],
                )
            )
    return out


steps_strategy = st.lists(
    st.tuples(st.integers(1, 400), st.integers(1, 10_000), st.integers(0, 50)),
    min_size=1,
    max_size=300,
)


@settings(max_examples=80, deadline=None)
@given(
    gaps=steps_strategy,
    split=st.floats(0.0, 1.0),
    chunk=st.floats(0.0, 1.0),
    resolution=st.sampled_from([60, 180, 900, 3600]),
    window=st.tuples(st.floats(-0.1, 1.0), st.floats(0.0, 1.2)),
)
def test_queries_equal_the_plain_model(
    gaps: list[tuple[int, int, int]],
    split: float,
    chunk: float,
    resolution: int,
    window: tuple[float, float],
) -> None:
    """Steps (some pre-loaded in two bulk chunks, the rest one by one) aggregate exactly as
    the model."""
    steps, ts = [], T0 * NS
    for gap_s, ticks, volume in gaps:
        ts += gap_s * NS // 7  # several steps per minute, and gaps of minutes
        steps.append((ts, ticks, float(volume)))  # whole volumes: sums are exact
    store = CandleStore(["X"])
    cut = int(split * len(steps))
    middle = int(chunk * cut)
    for part in (steps[:middle], steps[middle:cut]):  # a chunk may end mid-minute
        if part:
            columns = np.array(part, dtype=object)
            store.add_bulk(
                "X",
                columns[:, 0].astype(np.int64),
                columns[:, 1].astype(np.int64),
                columns[:, 2].astype(np.float64),
            )
    for step in steps[cut:]:
        store.add("X", *step)
    span = (steps[-1][0] // NS - T0) + 60  # the window: a fraction of where the steps are
    start, length = T0 + int(window[0] * span), int(window[1] * span)
    assert store.query("X", resolution, start, start + length) == _model(
        steps, resolution, start, start + length
    )
    assert store.last_time_s("X") == steps[-1][0] // NS // 60 * 60


def test_memory_is_bounded_to_the_newest_minutes() -> None:
    store = CandleStore(["X"], keep_rows=1000)
    store.add_bulk(
        "X", np.arange(500, dtype=np.int64) * 60 * NS + T0 * NS, np.full(500, 7), np.ones(500)
    )
    for minute in range(500, 5000):
        store.add("X", (T0 + minute * 60) * NS, 100 + minute, 1.0)
    kept = store.query("X", 60, 0, T0 + 5000 * 60)
    assert 1000 - 1000 // 8 <= len(kept) <= 1000
    assert kept[-1].start_s == T0 + 4999 * 60 and kept[-1].close == 100 + 4999
    starts = [c.start_s for c in kept]
    assert starts == list(range(starts[0], starts[-1] + 60, 60))  # the newest, contiguous


def test_a_bulk_history_longer_than_the_bound_is_kept_whole() -> None:
    store = CandleStore(["X"], keep_rows=100)
    n = 3000
    store.add_bulk(
        "X", np.arange(n, dtype=np.int64) * 60 * NS + T0 * NS, np.arange(n) + 1, np.ones(n)
    )
    assert len(store.query("X", 60, 0, T0 + n * 60)) == n
    for minute in range(n, n + 500):  # then the oldest go as new minutes come
        store.add("X", (T0 + minute * 60) * NS, 5, 1.0)
    kept = store.query("X", 60, 0, T0 + (n + 500) * 60)
    assert n - n // 8 <= len(kept) <= n and kept[-1].start_s == T0 + (n + 499) * 60


def test_dump_and_load_round_trip_including_the_forming_minute() -> None:
    store = CandleStore(["X", "Y"])
    for i in range(400):
        store.add("X", (T0 + i * 17) * NS, 50 + i % 13, 0.5)
    store.add("Y", T0 * NS, 9, 2.0)
    restored = CandleStore(["X", "Y"])
    restored.load(pickle.loads(pickle.dumps(store.dump())))
    for symbol in ("X", "Y"):
        for resolution in (60, 900):
            assert restored.query(symbol, resolution, 0, T0 + 10_000) == store.query(
                symbol, resolution, 0, T0 + 10_000
            )
    restored.add("X", (T0 + 400 * 17) * NS, 1, 1.0)  # the forming minute continues
    store.add("X", (T0 + 400 * 17) * NS, 1, 1.0)
    assert restored.query("X", 60, 0, T0 + 10_000) == store.query("X", 60, 0, T0 + 10_000)


def test_load_accepts_the_older_list_layout() -> None:
    """Simulators saved before the columns kept lists of rows; they still resume."""
    saved = {
        "starts": {"X": [T0, T0 + 60]},
        "rows": {"X": [[10, 12, 9, 11, 3.0, (T0 + 30) * NS], [11, 11, 8, 8, 1.5, (T0 + 90) * NS]]},
    }
    store = CandleStore(["X"])
    store.load(saved)
    assert store.query("X", 900, T0, T0 + 60) == [Candle(T0, 10, 12, 8, 8, 4.5, (T0 + 90) * NS)]
    assert store.query("X", 60, T0, T0 + 60) == [
        Candle(T0, 10, 12, 9, 11, 3.0, (T0 + 30) * NS),
        Candle(T0 + 60, 11, 11, 8, 8, 1.5, (T0 + 90) * NS),
    ]


def test_live_steps_and_bulk_chunks_continue_the_newest_minute() -> None:
    """History ends mid-minute (the prefill, or one of its 200k-step chunks): what comes
    next in that minute is merged, not dropped."""
    store = CandleStore(["X"])
    second = np.arange(0, 90, dtype=np.int64)  # 0 .. 89 s: minute 0 whole, minute 60 half
    store.add_bulk("X", (T0 + second[:70]) * NS, np.full(70, 100), np.ones(70))
    store.add_bulk("X", (T0 + second[70:]) * NS, np.full(20, 90), np.ones(20))
    store.add("X", (T0 + 89) * NS + NS // 2, 150, 7.0)
    assert store.query("X", 60, T0, T0 + 60) == [
        Candle(T0, 100, 100, 100, 100, 60.0, (T0 + 59) * NS),
        Candle(T0 + 60, 100, 150, 90, 150, 37.0, (T0 + 89) * NS + NS // 2),
    ]
