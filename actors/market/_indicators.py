"""SymbolIndicators (logic) and IndicatorsActor (shell): one symbol's streaming indicators.

The logic owns an :class:`~indicators.IndicatorSet`. History (:class:`CandleHistoryLoaded`,
or the feed's :class:`FetchCandlesReply` after a restart) resets it and warms it up in one
numba call, from the float columns the feed shared with the history when it did
(:func:`~actors.market._columns.history_array`: no ``Decimal`` conversion); then each
:class:`CandleClosed` is one ``update``. An :class:`~messages.IndicatorsUpdated` is
produced per candle only while the symbol's feed is healthy (its latest
:class:`FeedHealth` says synced and not stale); state is updated regardless, so values are
right again as soon as the feed is. Candles before the history, or not after the last one,
are ignored (the history covers them).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from actors._actor import Actor
from actors.market._columns import history_array
from actors.market._common import feed_id
from indicators import IndicatorInputError, IndicatorSet, IndicatorValues
from messages import (
    ActorId,
    Candle,
    CandleClosed,
    CandleHistoryLoaded,
    FeedHealth,
    FetchCandles,
    FetchCandlesReply,
    IndicatorsUpdated,
    UnixNanos,
)

__all__ = ["INDICATOR_FIELDS", "IndicatorsActor", "SymbolIndicators"]

INDICATOR_FIELDS = (
    "ema_fast",
    "ema_mid",
    "ema_slow",
    "ema_trend",
    "rsi",
    "atr",
    "adx",
    "pivot_p",
    "pivot_r1",
    "pivot_r2",
    "pivot_s1",
    "pivot_s2",
)
"""The indicator values an ``IndicatorsUpdated`` carries (live here, and in the backtest)."""
_END_OF_TIME = 2**62


class SymbolIndicators:
    """Streaming indicators of one symbol, gated on feed health (see the module docstring).

    Args:
        symbol: Venue symbol.
        make_set: Builds a cold IndicatorSet (from the strategy settings).
    """

    def __init__(self, symbol: str, make_set: Callable[[], IndicatorSet]) -> None:
        self.symbol = symbol
        self._make_set = make_set
        self.set: IndicatorSet | None = None
        self.last_open_ns: int | None = None
        self.feed_ok = False
        self.rejected = 0
        self.published = 0
        self.withheld = 0

    def on_history(self, candles: Sequence[Candle], now_ns: int) -> IndicatorsUpdated | None:
        """Reset and warm up from ``candles`` (oldest first); the result for the last one."""
        if not candles:
            return None
        fresh = self._make_set()
        values = fresh.warmup(history_array(candles))  # the feed's floats when it shared them
        self.set, self.last_open_ns = fresh, candles[-1].open_time_ns
        return self._result(candles[-1], values, now_ns)

    def on_candle(self, candle: Candle, now_ns: int) -> IndicatorsUpdated | None:
        """One closed candle: one update."""
        last = self.last_open_ns
        if self.set is None or (last is not None and candle.open_time_ns <= last):
            return None
        try:
            values = self.set.update(candle)
        except IndicatorInputError:
            self.rejected += 1  # the set is unchanged; the candle is dropped
            return None
        self.last_open_ns = candle.open_time_ns
        return self._result(candle, values, now_ns)

    def on_feed_health(self, health: FeedHealth) -> None:
        """Track whether the feed may be trusted."""
        self.feed_ok = health.synced and not health.stale

    def _result(
        self, candle: Candle, values: IndicatorValues | None, now_ns: int
    ) -> IndicatorsUpdated | None:
        if values is None or not self.feed_ok:
            self.withheld += values is not None
            return None
        self.published += 1
        valid = set(values.valid_names())
        return IndicatorsUpdated(
            ts_event=candle.close_time_ns,
            ts_init=UnixNanos(now_ns),
            symbol=self.symbol,
            open_time_ns=candle.open_time_ns,
            close=candle.close,
            valid=tuple(name for name in INDICATOR_FIELDS if name in valid),
            bars_seen=int(values.bars_seen),
            **{name: float(getattr(values, name)) for name in INDICATOR_FIELDS},
        )


class IndicatorsActor(Actor):
    """Shell of :class:`SymbolIndicators`: subscribes to its symbol's feed (key = symbol).

    On start (and after a restart) it asks the feed for the kept history; until it arrives,
    candles are ignored (the history will hold them).
    """

    def __init__(self, symbol: str, make_set: Callable[[], IndicatorSet]) -> None:
        self.symbol = symbol
        self.logic = SymbolIndicators(symbol, make_set)
        self._requests = itertools.count(1)

    def on_start(self) -> None:
        """Subscribe to the symbol's candles, history and feed health; ask for history."""
        for kind in (CandleClosed, CandleHistoryLoaded, FeedHealth):
            self.context.subscribe(kind, key=self.symbol)
        now = UnixNanos(self.context.now_ns())
        request = FetchCandles(
            request_id=f"{self.context.actor_id}/{self.context.incarnation}/{next(self._requests)}",
            reply_to=ActorId(self.context.actor_id),
            ts_init=now,
            symbol=self.symbol,
            timeframe_ns=0,
            start_ns=UnixNanos(0),
            end_ns=UnixNanos(_END_OF_TIME),
        )
        self.context.send(feed_id(self.symbol), request)

    def on_candle_history_loaded(self, event: CandleHistoryLoaded) -> None:
        """The feed's history: warm up."""
        self._publish(self.logic.on_history(event.candles, self.context.now_ns()))

    def on_fetch_candles_reply(self, reply: FetchCandlesReply) -> None:
        """History after a restart: warm up."""
        self._publish(self.logic.on_history(reply.candles, self.context.now_ns()))

    def on_candle_closed(self, event: CandleClosed) -> None:
        """One closed candle."""
        self._publish(self.logic.on_candle(event.candle, self.context.now_ns()))

    def on_feed_health(self, health: FeedHealth) -> None:
        """Gate publication on the feed's health."""
        self.logic.on_feed_health(health)

    def describe(self) -> dict[str, object]:
        """Bars seen, gate and counters."""
        logic = self.logic
        bars = None if logic.set is None else logic.set.bars_seen
        return {"bars_seen": bars, "feed_ok": logic.feed_ok, "published": logic.published,
                "withheld": logic.withheld, "rejected": logic.rejected}  # fmt: skip

    def _publish(self, message: IndicatorsUpdated | None) -> None:
        if message is not None:
            self.context.publish(message, key=self.symbol)
