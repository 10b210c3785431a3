"""RiskManager: portfolio limits, position sizing, daily loss and the drawdown kill switch.

Pure logic: events in, decisions out; time comes from the events (``ts_event``) and the
caller's ``now_ns``, never from a clock. Every decision on a signal is a
:class:`~messages.RiskDecision` listing each check with its value and limit (the audit).

Sizing (settings in ``[risk]``), for an entry at ``price`` with stop ``stop``::

    risk_pct      = clamp(risk_per_trade_pct, risk_min_pct, risk_max_pct)
    by_risk       = floor(equity x risk_pct / 100 / (|price - stop| x contract_value))
    leverage_cap  = floor((equity x max_leverage - open_notional) / (price x contract_value))
    margin_cap    = floor(available_margin x max_leverage / (price x contract_value))
    size          = min(by_risk, leverage_cap, margin_cap)

``size`` < 1 is refused; ``size`` < ``by_risk`` is ``RESIZED``; else ``APPROVED``.
Entries are also refused while the kill switch is latched, entries are paused, the day's
loss limit was hit (until the next UTC day), ``max_open_positions`` or
``max_positions_per_symbol`` is reached (pending entries count), a hedge is open on the
symbol, or no equity has been reported yet. ``EXIT`` signals are approved whenever a position
is held (also during a kill switch) and sized to close it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from actors.trading._ids import to_decimal
from messages import (
    Contracts,
    Direction,
    EquityUpdated,
    KillSwitchReset,
    KillSwitchTriggered,
    Product,
    RiskCheck,
    RiskDecision,
    RiskVerdict,
    Signal,
    UnixNanos,
)
from messages.settings import RiskSettings

__all__ = ["DAY_NS", "OpenPosition", "RiskManager"]

DAY_NS = 86_400 * 1_000_000_000
"""Length of a UTC day, ns; the daily loss limit resets when now_ns // DAY_NS changes."""
_HUNDRED = Decimal(100)


_CHECKS: dict[tuple[str, str, str, bool], RiskCheck] = {}
_CHECKS_KEPT = 4096


def _check(*, name: str, value: str, limit: str, passed: bool) -> RiskCheck:
    """The ``RiskCheck`` of these fields, shared: a message is immutable, and most checks
    repeat from one decision to the next (a latched kill switch refuses thousands alike)."""
    key = (name, value, limit, passed)
    check = _CHECKS.get(key)
    if check is None:
        if len(_CHECKS) >= _CHECKS_KEPT:
            _CHECKS.clear()
        check = _CHECKS[key] = RiskCheck(name=name, value=value, limit=limit, passed=passed)
    return check


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(ROUND_FLOOR))


@dataclass(slots=True)
class OpenPosition:
    """What risk knows of an open (or pending) position: symbol, signed size, entry price."""

    symbol: str
    size: int
    entry_price: Decimal


