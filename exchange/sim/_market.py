"""The market driver: feeds price steps into the engine, the candle store and the book.

A price source (the generator or candle files) yields steps on a fixed market-time grid.
:class:`Market` replays the steps due by the clock: every step is a trade the engine sees
(fills, stops, mark) and the candle store records; the synthetic book is rebuilt around the
price once per batch. At high clock speeds the public tape is sampled (at most
``TAPE_PER_BATCH`` trades per symbol per batch) but fills and candles see every step.
Funding is exchanged at each multiple of the product's funding interval, before the first
step at or after it (at the mark the market had then).

A candle-file source on the backtest's path (``sim.candle_path = "backtest"``) is played one
step at a time with the backtest's book: one deep level at the price and one tick above,
every step, each trade filling our orders on both sides as the backtest's does; the
extremes of each candle are ordered by the account's position (``exchange.sim._barpath``).

Threads: :meth:`start` runs :meth:`advance` on a daemon thread every ``tick_s`` real
seconds; with ``manual=True`` nothing runs and tests call :meth:`step`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

import numpy as np

from exchange.sim._candles import CandleStore
from exchange.sim._facade import SimEngine
from exchange.sim._model import BUY, SELL
from exchange.sim._products import SimProduct

__all__ = ["CandlesTicked", "Market", "PriceSource"]

log = logging.getLogger(__name__)

BOOK_LEVELS = 25
TAPE_PER_BATCH = 20
MAX_STEPS_PER_BATCH = 20_000
_NS = 1_000_000_000


class PriceSource(Protocol):
    """What the market replays: steps of ticks and volumes on a fixed grid."""

    step_ns: int

    def begin(self, now_ns: int) -> int:
        """Return the market time of the first step (history starts there)."""
        ...

    def take(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Return up to ``count`` next steps: ticks (int64) and volumes, shape (m, n)."""
        ...

    def funding_rate_pct(self, index: int) -> Decimal:
        """The funding rate (%) of product ``index`` now."""
        ...


class CandlesTicked:
    """Published after each batch: candles changed up to market time ``ts_ns``."""

    __slots__ = ("ts_ns",)

    def __init__(self, ts_ns: int) -> None:
        self.ts_ns = ts_ns


