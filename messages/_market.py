"""Market data: candles, order books, trades, mark price, funding and tickers.

Published by the stream and feed actors (``PublicStream``, ``OrderBook``, ``SymbolFeed``)
and consumed by indicators, strategy, risk and positions. Prices are ``Decimal`` quote
currency per contract as the venue quotes them; sizes are integer contracts. Market data
events are named for the observation they carry (``Trade``, ``BookSnapshot``); the
exceptions to "events in the past tense" end here.

For venue data ``ts_event`` is the exchange's timestamp, converted from microseconds to
nanoseconds once, in ``exchange/delta/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from messages._base import Event, Request, Response
from messages._enums import Side
from messages._schema import Value
from messages._types import Contracts, UnixNanos


@dataclass(frozen=True, slots=True, kw_only=True)
class Candle(Value):
    """One OHLCV candle (a value, nested in messages; not a message itself).

    Attributes:
        symbol: Venue symbol, for example ``"BTCUSD"``.
        open_time_ns: Start of the interval, inclusive, ns since the UNIX epoch (UTC).
        close_time_ns: End of the interval, exclusive (``open_time_ns`` + timeframe), ns.
        open: First traded price in the interval, quote currency.
        high: Highest traded price, quote currency.
        low: Lowest traded price, quote currency.
        close: Last traded price, quote currency.
        volume: Traded volume in the interval, contracts (Decimal because venues and
            candle files may report fractional volume).
    """

    symbol: str
    open_time_ns: UnixNanos
    close_time_ns: UnixNanos
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class CandleClosed(Event):
    """A candle's interval ended and its values are final.

    Attributes:
        candle: The final candle.
        backfilled: True when the candle was fetched over REST to fill a gap, False when
            it was built from the live stream.
        ts_event: The candle's close time (exclusive end), ns since the UNIX epoch.
        ts_init: When this object was created, ns.
    """

    candle: Candle
    backfilled: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class BookLevel(Value):
    """One price level of an L2 order book (a value).

    Attributes:
        price: Level price, quote currency.
        size: Total resting size at the price, contracts; 0 in a ``BookUpdate`` means
            "remove this level".
    """

    price: Decimal
    size: Contracts


@dataclass(frozen=True, slots=True, kw_only=True)
class BookSnapshot(Event):
    """The full L2 book of one symbol; replaces whatever the receiver held.

    Attributes:
        symbol: Venue symbol.
        seq: The venue's sequence number of this snapshot; the next update has seq + 1.
        bids: Bid levels, best (highest price) first.
        asks: Ask levels, best (lowest price) first.
        checksum: The venue's CRC32 of the book after this message, or None when the
            venue sent none.
        ts_event: Exchange time of the snapshot, ns. ts_init: creation time, ns.
    """

    symbol: str
    seq: int
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    checksum: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BookUpdate(Event):
    """Changed L2 levels of one symbol, applied on top of the last snapshot.

    A receiver whose last ``seq`` is not ``seq - 1``, or whose book does not match
    ``checksum``, has lost data and must resynchronise from a new snapshot.

    Attributes:
        symbol: Venue symbol.
        seq: The venue's sequence number of this update.
        bids: Changed bid levels; size 0 removes the level.
        asks: Changed ask levels; size 0 removes the level.
        checksum: The venue's CRC32 of the book after this update, or None.
        ts_event: Exchange time of the update, ns. ts_init: creation time, ns.
    """

    symbol: str
    seq: int
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    checksum: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TopOfBook(Event):
    """Best bid and ask of one symbol, published by the book actor when either changes.

    Attributes:
        symbol: Venue symbol.
        best_bid: Highest bid price, quote currency, or None when there is no bid.
        best_bid_size: Size at the best bid, contracts, or None when there is no bid.
        best_ask: Lowest ask price, quote currency, or None when there is no ask.
        best_ask_size: Size at the best ask, contracts, or None when there is no ask.
        synced: True when the book is built from a snapshot plus every update since
            (sequence and checksum checks pass); False while it resynchronises.
        stale: True when no book message arrived within the staleness limit.
        ts_event: Exchange time of the last applied book message, ns. ts_init: creation, ns.
    """

    symbol: str
    best_bid: Decimal | None
    best_bid_size: Contracts | None
    best_ask: Decimal | None
    best_ask_size: Contracts | None
    synced: bool
    stale: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade(Event):
    """One public trade on the venue.

    Attributes:
        symbol: Venue symbol.
        trade_id: The venue's trade id.
        price: Trade price, quote currency.
        size: Trade size, contracts.
        side: The taker's (aggressor's) side.
        ts_event: Exchange time of the trade, ns. ts_init: creation time, ns.
    """

    symbol: str
    trade_id: str
    price: Decimal
    size: Contracts
    side: Side


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkPrice(Event):
    """The venue's mark price, which drives unrealised PnL, liquidations and stops.

    Attributes:
        symbol: Venue symbol.
        price: Mark price, quote currency.
        ts_event: Exchange time, ns. ts_init: creation time, ns.
    """

    symbol: str
    price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class FundingRate(Event):
    """The current funding rate of a perpetual.

    Attributes:
        symbol: Venue symbol.
        rate: Funding rate per funding interval as a fraction (``0.0001`` = 0.01 %);
            positive means longs pay shorts.
        next_funding_ns: When the next funding is exchanged, ns since the UNIX epoch, or
            None when the venue did not say.
        ts_event: Exchange time, ns. ts_init: creation time, ns.
    """

    symbol: str
    rate: Decimal
    next_funding_ns: UnixNanos | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Ticker(Event):
    """The venue's 24-hour ticker for one symbol. A field the venue omits is None.

    Attributes:
        symbol: Venue symbol.
        last_price: Last traded price, quote currency.
        mark_price: Mark price, quote currency.
        index_price: Spot index price, quote currency.
        best_bid: Best bid price, quote currency.
        best_ask: Best ask price, quote currency.
        high_24h: Highest traded price over the last 24 hours, quote currency.
        low_24h: Lowest traded price over the last 24 hours, quote currency.
        volume_24h: Traded volume over the last 24 hours, contracts.
        open_interest: Open interest, contracts.
        funding_rate: Current funding rate as a fraction per funding interval.
        ts_event: Exchange time, ns. ts_init: creation time, ns.
    """

    symbol: str
    last_price: Decimal | None
    mark_price: Decimal | None
    index_price: Decimal | None
    best_bid: Decimal | None
    best_ask: Decimal | None
    high_24h: Decimal | None
    low_24h: Decimal | None
    volume_24h: Decimal | None
    open_interest: Decimal | None
    funding_rate: Decimal | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchCandles(Request):
    """Ask the REST gateway for historical candles (gap backfill, warm-up).

    Attributes:
        symbol: Venue symbol.
        timeframe_ns: Candle length, ns (15 minutes = 900_000_000_000).
        start_ns: Open time of the first candle wanted, inclusive, ns since the UNIX epoch.
        end_ns: Open time bound, exclusive, ns since the UNIX epoch.
        request_id: Echoed by the reply. reply_to: actor that receives the reply.
        ts_init: Creation time, ns.
    """

    symbol: str
    timeframe_ns: int
    start_ns: UnixNanos
    end_ns: UnixNanos


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchCandlesReply(Response):
    """The candles a :class:`FetchCandles` asked for, or why there are none.

    Attributes:
        symbol: Venue symbol, as requested.
        candles: The closed candles found, oldest first; may be shorter than asked when
            the venue has gaps.
        error: None on success; else a one-line cause, and ``candles`` is empty.
        request_id: The request's id. ts_init: creation time, ns.
    """

    symbol: str
    candles: tuple[Candle, ...]
    error: str | None