class RiskManager:
    """Portfolio-wide limits and sizing; one instance behind the risk actor."""

    STATE = (
        "equity",
        "available_margin",
        "peak",
        "day",
        "day_start_equity",
        "day_blocked",
        "killed",
        "paused",
        "positions",
        "pending",
        "hedged_symbols",
    )
    """The attributes a snapshot keeps (the rest is configuration)."""

    def __init__(self, risk: RiskSettings, products: Mapping[str, Product]) -> None:
        self.settings = risk
        self.products = dict(products)
        self.max_leverage = to_decimal(risk.max_leverage)
        self.equity: Decimal | None = None
        self.available_margin = Decimal(0)
        self.peak: Decimal | None = None
        self.day: int | None = None
        self.day_start_equity: Decimal | None = None
        self.day_blocked = False
        self.killed = False
        self.paused = False
        self.positions: dict[str, OpenPosition] = {}
        self.pending: dict[str, OpenPosition] = {}
        self.hedged_symbols: dict[str, str] = {}

    def symbols_in_use(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(held, hedged): symbols with a position or a pending entry, and with a hedge."""
        held = {p.symbol for p in self.positions.values()} | {
            p.symbol for p in self.pending.values()
        }
        return tuple(sorted(held)), tuple(sorted(set(self.hedged_symbols.values())))

    def reserve_hedge(self, hedge_id: str, symbol: str) -> tuple[bool, str]:
        """Give ``symbol`` to hedge ``hedge_id`` unless a position, an entry or another hedge
        holds it (the exchange keeps one position per symbol). Returns (granted, why not)."""
        held, hedged = self.symbols_in_use()
        if self.hedged_symbols.get(hedge_id) == symbol:
            return True, "ok"  # asked again (a replay): the same answer
        if self.killed:
            return False, "kill switch"
        if symbol in held:
            return False, f"{symbol} held"
        if symbol in hedged:
            return False, f"{symbol} hedged"
        self.hedged_symbols[hedge_id] = symbol
        return True, "ok"

    def position_finished(self, position_id: str) -> None:
        """The position and its hedges are gone: free what its hedges reserved (a granted
        hedge that never started would otherwise hold its symbol for good)."""
        prefix = f"{position_id}-h"
        for hedge_id in [h for h in self.hedged_symbols if h.startswith(prefix)]:
            del self.hedged_symbols[hedge_id]

    # --- state updates --------------------------------------------------------------------

    def on_equity(self, ev: EquityUpdated, *, now_ns: int) -> KillSwitchTriggered | None:
        """Record equity; roll the UTC day; latch the kill switch on a drawdown breach.

        Returns the ``KillSwitchTriggered`` to publish, only on the update that latches it.
        """
        self.equity, self.available_margin = ev.equity, ev.available_margin
        self._roll_day(now_ns)
        self.peak = ev.equity if self.peak is None else max(self.peak, ev.equity)
        self._check_daily_loss()
        if self.killed or self.peak <= 0:
            return None
        drawdown = (self.peak - ev.equity) / self.peak * _HUNDRED
        if drawdown < self.settings.max_drawdown_pct:
            return None
        self.killed = True
        return KillSwitchTriggered(
            ts_event=ev.ts_event,
            ts_init=UnixNanos(now_ns),
            reason=f"drawdown {drawdown:.4f}% >= {self.settings.max_drawdown_pct}%",
            equity=ev.equity,
            peak_equity=self.peak,
            daily_pnl=self.daily_pnl(),
        )

    def reset_kill_switch(self, command_id: str, reason: str, *, now_ns: int) -> KillSwitchReset:
        """Unlatch the kill switch; the drawdown is measured again from current equity."""
        self.killed = False
        self.peak = self.equity
        return KillSwitchReset(
            ts_event=UnixNanos(now_ns),
            ts_init=UnixNanos(now_ns),
            command_id=command_id,
            reason=reason,
        )

    def daily_pnl(self) -> Decimal:
        """Equity change since the first equity seen this UTC day, settlement asset."""
        if self.equity is None or self.day_start_equity is None:
            return Decimal(0)
        return self.equity - self.day_start_equity

    def _roll_day(self, now_ns: int) -> None:
        day = now_ns // DAY_NS
        if self.day is None or day > self.day:
            self.day, self.day_start_equity, self.day_blocked = day, self.equity, False

    def _check_daily_loss(self) -> None:
        if self.day_start_equity is None or self.day_start_equity <= 0:
            return
        limit = self.day_start_equity * self.settings.daily_loss_pct / _HUNDRED
        if -self.daily_pnl() >= limit:
            self.day_blocked = True

    def position_opened(self, position_id: str, symbol: str, size: int, price: Decimal) -> None:
        """A position opened (its first fill): it counts as open, no longer as pending."""
        self.pending.pop(position_id, None)
        self.positions[position_id] = OpenPosition(symbol, size, price)

    def position_changed(self, position_id: str, size: int, price: Decimal) -> None:
        """A position's size or entry price changed."""
        known = self.positions.get(position_id)
        if known is not None:
            known.size, known.entry_price = size, price

    def position_closed(self, position_id: str) -> None:
        """A position went flat, or its entry ended without a fill."""
        self.positions.pop(position_id, None)
        self.pending.pop(position_id, None)

    # --- decisions ------------------------------------------------------------------------

    def decide(self, signal: Signal, position_id: str, *, now_ns: int) -> RiskDecision:
        """Decide on one signal; an approved entry is counted as pending under position_id."""
        self._roll_day(now_ns)
        if signal.direction is Direction.EXIT:
            return self._decide_exit(signal, now_ns)
        checks = self._gates(signal.symbol)
        size = 0
        if self.equity is not None and signal.stop_price is not None:
            size, sizing = self._size(signal.symbol, signal.price, signal.stop_price)
            checks.extend(sizing)
        failed = [c for c in checks if not c.passed]
        if failed:
            first = failed[0]
            return self._decision(
                signal,
                RiskVerdict.REJECTED,
                0,
                checks=checks,
                reason=f"{first.name}: {first.value} vs {first.limit}",
                now_ns=now_ns,
            )
        by_risk = next(int(c.value) for c in checks if c.name == "size_by_risk")
        verdict = RiskVerdict.RESIZED if size < by_risk else RiskVerdict.APPROVED
        signed = size if signal.direction is Direction.LONG else -size
        self.pending[position_id] = OpenPosition(signal.symbol, signed, signal.price)
        return self._decision(signal, verdict, signed, checks=checks, reason="ok", now_ns=now_ns)

    def _decide_exit(self, signal: Signal, now_ns: int) -> RiskDecision:
        held = sum(p.size for p in self.positions.values() if p.symbol == signal.symbol)
        check = _check(name="position_held", value=str(held), limit="!= 0", passed=held != 0)
        if not check.passed:
            return self._decision(
                signal, RiskVerdict.REJECTED, 0, checks=[check], reason="no position", now_ns=now_ns
            )
        return self._decision(
            signal, RiskVerdict.APPROVED, -held, checks=[check], reason="ok", now_ns=now_ns
        )

    def _gates(self, symbol: str) -> list[RiskCheck]:
        everything = list(self.positions.values()) + list(self.pending.values())
        in_symbol = sum(1 for p in everything if p.symbol == symbol)
        hedged = symbol in self.hedged_symbols.values()
        s = self.settings
        return [
            _check(
                name="kill_switch",
                value=str(self.killed).lower(),
                limit="false",
                passed=not self.killed,
            ),
            _check(
                name="entries_paused",
                value=str(self.paused).lower(),
                limit="false",
                passed=not self.paused,
            ),
            _check(
                name="daily_loss",
                value=str(self.daily_pnl()),
                limit=f"-{s.daily_loss_pct}% of {self.day_start_equity}",
                passed=not self.day_blocked,
            ),
            _check(
                name="max_open_positions",
                value=str(len(everything)),
                limit=f"< {s.max_open_positions}",
                passed=len(everything) < s.max_open_positions,
            ),
            _check(
                name="max_positions_per_symbol",
                value=str(in_symbol),
                limit=f"< {s.max_positions_per_symbol}",
                passed=in_symbol < s.max_positions_per_symbol,
            ),
            _check(
                name="hedge_on_symbol", value=str(hedged).lower(), limit="false", passed=not hedged
            ),
            _check(
                name="equity_known",
                value=str(self.equity),
                limit="reported",
                passed=self.equity is not None,
            ),
        ]

    def _size(self, symbol: str, price: Decimal, stop: Decimal) -> tuple[int, list[RiskCheck]]:
        """Return the size and the sizing checks (by risk, leverage cap, margin cap, >= 1)."""
        assert self.equity is not None
        s, cv = self.settings, self.products[symbol].contract_value
        risk_pct = min(max(s.risk_per_trade_pct, s.risk_min_pct), s.risk_max_pct)
        per_contract_risk = abs(price - stop) * cv
        per_contract_notional = price * cv
        by_risk = (
            _floor(self.equity * risk_pct / _HUNDRED / per_contract_risk)
            if per_contract_risk > 0
            else 0
        )
        open_notional = sum(
            (
                abs(p.size) * self.products[p.symbol].contract_value * p.entry_price
                for p in [*self.positions.values(), *self.pending.values()]
            ),
            Decimal(0),
        )
        room = self.equity * self.max_leverage - open_notional
        leverage_cap = max(0, _floor(room / per_contract_notional))
        margin_cap = max(
            0, _floor(self.available_margin * self.max_leverage / per_contract_notional)
        )
        size = min(by_risk, leverage_cap, margin_cap)
        return size, [
            _check(
                name="risk_pct",
                value=str(risk_pct),
                limit=f"{s.risk_min_pct}..{s.risk_max_pct}",
                passed=True,
            ),
            _check(
                name="stop_distance",
                value=str(abs(price - stop)),
                limit="> 0",
                passed=per_contract_risk > 0,
            ),
            _check(name="size_by_risk", value=str(by_risk), limit=">= 1", passed=True),
            _check(
                name="leverage_cap",
                value=str(leverage_cap),
                limit=f"{s.max_leverage}x equity {self.equity}, open {open_notional}",
                passed=True,
            ),
            _check(
                name="margin_cap",
                value=str(margin_cap),
                limit=f"available {self.available_margin}",
                passed=True,
            ),
            _check(name="min_size", value=str(size), limit=">= 1", passed=size >= 1),
        ]

    def _decision(
        self,
        signal: Signal,
        verdict: RiskVerdict,
        size: int,
        *,
        checks: list[RiskCheck],
        reason: str,
        now_ns: int,
    ) -> RiskDecision:
        return RiskDecision(
            ts_event=UnixNanos(now_ns),
            ts_init=UnixNanos(now_ns),
            signal_id=signal.signal_id,
            symbol=signal.symbol,
            decision=verdict,
            size=Contracts(size),
            checks=tuple(checks),
            reason=reason,
        )
