"""The market actors: public stream, order books, candle feeds, indicators, correlation.

Each actor is a plain logic class (no threads, clock or I/O; unit-tested without a runtime)
plus a thin shell. :func:`market_tree` builds the whole one_for_one market subtree from
settings. See docs/market.md.

Logic: :class:`OrderBook`, :class:`CandleFeed`, :class:`SymbolIndicators`,
:class:`CorrelationTracker`, :class:`StreamRouter`, :class:`BookChannel` (the coalescing
mailbox). Shells: :class:`OrderBookActor`, :class:`SymbolFeedActor`,
:class:`IndicatorsActor`, :class:`CorrelationActor`, :class:`PublicStreamActor`.
"""

from actors.market._book import BookStep, OrderBook
from actors.market._book_actor import OrderBookActor
from actors.market._channel import BookChannel, BookDataReady
from actors.market._common import (
    CORRELATION_ID,
    STREAM_ID,
    book_id,
    feed_id,
    indicators_id,
)
from actors.market._correlation import CorrelationActor, CorrelationTracker
from actors.market._feed import CandleFeed, FeedStep
from actors.market._feed_actor import SymbolFeedActor, kept_candles, rest_factory
from actors.market._indicators import IndicatorsActor, SymbolIndicators
from actors.market._stream import PublicStreamActor, StreamRouter
from actors.market._tree import MARKET_ID, MarketTiming, market_tree

__all__ = [
    "CORRELATION_ID",
    "MARKET_ID",
    "STREAM_ID",
    "BookChannel",
    "BookDataReady",
    "BookStep",
    "CandleFeed",
    "CorrelationActor",
    "CorrelationTracker",
    "FeedStep",
    "IndicatorsActor",
    "MarketTiming",
    "OrderBook",
    "OrderBookActor",
    "PublicStreamActor",
    "StreamRouter",
    "SymbolFeedActor",
    "SymbolIndicators",
    "book_id",
    "feed_id",
    "indicators_id",
    "kept_candles",
    "market_tree",
    "rest_factory",
]
