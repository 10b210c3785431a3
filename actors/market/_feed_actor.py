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

Warm restart: the actor is durable (market-derived state, committed lazily). The kept
closed candles live in a series of the store (:class:`~actors._storage_writer.PutSeries`,
one row per candle: :func:`~actors.market._columns.row_bytes`, exact strings and float64),
each written once: the whole history after a cold start, then each candle as it closes
(published or backfilled), the rows older than the ``keep`` window dropped as new ones
come. The snapshot itself (schema 3) only says which symbol and timeframe the series
holds; it is committed once, after the first rows. (Until schema 2 the snapshot was the
whole window, re-serialised every few candles: about 0.3 MB a symbol per write, and large
transient buffers on the actor threads; schemas 1 and 2 are still read.) Nothing is
written while a restore waits for its first live frame. The float columns go with a
published history (:func:`~actors.market._columns.share_floats`), so its consumers
convert nothing. On start it reads the series back (:class:`~actors._storage_writer.
LoadSeries`); if the candles are recent (the newest within ``keep`` candles of now) and of
its symbol and timeframe, they are its history and only the candles missing since are
fetched (:meth:`CandleFeed.on_kept`); otherwise it loads the full REST history, which
replaces the series. Without a storage writer in the tree it always starts cold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx
import orjson

from actors._clock import WallClock
from actors._durable import STORAGE_ID, DurableActor
from actors._storage_writer import LoadSeries, PutSeries, SeriesLoaded
from actors.market._columns import (
    RowCache,
    candles_from_rows,
    columns_from_state,
    row_bytes,
    share_floats,
    unshare_floats,
)
from actors.market._common import HEALTH_DUE, TICK, HealthDue, Tick, feed_id
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
from storage import Store

__all__ = ["LoadHistory", "RetryBackfill", "SymbolFeedActor", "kept_candles"]

