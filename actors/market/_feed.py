"""CandleFeed: one symbol's closed candles, in order, without gaps or duplicates.

Pure logic (STYLE rule 2): the :class:`SymbolFeedActor` shell does the REST calls and the
timers and feeds the results in with the runtime clock's time.

How a candle closes: the candlestick channel repeats the *forming* candle (its open time and
OHLCV so far); a frame with a later open time closes the forming one with the last values
seen (the venue sends a closed candle's final values before the next one starts).

Start: history (closed candles over REST) is kept until the first live frame arrives; history
candles at or after that frame's open are dropped, so a runtime clock that disagrees with the
venue's cannot turn a forming candle into a closed one. The candle just before that frame is
dropped too and fetched again as a start-up gap: the history request may have caught it still
forming (its last trades after the request), and only a request made after the venue moved on
is sure to return its final values. Then :class:`CandleHistoryLoaded` is published.

Warm start (:meth:`CandleFeed.on_kept`): the closed candles a previous run kept (its
snapshot) replace the REST history. They are final (each was published as closed), so none
is fetched again: at the first live frame, the candles missing between the last kept one and
that frame's candle are fetched over REST (nothing when the restart stayed within one
candle) and join the history before it is published, so consumers see one
:class:`CandleHistoryLoaded`, as after a cold start. :func:`candles_state` and
:func:`candles_from_state` are the snapshot's compact form.

Gaps: when the next closed candle is not the previous one plus one timeframe, the missing
range is asked for over REST (:attr:`FeedStep.fetch`) and later candles wait behind it, so
consumers always see open times in order. A candle whose final frames may have been missed
(the connection dropped while it formed, or the stream jumped past it) is *untrusted*: it is
fetched over REST with the gap instead of being published from frames. Frames for a candle
older than the forming one, and closed candles not after the last one, are rejected and
counted (duplicates and out-of-order data).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from actors.market._columns import columns_from_state
from messages import (
    Candle,
    CandleClosed,
    CandleHistoryLoaded,
    CandleUpdated,
    FeedHealth,
    Message,
    UnixNanos,
)

__all__ = ["CandleFeed", "FeedStep", "candles_from_state", "candles_state"]


class FeedStep(NamedTuple):
    """What one call asks the shell to do.

    Attributes:
        publish: Messages to publish under the symbol's key, in order.
        fetch: An open-time range ``[start_ns, end_ns)`` to fetch over REST, or None.
    """

    publish: list[Message]
    fetch: tuple[int, int] | None


class CandleFeed:
    """Close detection, ordering and gap backfill for one symbol; see the module docstring.

    Args:
        symbol: Venue symbol.
        timeframe_ns: Candle length, ns.
        keep: Closed candles kept (history served to restarted consumers).
        stale_after_ns: Runtime-clock time without a frame after which the feed is stale.
    """

    def __init__(self, symbol: str, *, timeframe_ns: int, keep: int, stale_after_ns: int) -> None:
        self.symbol = symbol
        self.timeframe_ns = timeframe_ns
        self.stale_after_ns = stale_after_ns
        self.closed: deque[Candle] = deque(maxlen=keep)
        self.forming: Candle | None = None
        self.gap: tuple[int, int] | None = None
        self.stale = True
        self._history: list[Candle] | None = None
        self._started = False
        self._first_open: int | None = None
        self._held: list[Candle] = []
        self._suspect: int | None = None
        self._fetched_to = 0  # open times before this were asked over REST: holes accepted
        self._last_rx_ns: int | None = None
        self._reported: tuple[bool, bool] | None = None
        self.candles_closed = 0
        self.gaps_backfilled = 0
        self.candles_backfilled = 0
        self.candles_rejected = 0
        self.history_candles = 0
        self.restored_candles = 0
        self._kept = False

    @property
    def synced(self) -> bool:
        """History published and no gap waiting for its backfill."""
        return self._started and self.gap is None

    @property
    def last_open_ns(self) -> int | None:
        """Open time of the last closed candle published, or None."""
        return self.closed[-1].open_time_ns if self.closed else None

    def health(self, now_ns: int) -> FeedHealth:
        """The feed's health fields at ``now_ns`` (runtime clock)."""
        last = self._last_rx_ns
        return FeedHealth(
            ts_event=UnixNanos(now_ns),
            ts_init=UnixNanos(now_ns),
            symbol=self.symbol,
            synced=self.synced,
            stale=self.stale,
            age_ns=None if last is None else max(0, now_ns - last),
            candles_closed=self.candles_closed,
            gaps_backfilled=self.gaps_backfilled,
            candles_backfilled=self.candles_backfilled,
            candles_rejected=self.candles_rejected,
            history_candles=self.history_candles,
        )

    def history_between(self, start_ns: int, end_ns: int) -> tuple[Candle, ...]:
        """Closed candles kept with open time in ``[start_ns, end_ns)``, oldest first."""
        return tuple(c for c in self.closed if start_ns <= c.open_time_ns < end_ns)

    # -- inputs ----------------------------------------------------------------------------

    def on_history(self, candles: Sequence[Candle], now_ns: int) -> FeedStep:
        """History arrived over REST (closed candles, any order, may overlap the live ones)."""
        if self._started:
            return FeedStep([], None)
        self._history = sorted(candles, key=lambda c: c.open_time_ns)
        return self._finish(self._try_start(now_ns), now_ns)

    def on_kept(self, candles: Sequence[Candle], now_ns: int) -> FeedStep | None:
        """Closed candles a previous run kept (its snapshot), in place of the REST history.

        Returns None, and the caller loads the REST history, when there are none, or when
        even the newest is older than ``keep`` candles before ``now_ns`` (runtime clock): a
        REST history would replace all of them anyway. See the module docstring.
        """
        if self._started or self._history is not None or not candles:
            return None
        ordered = sorted(candles, key=lambda c: c.open_time_ns)
        tf = self.timeframe_ns
        keep = self.closed.maxlen or len(ordered)
        if ordered[-1].open_time_ns < now_ns // tf * tf - keep * tf:
            return None
        self._history = ordered[-keep:]
        self._kept = True
        self.restored_candles = len(self._history)
        return self._finish(self._try_start(now_ns), now_ns)

    def on_candle(self, update: CandleUpdated, now_ns: int) -> FeedStep:
        """One candlestick frame: the forming candle, possibly closing the previous one."""
        candle = update.candle
        self._last_rx_ns = now_ns
        self.stale = False
        out: list[Message] = []
        fetch = None
        forming = self.forming
        if forming is None:
            self.forming = candle
            if self._first_open is None:
                self._first_open = candle.open_time_ns
                out, fetch = self._try_start(now_ns)
        elif candle.open_time_ns == forming.open_time_ns:
            self.forming = candle
        elif candle.open_time_ns > forming.open_time_ns:
            self.forming = candle
            trusted = (
                forming.open_time_ns != self._suspect
                and candle.open_time_ns == forming.open_time_ns + self.timeframe_ns
            )
            if self._started:
                fetch = self._accept(
                    forming, trusted=trusted, out=out, now_ns=now_ns, until_ns=candle.open_time_ns
                )
            else:
                self._held.append(forming)
        else:
            self.candles_rejected += 1
        return self._finish((out, fetch), now_ns)

    def on_trade(self, now_ns: int) -> None:
        """A trade arrived: the feed is alive."""
        self._last_rx_ns = now_ns

    def on_reconnected(self) -> None:
        """The stream reconnected: the candle forming meanwhile may miss its final frames."""
        if self.forming is not None:
            self._suspect = self.forming.open_time_ns

    def on_backfill(
        self, start_ns: int, end_ns: int, candles: Iterable[Candle], now_ns: int
    ) -> FeedStep:
        """The REST answer for ``[start_ns, end_ns)``; releases the candles held behind it."""
        if self.gap != (start_ns, end_ns):
            return FeedStep([], None)
        self.gap = None
        self.gaps_backfilled += 1
        self._fetched_to = max(self._fetched_to, end_ns)
        if not self._started:  # the range missing after a kept history: part of it
            assert self._history is not None
            got = sorted(
                (c for c in candles if start_ns <= c.open_time_ns < end_ns),
                key=lambda c: c.open_time_ns,
            )
            self.candles_backfilled += len(got)
            history = [c for c in self._history if c.open_time_ns < start_ns] + got
            return self._finish(self._start(history, now_ns), now_ns)
        out: list[Message] = []
        last = self.last_open_ns
        for candle in sorted(candles, key=lambda c: c.open_time_ns):
            t = candle.open_time_ns
            if start_ns <= t < end_ns and (last is None or t > last):
                self._emit(candle, backfilled=True, out=out, now_ns=now_ns)
                self.candles_backfilled += 1
                last = t
        if self._suspect is not None and start_ns <= self._suspect < end_ns:
            self._suspect = None
        return self._finish((out, self._release(out, now_ns)), now_ns)

    def on_tick(self, now_ns: int) -> FeedStep:
        """Timer check: staleness (health is published when it changes)."""
        last = self._last_rx_ns
        self.stale = last is None or now_ns - last > self.stale_after_ns
        return self._finish(([], None), now_ns)

    # -- internals -------------------------------------------------------------------------

    def _try_start(self, now_ns: int) -> tuple[list[Message], tuple[int, int] | None]:
        if self._history is None or self._first_open is None:
            return [], None
        first = self._first_open
        tf = self.timeframe_ns
        if self._kept:  # final candles: fetch what is missing up to the first live one
            history = [c for c in self._history if c.open_time_ns < first]
            keep = self.closed.maxlen or 1
            start = history[-1].open_time_ns + tf if history else first - keep * tf
            if start < first:
                self._history = history
                self.gap = (start, first)
                return [], self.gap
            return self._start(history, now_ns)
        # The candle before the first live frame may have been forming at the request.
        return self._start([c for c in self._history if c.open_time_ns < first - tf], now_ns)

    def _start(
        self, history: list[Candle], now_ns: int
    ) -> tuple[list[Message], tuple[int, int] | None]:
        """Publish ``history`` (closed candles, in order), then the candles held meanwhile."""
        self._history = None
        self._started = True
        self.closed.extend(history)
        self.history_candles = len(self.closed)
        out: list[Message] = [
            CandleHistoryLoaded(
                ts_event=UnixNanos(history[-1].close_time_ns if history else now_ns),
                ts_init=UnixNanos(now_ns),
                symbol=self.symbol,
                timeframe_ns=self.timeframe_ns,
                candles=tuple(self.closed),
            )
        ]
        fetch = self._release(out, now_ns)
        expected = self._expected_open()
        forming = self.forming
        # The first live candle must directly follow the history (start-up gap).
        if (
            fetch is None
            and forming is not None
            and expected is not None
            and forming.open_time_ns > expected
        ):
            self.gap = fetch = (expected, forming.open_time_ns)
        return out, fetch

    def _expected_open(self) -> int | None:
        """Open time of the next candle to publish: after the last one, and after the
        ranges already fetched over REST (a hole the venue returned is not asked again)."""
        last = self.last_open_ns
        return None if last is None else max(last + self.timeframe_ns, self._fetched_to)

    def _release(self, out: list[Message], now_ns: int) -> tuple[int, int] | None:
        """Accept held candles in order until one opens a new gap."""
        held = sorted(self._held, key=lambda c: c.open_time_ns)
        self._held = []
        for i, candle in enumerate(held):
            fetch = self._accept(
                candle, trusted=candle.open_time_ns != self._suspect, out=out, now_ns=now_ns
            )
            if fetch is not None:
                self._held.extend(c for c in held[i + 1 :] if c.open_time_ns >= fetch[1])
                return fetch
        return None

    def _accept(
        self,
        candle: Candle,
        *,
        trusted: bool,
        out: list[Message],
        now_ns: int,
        until_ns: int | None = None,
    ) -> tuple[int, int] | None:
        """Publish a closed candle in order, or start a backfill; returns the fetch range.

        An untrusted candle is fetched with everything up to ``until_ns`` (the next live
        candle's open time; default: just this candle).
        """
        t = candle.open_time_ns
        if self.gap is not None:
            if t >= self.gap[1]:
                self._held.append(candle)
            return None
        last = self.last_open_ns
        if last is not None and t <= last:
            self.candles_rejected += 1
            return None
        tf = self.timeframe_ns
        expected = self._expected_open()
        start = expected if expected is not None and t > expected else None
        if not trusted:
            self.gap = (t if start is None else start, until_ns or t + tf)
            return self.gap
        if start is not None:
            self.gap = (start, t)
            self._held.append(candle)
            return self.gap
        self._emit(candle, backfilled=False, out=out, now_ns=now_ns)
        return None

    def _emit(self, candle: Candle, *, backfilled: bool, out: list[Message], now_ns: int) -> None:
        self.closed.append(candle)
        self.candles_closed += 1
        out.append(
            CandleClosed(
                ts_event=candle.close_time_ns,
                ts_init=UnixNanos(now_ns),
                candle=candle,
                backfilled=backfilled,
            )
        )

    def _finish(self, step: tuple[list[Message], tuple[int, int] | None], now_ns: int) -> FeedStep:
        """Append a FeedHealth when synced or stale changed (before candles if it turned bad)."""
        out, fetch = step
        state = (self.synced, self.stale)
        if state != self._reported:
            self._reported = state
            health = self.health(now_ns)
            if self.synced and not self.stale:
                out.insert(0, health)  # consumers see "healthy" before the candles it covers
            else:
                out.append(health)
        return FeedStep(out, fetch)


