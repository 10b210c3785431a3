"""SymbolFeedActor: the shell that runs one symbol's :class:`CandleFeed` and its REST calls.

Runs on its own actor thread. It owns a :class:`~exchange.delta.DeltaRestClient` (one per
actor: the client is confined to one thread; built at the first call, not in ``on_start``),
loads history right after start and fetches gaps when the logic asks; both block this
actor's thread for the duration of the call, while frames wait in its mailbox. A failed call
is retried after ``retry_ns`` (runtime clock); the feed stays unsynced meanwhile. Candles,
history and health are published with key = symbol. Restarted consumers ask for the kept
history with :class:`~messages.FetchCandles` and get a :class:`~messages.FetchCandlesReply`
at once (empty, with an error, before history is loaded: they then get the published
:class:`~messages.CandleHistoryLoaded`).

Warm restart: the actor is durable (market-derived state, committed lazily). Its snapshot is
the kept closed candles in columns (:func:`~actors.market._columns.columns_state`: exact
strings and float64; schema 1, the row form, is still read), committed after a history,
then every ``SNAPSHOT_EVERY`` closed candles and at a clean stop, never per frame, and never
while a restore waits for its first live frame. The float columns go with a published
history (:func:`~actors.market._columns.share_floats`), so its consumers convert nothing. On
start it restores them; if they are recent (the newest within ``keep`` candles of now)
and of its symbol and timeframe, they are its history and only the candles missing since
are fetched (:meth:`CandleFeed.on_kept`); otherwise it loads the full REST history.
Without a storage writer in the tree it always starts cold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import orjson

from actors._clock import WallClock
from actors._durable import DurableActor
from actors.market._columns import (
    RowCache,
    columns_from_state,
    columns_state,
    share_floats,
    unshare_floats,
)
from actors.market._common import HEALTH_DUE, TICK, HealthDue, Tick
from actors.market._feed import CandleFeed, FeedStep, candles_from_state
from exchange.delta import DeltaRestClient, ExchangeError
from messages import (
    Candle,
    CandleClosed,
    CandleHistoryLoaded,
    CandleUpdated,
    FetchCandles,
    FetchCandlesReply,
    StreamConnected,
    Trade,
    UnixNanos,
)
from messages.settings import ExchangeSettings

__all__ = ["LoadHistory", "RetryBackfill", "SymbolFeedActor"]

_NS = 1_000_000_000
SNAPSHOT_EVERY = 15
"""Closed candles between two snapshots of the kept candles."""


@dataclass(frozen=True, slots=True)
class LoadHistory:
    """To itself: fetch the start-up history now (runtime-internal)."""


@dataclass(frozen=True, slots=True)
class RetryBackfill:
    """To itself: fetch ``[start_ns, end_ns)`` again after a failure (runtime-internal)."""

    start_ns: int
    end_ns: int


RestFactory = Callable[[], DeltaRestClient]


class SymbolFeedActor(DurableActor):
    """Shell of :class:`CandleFeed` (see the module docstring).

    Args:
        symbol: Venue symbol.
        timeframe: Resolution name (``"15m"``).
        timeframe_ns: Its length, ns.
        keep: Closed candles loaded at start and kept.
        rest: Builds this incarnation's REST client.
        stale_after_ns: Runtime-clock limit without frames before the feed is stale.
        retry_ns: Wait before repeating a failed REST call.
        tick_ns: Period of the staleness check.
        health_ns: Period of the FeedHealth publication.
    """

    market_state = True
    state_schema = 2
    """2: the columnar form (``_columns.columns_state``); 1, the row form, is still read."""

    def __init__(
        self,
        symbol: str,
        *,
        timeframe: str,
        timeframe_ns: int,
        keep: int,
        rest: RestFactory,
        stale_after_ns: int,
        retry_ns: int,
        tick_ns: int,
        health_ns: int,
    ) -> None:
        self.symbol = symbol
        self.timeframe = timeframe
        self.feed = CandleFeed(
            symbol, timeframe_ns=timeframe_ns, keep=keep, stale_after_ns=stale_after_ns
        )
        self.keep = keep
        self._make_rest = rest
        self.rest: DeltaRestClient | None = None
        self.retry_ns = retry_ns
        self.tick_ns = tick_ns
        self.health_ns = health_ns
        self.rest_calls = 0
        self.rest_candles = 0
        self._kept: list[Candle] = []
        self._rows = RowCache()  # the kept candles' strings and floats, once per candle
        self._saved_last: int | None = None  # newest open time in the stored snapshot
        self._shared: tuple[Candle, ...] | None = None  # the history whose floats are shared

    def on_start(self) -> None:
        """Subscribe to reconnects, arm the timers, restore the kept candles."""
        self.context.subscribe(StreamConnected)
        self.context.schedule_repeating(self.tick_ns, TICK)
        self.context.schedule_repeating(self.health_ns, HEALTH_DUE)
        self.restore()

    def on_restored(self) -> None:
        """Start from the kept candles if they are recent, else queue the REST history load."""
        kept, self._kept = self._kept, []
        step = self.feed.on_kept(kept, self.context.now_ns()) if kept else None
        if step is None:
            if kept:
                self.context.log.info(
                    "%s: kept candles are too old; loading the history", self.context.actor_id
                )
            self.context.send(self.context.actor_id, LoadHistory())
            return
        self.context.log.info(
            "%s: warm start from %d kept candles", self.context.actor_id, len(kept)
        )
        self._carry_out(step)

    def snapshot(self) -> bytes:
        """The kept closed candles, columnar (see the module docstring)."""
        return orjson.dumps(
            columns_state(self.symbol, self.feed.timeframe_ns, self.feed.closed, self._rows)
        )

    def load(self, state: bytes, schema: int) -> None:
        """Keep the snapshot's candles for :meth:`on_restored`; a bad one means a cold start."""
        try:
            tf = self.feed.timeframe_ns
            if schema == self.state_schema:
                self._kept, strs, floats = columns_from_state(
                    orjson.loads(state), symbol=self.symbol, timeframe_ns=tf
                )
                self._rows.put(self._kept, strs, floats)
            elif schema == 1:
                self._kept = candles_from_state(
                    orjson.loads(state), symbol=self.symbol, timeframe_ns=tf
                )
            else:
                raise ValueError(f"schema {schema}, expected {self.state_schema}")
            self._saved_last = self._kept[-1].open_time_ns if self._kept else None
        except ValueError as error:  # orjson.JSONDecodeError is a ValueError
            self.context.log.warning(
                "%s: snapshot ignored (%s); loading the history", self.context.actor_id, error
            )

    def on_stop(self) -> None:
        """Store the newest candles (a clean stop restarts without a fetch), forget the shared
        floats, close the REST client."""
        last = self.feed.last_open_ns
        if last is not None and last != self._saved_last:
            self._saved_last = last
            self.changed()
            self.flush_commit()
        self._unshare()
        if self.rest is not None:
            self.rest.close()

    def on_load_history(self, _: LoadHistory) -> None:
        """Fetch the closed candles that precede now (enough for the slowest consumer)."""
        tf = self.feed.timeframe_ns
        end_ns = self.context.now_ns() // tf * tf + 2 * tf
        candles = self._fetch(end_ns - (self.keep + 2) * tf, end_ns)
        if candles is None:
            self.context.schedule(self.retry_ns, LoadHistory())
        else:
            self._carry_out(self.feed.on_history(candles, self.context.now_ns()))

    def on_candle_updated(self, update: CandleUpdated) -> None:
        """A candlestick frame."""
        self._carry_out(self.feed.on_candle(update, self.context.now_ns()))

    def on_trade(self, _: Trade) -> None:
        """A trade: only proves the feed alive."""
        self.feed.on_trade(self.context.now_ns())

    def on_stream_connected(self, _: StreamConnected) -> None:
        """The stream reconnected: the forming candle's final values may be missing."""
        self.feed.on_reconnected()

    def on_retry_backfill(self, retry: RetryBackfill) -> None:
        """Repeat a failed backfill if it is still wanted."""
        if self.feed.gap == (retry.start_ns, retry.end_ns):
            self._carry_out(FeedStep([], self.feed.gap))

    def on_fetch_candles(self, request: FetchCandles) -> None:
        """Answer a restarted consumer from the kept candles (no REST call)."""
        synced = self.feed.synced
        reply = FetchCandlesReply(
            request_id=request.request_id,
            ts_init=UnixNanos(self.context.now_ns()),
            symbol=self.symbol,
            candles=self.feed.history_between(request.start_ns, request.end_ns) if synced else (),
            error=None if synced else "history not loaded yet",
        )
        self.context.send(request.reply_to, reply)

    def on_tick(self, _: Tick) -> None:
        """Staleness check."""
        self._carry_out(self.feed.on_tick(self.context.now_ns()))

    def on_health_due(self, _: HealthDue) -> None:
        """Publish the periodic FeedHealth."""
        self.context.publish(self.feed.health(self.context.now_ns()), key=self.symbol)

    def describe(self) -> dict[str, object]:
        """Health fields, candles restored from the snapshot and REST use, for the console."""
        health = self.feed.health(self.context.now_ns())
        fields = {k: getattr(health, k) for k in health.__dataclass_fields__}
        fields.update(
            restored_candles=self.feed.restored_candles,
            rest_calls=self.rest_calls,
            rest_candles=self.rest_candles,
        )
        return fields

    # -- internals -------------------------------------------------------------------------

    def _carry_out(self, step: FeedStep) -> None:
        shared_before = self._shared  # shared by an earlier handler: its consumers have it
        while True:
            for message in step.publish:
                if type(message) is CandleHistoryLoaded:
                    self._unshare()
                    share_floats(message.candles, self._rows.floats(message.candles))
                    self._shared = message.candles
                elif type(message) is CandleClosed and self._shared is shared_before:
                    self._unshare()  # a late consumer converts (the same floats)
                self.context.publish(message, key=self.symbol)
            last = self.feed.last_open_ns
            # A history or a closed candle; nothing kept yet (a restore waiting for its first
            # live frame) leaves the stored snapshot alone.
            if last is not None and self._snapshot_due(last):
                self._saved_last = last
                self.changed()
            if step.fetch is None:
                return
            start_ns, end_ns = step.fetch
            candles = self._fetch(start_ns, end_ns)
            if candles is None:
                self.context.schedule(self.retry_ns, RetryBackfill(start_ns, end_ns))
                return
            step = self.feed.on_backfill(start_ns, end_ns, candles, self.context.now_ns())

    def _snapshot_due(self, last: int) -> bool:
        """A new history, or ``SNAPSHOT_EVERY`` closed candles since the stored snapshot: the
        snapshot holds up to ``keep`` candles, so writing it per candle would cost more than
        fetching the few candles a restart then misses."""
        saved = self._saved_last
        if saved is None or last < saved:
            return True
        return last - saved >= SNAPSHOT_EVERY * self.feed.timeframe_ns

    def _unshare(self) -> None:
        if self._shared is not None:
            unshare_floats(self._shared)
            self._shared = None

    def _fetch(self, start_ns: int, end_ns: int) -> tuple[Candle, ...] | None:
        """Closed candles with open time in ``[start_ns, end_ns)``; None after a failure."""
        if self.rest is None:
            self.rest = self._make_rest()
        self.rest_calls += 1
        try:
            candles = self.rest.get_candles(
                self.symbol,
                resolution=self.timeframe,
                start_s=start_ns // _NS,
                end_s=-(-end_ns // _NS),
            )
        except (ExchangeError, httpx.HTTPError) as error:
            self.context.log.warning(
                "%s: candles %d..%d failed: %s", self.context.actor_id, start_ns, end_ns, error
            )
            return None
        self.rest_candles += len(candles)
        return candles


def rest_factory(base_url: str, settings: ExchangeSettings) -> RestFactory:
    """A factory of unauthenticated REST clients on the venue's wall clock."""
    return lambda: DeltaRestClient(
        base_url, api_key=None, api_secret=None, settings=settings, clock=WallClock()
    )