_NS = 1_000_000_000


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
    state_schema = 3
    """3: the candles are in the store's series; 2 (the columnar form,
    ``_columns.columns_state``) and 1 (the row form) held them inline and are still read."""

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
        self._rows = RowCache()  # the restored candles' strings and floats, until the history
        self._in_series = False  # a snapshot says the series holds this symbol and timeframe
        self._stored_last: int | None = None  # newest open time in the series; None: replace
        self._awaiting_series = False
        self._shared: tuple[Candle, ...] | None = None  # the history whose floats are shared

    def on_start(self) -> None:
        """Subscribe to reconnects, arm the timers, restore the kept candles."""
        self.context.subscribe(StreamConnected)
        self.context.schedule_repeating(self.tick_ns, TICK)
        self.context.schedule_repeating(self.health_ns, HEALTH_DUE)
        self.restore()

    @property
    def series(self) -> str:
        """The name of the store series that holds the kept candles (the actor id)."""
        return self.context.actor_id

    def on_restored(self) -> None:
        """Read the series back if the snapshot says it is ours; else start from the candles
        an older snapshot held, or queue the REST history load."""
        if self._in_series and not self._kept and self.context.has_actor(STORAGE_ID):
            self._awaiting_series = True
            self.context.send(STORAGE_ID, LoadSeries(self.series, self.context.actor_id))
            return
        kept, self._kept = self._kept, []
        self._start_from(kept)

    def on_series_loaded(self, loaded: SeriesLoaded) -> None:
        """The stored candles: start from them (bad rows mean a cold start)."""
        if loaded.name != self.series or not self._awaiting_series:
            return
        self._awaiting_series = False
        kept: list[Candle] = []
        try:
            kept, strs, floats = candles_from_rows(
                loaded.rows, symbol=self.symbol, timeframe_ns=self.feed.timeframe_ns
            )
        except ValueError as error:
            self.context.log.warning(
                "%s: stored candles ignored (%s); loading the history", self.series, error
            )
        else:
            self._rows.put(kept, strs, floats)
        self._start_from(kept)

    def _start_from(self, kept: list[Candle]) -> None:
        """Start from ``kept`` if they are recent, else queue the REST history load."""
        step = self.feed.on_kept(kept, self.context.now_ns()) if kept else None
        if step is None:
            if kept:
                self.context.log.info(
                    "%s: kept candles are too old; loading the history", self.context.actor_id
                )
            self._rows = RowCache()
            self._stored_last = None  # the REST history replaces the series
            self.context.send(self.context.actor_id, LoadHistory())
            return
        self.context.log.info(
            "%s: warm start from %d kept candles", self.context.actor_id, len(kept)
        )
        # Restored from the series: it holds them. From an older snapshot: write them all.
        self._stored_last = kept[-1].open_time_ns if self._in_series else None
        self._carry_out(step)

    def snapshot(self) -> bytes:
        """Which symbol and timeframe the series holds (the candles are in the series)."""
        return orjson.dumps(
            {"symbol": self.symbol, "timeframe_ns": self.feed.timeframe_ns, "series": True}
        )

    def load(self, state: bytes, schema: int) -> None:
        """Note whether the series holds this feed's candles (schema 3), or keep an older
        snapshot's candles for :meth:`on_restored`; a bad one means a cold start."""
        try:
            tf = self.feed.timeframe_ns
            value = orjson.loads(state)
            if schema == self.state_schema:
                self._in_series = _series_holds(value, self.symbol, tf)
            elif schema == 2:
                self._kept, strs, floats = columns_from_state(
                    value, symbol=self.symbol, timeframe_ns=tf
                )
                self._rows.put(self._kept, strs, floats)
            elif schema == 1:
                self._kept = candles_from_state(value, symbol=self.symbol, timeframe_ns=tf)
            else:
                raise ValueError(f"schema {schema}, expected {self.state_schema}")
        except ValueError as error:  # orjson.JSONDecodeError is a ValueError
            self.context.log.warning(
                "%s: snapshot ignored (%s); loading the history", self.context.actor_id, error
            )

    def on_stop(self) -> None:
        """Forget the shared floats, close the REST client (every kept candle was sent to the
        series as it closed)."""
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
                    self._rows = RowCache()  # only a history's floats needed them
                    self._shared = message.candles
                    self._store(message.candles, history=True)
                elif type(message) is CandleClosed:
                    if self._shared is shared_before:
                        self._unshare()  # a late consumer converts (the same floats)
                    self._store((message.candle,), history=False)
                self.context.publish(message, key=self.symbol)
            if step.fetch is None:
                return
            start_ns, end_ns = step.fetch
            candles = self._fetch(start_ns, end_ns)
            if candles is None:
                self.context.schedule(self.retry_ns, RetryBackfill(start_ns, end_ns))
                return
            step = self.feed.on_backfill(start_ns, end_ns, candles, self.context.now_ns())

    def _store(self, candles: Sequence[Candle], *, history: bool) -> None:
        """Send the series the published ``candles`` it lacks, dropping the rows older than
        the kept window; commit the snapshot that points at it the first time.

        The series is replaced by the whole kept window when it is to be (a cold start) or
        when a history ends before it does (kept candles the feed dropped: the venue's
        market restarted behind them), so it never holds a candle the feed did not keep.
        """
        closed = self.feed.closed
        if not self.context.has_actor(STORAGE_ID) or not closed:
            return
        last = self._stored_last
        source: Sequence[Candle]
        if last is None or (history and (not candles or candles[-1].open_time_ns < last)):
            replace, after, source = True, -1, closed
        else:
            replace, after, source = False, last, candles
        rows = tuple((c.open_time_ns, row_bytes(c)) for c in source if c.open_time_ns > after)
        if not rows:
            return
        self.context.send(
            STORAGE_ID,
            PutSeries(self.series, rows, keep_from=closed[0].open_time_ns, replace=replace),
        )
        self._stored_last = rows[-1][0]
        if not self._in_series:
            self._in_series = True
            self.changed()

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


def _series_holds(state: object, symbol: str, timeframe_ns: int) -> bool:
    """Whether a schema-3 feed snapshot says the series holds ``symbol``'s candles of
    ``timeframe_ns``.

    Raises:
        ValueError: ``state`` is not such a snapshot.
    """
    if not isinstance(state, dict) or state.get("series") is not True:
        raise ValueError("not a series snapshot")
    return state.get("symbol") == symbol and state.get("timeframe_ns") == timeframe_ns


def kept_candles(store: Store, symbol: str, timeframe_ns: int) -> list[Candle]:
    """The closed candles ``symbol``'s feed kept in ``store`` (for tools and tests; the feed
    reads them through the writer): from the series (snapshot schema 3) or from an older
    snapshot's inline candles; ``[]`` when none, or when they are another timeframe's.

    Raises:
        ValueError: The stored candles are damaged.
    """
    snap = store.get_snapshot(feed_id(symbol))
    if snap is None:
        return []
    state = orjson.loads(snap.state)
    if snap.schema == SymbolFeedActor.state_schema:
        if not _series_holds(state, symbol, timeframe_ns):
            return []
        rows = store.read_series(feed_id(symbol))
        return candles_from_rows(rows, symbol=symbol, timeframe_ns=timeframe_ns)[0]
    return candles_from_state(state, symbol=symbol, timeframe_ns=timeframe_ns)


def rest_factory(base_url: str, settings: ExchangeSettings) -> RestFactory:
    """A factory of unauthenticated REST clients on the venue's wall clock."""
    return lambda: DeltaRestClient(
        base_url, api_key=None, api_secret=None, settings=settings, clock=WallClock()
    )
