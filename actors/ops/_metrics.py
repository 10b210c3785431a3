"""What /metrics shows: counters and gauges kept from trading and market events and from the
runtime's health report. A plain logic class (no pykka, no clock, no I/O): the metrics actor
feeds it events and asks it for :class:`~actors.ops._exposition.Family` values to publish.

Counts start at zero when the metrics actor starts (a restart resets them, which Prometheus
treats as a counter reset); sums of money are gauges because fees and PnL can go down.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal

from actors.ops._exposition import Family, MetricType, Number, Sample
from messages import (
    ActorState,
    BookHealth,
    EquityUpdated,
    FeedHealth,
    HealthReport,
    HedgeClosed,
    HedgeOpened,
    KillSwitchReset,
    KillSwitchTriggered,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OverallHealth,
    PositionClosed,
    PositionOpened,
)

_NS = 1_000_000_000
Labels = tuple[tuple[str, str], ...]

EVENTS: tuple[type, ...] = (
    OrderAccepted,
    OrderRejected,
    OrderCancelled,
    OrderFilled,
    PositionOpened,
    PositionClosed,
    HedgeOpened,
    HedgeClosed,
    EquityUpdated,
    KillSwitchTriggered,
    KillSwitchReset,
    FeedHealth,
    BookHealth,
)
"""The event types the metrics actor subscribes to."""


def _seconds(ns: int) -> float:
    return ns / _NS


class Metrics:
    """Counters and gauges from events, plus the latest health report.

    Every ``on_*`` method takes one event; :meth:`families` returns the current values. Not
    thread-safe: one actor owns it.
    """

    def __init__(self) -> None:
        self.orders_accepted: Counter[Labels] = Counter()
        self.orders_rejected: Counter[Labels] = Counter()
        self.orders_cancelled: Counter[Labels] = Counter()
        self.fills: Counter[Labels] = Counter()
        self.filled_contracts: Counter[Labels] = Counter()
        self.fees: dict[Labels, Decimal] = {}
        self.positions_opened: Counter[Labels] = Counter()
        self.positions_closed: Counter[Labels] = Counter()
        self.open_positions: set[str] = set()
        self.hedges_opened: Counter[Labels] = Counter()
        self.hedges_closed: Counter[Labels] = Counter()
        self.open_hedges: set[str] = set()
        self.realised: dict[Labels, Decimal] = {
            (("source", "position"),): Decimal(0),
            (("source", "hedge"),): Decimal(0),
        }
        self.funding = Decimal(0)
        self.closed_fees = Decimal(0)
        self.equity: dict[str, EquityUpdated] = {}
        self.peak: dict[str, Decimal] = {}
        self.kill_switch_triggered = 0
        self.kill_switch_active = False
        self.feeds: dict[str, FeedHealth] = {}
        self.books: dict[str, BookHealth] = {}
        self.report: HealthReport | None = None

    # -- events --------------------------------------------------------------------------

    def on_order_accepted(self, e: OrderAccepted) -> None:
        """An order is open on the exchange."""
        self.orders_accepted[(("symbol", e.symbol),)] += 1

    def on_order_rejected(self, e: OrderRejected) -> None:
        """Refused by the exchange or before sending; labelled by its machine-readable code."""
        self.orders_rejected[(("symbol", e.symbol), ("reason", e.reason_code))] += 1

    def on_order_cancelled(self, e: OrderCancelled) -> None:
        """An order closed without filling completely."""
        self.orders_cancelled[(("symbol", e.symbol),)] += 1

    def on_order_filled(self, e: OrderFilled) -> None:
        """One fill: counted, its contracts and fee added."""
        role = "maker" if e.is_maker else "taker"
        self.fills[(("symbol", e.symbol), ("side", str(e.side)), ("liquidity", role))] += 1
        self.filled_contracts[(("symbol", e.symbol),)] += int(e.size)
        key = (("asset", e.fee_asset),)
        self.fees[key] = self.fees.get(key, Decimal(0)) + e.fee

    def on_position_opened(self, e: PositionOpened) -> None:
        """A position opened."""
        self.positions_opened[(("symbol", e.symbol),)] += 1
        self.open_positions.add(e.position_id)

    def on_position_closed(self, e: PositionClosed) -> None:
        """A position closed: its final PnL, fees and funding join the totals."""
        self.positions_closed[(("symbol", e.symbol),)] += 1
        self.open_positions.discard(e.position_id)
        self._closed((("source", "position"),), e.realised_pnl, e.fees, e.funding)

    def on_hedge_opened(self, e: HedgeOpened) -> None:
        """A hedge started."""
        self.hedges_opened[(("symbol", e.symbol),)] += 1
        self.open_hedges.add(e.hedge_id)

    def on_hedge_closed(self, e: HedgeClosed) -> None:
        """A hedge closed: its final PnL, fees and funding join the totals."""
        self.hedges_closed[(("symbol", e.symbol),)] += 1
        self.open_hedges.discard(e.hedge_id)
        self._closed((("source", "hedge"),), e.realised_pnl, e.fees, e.funding)

    def _closed(self, key: Labels, pnl: Decimal, fees: Decimal, funding: Decimal) -> None:
        self.realised[key] += pnl
        self.closed_fees += fees
        self.funding += funding

    def on_equity_updated(self, e: EquityUpdated) -> None:
        """Account equity: the latest value and its high-water mark since start."""
        self.equity[e.asset] = e
        self.peak[e.asset] = max(self.peak.get(e.asset, e.equity), e.equity)

    def on_kill_switch_triggered(self, _: KillSwitchTriggered) -> None:
        """The kill switch latched."""
        self.kill_switch_triggered += 1
        self.kill_switch_active = True

    def on_kill_switch_reset(self, _: KillSwitchReset) -> None:
        """An operator unlatched it."""
        self.kill_switch_active = False

    def on_feed_health(self, e: FeedHealth) -> None:
        """The latest candle-feed health of one symbol."""
        self.feeds[e.symbol] = e

    def on_book_health(self, e: BookHealth) -> None:
        """The latest order-book health of one symbol."""
        self.books[e.symbol] = e

    def on_health_report(self, report: HealthReport) -> None:
        """The runtime's latest view of every actor and supervisor."""
        self.report = report

    # -- output --------------------------------------------------------------------------

    def families(self, now_ns: int) -> tuple[Family, ...]:
        """Every metric family at runtime-clock time ``now_ns`` (feed and book ages grow from
        the last health event they came in, so a silent feed shows a growing age)."""
        out = _Families()
        self._health_families(out)
        self._trading_families(out)
        self._market_families(out, now_ns)
        return tuple(out.families)

    def _health_families(self, add: _Families) -> None:
        report = self.report
        actors = () if report is None else report.actors
        sups = () if report is None else report.supervisors
        count = Counter(a.state for a in actors)
        add("bot_health", "gauge", "Overall health: 1 for the current status (OK, DEGRADED, "
            "FAILED)",
            [((("status", str(s)),), int(report is not None and report.overall is s))
            for s in OverallHealth])  # fmt: skip
        add("bot_actors", "gauge", "Actors in each lifecycle state",
            [((("state", str(s)),), count[s]) for s in ActorState])  # fmt: skip
        add("bot_actor_state", "gauge", "1 for each actor's current lifecycle state, else 0",
            [((("actor", a.actor_id), ("state", str(s))), int(a.state is s))
            for a in actors for s in ActorState])  # fmt: skip
        add("bot_actor_restarts_total", "counter", "Times each actor was restarted",
            [((("actor", a.actor_id),), a.restarts) for a in actors])  # fmt: skip
        add("bot_actor_inbox_size", "gauge", "Messages waiting in each actor's inbox",
            [((("actor", a.actor_id),), a.inbox_size) for a in actors])  # fmt: skip
        add("bot_actor_uptime_seconds", "gauge", "Time since each actor's incarnation started",
            [((("actor", a.actor_id),), _seconds(a.uptime_ns)) for a in actors])  # fmt: skip
        add("bot_actor_last_message_age_seconds", "gauge",
            "Time since each actor last received a message",
            [((("actor", a.actor_id),), _seconds(a.last_message_age_ns))
            for a in actors if a.last_message_age_ns is not None])  # fmt: skip
        add("bot_supervisor_restarts_in_window", "gauge",
            "Restarts within each supervisor's intensity window",
            [((("supervisor", s.actor_id),), s.restarts_in_window) for s in sups])  # fmt: skip
        add("bot_supervisor_max_restarts", "gauge",
            "Restarts allowed within the window before the supervisor gives up",
            [((("supervisor", s.actor_id),), s.max_restarts) for s in sups])  # fmt: skip

    def _trading_families(self, add: _Families) -> None:
        net = sum(self.realised.values(), Decimal(0)) - self.closed_fees + self.funding
        add("bot_orders_accepted_total", "counter", "Orders the exchange accepted",
            self.orders_accepted.items())  # fmt: skip
        add("bot_orders_rejected_total", "counter", "Orders refused, by reason code",
            self.orders_rejected.items())  # fmt: skip
        add("bot_orders_cancelled_total", "counter", "Orders closed without filling completely",
            self.orders_cancelled.items())  # fmt: skip
        add("bot_fills_total", "counter", "Fills", self.fills.items())
        add("bot_filled_contracts_total", "counter", "Contracts filled",
            self.filled_contracts.items())  # fmt: skip
        add("bot_fill_fees", "gauge", "Fees charged on fills (negative: rebates), fee asset",
            self.fees.items())  # fmt: skip
        add("bot_positions_opened_total", "counter", "Positions opened",
            self.positions_opened.items())  # fmt: skip
        add("bot_positions_closed_total", "counter", "Positions closed",
            self.positions_closed.items())  # fmt: skip
        add("bot_open_positions", "gauge", "Positions open now", [((), len(self.open_positions))])
        add("bot_hedges_opened_total", "counter", "Hedges opened", self.hedges_opened.items())
        add("bot_hedges_closed_total", "counter", "Hedges closed", self.hedges_closed.items())
        add("bot_open_hedges", "gauge", "Hedges open now", [((), len(self.open_hedges))])
        add("bot_realised_pnl", "gauge",
            "Gross realised PnL of closed positions and hedges, settlement asset",
            self.realised.items())  # fmt: skip
        add("bot_net_pnl", "gauge", "Realised PnL minus fees plus funding of closed positions "
            "and hedges, settlement asset", [((), net)])  # fmt: skip
        equity = [((("asset", a),), e) for a, e in sorted(self.equity.items())]
        add("bot_equity", "gauge", "Account equity (balance plus unrealised PnL)",
            ((k, e.equity) for k, e in equity))  # fmt: skip
        add("bot_balance", "gauge", "Wallet balance", ((k, e.balance) for k, e in equity))
        add("bot_available_margin", "gauge", "Margin free for new orders",
            ((k, e.available_margin) for k, e in equity))  # fmt: skip
        add("bot_unrealised_pnl", "gauge", "Unrealised PnL of open positions at mark",
            ((k, e.unrealised_pnl) for k, e in equity))  # fmt: skip
        add("bot_equity_peak", "gauge", "Highest equity seen since the metrics actor started",
            ((k, self.peak[e.asset]) for k, e in equity))  # fmt: skip
        add("bot_drawdown_ratio", "gauge", "Drawdown from bot_equity_peak, 0 to 1 (0.1 = 10 %)",
            ((k, _drawdown(self.peak[e.asset], e.equity)) for k, e in equity))  # fmt: skip
        add("bot_kill_switch_triggered_total", "counter", "Times the kill switch latched",
            [((), self.kill_switch_triggered)])  # fmt: skip
        add("bot_kill_switch_active", "gauge", "1 while the kill switch is latched",
            [((), int(self.kill_switch_active))])  # fmt: skip

    def _market_families(self, add: _Families, now_ns: int) -> None:
        sources: tuple[tuple[str, Mapping[str, FeedHealth | BookHealth]], ...] = (
            ("feed", self.feeds),
            ("book", self.books),
        )
        for kind, events in sources:
            latest: list[tuple[Labels, FeedHealth | BookHealth]] = [
                ((("symbol", symbol),), e) for symbol, e in sorted(events.items())
            ]
            what = "candle feed" if kind == "feed" else "order book"
            add(f"bot_{kind}_age_seconds", "gauge",
                f"Time since the {what}'s last message, runtime clock",
                ((k, _seconds(e.age_ns + max(0, now_ns - e.ts_event)))
                 for k, e in latest if e.age_ns is not None))  # fmt: skip
            add(f"bot_{kind}_stale", "gauge", f"1 while the {what} is stale",
                ((k, int(e.stale)) for k, e in latest))  # fmt: skip
            add(f"bot_{kind}_synced", "gauge", f"1 while the {what} is synced",
                ((k, int(e.synced)) for k, e in latest))  # fmt: skip
            for attr, help_ in _COUNTS[kind]:
                add(f"bot_{kind}_{attr}_total", "counter", help_,
                    ((k, int(getattr(e, attr))) for k, e in latest))  # fmt: skip


_COUNTS = {
    "feed": (
        ("candles_closed", "Candles published as closed (live and backfilled)"),
        ("gaps_backfilled", "Candle gaps filled over REST"),
        ("candles_rejected", "Duplicate or out-of-order candle frames rejected"),
    ),
    "book": (
        ("resyncs", "Order-book resynchronisations (all reasons)"),
        ("gaps", "Order-book sequence gaps"),
        ("checksum_errors", "Order-book checksum mismatches"),
        ("updates", "Order-book updates applied"),
    ),
}
"""Counters copied from FeedHealth and BookHealth: field name and help text."""


def _drawdown(peak: Decimal, equity: Decimal) -> Decimal:
    return (peak - equity) / peak if peak > 0 else Decimal(0)


class _Families:
    """Collects families in output order; samples sorted by labels for a stable output."""

    def __init__(self) -> None:
        self.families: list[Family] = []

    def __call__(
        self, name: str, kind: MetricType, help_: str, samples: Iterable[tuple[Labels, Number]]
    ) -> None:
        ordered = sorted(samples, key=lambda sample: sample[0])
        self.families.append(Family(name, help_, kind, tuple(Sample(k, v) for k, v in ordered)))
