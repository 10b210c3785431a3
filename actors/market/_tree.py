"""market_tree: the market subtree's ChildSpec, built from settings.

    market          Supervisor one_for_one (supervision.max_restarts in within_s, backoff)
    |- book:S       OrderBookActor      for each symbol S in bot.symbols
    |- feed:S       SymbolFeedActor
    |- indicators:S IndicatorsActor
    |- correlation  CorrelationActor
    `- stream:public PublicStreamActor  (last: every receiver exists before frames flow)

one_for_one: any actor restarts alone; a restarted stream does not restart the books (they
resync from the new connection's snapshots), and one symbol's failures never touch another's.
"""

from __future__ import annotations

from actors._specs import Backoff, ChildSpec, Strategy, SupervisorSpec
from actors._supervisor import Supervisor
from actors.market._book_actor import OrderBookActor
from actors.market._channel import BookChannel
from actors.market._common import CORRELATION_ID, STREAM_ID, book_id, feed_id, indicators_id
from actors.market._correlation import CorrelationActor
from actors.market._feed_actor import SymbolFeedActor, rest_factory
from actors.market._indicators import IndicatorsActor
from actors.market._stream import PublicStreamActor
from indicators import IndicatorSet
from messages.settings import TIMEFRAME_SECONDS, Settings

__all__ = ["MARKET_ID", "MarketTiming", "market_tree"]

MARKET_ID = "market"
_NS = 1_000_000_000
_MS = 1_000_000


class MarketTiming:
    """The market actors' intervals on the runtime clock, derived from settings.

    Operational intervals in settings are real time; ``clock_speed`` converts them to the
    runtime clock (the sim's ScaledClock runs ``speed`` times real time), as ``bot.py`` does
    for health reports.
    """

    def __init__(self, settings: Settings, *, clock_speed: float) -> None:

        def real(ns: float) -> int:
            return max(1, int(ns * clock_speed))

        self.stale_after_ns = real(settings.exchange.book_stale_after_ms * _MS)
        self.resync_retry_ns = real(5 * _NS)
        self.rest_retry_ns = real(settings.exchange.backoff_initial_ms * _MS * 4)
        self.tick_ns = real(min(1_000, settings.exchange.book_stale_after_ms // 4) * _MS)
        self.health_ns = real(settings.health.report_interval_s * _NS)
        tf_s = TIMEFRAME_SECONDS[settings.bot.timeframe]
        self.timeframe_ns = tf_s * _NS
        self.correlation_window = max(2, settings.hedge.correlation_window_days * 86_400 // tf_s)
        self.keep = max(settings.exchange.history_candles, self.correlation_window + 1)


def market_tree(
    settings: Settings,
    *,
    rest_url: str,
    public_ws_url: str,
    clock_speed: float = 1.0,
    max_pending_book_messages: int = 20_000,
) -> ChildSpec:
    """Return the market supervisor's ChildSpec (see the module docstring).

    Args:
        settings: All settings; reads ``bot``, ``exchange``, ``strategy``, ``hedge``,
            ``health`` and ``supervision``.
        rest_url: REST base URL (``endpoints_for(settings.exchange).rest_url`` or the sim's).
        public_ws_url: Compact public WebSocket URL.
        clock_speed: Runtime clock speed relative to real time (the sim's ScaledClock).
        max_pending_book_messages: Bound of each symbol's coalescing buffer.
    """
    symbols = settings.bot.symbols
    timing = MarketTiming(settings, clock_speed=clock_speed)
    sup = settings.supervision
    shutdown_ns = sup.shutdown_timeout_ms * _MS
    # A feed may be inside one REST call (with its retries) when asked to stop; give it the
    # whole call's budget rather than abandoning it mid-request.
    ex = settings.exchange
    rest_call_ns = (ex.rest_timeout_ms * (ex.max_retries + 1) + ex.backoff_max_ms) * _MS
    feed_shutdown_ns = max(shutdown_ns, rest_call_ns)
    channels = {s: BookChannel(s, max_pending=max_pending_book_messages) for s in symbols}
    rest = rest_factory(rest_url, settings.exchange)
    strategy = settings.strategy

    def make_set() -> IndicatorSet:
        return IndicatorSet.from_settings(strategy, candle_interval_ns=timing.timeframe_ns)

    children: list[ChildSpec] = []
    for symbol in symbols:
        channel = channels[symbol]
        children += [
            ChildSpec(
                actor_id=book_id(symbol),
                factory=lambda channel=channel: OrderBookActor(  # type: ignore[misc]
                    channel,
                    stale_after_ns=timing.stale_after_ns,
                    resync_retry_ns=timing.resync_retry_ns,
                    tick_ns=timing.tick_ns,
                    health_ns=timing.health_ns,
                ),
                shutdown_timeout_ns=shutdown_ns,
            ),
            ChildSpec(
                actor_id=feed_id(symbol),
                factory=lambda symbol=symbol: SymbolFeedActor(  # type: ignore[misc]
                    symbol,
                    timeframe=settings.bot.timeframe,
                    timeframe_ns=timing.timeframe_ns,
                    keep=timing.keep,
                    rest=rest,
                    stale_after_ns=timing.stale_after_ns,
                    retry_ns=timing.rest_retry_ns,
                    tick_ns=timing.tick_ns,
                    health_ns=timing.health_ns,
                ),
                shutdown_timeout_ns=feed_shutdown_ns,
            ),
            ChildSpec(
                actor_id=indicators_id(symbol),
                factory=lambda symbol=symbol: IndicatorsActor(symbol, make_set),  # type: ignore[misc]
                shutdown_timeout_ns=shutdown_ns,
            ),
        ]
    children.append(
        ChildSpec(
            actor_id=CORRELATION_ID,
            factory=lambda: CorrelationActor(
                symbols, window=timing.correlation_window, timeframe_ns=timing.timeframe_ns
            ),
            shutdown_timeout_ns=shutdown_ns,
        )
    )
    children.append(
        ChildSpec(
            actor_id=STREAM_ID,
            factory=lambda: PublicStreamActor(
                public_ws_url,
                channels=channels,
                timeframe=settings.bot.timeframe,
                settings=settings.exchange,
            ),
            shutdown_timeout_ns=shutdown_ns,
        )
    )
    spec = SupervisorSpec(
        strategy=Strategy.ONE_FOR_ONE,
        max_restarts=max(sup.max_restarts, 2 * len(children)),
        within_ns=sup.within_s * _NS,
        backoff=Backoff(
            initial_ns=sup.backoff_initial_ms * _MS,
            max_ns=sup.backoff_max_ms * _MS,
            reset_after_ns=sup.backoff_reset_after_s * _NS,
        ),
        children=tuple(children),
    )
    return ChildSpec(
        actor_id=MARKET_ID,
        factory=lambda: Supervisor(spec),
        shutdown_timeout_ns=feed_shutdown_ns + shutdown_ns,
    )