class Market:
    """Drives the engine from a price source (see the module docstring)."""

    def __init__(
        self,
        engine: SimEngine,
        products: Sequence[SimProduct],
        source: PriceSource,
        candles: CandleStore,
        *,
        seed: int = 0,
        tick_s: float = 0.1,
        manual: bool = False,
    ) -> None:
        self.engine = engine
        self.products = tuple(products)
        self.source = source
        self.candles = candles
        self.manual = manual
        self._tick_s = tick_s
        self._rng = np.random.default_rng(seed + 1)
        self._next_ns = 0
        self._last_ticks = np.zeros(len(self.products), dtype=np.int64)
        self._next_funding: list[int] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.bar_path = getattr(source, "path", None) == "backtest"

    # --- lifecycle -------------------------------------------------------------------------

    def prefill(self) -> None:
        """Play the source's history up to the clock's now (candles only), then set the
        first book, last and mark prices. Call once, before :meth:`start` or :meth:`step`."""
        now = self.engine.clock.now_ns()
        first = self.source.begin(now)
        step = self.source.step_ns
        count = max(1, (now - first) // step + 1)
        done = 0
        while done < count:
            ticks, volumes = self.source.take(min(200_000, count - done))
            if len(ticks) == 0:
                break
            ts = first + (done + np.arange(len(ticks), dtype=np.int64)) * step
            for j, product in enumerate(self.products):
                self.candles.add_bulk(product.symbol, ts, ticks[:, j], volumes[:, j])
            self._last_ticks = ticks[-1].copy()
            done += len(ticks)
        self._next_ns = first + done * step
        last_ts = self._next_ns - step
        for product in self.products:
            interval = product.funding_interval_s * _NS
            self._next_funding.append(last_ts - last_ts % interval + interval)
        for j, product in enumerate(self.products):
            with self.engine.locked() as core:
                core.next_funding_ns[product.symbol] = self._next_funding[j]
                core.last[product.symbol] = int(self._last_ticks[j])
            self._publish_step(j, product, last_ts, int(self._last_ticks[j]), 0, book=True)

    def saved(self) -> dict[str, object]:
        """Where the market is (with its source, enough to go on from here): to save."""
        with self._lock:
            return {
                "next_ns": self._next_ns,
                "last_ticks": self._last_ticks.copy(),
                "next_funding": list(self._next_funding),
                "rng": self._rng.bit_generator.state,
            }

    def resume(self, saved: dict[str, Any], source: PriceSource) -> None:
        """Go on from :meth:`saved` with ``source`` (instead of :meth:`prefill`)."""
        with self._lock:
            self.source = source
            self._next_ns = saved["next_ns"]
            self._last_ticks = saved["last_ticks"].copy()
            self._next_funding = list(saved["next_funding"])
            self._rng.bit_generator.state = saved["rng"]

    def start(self) -> None:
        """Start the market thread (not in manual mode)."""
        if self.manual or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="sim-market", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the market thread and wait for it (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._tick_s):
            try:
                self.advance(self.engine.clock.now_ns())
            except Exception:
                log.exception("sim market: a step failed; the market goes on")

    # --- stepping --------------------------------------------------------------------------

    def advance(self, now_ns: int) -> int:
        """Play every step due by ``now_ns`` (at most MAX_STEPS_PER_BATCH); return how many."""
        with self._lock:
            step = self.source.step_ns
            due = min(MAX_STEPS_PER_BATCH, (now_ns - self._next_ns) // step + 1)
            if due <= 0:
                return 0
            if self.bar_path:
                return self._advance_bars(due)
            ticks, volumes = self.source.take(due)
            tape_every = max(1, len(ticks) // TAPE_PER_BATCH)
            for i in range(len(ticks)):
                ts = self._next_ns + i * step
                last = i == len(ticks) - 1
                for j, product in enumerate(self.products):
                    self._publish_step(
                        j,
                        product,
                        ts,
                        int(ticks[i, j]),
                        round(volumes[i, j]) or 1,
                        book=last,
                        tape=last or i % tape_every == 0,
                    )
            self._next_ns += max(1, len(ticks)) * step
            self.engine.publish([CandlesTicked(self._next_ns - step)])
            return len(ticks)

    def _advance_bars(self, due: int) -> int:
        """The backtest's path: one step at a time, extremes ordered by the account."""
        step, played = self.source.step_ns, 0
        for _ in range(due):
            self.source.order_extremes(self._held())  # type: ignore[attr-defined]
            ticks, volumes = self.source.take(1)
            if len(ticks) == 0:
                break
            ts = self._next_ns
            for j, product in enumerate(self.products):
                volume = round(volumes[0, j]) or 1
                self._publish_step(j, product, ts, int(ticks[0, j]), volume, book=True)
            self._next_ns += step
            played += 1
            self.engine.publish([CandlesTicked(ts)])
        return played

    def _held(self) -> list[int]:
        """Signed contracts the accounts hold per product, in product order."""
        with self.engine.locked() as core:
            return [
                sum(a.positions[p.product_id].size for a in core.accounts.values())
                for p in self.products
            ]

    def step(self, prices: Mapping[str, str] | None = None) -> int:
        """Manual mode: play one step at the clock's now; ``prices`` (wire strings) override
        the source for the symbols given. Returns the step's market time (ns)."""
        with self._lock:
            now = max(self.engine.clock.now_ns(), self._next_ns)
            ticks, volumes = self.source.take(1)
            for j, product in enumerate(self.products):
                if prices and product.symbol in prices:
                    price = product.ticks_of(prices[product.symbol])
                elif len(ticks):
                    price = int(ticks[0, j])
                else:
                    price = int(self._last_ticks[j])
                volume = round(volumes[0, j]) if len(volumes) else 1
                self._publish_step(j, product, now, price, max(1, volume), book=True)
            self._next_ns = now + self.source.step_ns
            self.engine.publish([CandlesTicked(now)])
            return now

    def _publish_step(
        self,
        j: int,
        product: SimProduct,
        ts: int,
        ticks: int,
        volume: int,
        *,
        book: bool,
        tape: bool = True,
    ) -> None:
        previous = int(self._last_ticks[j])
        aggressor = BUY if ticks > previous else SELL if ticks < previous else None
        self._last_ticks[j] = ticks
        if self._next_funding and ts >= self._next_funding[j]:
            self._fund(j, product, ts)
        if volume:
            self.candles.add(product.symbol, ts, ticks, float(volume))
        if self.bar_path:  # the backtest's step: its trade fills our orders on both sides
            self.engine.path_step_at(product.symbol, ts, ticks, volume, tape=tape)
            return
        bids, asks = self._levels(product, ticks) if book else (None, None)
        self.engine.market_tick_at(
            product.symbol,
            ts,
            trade=(ticks, volume, aggressor) if volume else None,
            mark_ticks=ticks,
            bids=bids,
            asks=asks,
            tape=tape,
        )

    def _fund(self, j: int, product: SimProduct, ts: int) -> None:
        """Exchange the funding due at or before ``ts`` (at the mark before this step)."""
        interval = product.funding_interval_s * _NS
        self._next_funding[j] = ts - ts % interval + interval
        rate = self.source.funding_rate_pct(j)
        self.engine.apply_funding(product.symbol, rate, self._next_funding[j], ts)

    def _levels(self, product: SimProduct, mid: int) -> tuple[dict[int, int], dict[int, int]]:
        """A synthetic book around ``mid``: BOOK_LEVELS levels a side, one step apart."""
        step = product.level_step_ticks
        best_bid = mid - max(1, step // 2)
        best_ask = best_bid + step
        sizes = self._rng.integers(
            product.level_size // 2, product.level_size * 3 // 2 + 1, size=2 * BOOK_LEVELS
        )
        bids = {best_bid - i * step: int(sizes[i]) for i in range(BOOK_LEVELS)}
        asks = {best_ask + i * step: int(sizes[BOOK_LEVELS + i]) for i in range(BOOK_LEVELS)}
        return {p: s for p, s in bids.items() if p > 0}, asks
