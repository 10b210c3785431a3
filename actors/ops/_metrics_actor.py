"""The metrics actor: keeps :class:`~actors.ops._metrics.Metrics` and publishes snapshots.

It subscribes to the trading and market events in ``EVENTS`` (journaled money events arrive
wrapped in ``Journaled``; the base ``Actor.receive`` unwraps them), polls the runtime's health
report on its own timer (the health reporter's interval is minutes, too slow for /healthz),
and after each event or poll puts a fresh immutable snapshot on the shared
:class:`~actors.ops._board.OpsBoard`, where the HTTP thread reads it without ever touching
this actor.
"""

from __future__ import annotations

from dataclasses import dataclass

from actors._actor import Actor
from actors.ops._board import OpsBoard
from actors.ops._metrics import EVENTS, Metrics
from messages import (
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
    PositionClosed,
    PositionOpened,
    encode,
)


@dataclass(frozen=True, slots=True)
class RefreshDue:
    """Timer message: poll the health report and publish a snapshot."""


class MetricsActor(Actor):
    """Counts trading and market events and publishes /healthz and /metrics snapshots.

    Args:
        board: Where snapshots go (shared with the HTTP actor; outlives incarnations).
        refresh_ns: How often the health report is polled, runtime-clock ns.

    A restart starts every count from zero (Prometheus sees a counter reset); nothing here
    is money the bot acts on, so nothing is persisted.
    """

    def __init__(self, *, board: OpsBoard, refresh_ns: int) -> None:
        self.board = board
        self.refresh_ns = refresh_ns
        self.metrics = Metrics()
        self.report: HealthReport | None = None
        self.report_json = b""
        self.published = 0

    def on_start(self) -> None:
        """Subscribe, publish a first snapshot at once and start the poll timer."""
        for event in EVENTS:
            self.context.subscribe(event)
        self.on_refresh_due(RefreshDue())
        self.context.schedule_repeating(self.refresh_ns, RefreshDue())

    def on_refresh_due(self, _: RefreshDue) -> None:
        """Take the runtime's current health report and publish."""
        self.report = self.context.health_report()
        self.report_json = encode(self.report)
        self.metrics.on_health_report(self.report)
        self._publish()

    def _publish(self) -> None:
        if self.report is None:
            return
        families = self.metrics.families(self.context.now_ns())
        self.board.publish(self.report, self.report_json, families)
        self.published += 1

    def on_order_accepted(self, e: OrderAccepted) -> None:
        """Count it."""
        self.metrics.on_order_accepted(e)
        self._publish()

    def on_order_rejected(self, e: OrderRejected) -> None:
        """Count it."""
        self.metrics.on_order_rejected(e)
        self._publish()

    def on_order_cancelled(self, e: OrderCancelled) -> None:
        """Count it."""
        self.metrics.on_order_cancelled(e)
        self._publish()

    def on_order_filled(self, e: OrderFilled) -> None:
        """Count it, with its contracts and fee."""
        self.metrics.on_order_filled(e)
        self._publish()

    def on_position_opened(self, e: PositionOpened) -> None:
        """Count it."""
        self.metrics.on_position_opened(e)
        self._publish()

    def on_position_closed(self, e: PositionClosed) -> None:
        """Count it and add its PnL."""
        self.metrics.on_position_closed(e)
        self._publish()

    def on_hedge_opened(self, e: HedgeOpened) -> None:
        """Count it."""
        self.metrics.on_hedge_opened(e)
        self._publish()

    def on_hedge_closed(self, e: HedgeClosed) -> None:
        """Count it and add its PnL."""
        self.metrics.on_hedge_closed(e)
        self._publish()

    def on_equity_updated(self, e: EquityUpdated) -> None:
        """Track equity, its peak and the drawdown."""
        self.metrics.on_equity_updated(e)
        self._publish()

    def on_kill_switch_triggered(self, e: KillSwitchTriggered) -> None:
        """The kill switch latched."""
        self.metrics.on_kill_switch_triggered(e)
        self._publish()

    def on_kill_switch_reset(self, e: KillSwitchReset) -> None:
        """The kill switch was reset."""
        self.metrics.on_kill_switch_reset(e)
        self._publish()

    def on_feed_health(self, e: FeedHealth) -> None:
        """Keep the feed's latest health."""
        self.metrics.on_feed_health(e)
        self._publish()

    def on_book_health(self, e: BookHealth) -> None:
        """Keep the book's latest health."""
        self.metrics.on_book_health(e)
        self._publish()

    def describe(self) -> dict[str, object]:
        """Snapshots published and the overall health last seen."""
        overall = None if self.report is None else self.report.overall
        return {"published": self.published, "overall": overall}
