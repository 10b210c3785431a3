"""The engine's records: orders, fills, positions and order requests, plus its output events.

Orders and positions are mutable records owned by the engine (only the engine thread, under
the facade's lock, changes them); events carry frozen copies, so a server thread formatting
an event never sees a half-updated order. Prices are integer ticks, sizes integer contracts,
money :class:`~decimal.Decimal`, times integer ns since the UNIX epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

__all__ = [
    "BookDelta",
    "Fill",
    "Filled",
    "FundingApplied",
    "MarkChanged",
    "Order",
    "OrderChanged",
    "OrderRequest",
    "Position",
    "PositionChanged",
    "PublicTrade",
    "SimEvent",
    "Wallet",
    "WalletChanged",
]

BUY, SELL = "buy", "sell"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """A validated order request, as the REST layer parsed it (ticks, contracts)."""

    product_id: int
    size: int
    side: str
    order_type: str = "limit_order"
    limit_ticks: int | None = None
    time_in_force: str = "gtc"
    post_only: bool = False
    reduce_only: bool = False
    client_order_id: str | None = None
    stop_order_type: str | None = None
    stop_ticks: int | None = None
    stop_trigger_method: str = "mark_price"
    bracket_stop_loss_ticks: int | None = None
    bracket_stop_loss_limit_ticks: int | None = None
    bracket_take_profit_ticks: int | None = None
    bracket_take_profit_limit_ticks: int | None = None
    bracket_stop_trigger_method: str = "mark_price"


@dataclass(slots=True, kw_only=True)
class Order:
    """One order of one account (mutable; the engine owns it).

    ``state``: ``open`` (resting or live), ``pending`` (untriggered stop), ``closed`` (filled,
    or a market/IOC order done), ``cancelled``. ``ahead`` is the synthetic market size queued
    before this order at its price (price-time priority), in contracts.
    """

    id: int
    user_id: int
    product_id: int
    symbol: str
    side: str
    order_type: str
    size: int
    unfilled: int
    limit_ticks: int | None
    time_in_force: str
    post_only: bool
    reduce_only: bool
    client_order_id: str | None
    state: str
    created_ns: int
    updated_ns: int
    stop_order_type: str | None = None
    stop_ticks: int | None = None
    stop_trigger_method: str = "mark_price"
    bracket_order: bool = False
    close_on_trigger: bool = False
    bracket: dict[str, int | None] = field(default_factory=dict)
    bracket_trigger_method: str = "mark_price"
    bracket_children: list[int] = field(default_factory=list)
    oco_id: int | None = None
    cancellation_reason: str | None = None
    filled_value: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)
    ahead: int = 0

    @property
    def filled(self) -> int:
        """Contracts filled so far."""
        return self.size - self.unfilled

    def snapshot(self) -> Order:
        """Return a detached copy for an event."""
        clone: Order = _copy_order(self)
        clone.bracket = dict(self.bracket)
        clone.bracket_children = list(self.bracket_children)
        return clone


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """One execution of one of our orders. ``commission`` < 0 is a rebate.

    ``seq`` is the account's per-symbol fill counter (``se`` of ``v2/user_trades``) and
    ``position_after`` the signed position size after this fill.
    """

    id: str
    user_id: int
    order_id: int
    client_order_id: str | None
    product_id: int
    symbol: str
    side: str
    size: int
    price_ticks: int
    role: str
    commission: Decimal
    commission_rate: Decimal
    order_type: str
    created_ns: int
    seq: int
    position_after: int


@dataclass(slots=True, kw_only=True)
class Position:
    """A net position: signed ``size`` (contracts), exact average ``entry_price`` in USD."""

    user_id: int
    product_id: int
    symbol: str
    size: int = 0
    entry_price: Decimal | None = None
    realized_pnl: Decimal = Decimal(0)
    realized_funding: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)
    updated_ns: int = 0

    def snapshot(self) -> Position:
        """Return a detached copy for an event."""
        return _copy_position(self)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True, kw_only=True)
class Wallet:
    """An account's USD wallet as the wire shows it (all amounts exact)."""

    user_id: int
    balance: Decimal
    available_balance: Decimal
    order_margin: Decimal
    position_margin: Decimal
    commission: Decimal
    unrealized_pnl: Decimal


# --- events the engine emits, in order ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookDelta:
    """Changed aggregate levels of one book after an operation; size 0 deletes a level.

    ``checksum`` is the CRC32 of the book's best ten levels after the change, ``seq`` the
    book's sequence number (+1 per delta).
    """

    symbol: str
    seq: int
    asks: tuple[tuple[int, int], ...]
    bids: tuple[tuple[int, int], ...]
    checksum: int
    ts_ns: int


@dataclass(frozen=True, slots=True)
class PublicTrade:
    """A trade on the public tape; ``buyer_role`` is ``"taker"`` when the buyer aggressed."""

    symbol: str
    price_ticks: int
    size: int
    buyer_role: str
    ts_ns: int


@dataclass(frozen=True, slots=True)
class MarkChanged:
    """The mark price of a product moved."""

    symbol: str
    mark_ticks: int
    ts_ns: int


@dataclass(frozen=True, slots=True)
class FundingApplied:
    """Funding was exchanged; ``rate_pct`` in % of notional, ``next_ns`` the next payment."""

    symbol: str
    rate_pct: Decimal
    next_ns: int
    ts_ns: int


@dataclass(frozen=True, slots=True)
class OrderChanged:
    """An order was created, updated (fill, edit, trigger) or deleted (closed, cancelled)."""

    user_id: int
    action: str
    reason: str | None
    order: Order
    ts_ns: int


@dataclass(frozen=True, slots=True)
class Filled:
    """One of our orders executed."""

    user_id: int
    fill: Fill


@dataclass(frozen=True, slots=True)
class PositionChanged:
    """A position was opened (create), changed (update) or closed (delete)."""

    user_id: int
    action: str
    position: Position
    ts_ns: int


@dataclass(frozen=True, slots=True)
class WalletChanged:
    """An account's wallet changed (fees, PnL, funding, margin)."""

    user_id: int
    wallet: Wallet
    ts_ns: int


SimEvent = (
    BookDelta
    | PublicTrade
    | MarkChanged
    | FundingApplied
    | OrderChanged
    | Filled
    | PositionChanged
    | WalletChanged
)
"""Everything the engine emits."""


def _shallow_copier(cls: type) -> Callable[[Any], Any]:
    """A shallow copy of a slotted dataclass's instance, field by field.

    ``copy.copy`` goes through ``__reduce_ex__`` and takes nine times as long; the engine
    copies every order and position it reports (a backtest: tens of thousands). The source
    is built from the class's own field names only.
    """
    lines = "".join(f"    clone.{f.name} = value.{f.name}\n" for f in fields(cls))
    source = f"def copy(value):\n    clone = new(cls)\n{lines}    return clone\n"
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls}
    exec(source, scope)  # field names only
    return scope["copy"]  # type: ignore[no-any-return]


_copy_order = _shallow_copier(Order)
_copy_position = _shallow_copier(Position)
