"""Trading decisions and their results: signals, risk, positions, hedges and equity.

Sign conventions, everywhere below: a position ``size`` is signed contracts (long > 0,
short < 0, flat 0); ``realised_pnl`` is gross of fees and funding; ``fees`` are positive
when paid; ``funding`` is positive when received. Net realised = realised_pnl - fees +
funding. All money is ``Decimal`` in the settlement asset.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from messages._base import Command, Event
from messages._enums import Direction, RiskVerdict
from messages._schema import Value
from messages._types import Contracts, UnixNanos


@dataclass(frozen=True, slots=True, kw_only=True)
class Signal(Event):
    """The strategy's decision for one symbol after one closed candle; goes to risk.

    Attributes:
        signal_id: Unique, deterministic id (symbol + candle + direction); echoed by the
            ``RiskDecision`` and used to derive client order ids.
        symbol: Venue symbol.
        direction: Enter long, enter short, or exit the open position.
        reason: Which rules fired, for the log (``"ema cross up, rsi 58"``).
        candle_open_time_ns: Open time of the candle that produced it, ns since the epoch.
        price: That candle's close, quote currency.
        stop_price: Protective stop, quote currency; None for ``EXIT``.
        take_profit_price: Profit target, quote currency; None for ``EXIT``.
        ts_event: The candle's close time, ns. ts_init: creation time, ns.
    """

    signal_id: str
    symbol: str
    direction: Direction
    reason: str
    candle_open_time_ns: UnixNanos
    price: Decimal
    stop_price: Decimal | None
    take_profit_price: Decimal | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskCheck(Value):
    """One limit the risk actor tested (a value, for the audit trail).

    Attributes:
        name: The check, for example ``"max_open_positions"``.
        value: The observed value, as text (``"3"``, ``"0.042"``).
        limit: The limit it was tested against, as text.
        passed: True when the value is within the limit.
    """

    name: str
    value: str
    limit: str
    passed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskDecision(Event):
    """The risk actor's verdict on one signal, with every check it made (audit).

    Attributes:
        signal_id: The signal decided on.
        symbol: Venue symbol.
        decision: Approved, resized or rejected.
        size: Approved size, contracts (signed as the entry); 0 when rejected.
        checks: Every check made, in order.
        reason: One-line summary (the first failed check, or ``"ok"``).
        ts_event: When the decision was made, ns. ts_init: creation time, ns.
    """

    signal_id: str
    symbol: str
    decision: RiskVerdict
    size: Contracts
    checks: tuple[RiskCheck, ...]
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionOpened(Event):
    """A position went from flat to open (its first entry fill).

    Attributes:
        position_id: Stable id of the position (its actor is ``"position:<id>"``).
        symbol: Venue symbol.
        size: Signed contracts, long > 0, short < 0.
        entry_price: Average entry price, quote currency.
        stop_price: Protective stop, quote currency, or None.
        take_profit_price: Profit target, quote currency, or None.
        fees: Fees paid so far, settlement asset.
        signal_id: The signal that opened it, or None (for example a reconciled position).
        ts_event: Time of the opening fill, ns. ts_init: creation time, ns.
    """

    position_id: str
    symbol: str
    size: Contracts
    entry_price: Decimal
    stop_price: Decimal | None
    take_profit_price: Decimal | None
    fees: Decimal
    signal_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionChanged(Event):
    """An open position changed: a fill, funding, or a moved stop or target.

    Attributes:
        position_id: Stable id of the position.
        symbol: Venue symbol.
        size: Signed contracts after the change, never 0 (that is ``PositionClosed``).
        entry_price: Average entry price after the change, quote currency.
        stop_price: Protective stop, quote currency, or None.
        take_profit_price: Profit target, quote currency, or None.
        realised_pnl: Realised PnL so far, gross, settlement asset.
        fees: Fees paid so far, settlement asset.
        funding: Funding received so far (negative when paid), settlement asset.
        reason: What changed (``"fill"``, ``"funding"``, ``"stop moved"``).
        ts_event: Time of the change, ns. ts_init: creation time, ns.
    """

    position_id: str
    symbol: str
    size: Contracts
    entry_price: Decimal
    stop_price: Decimal | None
    take_profit_price: Decimal | None
    realised_pnl: Decimal
    fees: Decimal
    funding: Decimal
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionClosed(Event):
    """A position went back to flat; its totals are final.

    Attributes:
        position_id: Stable id of the position.
        symbol: Venue symbol.
        entry_price: Average entry price over its life, quote currency.
        exit_price: Average exit price, quote currency.
        realised_pnl: Total realised PnL, gross, settlement asset.
        fees: Total fees paid, settlement asset.
        funding: Total funding received (negative when paid), settlement asset.
        reason: Why (``"stop"``, ``"target"``, ``"exit signal"``, ``"flatten"``).
        ts_event: Time of the closing fill, ns. ts_init: creation time, ns.
    """

    position_id: str
    symbol: str
    entry_price: Decimal
    exit_price: Decimal
    realised_pnl: Decimal
    fees: Decimal
    funding: Decimal
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HedgeOpened(Event):
    """A hedge was started for a losing position; it fills in chunks up to its target.

    Attributes:
        hedge_id: Stable id of the hedge (its actor is ``"hedge:<id>"``).
        parent_position_id: The position it protects.
        symbol: Venue symbol of the hedge asset.
        target_size: Signed contracts the hedge aims for once every chunk is filled.
        chunks: Number of chunks the entry is split into.
        correlation: Correlation between the hedge asset and the parent's symbol used to
            pick it, in [-1, 1].
        reason: Why it opened (``"loss reached half the stop distance"``).
        ts_event: When it was decided, ns. ts_init: creation time, ns.
    """

    hedge_id: str
    parent_position_id: str
    symbol: str
    target_size: Contracts
    chunks: int
    correlation: float
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HedgeClosed(Event):
    """A hedge went back to flat; its totals are final.

    Attributes:
        hedge_id: Stable id of the hedge.
        parent_position_id: The position it protected.
        symbol: Venue symbol of the hedge asset.
        realised_pnl: Total realised PnL, gross, settlement asset.
        fees: Total fees paid, settlement asset.
        funding: Total funding received (negative when paid), settlement asset.
        reason: Why (``"profit taken"``, ``"parent closed"``).
        ts_event: Time of the closing fill, ns. ts_init: creation time, ns.
    """

    hedge_id: str
    parent_position_id: str
    symbol: str
    realised_pnl: Decimal
    fees: Decimal
    funding: Decimal
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class KillSwitchTriggered(Event):
    """The risk actor latched the kill switch: no new entries until ``ResetKillSwitch``.

    Attributes:
        reason: The limit that tripped (``"daily loss 3.1% > 3%"``).
        equity: Equity when it tripped, settlement asset.
        peak_equity: The high-water mark the drawdown is measured from, settlement asset.
        daily_pnl: PnL since the start of the trading day (UTC), settlement asset.
        ts_event: When it tripped, ns. ts_init: creation time, ns.
    """

    reason: str
    equity: Decimal
    peak_equity: Decimal
    daily_pnl: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class KillSwitchReset(Event):
    """An operator reset the latched kill switch; entries may resume.

    Attributes:
        command_id: The ``ResetKillSwitch`` command that asked for it.
        reason: The operator's reason.
        ts_event: When it was reset, ns. ts_init: creation time, ns.
    """

    command_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EquityUpdated(Event):
    """The account's balance and margin changed (from the private stream or a poll).

    Attributes:
        asset: Settlement asset, for example ``"USD"``.
        balance: Wallet balance, settlement asset.
        equity: Balance plus unrealised PnL, settlement asset.
        available_margin: Margin free for new orders, settlement asset.
        unrealised_pnl: Unrealised PnL of open positions at mark, settlement asset.
        ts_event: Exchange time, ns. ts_init: creation time, ns.
    """

    asset: str
    balance: Decimal
    equity: Decimal
    available_margin: Decimal
    unrealised_pnl: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryAbandoned(Event):
    """An approved entry ended without opening a position (audit; risk frees its slot).

    Attributes:
        signal_id: The signal the entry came from.
        position_id: The position id the entry would have opened.
        symbol: Venue symbol.
        reason: Why (``"post-only rejected 4 times"``, ``"entry timeout"``, ``"kill switch"``).
        ts_event: When it was abandoned, ns. ts_init: creation time, ns.
    """

    signal_id: str
    position_id: str
    symbol: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionFinished(Event):
    """A position's actor ended for good: flat, and every hedge it opened closed.

    Recorded in the same commit that drops the position's snapshot, so execution keeps the
    entry (and restarts the position's actor after a crash) until this is on disk.

    Attributes:
        position_id: Stable id of the position.
        symbol: Venue symbol.
        ts_event: When it ended, ns. ts_init: creation time, ns.
    """

    position_id: str
    symbol: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestHedge(Command):
    """A position asks risk for a hedge in ``symbol`` (risk grants a symbol to one holder).

    Attributes:
        hedge_id: The hedge's id (``<position id>-h<n>``).
        parent_position_id: The position the hedge would protect.
        symbol: The hedge's venue symbol.
        command_id: Unique id of this command. ts_init: creation time, ns.
    """

    hedge_id: str
    parent_position_id: str
    symbol: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HedgeDecision(Event):
    """Risk's answer to :class:`RequestHedge` (audit), keyed by the parent position.

    Attributes:
        hedge_id: The hedge asked for.
        parent_position_id: The position that asked.
        symbol: The hedge's venue symbol.
        granted: True: the symbol is the hedge's until it closes.
        reason: Why not, when refused (``"ETHUSD held"``, ``"ETHUSD hedged"``).
        ts_event: When decided, ns. ts_init: creation time, ns.
    """

    hedge_id: str
    parent_position_id: str
    symbol: str
    granted: bool
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolsInUse(Event):
    """The symbols the portfolio holds, as risk sees them: state, published retained.

    A position choosing a hedge symbol reads it, so that a position started after another
    position or hedge opened still knows that symbol is taken (the exchange keeps one
    position per symbol: a hedge there would net with it).

    Attributes:
        held: Symbols with a strategy position, or an approved entry that may still fill.
        hedged: Symbols with an open hedge.
        ts_event: When it changed, ns. ts_init: creation time, ns.
    """

    held: tuple[str, ...]
    hedged: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconcileDiscrepancy(Event):
    """At start the exchange disagreed with the journal; the exchange's view was taken.

    Attributes:
        kind: What differed: ``"fill_while_away"``, ``"cancelled_while_away"``,
            ``"unknown_open_order"``, ``"position_mismatch"``, ``"order_never_placed"``.
        symbol: Venue symbol, or None.
        client_order_id: The order concerned, or None.
        detail: Human-readable detail (sizes, ids).
        ts_event: When it was found, ns. ts_init: creation time, ns.
    """

    kind: str
    symbol: str | None
    client_order_id: str | None
    detail: str
