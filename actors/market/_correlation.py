"""CorrelationTracker (logic) and CorrelationActor (shell): rolling return correlations.

The hedge picks its asset from these. The tracker owns an
:class:`~indicators.RollingCorrelation` over the configured symbols (30 days of candles by
default) and commits one bar when every symbol's close for that open time is known, in time
order. Each symbol's history (its :class:`CandleHistoryLoaded`, or the feed's
:class:`FetchCandlesReply` after a restart) joins the same pending table, and nothing is
committed until every symbol's history arrived, so bars are never committed out of order.
A bar that one symbol will never complete (that symbol already has a later one) is skipped
and counted. One :class:`~messages.CorrelationUpdated` (no key) is produced per batch of
committed bars. A batch is committed in one warm-up call (bit for bit what bar-by-bar
updates give), from the float closes the feed shared with its history
(:func:`~actors.market._columns.history_array`), so a history costs no per-bar Python work
beyond lining the closes up.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import numpy as np

from actors._actor import Actor
from actors.market._columns import history_array
from actors.market._common import feed_id
from indicators import CorrelationValues, IndicatorInputError, RollingCorrelation
from messages import (
    ActorId,
    Candle,
    CandleClosed,
    CandleHistoryLoaded,
    CorrelationUpdated,
    FetchCandles,
    FetchCandlesReply,
    UnixNanos,
)

__all__ = ["CorrelationActor", "CorrelationTracker"]

_END_OF_TIME = 2**62


class CorrelationTracker:
    """Aligns closes across symbols and feeds the rolling correlation (see module docstring).

    Args:
        symbols: The symbols, in matrix order.
        window: Returns per correlation window.
        max_pending: Bars kept waiting for a slow symbol before the oldest are dropped.
    """

    def __init__(self, symbols: Sequence[str], *, window: int, max_pending: int = 10_000) -> None:
        self.symbols = tuple(symbols)
        self.correlation = RollingCorrelation(window=window, n_symbols=len(self.symbols))
        self.max_pending = max_pending
        self._pending: dict[int, dict[str, float]] = {}
        self._latest: dict[str, int] = {}
        self._loaded: set[str] = set()
        self.last_open_ns: int | None = None
        self.skipped = 0
        self.rejected = 0

    @property
    def ready(self) -> bool:
        """Every symbol's history arrived."""
        return len(self._loaded) == len(self.symbols)

    def on_history(
        self, symbol: str, candles: Iterable[Candle], now_ns: int
    ) -> CorrelationUpdated | None:
        """A symbol's closed candles (oldest first)."""
        if symbol not in self.symbols:
            return None
        history = candles if isinstance(candles, tuple | list) else tuple(candles)
        if history:
            array = history_array(history)  # the feed's floats when it shared them
            self._add_many(symbol, array["open_time_ns"].tolist(), array["close"].tolist())
        self._loaded.add(symbol)
        return self._commit(now_ns)

    def on_candle(self, candle: Candle, now_ns: int) -> CorrelationUpdated | None:
        """One closed candle of any symbol."""
        if candle.symbol not in self.symbols:
            return None
        self._add_many(candle.symbol, [candle.open_time_ns], [float(candle.close)])
        return self._commit(now_ns)

    def _add_many(self, symbol: str, times: list[int], closes: list[float]) -> None:
        floor = self.last_open_ns
        pending = self._pending
        latest = self._latest.get(symbol)
        for t, close in zip(times, closes, strict=True):
            if floor is not None and t <= floor:
                continue
            row = pending.get(t)
            if row is None:
                pending[t] = row = {}
            row[symbol] = close
            if latest is None or t > latest:
                latest = t
            if len(pending) > self.max_pending:
                del pending[min(pending)]
                self.skipped += 1
        if latest is not None:
            self._latest[symbol] = latest

    def _commit(self, now_ns: int) -> CorrelationUpdated | None:
        if not self.ready:
            return None
        n = len(self.symbols)
        times: list[int] = []
        rows: list[list[float]] = []
        for t in sorted(self._pending):
            row = self._pending[t]
            if len(row) < n:
                if all(self._latest.get(s, -1) > t for s in self.symbols if s not in row):
                    del self._pending[t]
                    self.skipped += 1
                    continue
                break
            del self._pending[t]
            times.append(t)
            rows.append([row[s] for s in self.symbols])
        committed, values = self._apply(times, rows)
        if committed is None or values is None:
            return None
        return CorrelationUpdated(
            ts_event=UnixNanos(committed),
            ts_init=UnixNanos(now_ns),
            symbols=self.symbols,
            matrix=values.rows(),
            window=self.correlation.window,
        )

    def _apply(
        self, times: list[int], rows: list[list[float]]
    ) -> tuple[int | None, CorrelationValues | None]:
        """Commit complete bars in order: a batch in one warm-up call, or bar by bar when it
        holds a bad close (that bar is rejected and counted, the others committed)."""
        if len(rows) > 1:
            try:
                values = self.correlation.warmup(np.array(rows, dtype=np.float64))
            except IndicatorInputError:
                pass  # nothing committed: again bar by bar
            else:
                self.last_open_ns = times[-1]
                return times[-1], values
        committed: int | None = None
        values = None
        for t, row in zip(times, rows, strict=True):
            try:
                values = self.correlation.update(row)
            except IndicatorInputError:
                self.rejected += 1
                continue
            self.last_open_ns = committed = t
        return committed, values


