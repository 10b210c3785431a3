"""Market-data plumbing between the market actors: resyncs, reconnects, history, health.

``_market`` holds what the venue observes (books, candles, trades); this module holds what the
market actors tell each other about that data: a book asking the stream for a fresh snapshot
(:class:`ResyncBook`), the stream announcing a new connection (:class:`StreamConnected`), a
feed handing over its closed-candle history (:class:`CandleHistoryLoaded`), and the per-symbol
health each actor publishes periodically and on every change (:class:`BookHealth`,
:class:`FeedHealth`). See ``docs/market.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from messages._base import Command, Event
from messages._market import Candle


@dataclass(frozen=True, slots=True, kw_only=True)
class ResyncBook(Command):
    """Ask the public stream to resubscribe one symbol's book so a fresh snapshot follows.

    Attributes:
        symbol: Venue symbol whose book lost integrity.
        reason: Why: ``"gap"``, ``"checksum"``, ``"overflow"``, ``"start"`` or ``"timeout"``.
        command_id: Unique id of this command.
        ts_init: Creation time, ns.
    """

    symbol: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamConnected(Event):
    """The public stream (re)connected; every subscription starts again from a snapshot.

    Data sent before this event belongs to the previous connection; a feed treats the candle
    that was forming when the connection dropped as unconfirmed.

    Attributes:
        connection: Connection count of this stream incarnation, 1 for the first.
        ts_event: When the connection opened, ns. ts_init: creation time, ns.
    """

    connection: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CandleHistoryLoaded(Event):
    """A symbol's closed candles, oldest first, for consumers that start from history.

    Published by the feed once it has loaded history and seen the first live candle, and
    sent again to any actor that asks (a restarted indicators or correlation actor).

    Attributes:
        symbol: Venue symbol.
        timeframe_ns: Candle length, ns.
        candles: Closed candles, oldest first, strictly increasing open times.
        ts_event: Close time of the newest candle (or ts_init when empty), ns.
        ts_init: Creation time, ns.
    """

    symbol: str
    timeframe_ns: int
    candles: tuple[Candle, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class BookHealth(Event):
    """One symbol's order-book health, published periodically and on every sync change.

    Attributes:
        symbol: Venue symbol.
        synced: True when the book is a snapshot plus every update since, checks passing.
        stale: True when no book message arrived within the staleness limit.
        age_ns: Runtime-clock time since the last applied book message, ns; None if none yet.
        resyncs: Resynchronisations requested or forced so far (all reasons).
        gaps: Sequence gaps detected.
        checksum_errors: Checksum mismatches detected.
        feed_errors: Error frames (``BookFeedFailed``) received.
        overflows: Times the coalescing buffer overflowed and was dropped.
        updates: Book updates applied.
        max_batch: Most updates applied in one wake-up (the coalescing depth).
        ts_event: When measured (runtime clock), ns. ts_init: creation time, ns.
    """

    symbol: str
    synced: bool
    stale: bool
    age_ns: int | None
    resyncs: int
    gaps: int
    checksum_errors: int
    feed_errors: int
    overflows: int
    updates: int
    max_batch: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedHealth(Event):
    """One symbol's candle-feed health, published periodically and on every change.

    Indicators publish only while the latest ``FeedHealth`` of their symbol says synced
    and not stale.

    Attributes:
        symbol: Venue symbol.
        synced: True once history is loaded and no gap is waiting for its backfill.
        stale: True when no candle or trade frame arrived within the staleness limit.
        age_ns: Runtime-clock time since the last candle or trade frame, ns; None if none.
        candles_closed: Candles published as closed (live and backfilled).
        gaps_backfilled: Gaps filled over REST.
        candles_backfilled: Candles fetched over REST to fill gaps.
        candles_rejected: Duplicate or out-of-order candle frames rejected.
        history_candles: Candles loaded at start.
        ts_event: When measured (runtime clock), ns. ts_init: creation time, ns.
    """

    symbol: str
    synced: bool
    stale: bool
    age_ns: int | None
    candles_closed: int
    gaps_backfilled: int
    candles_backfilled: int
    candles_rejected: int
    history_candles: int
