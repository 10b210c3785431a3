"""The operator's view of trading: one readable log line per thing a trader cares about.

:class:`TradeLogger` subscribes to the trading events every actor already publishes
(signals, risk decisions, fills, positions, hedges, the kill switch) and logs each as one
line on its actor logger, with the running net PnL (realised - fees + funding). It decides
nothing and holds no state that matters: a restart only resets the totals it prints.
"""

from __future__ import annotations

from decimal import Decimal

from actors._actor import Actor
from messages import (
    CandleClosed,
    HedgeClosed,
    HedgeOpened,
    KillSwitchTriggered,
    OrderFilled,
    PositionClosed,
    PositionOpened,
    RiskDecision,
    Signal,
)

_EVENTS = (
    CandleClosed,
    Signal,
    RiskDecision,
    OrderFilled,
    PositionOpened,
    PositionClosed,
    HedgeOpened,
    HedgeClosed,
    KillSwitchTriggered,
)


class TradeLogger(Actor):
    """Logs trading events for the operator; candle closes at DEBUG, the rest at INFO."""

    def __init__(self) -> None:
        self.net = Decimal(0)
        self.closed = 0

    def on_start(self) -> None:
        """Subscribe to every event it reports."""
        for event in _EVENTS:
            self.context.subscribe(event)

    def on_candle_closed(self, e: CandleClosed) -> None:
        """Candle closes are frequent: DEBUG."""
        c = e.candle
        self.context.log.debug(
            "candle %s close %s (o %s h %s l %s)", c.symbol, c.close, c.open, c.high, c.low
        )

    def on_signal(self, e: Signal) -> None:
        """A strategy signal with its reason."""
        self.context.log.info("signal %s %s at %s: %s", e.direction, e.symbol, e.price, e.reason)

    def on_risk_decision(self, e: RiskDecision) -> None:
        """Risk's verdict and, when refused, why."""
        why = "" if e.decision == "APPROVED" else f" ({e.reason})"
        self.context.log.info(
            "risk %s %s: %s size %d%s", e.symbol, e.signal_id, e.decision, e.size, why
        )

    def on_order_filled(self, e: OrderFilled) -> None:
        """Every fill."""
        role = "maker" if e.is_maker else "taker"
        self.context.log.info(
            "fill %s %s %d @ %s (%s, fee %s)", e.symbol, e.side, e.size, e.price, role, e.fee
        )

    def on_position_opened(self, e: PositionOpened) -> None:
        """A position opened, with its protection."""
        self.context.log.info(
            "open %s %s size %d @ %s, stop %s, target %s",
            e.position_id,
            e.symbol,
            e.size,
            e.entry_price,
            e.stop_price,
            e.take_profit_price,
        )

    def on_position_closed(self, e: PositionClosed) -> None:
        """A position closed: its PnL and the running net."""
        self.net += e.realised_pnl - e.fees + e.funding
        self.closed += 1
        self.context.log.info(
            "close %s %s @ %s (%s): pnl %s, fees %s, funding %s; net %s after %d trades",
            e.position_id, e.symbol, e.exit_price, e.reason, e.realised_pnl, e.fees, e.funding,
            self.net, self.closed,
        )  # fmt: skip

    def on_hedge_opened(self, e: HedgeOpened) -> None:
        """A hedge started (it fills in chunks)."""
        self.context.log.info(
            "hedge %s for %s: %d %s in %d chunks (correlation %.2f): %s",
            e.hedge_id,
            e.parent_position_id,
            e.target_size,
            e.symbol,
            e.chunks,
            e.correlation,
            e.reason,
        )

    def on_hedge_closed(self, e: HedgeClosed) -> None:
        """A hedge closed, with its PnL."""
        self.net += e.realised_pnl - e.fees + e.funding
        self.context.log.info(
            "hedge %s closed (%s): pnl %s, fees %s", e.hedge_id, e.reason, e.realised_pnl, e.fees
        )

    def on_kill_switch_triggered(self, e: KillSwitchTriggered) -> None:
        """The drawdown kill switch latched: loud."""
        self.context.log.error(
            "KILL SWITCH: %s (equity %s, peak %s); flattening, entries stopped until reset",
            e.reason,
            e.equity,
            e.peak_equity,
        )

    def describe(self) -> dict[str, object]:
        """Totals since this incarnation started."""
        return {"closed_trades": self.closed, "net_pnl": str(self.net)}
