"""One simulated account: wallet, leverage, net positions, orders and fills (pure logic).

Vanilla contracts: notional = |size| x contract_value x price, PnL = contracts x
contract_value x price move. Money is exact :class:`~decimal.Decimal`; nothing is rounded
until it is written on the wire. Only the engine (under the facade's lock) calls this.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal

from exchange.sim._model import BUY, Fill, Order, Position, Wallet
from exchange.sim._products import SimProduct

__all__ = ["Account"]

HISTORY_LIMIT = 5000
"""Closed orders and fills an account remembers (older ones drop off the history)."""


class Account:
    """Wallet, positions and orders of one user (one API key pair)."""

    def __init__(self, user_id: int, balance: Decimal, products: Mapping[int, SimProduct]) -> None:
        self.user_id = user_id
        self.balance = balance
        self.commission = Decimal(0)
        self.products = products
        self.leverage: dict[int, int] = {pid: p.default_leverage for pid, p in products.items()}
        self.positions: dict[int, Position] = {
            pid: Position(user_id=user_id, product_id=pid, symbol=p.symbol)
            for pid, p in products.items()
        }
        self.open_orders: dict[int, Order] = {}
        self.open_by_coid: dict[str, int] = {}
        self.recent_by_coid: dict[str, int] = {}
        self.closed: deque[Order] = deque(maxlen=HISTORY_LIMIT)
        self.fills: deque[Fill] = deque(maxlen=HISTORY_LIMIT)
        self.fill_seq: dict[str, int] = {}

    # --- orders --------------------------------------------------------------------------

    def add_open(self, order: Order) -> None:
        """Register a new open or pending order."""
        self.open_orders[order.id] = order
        if order.client_order_id:
            self.open_by_coid[order.client_order_id] = order.id
            self.recent_by_coid[order.client_order_id] = order.id

    def close(self, order: Order) -> None:
        """Move a closed or cancelled order to the history."""
        if self.open_orders.pop(order.id, None) is None:
            return
        if order.client_order_id and self.open_by_coid.get(order.client_order_id) == order.id:
            del self.open_by_coid[order.client_order_id]
        self.closed.append(order)

    def orders_of(self, product_id: int) -> Iterator[Order]:
        """Open and pending orders of one product."""
        return (o for o in list(self.open_orders.values()) if o.product_id == product_id)

    # --- positions and money -------------------------------------------------------------

    def apply_fill(
        self, product: SimProduct, side: str, size: int, price: Decimal, *, fee: Decimal, now: int
    ) -> Decimal:
        """Apply one execution to the net position and wallet; return the realised PnL.

        Adding to a position (or opening one) moves the entry price to the size-weighted
        average; reducing it realises ``closed x contract_value x (exit - entry)`` (sign by
        side) and keeps the entry; crossing through zero opens the rest at ``price``.
        """
        pos = self.positions[product.product_id]
        signed = size if side == BUY else -size
        realized = Decimal(0)
        if pos.size == 0 or (pos.size > 0) == (signed > 0):
            entry = pos.entry_price or Decimal(0)
            total = abs(pos.size) + size
            pos.entry_price = (abs(pos.size) * entry + size * price) / total
        else:
            closed = min(abs(pos.size), size)
            assert pos.entry_price is not None
            direction = 1 if pos.size > 0 else -1
            realized = closed * product.contract_value * (price - pos.entry_price) * direction
            if size > abs(pos.size):
                pos.entry_price = price
            elif size == abs(pos.size):
                pos.entry_price = None
        pos.size += signed
        pos.realized_pnl += realized
        pos.commission += fee
        pos.updated_ns = now
        self.balance += realized - fee
        self.commission += fee
        return realized

    def apply_funding(self, product: SimProduct, mark: Decimal, rate_pct: Decimal) -> Decimal:
        """Exchange funding on this account's position; return the amount received (<0 paid).

        Longs pay shorts when the rate is positive: ``-size x cv x mark x rate / 100``.
        """
        pos = self.positions[product.product_id]
        if pos.size == 0:
            return Decimal(0)
        amount = -pos.size * product.contract_value * mark * rate_pct / 100
        pos.realized_funding += amount
        self.balance += amount
        return amount

    def position_margin(self, product_id: int, leverage: int | None = None) -> Decimal:
        """Margin held by a position: entry notional / leverage."""
        pos = self.positions[product_id]
        if pos.size == 0 or pos.entry_price is None:
            return Decimal(0)
        product = self.products[product_id]
        lev = leverage or self.leverage[product_id]
        return product.notional(pos.size, pos.entry_price) / lev

    def order_margin(self, product_id: int, leverage: int | None = None) -> Decimal:
        """Margin held by resting limit orders that are not reduce-only."""
        return self._margin_of(product_id, self.orders_of(product_id), leverage)

    def _margin_of(self, product_id: int, orders: Iterable[Order], leverage: int | None) -> Decimal:
        """The order margin of ``orders`` (the open orders of ``product_id``, in order)."""
        product = self.products[product_id]
        lev = leverage or self.leverage[product_id]
        total = Decimal(0)
        for order in orders:
            if order.state == "open" and not order.reduce_only and order.limit_ticks is not None:
                total += product.notional(order.unfilled, product.price_of(order.limit_ticks))
        return total / lev

    def unrealized(self, marks: Mapping[int, Decimal]) -> Decimal:
        """Unrealised PnL of every position at the given mark prices."""
        total = Decimal(0)
        for pid, pos in self.positions.items():
            if pos.size and pos.entry_price is not None and pid in marks:
                cv = self.products[pid].contract_value
                total += pos.size * cv * (marks[pid] - pos.entry_price)
        return total

    def available(
        self, marks: Mapping[int, Decimal], *, override: tuple[int, int] | None = None
    ) -> Decimal:
        """Balance less position and order margin, less unrealised losses.

        ``override`` = (product_id, leverage) computes it as if that leverage were set.
        """
        used = Decimal(0)
        for pid in self.products:
            lev = override[1] if override and override[0] == pid else None
            used += self.position_margin(pid, lev) + self.order_margin(pid, lev)
        return self.balance - used + min(Decimal(0), self.unrealized(marks))

    def wallet(self, marks: Mapping[int, Decimal]) -> Wallet:
        """The wallet as the wire shows it (each margin computed once, summed as
        :meth:`available` sums them).

        Hot (the in-process gateway asks on every market move while a position is open),
        so the open orders are grouped by product in one pass instead of one scan per
        product; each margin is the same Decimal sum, in the same order, as
        :meth:`order_margin` makes.
        """
        position_margins = [self.position_margin(pid) for pid in self.products]
        by_product: dict[int, list[Order]] = {}
        for open_order in self.open_orders.values():
            by_product.setdefault(open_order.product_id, []).append(open_order)
        order_margins = [
            self._margin_of(pid, by_product.get(pid, ()), None) for pid in self.products
        ]
        used = Decimal(0)
        for position, order in zip(position_margins, order_margins, strict=True):
            used += position + order
        unrealized = self.unrealized(marks)
        return Wallet(
            user_id=self.user_id,
            balance=self.balance,
            available_balance=self.balance - used + min(Decimal(0), unrealized),
            order_margin=sum(order_margins, Decimal(0)),
            position_margin=sum(position_margins, Decimal(0)),
            commission=self.commission,
            unrealized_pnl=unrealized,
        )