def candles_state(symbol: str, timeframe_ns: int, candles: Iterable[Candle]) -> dict[str, Any]:
    """Closed candles in the snapshot's compact form (JSON-ready).

    ``{"symbol", "timeframe_ns", "candles": [[open_time_ns, open, high, low, close,
    volume], ...]}``, prices and volume as their exact ``Decimal`` strings; the close time
    is the open time plus the timeframe.
    """
    rows = [
        [c.open_time_ns, str(c.open), str(c.high), str(c.low), str(c.close), str(c.volume)]
        for c in candles
    ]
    return {"symbol": symbol, "timeframe_ns": timeframe_ns, "candles": rows}


def candles_from_state(state: Any, *, symbol: str, timeframe_ns: int) -> list[Candle]:
    """The candles of a :func:`candles_state` value (or of the feed's columnar form,
    :func:`~actors.market._columns.columns_state`), or ``[]`` when it is another symbol's
    or timeframe's.

    Raises:
        ValueError: ``state`` is not in that form (a bad row, type or number).
    """
    if isinstance(state, dict) and "open_time_ns" in state:  # the columnar form (schema 2)
        return columns_from_state(state, symbol=symbol, timeframe_ns=timeframe_ns)[0]
    if not isinstance(state, dict) or not isinstance(state.get("candles"), list):
        raise ValueError("not a candles state")
    if state.get("symbol") != symbol or state.get("timeframe_ns") != timeframe_ns:
        return []
    num = Decimal
    try:  # Candle checks every type (InvalidFieldError is a TypeError)
        return [
            Candle(
                symbol=symbol,
                open_time_ns=t,
                close_time_ns=t + timeframe_ns,
                open=num(o),
                high=num(h),
                low=num(lo),
                close=num(c),
                volume=num(v),
            )
            for t, o, h, lo, c, v in state["candles"]
        ]
    except (TypeError, ValueError, InvalidOperation) as exc:
        raise ValueError(f"bad candle row: {exc}") from exc