class CorrelationActor(Actor):
    """Shell of :class:`CorrelationTracker`; asks every feed for its history on start."""

    def __init__(self, symbols: Sequence[str], *, window: int, timeframe_ns: int) -> None:
        self.symbols = tuple(symbols)
        self.timeframe_ns = timeframe_ns
        self.tracker = CorrelationTracker(self.symbols, window=window)
        self._requests = itertools.count(1)

    def on_start(self) -> None:
        """Subscribe to every symbol's candles and history; ask each feed for its history."""
        now = UnixNanos(self.context.now_ns())
        for symbol in self.symbols:
            self.context.subscribe(CandleClosed, key=symbol)
            self.context.subscribe(CandleHistoryLoaded, key=symbol)
            request_id = (
                f"{self.context.actor_id}/{self.context.incarnation}/{next(self._requests)}"
            )
            self.context.send(
                feed_id(symbol),
                FetchCandles(
                    request_id=request_id,
                    reply_to=ActorId(self.context.actor_id),
                    ts_init=now,
                    symbol=symbol,
                    timeframe_ns=self.timeframe_ns,
                    start_ns=UnixNanos(0),
                    end_ns=UnixNanos(_END_OF_TIME),
                ),
            )

    def on_candle_history_loaded(self, event: CandleHistoryLoaded) -> None:
        """A feed's history."""
        self._publish(self.tracker.on_history(event.symbol, event.candles, self.context.now_ns()))

    def on_fetch_candles_reply(self, reply: FetchCandlesReply) -> None:
        """A feed's kept history after a (re)start; ignored until the feed has one."""
        if reply.error is None:
            self._publish(
                self.tracker.on_history(reply.symbol, reply.candles, self.context.now_ns())
            )

    def on_candle_closed(self, event: CandleClosed) -> None:
        """One closed candle."""
        self._publish(self.tracker.on_candle(event.candle, self.context.now_ns()))

    def describe(self) -> dict[str, object]:
        """Bars committed, readiness and counters."""
        t = self.tracker
        return {"bars_seen": t.correlation.bars_seen, "ready": t.ready, "skipped": t.skipped,
                "rejected": t.rejected}  # fmt: skip

    def _publish(self, message: CorrelationUpdated | None) -> None:
        if message is not None:
            self.context.publish(message, retain=True)
