"""The operator's view of trading: one readable log line per thing a trader cares about.

:class:`TradeLogger` subscribes to the trading events every actor already publishes
(signals, risk decisions, fills, positions, hedges, the kill switch) and logs each as one
line on its actor logger, with the running net PnL (realised - fees + funding). It decides
nothing and holds no state that matters: a restart only resets the totals it prints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class SummaryDue:
    """Timer: log the running PnL summary."""


@dataclass(slots=True)
class _Tally:
    trades: int = 0
    wins: int = 0
    realised: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    funding: Decimal = Decimal(0)

    def add(self, realised: Decimal, fees: Decimal, funding: Decimal) -> None:
        self.trades += 1
        self.wins += realised - fees + funding > 0
        self.realised += realised
        self.fees += fees
        self.funding += funding

    @property
    def net(self) -> Decimal:
        return self.realised - self.fees + self.funding


class TradeLogger(Actor):
    """Logs trading events for the operator at INFO; a PnL line every ``summary_ns`` and a
    table per symbol when it stops.

    Args:
        symbols: Traded symbols: candle closes are logged as one line per candle time once
            every symbol's close is in (each alone at DEBUG).
        summary_ns: Period of the PnL summary line (runtime clock); 0 for none.
    """

    def __init__(self, symbols: tuple[str, ...] = (), summary_ns: int = 0) -> None:
        self.net = Decimal(0)
        self.closed = 0
        self.symbols = symbols
        self.summary_ns = summary_ns
        self.closes: dict[int, dict[str, Decimal]] = {}
        self.tally: dict[str, _Tally] = {}
        self.hedges = _Tally()
        self.open_positions: dict[str, str] = {}

    def on_start(self) -> None:
        """Subscribe to every event it reports; arm the summary timer."""
        for event in _EVENTS:
            self.context.subscribe(event)
        if self.summary_ns > 0:
            self.context.schedule_repeating(self.summary_ns, SummaryDue())

    def on_stop(self) -> None:
        """The summary table of the run."""
        self.context.log.info("%s", self.summary_table())

    def on_candle_closed(self, e: CandleClosed) -> None:
        """One INFO line per candle time with every symbol's close."""
        c = e.candle
        self.context.log.debug(
            "candle %s close %s (o %s h %s l %s)", c.symbol, c.close, c.open, c.high, c.low
        )
        if not self.symbols:
            return
        closes = self.closes.setdefault(c.open_time_ns, {})
        closes[c.symbol] = c.close
        if len(closes) < len(self.symbols):
            if len(self.closes) > 4:  # a symbol that never closes must not pile up
                self.closes.pop(min(self.closes))
            return
        del self.closes[c.open_time_ns]
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(c.open_time_ns // 1_000_000_000))
        text = "  ".join(f"{s} {closes[s]}" for s in self.symbols if s in closes)
        self.context.log.info("candle %s UTC closed: %s", when, text)

    def on_summary_due(self, _: SummaryDue) -> None:
        """The running PnL in one line."""
        positions = ", ".join(sorted(self.open_positions.values())) or "none"
        self.context.log.info(
            "pnl: %d trades closed, net %s (fees %s, funding %s); hedges net %s; open: %s",
            self.closed,
            self.net,
            sum((t.fees for t in self.tally.values()), Decimal(0)) + self.hedges.fees,
            sum((t.funding for t in self.tally.values()), Decimal(0)) + self.hedges.funding,
            self.hedges.net,
            positions,
        )

    def summary_table(self) -> str:
        """Trades and PnL per symbol, hedges and the total, as an aligned table."""
        rows = [("symbol", "trades", "wins", "realised", "fees", "funding", "net")]
        total = _Tally()
        for symbol, t in sorted(self.tally.items()):
            rows.append((symbol, str(t.trades), str(t.wins), *(str(v) for v in
                         (t.realised, t.fees, t.funding, t.net))))  # fmt: skip
            total.trades += t.trades
            total.wins += t.wins
            total.realised += t.realised
            total.fees += t.fees
            total.funding += t.funding
        h = self.hedges
        rows.append(("hedges", str(h.trades), str(h.wins), str(h.realised), str(h.fees),
                     str(h.funding), str(h.net)))  # fmt: skip
        net = total.net + h.net
        rows.append(("total", str(total.trades), str(total.wins), "", "", "", str(net)))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
        return "trades and PnL this run:\n" + "\n".join(lines)

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
        self.open_positions[e.position_id] = f"{e.symbol} {e.size:+d} @ {e.entry_price}"
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
        self.tally.setdefault(e.symbol, _Tally()).add(e.realised_pnl, e.fees, e.funding)
        self.open_positions.pop(e.position_id, None)
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
        self.hedges.add(e.realised_pnl, e.fees, e.funding)
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
