"""The matching engine's core: pure logic, no sockets, threads or clocks (time is an argument).

It keeps one :class:`Book` per product (synthetic market liquidity plus our resting orders,
price-time priority), one :class:`Account` per user, and turns requests and market moves
into fills, positions, fees and funding. Every public method takes ``now_ns`` and returns
the events it caused, in order; the thread-safe :class:`~exchange.sim._facade.SimEngine`
serialises calls and forwards the events to the servers. The deterministic backtest can call
it directly in-process.

Our orders only trade against the market's liquidity, never against each other (there is
no cross-account matching). A resting order fills as maker when the market trades through
its price, or at its price once the market size queued ahead of it has traded.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from decimal import Decimal

from exchange.sim._account import Account
from exchange.sim._barpath import quote
from exchange.sim._book import Book
from exchange.sim._errors import OrderRejected
from exchange.sim._model import (
    BUY,
    SELL,
    Fill,
    Filled,
    MarkChanged,
    Order,
    OrderChanged,
    PositionChanged,
    PublicTrade,
    SimEvent,
    WalletChanged,
)
from exchange.sim._products import SimProduct

__all__ = ["EngineCore", "money", "opposite"]

TRADES_KEPT = 200
_INF = 1 << 62


def opposite(side: str) -> str:
    return SELL if side == BUY else BUY


class EngineCore:
    """Books, accounts, execution and market moves; :class:`MatchingEngine` adds requests."""

    def __init__(self, products: Sequence[SimProduct], *, book_deltas: bool = True) -> None:
        """``book_deltas`` False: no :class:`BookDelta` events (an in-process caller that
        ignores them, like the backtest's gateway, saves their checksums)."""
        self.products: dict[int, SimProduct] = {p.product_id: p for p in products}
        self.by_symbol: dict[str, SimProduct] = {p.symbol: p for p in products}
        self.books: dict[str, Book] = {
            p.symbol: Book(p, track_changes=book_deltas) for p in products
        }
        self.book_deltas = book_deltas
        self.accounts: dict[int, Account] = {}
        self.orders: dict[int, Order] = {}
        self.pending: dict[str, dict[int, Order]] = {p.symbol: {} for p in products}
        self.last: dict[str, int] = {}
        self.mark: dict[str, int] = {}
        self.trades: dict[str, deque[PublicTrade]] = {
            p.symbol: deque(maxlen=TRADES_KEPT) for p in products
        }
        self.funding_rate_pct: dict[str, Decimal] = {p.symbol: Decimal("0.01") for p in products}
        self.next_funding_ns: dict[str, int] = {p.symbol: 0 for p in products}
        self._next_order_id = 1
        self._fill_counter = 0
        self._out: list[SimEvent] = []
        self._now = 0
        self._touched_positions: dict[tuple[int, int], int] = {}
        self._touched_wallets: set[int] = set()

    # --- accounts and lookups ------------------------------------------------------------

    def add_account(self, user_id: int, balance: Decimal) -> Account:
        """Create an account with ``balance`` USD; returns it."""
        account = Account(user_id, balance, self.products)
        self.accounts[user_id] = account
        return account

    def product(self, product_id: int | None = None, symbol: str | None = None) -> SimProduct:
        """Find a product by id or symbol.

        Raises:
            OrderRejected: ``invalid_contract`` when it is not listed.
        """
        found = self.products.get(product_id) if product_id is not None else None
        if found is None and symbol is not None:
            found = self.by_symbol.get(symbol)
        if found is None:
            raise OrderRejected("invalid_contract", {"product_id": product_id, "symbol": symbol})
        return found

    def marks(self) -> dict[int, Decimal]:
        """Mark price per product id (products without one yet are left out)."""
        return {
            p.product_id: p.price_of(self.mark[p.symbol])
            for p in self.products.values()
            if p.symbol in self.mark
        }

    # --- the event collector ---------------------------------------------------------------

    def _begin(self, now_ns: int) -> None:
        self._out = []
        self._now = now_ns

    def _finish(self) -> list[SimEvent]:
        if self._touched_positions:
            for (uid, pid), before in self._touched_positions.items():
                pos = self.accounts[uid].positions[pid]
                action = "create" if before == 0 else "delete" if pos.size == 0 else "update"
                self._out.append(PositionChanged(uid, action, pos.snapshot(), self._now))
            self._touched_positions = {}
        if self._touched_wallets:
            marks = self.marks()
            for uid in sorted(self._touched_wallets):
                self._out.append(WalletChanged(uid, self.accounts[uid].wallet(marks), self._now))
            self._touched_wallets = set()
        if self.book_deltas:
            for book in self.books.values():
                delta = book.take_delta(self._now)
                if delta is not None:
                    self._out.append(delta)
        out, self._out = self._out, []
        return out

    def _emit_order(self, order: Order, action: str, reason: str | None) -> None:
        order.updated_ns = self._now
        self._out.append(OrderChanged(order.user_id, action, reason, order.snapshot(), self._now))

    # --- executing -------------------------------------------------------------------------

    def _reducible(self, order: Order) -> int:
        """How much of ``order`` may still fill: all of it, or up to the position if reduce-only."""
        if not order.reduce_only:
            return order.unfilled
        position = self.accounts[order.user_id].positions[order.product_id].size
        if position == 0 or (position > 0) == (order.side == BUY):
            return 0
        return min(order.unfilled, abs(position))

    def _execute(self, order: Order) -> None:
        """Take liquidity up to the limit (taker), then rest a GTC limit remainder."""
        book = self.books[order.symbol]
        other = opposite(order.side)
        limit = order.limit_ticks
        while order.unfilled > 0 and order.state == "open":
            best = book.best_market(other)
            if best is None or (
                limit is not None and (best > limit if order.side == BUY else best < limit)
            ):
                break
            qty = min(book.market[other][best], self._reducible(order))
            if qty <= 0:
                break
            book.take_market(other, best, qty)
            self._public_trade(order.symbol, best, qty, "taker" if order.side == BUY else "maker")
            self._fill(order, qty, best, "taker")
        if order.state != "open" or order.unfilled == 0:
            return
        rests = order.order_type == "limit_order" and order.time_in_force == "gtc"
        if rests and self._reducible(order) > 0:
            book.add_order(order)
            return
        self._finish_order(
            order,
            "cancelled" if order.filled == 0 else "closed",
            "ioc_unfilled" if order.filled == 0 else None,
        )

    def _fill(self, order: Order, qty: int, ticks: int, role: str) -> None:
        """Book one execution of ``order``: position, wallet, fill record, order state."""
        product = self.products[order.product_id]
        account = self.accounts[order.user_id]
        price = product.price_of(ticks)
        rate = product.maker_rate if role == "maker" else product.taker_rate
        fee = product.notional(qty, price) * rate
        pos = account.positions[product.product_id]
        self._touched_positions.setdefault((account.user_id, product.product_id), pos.size)
        self._touched_wallets.add(account.user_id)
        account.apply_fill(product, order.side, qty, price, fee=fee, now=self._now)
        order.unfilled -= qty
        order.filled_value += qty * price
        order.commission += fee
        self._fill_counter += 1
        seq = account.fill_seq.get(order.symbol, 0) + 1
        account.fill_seq[order.symbol] = seq
        fill = Fill(
            id=str(uuid.UUID(int=self._fill_counter)),
            user_id=account.user_id,
            order_id=order.id,
            client_order_id=order.client_order_id,
            product_id=product.product_id,
            symbol=product.symbol,
            side=order.side,
            size=qty,
            price_ticks=ticks,
            role=role,
            commission=fee,
            commission_rate=rate,
            order_type=order.order_type,
            created_ns=self._now,
            seq=seq,
            position_after=pos.size,
        )
        account.fills.append(fill)
        self._out.append(Filled(account.user_id, fill))
        if order.unfilled == 0:
            self.books[order.symbol].remove_order(order)
            self._finish_order(order, "closed", None, reason="fill")
        else:
            self.books[order.symbol].touch(order.side, ticks) if order.limit_ticks else None
            self._emit_order(order, "update", "fill")
        if order.bracket and not order.bracket_order:
            self._sync_bracket_legs(order)
        if pos.size == 0:
            self._cancel_reduce_only(account, product.product_id, keep=order.id)

    def _finish_order(
        self, order: Order, state: str, cancel_reason: str | None, *, reason: str | None = None
    ) -> None:
        """Close or cancel ``order``: out of the book, the pending set and the open list."""
        order.state = state
        if state == "cancelled":
            order.cancellation_reason = cancel_reason
        self.books[order.symbol].remove_order(order)
        self.pending[order.symbol].pop(order.id, None)
        self.accounts[order.user_id].close(order)
        self._touched_wallets.add(order.user_id)
        self._emit_order(order, "delete", reason)

    def _cancel_reduce_only(self, account: Account, product_id: int, *, keep: int) -> None:
        """A flat position leaves nothing to reduce: cancel its reduce-only orders and legs."""
        for other in account.orders_of(product_id):
            if other.id != keep and (other.reduce_only or other.close_on_trigger):
                self._finish_order(other, "cancelled", "position_closed")

    def _public_trade(self, symbol: str, ticks: int, size: int, buyer_role: str) -> None:
        trade = PublicTrade(symbol, ticks, size, buyer_role, self._now)
        self.trades[symbol].append(trade)
        self._out.append(trade)
        self.last[symbol] = ticks

    # --- market side -----------------------------------------------------------------------

    def market_tick(
        self,
        symbol: str,
        now_ns: int,
        *,
        trade: tuple[int, int, str | None] | None = None,
        mark_ticks: int | None = None,
        bids: Mapping[int, int] | None = None,
        asks: Mapping[int, int] | None = None,
        tape: bool = True,
    ) -> list[SimEvent]:
        """Apply one market move: a trade (price, size, aggressor side or None), a new mark,
        and/or new market liquidity. Our orders the market crosses fill as maker; stops whose
        trigger price is reached fire. ``tape=False`` keeps the trade off the public tape.
        """
        self._begin(now_ns)
        if trade is not None:
            self._market_trade(symbol, *trade, tape=tape)
        if bids is not None or asks is not None:
            self._set_liquidity(symbol, bids, asks)
        if mark_ticks is not None and self.mark.get(symbol) != mark_ticks:
            self.mark[symbol] = mark_ticks
            self._out.append(MarkChanged(symbol, mark_ticks, now_ns))
        if self.pending[symbol]:
            self._check_stops(symbol)
        return self._finish()

    def working(self, symbol: str) -> bool:
        """Whether an order of any account rests in ``symbol``'s book or waits as a stop:
        without one, a market move there can fill or trigger nothing."""
        orders = self.books[symbol].orders
        return bool(orders[BUY] or orders[SELL] or self.pending[symbol])

    def path_step(
        self, symbol: str, now_ns: int, ticks: int, volume: int, *, tape: bool = True
    ) -> list[SimEvent]:
        """One step of the bar path (``exchange.sim._barpath``): ``volume`` contracts trade
        at ``ticks`` with no aggressor, the mark moves there, and the market quotes
        :func:`~exchange.sim._barpath.quote` (one deep level there and one tick above).

        Exactly :meth:`market_tick` with those arguments. Most steps of a backtest keep no
        tape or deltas and find nothing of ours in the symbol's book that the step's price
        reaches (:meth:`_untouched`): those only set the prices and the liquidity, without
        the matching.
        """
        bid, bid_size, ask, ask_size = quote(ticks)
        if tape or self.book_deltas or not self._untouched(symbol, ticks, volume):
            return self.market_tick(
                symbol,
                now_ns,
                trade=(ticks, volume, None) if volume else None,
                mark_ticks=ticks,
                bids={bid: bid_size},
                asks={ask: ask_size},
                tape=tape,
            )
        self._now = now_ns
        if volume:
            self.last[symbol] = ticks
        book = self.books[symbol]
        book.set_market_side(BUY, {bid: bid_size})
        book.set_market_side(SELL, {ask: ask_size})
        if self.mark.get(symbol) == ticks:
            return []
        self.mark[symbol] = ticks
        return [MarkChanged(symbol, ticks, now_ns)]

    def reaches_nothing(self, symbol: str, low_ticks: int, high_ticks: int) -> bool:
        """Whether path steps anywhere in ``[low_ticks, high_ticks]`` would fill, queue or
        trigger nothing in ``symbol``, as things rest now.

        Checking the two ends is enough: a resting sell is reached at or above its price, a
        buy at or below it, a stop on one side of its trigger; whatever a price between the
        ends reaches, one of the ends reaches too.
        """
        return self._untouched(symbol, low_ticks, 1) and self._untouched(symbol, high_ticks, 1)

    def _untouched(self, symbol: str, ticks: int, volume: int) -> bool:
        """Whether a path step to ``ticks`` fills, queues or triggers nothing in ``symbol``.

        The step trades there and quotes bid ``ticks``, ask ``ticks + 1``: a resting sell
        at or below ``ticks``, or a resting buy at or above it, fills or moves up its
        queue; a stop fires at the last and mark prices the step leaves.
        """
        orders = self.books[symbol].orders
        sells, buys = orders[SELL], orders[BUY]
        if (sells and min(sells) <= ticks) or (buys and max(buys) >= ticks):
            return False
        pending = self.pending[symbol]
        if not pending:
            return True
        last = ticks if volume else self.last.get(symbol)
        return not any(_reached(order, last, ticks) for order in pending.values())

    def _market_trade(
        self, symbol: str, ticks: int, size: int, aggressor: str | None, *, tape: bool
    ) -> None:
        """The market traded ``size`` at ``ticks``: fill our orders it reached (maker)."""
        book = self.books[symbol]
        if book.orders[SELL] and aggressor in (BUY, None):
            self._fill_through(book, SELL, ticks, size)
        if book.orders[BUY] and aggressor in (SELL, None):
            self._fill_through(book, BUY, ticks, size)
        if tape:
            self._public_trade(symbol, ticks, size, "taker" if aggressor == BUY else "maker")
        else:
            self.last[symbol] = ticks

    def _fill_through(self, book: Book, side: str, ticks: int, volume: int) -> None:
        """Fill our ``side`` orders priced through ``ticks`` fully; at ``ticks``, after the
        market size queued ahead of them has traded out of ``volume``."""
        if not book.orders[side]:
            return
        crossed = sorted(
            (p for p in book.orders[side] if (p >= ticks if side == BUY else p <= ticks)),
            reverse=side == BUY,
        )
        for price in crossed:
            queue = list(book.orders[side].get(price, ()))
            if price == ticks and queue:
                eaten = min(volume, queue[0].ahead)
                for order in queue:
                    order.ahead = max(0, order.ahead - eaten)
                volume -= eaten
            for order in queue:
                qty = self._reducible(order)
                if price == ticks:
                    qty = min(qty, volume)
                    volume -= qty
                if qty > 0:
                    self._fill(order, qty, price, "maker")
                elif order.reduce_only and self._reducible(order) == 0:
                    self._finish_order(order, "cancelled", "position_closed")

    def _set_liquidity(
        self, symbol: str, bids: Mapping[int, int] | None, asks: Mapping[int, int] | None
    ) -> None:
        book = self.books[symbol]
        if asks and book.orders[BUY]:
            self._fill_through(book, BUY, min(asks), _INF)
        if bids and book.orders[SELL]:
            self._fill_through(book, SELL, max(bids), _INF)
        if bids is not None:
            book.set_market_side(BUY, bids)
        if asks is not None:
            book.set_market_side(SELL, asks)

    def _check_stops(self, symbol: str) -> None:
        pending = self.pending[symbol]
        if not any(self._reached(order) for order in pending.values()):
            return  # most moves: no sort, nothing fires
        for order in sorted(pending.values(), key=lambda o: o.id):
            if order.id not in pending:
                continue  # cancelled by an earlier trigger in this loop (OCO)
            if self._reached(order):  # prices as earlier triggers in this loop left them
                self._trigger(order)

    def _reached(self, order: Order) -> bool:
        """Whether the stop's trigger price is reached at its symbol's price now."""
        symbol = order.symbol
        last = self.last.get(symbol)
        return _reached(order, last, self.mark.get(symbol, last))

    def _trigger(self, order: Order) -> None:
        """A stop fired: it becomes a market (or limit) order and executes now."""
        del self.pending[order.symbol][order.id]
        account = self.accounts[order.user_id]
        if order.oco_id is not None:
            sibling = self.orders.get(order.oco_id)
            if sibling is not None and sibling.state == "pending":
                self._finish_order(sibling, "cancelled", "bracket_order_triggered")
        if order.close_on_trigger:
            position = account.positions[order.product_id].size
            order.size = order.unfilled = abs(position)
        order.state = "open"
        order.order_type = "limit_order" if order.limit_ticks is not None else "market_order"
        if order.unfilled == 0 or self._reducible(order) == 0:
            self._finish_order(order, "cancelled", "position_closed")
            return
        self._emit_order(order, "update", "stop_trigger")
        self._execute(order)

    def _sync_bracket_legs(self, entry: Order) -> None:
        """Entry with bracket prices filled: create (or grow) its stop-loss and take-profit."""
        account = self.accounts[entry.user_id]
        if entry.bracket_children:
            for child_id in entry.bracket_children:
                child = self.orders[child_id]
                if child.state == "pending" and child.size != entry.filled:
                    child.size = child.unfilled = entry.filled
                    self._emit_order(child, "update", None)
            return
        legs = [
            ("stop_loss_order", entry.bracket.get("sl"), entry.bracket.get("sl_limit")),
            ("take_profit_order", entry.bracket.get("tp"), entry.bracket.get("tp_limit")),
        ]
        self._legs(
            account,
            entry.product_id,
            opposite(entry.side),
            legs,
            size=entry.filled,
            trigger=entry.bracket_trigger_method,
            parent=entry,
        )

    def _legs(
        self,
        account: Account,
        product_id: int,
        side: str,
        legs: Sequence[tuple[str, int | None, int | None]],
        *,
        size: int,
        trigger: str,
        close_on_trigger: bool = False,
        parent: Order | None = None,
    ) -> list[Order]:
        """Create reduce-only OCO stop orders (stop-loss / take-profit) closing a position.

        ``parent`` is the entry order for a bracket on an order, None for one on a position.
        """
        product = self.products[product_id]
        made: list[Order] = []
        for stop_type, stop_ticks, limit_ticks in legs:
            if stop_ticks is None:
                continue
            order = Order(
                id=self._next_order_id,
                user_id=account.user_id,
                product_id=product_id,
                symbol=product.symbol,
                side=side,
                order_type="limit_order" if limit_ticks else "market_order",
                size=size,
                unfilled=size,
                limit_ticks=limit_ticks,
                time_in_force="gtc",
                post_only=False,
                reduce_only=True,
                client_order_id=None,
                state="pending",
                created_ns=self._now,
                updated_ns=self._now,
                stop_order_type=stop_type,
                stop_ticks=stop_ticks,
                stop_trigger_method=trigger,
                bracket_order=True,
                close_on_trigger=close_on_trigger,
            )
            self._next_order_id += 1
            self._register(account, order)
            made.append(order)
        if len(made) == 2:
            made[0].oco_id, made[1].oco_id = made[1].id, made[0].id
        if parent is not None:
            parent.bracket_children = [o.id for o in made]
        return made


def money(value: Decimal) -> str:
    """A money amount as a wire string, to 8 decimals."""
    return f"{value.quantize(Decimal('0.00000001')):f}"


def _reached(order: Order, last: int | None, mark: int | None) -> bool:
    """Whether the stop's trigger price is reached at these last traded and mark prices."""
    price = last if order.stop_trigger_method == "last_traded_price" else mark
    if price is None or order.stop_ticks is None:
        return False
    rising = (order.side == BUY) == (order.stop_order_type == "stop_loss_order")
    return (price >= order.stop_ticks) if rising else (price <= order.stop_ticks)
