"""Correlation hedges (pure logic): when and where to hedge, and one hedge's life.

:class:`HedgeTrigger` (inside a position actor) decides when a losing position is hedged and
with what; :class:`HedgeRunner` (inside a hedge actor) enters it in chunks, takes its profit
and closes it. Settings in ``[hedge]``; no clock (callers pass ``now_ns``).

Trigger: hedge number ``n`` (0-based) opens when the position's adverse move from its
average entry reaches ``(trigger_stop_fraction + n x rehedge_step_fraction) x stop
distance`` (stop distance = |average entry - stop price|), at most
``max_hedges_per_position`` over the position's life. Instrument: of ``priority`` (only
``bot.symbols``), skip the position's own symbol, symbols the strategy holds, symbols another
hedge holds, and symbols whose top of book is stale, unsynced or missing; pick the largest
|correlation| with the position's symbol at or above ``min_correlation`` (ties: priority
order). Side: opposite to the position for a positive correlation, the same for a negative
one. Size: ``floor(size_fraction x |size| x cv x price / (cv_h x mid_h))`` contracts, split in
``chunks`` near-equal market orders (larger ones first). No instrument or under one contract:
no hedge at this level (tried again on the next price).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from actors.trading._ids import Leg, client_order_id, opposite, to_decimal
from actors.trading._ledger import PositionLedger
from actors.trading._orders import market_order
from messages import CorrelationUpdated, PlaceOrder, Product, Side, TopOfBook
from messages.settings import HedgeSettings

__all__ = ["HedgePlan", "HedgeRunner", "HedgeTrigger", "chunk_sizes", "mid_price"]

_HUNDRED = Decimal(100)


def mid_price(top: TopOfBook | None) -> Decimal | None:
    """Mid of a synced, fresh top of book with both sides, else None."""
    if top is None or not top.synced or top.stale:
        return None
    if top.best_bid is None or top.best_ask is None:
        return None
    return (top.best_bid + top.best_ask) / 2


def chunk_sizes(total: int, chunks: int) -> tuple[int, ...]:
    """Split ``total`` contracts in ``chunks`` near-equal parts, larger first, no zeros."""
    base, rest = divmod(total, chunks)
    return tuple(s for s in [base + 1] * rest + [base] * (chunks - rest) if s > 0)


@dataclass(frozen=True, slots=True)
class HedgePlan:
    """One hedge to open: its id, instrument, side, chunk sizes and why (runtime-internal)."""

    hedge_id: str
    parent_position_id: str
    symbol: str
    side: Side
    chunks: tuple[int, ...]
    correlation: float
    reason: str

    @property
    def target_size(self) -> int:
        """Signed contracts once every chunk is filled."""
        total = sum(self.chunks)
        return total if self.side is Side.BUY else -total


class HedgeTrigger:
    """When one position is hedged and with what (see the module docstring)."""

    def __init__(
        self,
        settings: HedgeSettings,
        products: Mapping[str, Product],
        *,
        position_id: str,
        symbol: str,
        symbols: tuple[str, ...],
    ) -> None:
        self.settings = settings
        self.products = dict(products)
        self.position_id = position_id
        self.symbol = symbol
        self.candidates = tuple(s for s in settings.priority if s in symbols and s != symbol)
        self.opened = 0
        self.last_skip = ""
        self._trigger_fraction = to_decimal(settings.trigger_stop_fraction)
        self._rehedge_step = to_decimal(settings.rehedge_step_fraction)

    def level(self) -> Decimal:
        """Adverse move, in stop distances, at which the next hedge opens."""
        return self._trigger_fraction + self.opened * self._rehedge_step

    def check(
        self,
        ledger: PositionLedger,
        *,
        stop_price: Decimal | None,
        price: Decimal,
        top_of: Callable[[str], TopOfBook | None],
        correlation_now: Callable[[], CorrelationUpdated | None],
        busy: set[str],
    ) -> HedgePlan | None:
        """Return the hedge to open at ``price`` (the position's mid), or None.

        ``top_of`` gives a symbol's last top of book and ``correlation_now`` the last
        correlations (both consulted only once the loss calls for a hedge: a position checks
        on every price of its symbol); ``busy`` holds the symbols the strategy or another
        hedge holds.
        """
        entry = ledger.entry_price
        if not self.settings.enabled or entry is None or stop_price is None or ledger.size == 0:
            return None
        if self.opened >= self.settings.max_hedges_per_position:
            return None
        distance = abs(entry - stop_price)
        adverse = (entry - price) if ledger.size > 0 else (price - entry)
        if distance == 0 or adverse < self.level() * distance:
            return None
        choice = self._choose(top_of, correlation_now(), busy)
        if choice is None:
            self.last_skip = "no eligible hedge symbol"
            return None
        symbol, corr, mid = choice
        notional = (
            to_decimal(self.settings.size_fraction)
            * abs(ledger.size)
            * ledger.contract_value
            * price
        )
        per_contract = self.products[symbol].contract_value * mid
        total = int((notional / per_contract).to_integral_value(ROUND_FLOOR))
        if total < 1:
            self.last_skip = f"hedge in {symbol} under one contract"
            return None
        parent_side = Side.BUY if ledger.size > 0 else Side.SELL
        side = opposite(parent_side) if corr > 0 else parent_side
        reason = f"loss {adverse} reached {self.level()} x stop distance {distance}"
        self.opened += 1
        return HedgePlan(
            hedge_id=f"{self.position_id}-h{self.opened}",
            parent_position_id=self.position_id,
            symbol=symbol,
            side=side,
            chunks=chunk_sizes(total, self.settings.chunks),
            correlation=corr,
            reason=reason,
        )

    def _choose(
        self,
        top_of: Callable[[str], TopOfBook | None],
        correlation: CorrelationUpdated | None,
        busy: set[str],
    ) -> tuple[str, float, Decimal] | None:
        if correlation is None or self.symbol not in correlation.symbols:
            return None
        row = correlation.matrix[correlation.symbols.index(self.symbol)]
        best: tuple[str, float, Decimal] | None = None
        for symbol in self.candidates:
            mid = mid_price(top_of(symbol))
            if symbol in busy or mid is None or symbol not in correlation.symbols:
                continue
            corr = row[correlation.symbols.index(symbol)]
            if math.isnan(corr) or abs(corr) < self.settings.min_correlation:
                continue
            if best is None or abs(corr) > abs(best[1]):
                best = (symbol, corr, mid)
        return best


class HedgeRunner:
    """One hedge's orders: chunked market entries, profit take, close (reduce-only market)."""

    def __init__(self, plan: HedgePlan, settings: HedgeSettings, product: Product) -> None:
        self.plan = plan
        self.take_profit_pct = settings.take_profit_pct
        self.ledger = PositionLedger(product.contract_value)
        self.next_chunk = 0
        self.closing = False
        self.close_reason = ""
        self.closes = 0
        self.close_coid: str | None = None
        self.in_flight: list[str] = []
        """Chunk orders sent and not yet ended: a hedge is not done while one may fill."""

    def chunk_due(self, top: TopOfBook | None, *, now_ns: int) -> tuple[list[PlaceOrder], bool]:
        """Place the next chunk; returns (orders, whether another chunk must be scheduled).

        A chunk that comes due while the hedge symbol's book is stale or unsynced waits one
        more interval (it is not skipped).
        """
        if self.closing or self.next_chunk >= len(self.plan.chunks):
            return [], False
        if mid_price(top) is None:
            return [], True
        index = self.next_chunk
        self.next_chunk += 1
        order = self._market(
            Leg.HEDGE, index, self.plan.side, self.plan.chunks[index], now_ns, reduce_only=False
        )
        self.in_flight.append(order.client_order_id)
        return [order], self.next_chunk < len(self.plan.chunks)

    def on_price(self, top: TopOfBook, *, now_ns: int) -> list[PlaceOrder]:
        """Close the hedge once its unrealised profit reaches take_profit_pct of its notional.

        A closing hedge whose last close ended short closes the rest on a usable price.
        """
        mid = mid_price(top)
        if mid is None or self.ledger.size == 0:
            return []
        if self.closing:
            return self.close(self.close_reason, now_ns=now_ns) if self.close_coid is None else []
        target = self.ledger.notional() * self.take_profit_pct / _HUNDRED
        if self.ledger.unrealised(mid) < target:
            return []
        return self.close("profit taken", now_ns=now_ns)

    def close(self, reason: str, *, now_ns: int) -> list[PlaceOrder]:
        """Stop chunking and close what is held at market (reduce-only).

        At most one close is in flight; :meth:`order_ended` clears it when it ends.
        """
        if not self.closing:
            self.closing, self.close_reason = True, reason
        if self.ledger.size == 0 or self.close_coid is not None:
            return []
        self.closes += 1
        side = Side.SELL if self.ledger.size > 0 else Side.BUY
        order = self._market(
            Leg.HEDGE_CLOSE, self.closes, side, abs(self.ledger.size), now_ns, reduce_only=True
        )
        self.close_coid = order.client_order_id
        return [order]

    def order_ended(self, client_order_id: str) -> None:
        """An order is over (filled, its remainder cancelled, or refused)."""
        if client_order_id == self.close_coid:
            self.close_coid = None
        if client_order_id in self.in_flight:
            self.in_flight.remove(client_order_id)

    def finished(self) -> bool:
        """True once the hedge is closing, holds nothing and no chunk of it may still fill."""
        return self.closing and self.ledger.size == 0 and not self.in_flight

    def _market(
        self, leg: str, attempt: int, side: Side, size: int, now_ns: int, *, reduce_only: bool
    ) -> PlaceOrder:
        coid = client_order_id(self.plan.hedge_id, leg, attempt)
        return market_order(
            coid=coid,
            owner=self.plan.hedge_id,
            symbol=self.plan.symbol,
            side=side,
            size=size,
            now_ns=now_ns,
            reduce_only=reduce_only,
        )
