"""The matching engine: account requests (place, edit, cancel, brackets, leverage) and funding.

Pure logic on top of :class:`~exchange.sim._core.EngineCore`: no sockets, threads or clocks;
``now_ns`` is an argument and every call returns the events it caused. A refused request
raises :class:`~exchange.sim._errors.OrderRejected` before anything changed. The thread-safe
:class:`~exchange.sim._facade.SimEngine` wraps it for the servers; the backtest may call it
directly.
"""

from __future__ import annotations

from decimal import Decimal

from exchange.sim._account import Account
from exchange.sim._core import EngineCore, money, opposite
from exchange.sim._errors import OrderRejected, bad_schema
from exchange.sim._model import (
    BUY,
    FundingApplied,
    Order,
    OrderRequest,
    SimEvent,
)
from exchange.sim._products import SimProduct

__all__ = ["MatchingEngine"]


class MatchingEngine(EngineCore):
    """Books, accounts and matching for a set of products (see the module docstrings)."""

    # --- placing ---------------------------------------------------------------------------

    def place_order(
        self, user_id: int, req: OrderRequest, now_ns: int
    ) -> tuple[Order, list[SimEvent]]:
        """Validate and place an order; it may fill at once (taker) and/or rest (maker).

        Raises:
            OrderRejected: ``bad_schema``, ``invalid_contract``, ``duplicate_client_order_id``,
                ``immediate_execution_post_only``, ``insufficient_margin``,
                ``reduce_only_violation`` or ``order_size_exceed_available``. Nothing changed.
        """
        self._begin(now_ns)
        order = self._place(self.accounts[user_id], req)
        return order, self._finish()

    def _place(self, account: Account, req: OrderRequest) -> Order:
        product = self.product(req.product_id)
        self._validate(account, product, req)
        order = Order(
            id=self._next_order_id,
            user_id=account.user_id,
            product_id=product.product_id,
            symbol=product.symbol,
            side=req.side,
            order_type=req.order_type,
            size=req.size,
            unfilled=req.size,
            limit_ticks=req.limit_ticks,
            time_in_force=req.time_in_force,
            post_only=req.post_only,
            reduce_only=req.reduce_only,
            client_order_id=req.client_order_id,
            state="pending" if req.stop_order_type else "open",
            created_ns=self._now,
            updated_ns=self._now,
            stop_order_type=req.stop_order_type,
            stop_ticks=req.stop_ticks,
            stop_trigger_method=req.stop_trigger_method,
            bracket={
                "sl": req.bracket_stop_loss_ticks,
                "sl_limit": req.bracket_stop_loss_limit_ticks,
                "tp": req.bracket_take_profit_ticks,
                "tp_limit": req.bracket_take_profit_limit_ticks,
            }
            if (req.bracket_stop_loss_ticks or req.bracket_take_profit_ticks)
            else {},
            bracket_trigger_method=req.bracket_stop_trigger_method,
        )
        self._next_order_id += 1
        self._register(account, order)
        if order.state == "pending":
            return order
        self._execute(order)
        return order

    def _register(self, account: Account, order: Order) -> None:
        self.orders[order.id] = order
        account.add_open(order)
        if order.state == "pending":
            self.pending[order.symbol][order.id] = order
        self._emit_order(order, "create", None)

    def _validate(self, account: Account, product: SimProduct, req: OrderRequest) -> None:
        if req.size < 1:
            raise bad_schema("size", "size must be a positive integer")
        if req.size > product.position_size_limit:
            limit = {"position_size_limit": product.position_size_limit}
            raise OrderRejected("risk_limits_breached", limit)
        if req.client_order_id and req.client_order_id in account.open_by_coid:
            raise OrderRejected(
                "duplicate_client_order_id",
                {
                    "client_order_id": req.client_order_id,
                    "order_id": account.open_by_coid[req.client_order_id],
                },
            )
        if req.order_type == "limit_order" and (req.limit_ticks is None or req.limit_ticks <= 0):
            raise bad_schema("limit_price", "limit_price must be greater than 0")
        if req.stop_order_type and (req.stop_ticks is None or req.stop_ticks <= 0):
            raise bad_schema("stop_price", "stop_price must be greater than 0")
        book = self.books[product.symbol]
        if req.post_only and not req.stop_order_type:
            if req.order_type != "limit_order":
                raise bad_schema("post_only", "post_only needs a limit order")
            best = book.best_market(opposite(req.side))
            assert req.limit_ticks is not None
            if best is not None and (
                req.limit_ticks >= best if req.side == BUY else req.limit_ticks <= best
            ):
                raise OrderRejected("immediate_execution_post_only")
        position = account.positions[product.product_id].size
        wrong_way = position == 0 or (position > 0) == (req.side == BUY)
        if req.reduce_only and not req.stop_order_type and wrong_way:
            raise OrderRejected("reduce_only_violation", {"position_size": position})
        is_market = req.order_type == "market_order" and not req.stop_order_type
        if is_market and book.best_market(opposite(req.side)) is None:
            raise OrderRejected("order_size_exceed_available")
        if not req.reduce_only:
            self._check_margin(account, product, req.side, req.size, self._ref_price(req))

    def _ref_price(self, req: OrderRequest) -> int | None:
        """The price the margin check uses: limit, else stop, else best opposite, else last."""
        if req.limit_ticks is not None:
            return req.limit_ticks
        if req.stop_ticks is not None:
            return req.stop_ticks
        product = self.products[req.product_id]
        best = self.books[product.symbol].best_market(opposite(req.side))
        return best if best is not None else self.last.get(product.symbol)

    def _check_margin(
        self, account: Account, product: SimProduct, side: str, size: int, ticks: int | None
    ) -> None:
        """Refuse an order whose exposure-increasing part needs more than is available."""
        if ticks is None:
            return
        position = account.positions[product.product_id].size
        signed = size if side == BUY else -size
        increase = max(0, abs(position + signed) - abs(position))
        if increase == 0:
            return
        lev = account.leverage[product.product_id]
        required = product.notional(increase, product.price_of(ticks)) / lev
        available = account.available(self.marks())
        if required > available:
            raise OrderRejected(
                "insufficient_margin",
                {
                    "available_balance": money(available),
                    "required_additional_balance": money(required - available),
                },
            )

    # --- cancelling and editing --------------------------------------------------------------

    def find_order(
        self, user_id: int, order_id: int | None = None, client_order_id: str | None = None
    ) -> Order | None:
        """Find one of ``user_id``'s orders by id, or by client order id (open first, then the
        most recent closed one). Read-only; returns the live record (copy before sharing)."""
        account = self.accounts[user_id]
        if order_id is not None:
            order = self.orders.get(order_id)
            return order if order is not None and order.user_id == user_id else None
        if client_order_id is not None:
            found = account.open_by_coid.get(client_order_id)
            found = found if found is not None else account.recent_by_coid.get(client_order_id)
            return self.orders.get(found) if found is not None else None
        return None

    def _open_order(
        self, user_id: int, product_id: int | None, order_id: int | None, coid: str | None
    ) -> Order:
        order = self.find_order(user_id, order_id, coid)
        if (
            order is None
            or order.state not in ("open", "pending")
            or (product_id is not None and order.product_id != product_id)
        ):
            raise OrderRejected("open_order_not_found", {"id": order_id, "client_order_id": coid})
        return order

    def cancel_order(
        self,
        user_id: int,
        now_ns: int,
        *,
        product_id: int | None = None,
        order_id: int | None = None,
        client_order_id: str | None = None,
    ) -> tuple[Order, list[SimEvent]]:
        """Cancel an open or pending order (``cancelled_by_user``).

        Raises:
            OrderRejected: ``open_order_not_found`` (unknown, not ours, or already done).
        """
        order = self._open_order(user_id, product_id, order_id, client_order_id)
        self._begin(now_ns)
        self._finish_order(order, "cancelled", "cancelled_by_user")
        return order, self._finish()

    def edit_order(
        self,
        user_id: int,
        now_ns: int,
        *,
        order_id: int,
        product_id: int | None = None,
        limit_ticks: int | None = None,
        size: int | None = None,
        post_only: bool | None = None,
        stop_ticks: int | None = None,
    ) -> tuple[Order, list[SimEvent]]:
        """Edit price, total size, post-only or stop price of an open or pending order.

        ``size`` is the total size after the edit (filled part included). A new price loses
        the order's queue position; a new price that crosses executes (or, post-only, is
        refused).

        Raises:
            OrderRejected: ``open_order_not_found``, ``bad_schema`` (size not above the filled
                size, non-positive price), ``immediate_execution_post_only``.
        """
        order = self._open_order(user_id, product_id, order_id, None)
        if size is not None and size <= order.filled:
            raise bad_schema("size", "size must exceed the filled size")
        if limit_ticks is not None and limit_ticks <= 0:
            raise bad_schema("limit_price", "limit_price must be greater than 0")
        if stop_ticks is not None and (stop_ticks <= 0 or order.state != "pending"):
            raise bad_schema("stop_price", "stop_price applies to an untriggered stop order")
        new_post_only = order.post_only if post_only is None else post_only
        new_limit = order.limit_ticks if limit_ticks is None else limit_ticks
        book = self.books[order.symbol]
        best = book.best_market(opposite(order.side))
        crosses = (
            best is not None
            and new_limit is not None
            and order.state == "open"
            and (new_limit >= best if order.side == BUY else new_limit <= best)
        )
        if crosses and new_post_only:
            raise OrderRejected("immediate_execution_post_only")
        self._begin(now_ns)
        resting = order.state == "open" and order.limit_ticks is not None
        if resting and new_limit != order.limit_ticks:
            book.remove_order(order)
        elif resting:
            book.touch(order.side, order.limit_ticks or 0)
        if size is not None:
            order.size, order.unfilled = size, size - order.filled
        order.post_only = new_post_only
        if stop_ticks is not None:
            order.stop_ticks = stop_ticks
        old_limit, order.limit_ticks = order.limit_ticks, new_limit
        self._emit_order(order, "update", None)
        if resting and new_limit != old_limit:
            self._execute(order)
        self._touched_wallets.add(user_id)
        return order, self._finish()

    def cancel_all(
        self,
        user_id: int,
        now_ns: int,
        *,
        product_id: int | None = None,
        limit_orders: bool = True,
        stop_orders: bool = True,
        reduce_only_orders: bool = True,
    ) -> tuple[int, list[SimEvent]]:
        """Cancel the account's open orders of the kinds asked (all products when None)."""
        self._begin(now_ns)
        count = 0
        for order in list(self.accounts[user_id].open_orders.values()):
            if product_id is not None and order.product_id != product_id:
                continue
            is_stop = order.state == "pending"
            if order.reduce_only and not reduce_only_orders:
                continue
            if (is_stop and not stop_orders) or (not is_stop and not limit_orders):
                continue
            self._finish_order(order, "cancelled", "cancelled_by_user")
            count += 1
        return count, self._finish()

    # --- brackets, leverage, funding ------------------------------------------------------

    def place_bracket(
        self,
        user_id: int,
        now_ns: int,
        *,
        product_id: int,
        stop_loss: tuple[int, int | None] | None,
        take_profit: tuple[int, int | None] | None,
        trigger: str = "mark_price",
    ) -> tuple[list[Order], list[SimEvent]]:
        """Attach stop-loss / take-profit (stop ticks, optional limit ticks) to a position.

        The legs close the whole position when they trigger, whatever its size then; they
        replace earlier position brackets of the product and are cancelled when it goes flat.

        Raises:
            OrderRejected: ``invalid_contract``; ``bad_schema`` without legs or without an
                open position.
        """
        product = self.product(product_id)
        account = self.accounts[user_id]
        position = account.positions[product.product_id].size
        if stop_loss is None and take_profit is None:
            raise bad_schema("stop_loss_order", "a bracket needs a stop loss or a take profit")
        if position == 0:
            raise bad_schema("product_id", "a position bracket needs an open position")
        self._begin(now_ns)
        for old in account.orders_of(product.product_id):
            if old.close_on_trigger:
                self._finish_order(old, "cancelled", "cancelled_by_user")
        legs = [
            ("stop_loss_order", *(stop_loss or (None, None))),
            ("take_profit_order", *(take_profit or (None, None))),
        ]
        made = self._legs(
            account,
            product.product_id,
            "sell" if position > 0 else "buy",
            legs,
            size=abs(position),
            trigger=trigger,
            close_on_trigger=True,
        )
        return made, self._finish()

    def set_leverage(
        self, user_id: int, product_id: int, leverage: int, now_ns: int
    ) -> tuple[Decimal, list[SimEvent]]:
        """Set the account's leverage on a product; return the product's new order margin.

        Raises:
            OrderRejected: ``bad_schema`` outside 1..default_leverage; ``insufficient_margin``
                when the margin at the new leverage exceeds the balance.
        """
        product = self.product(product_id)
        account = self.accounts[user_id]
        if not 1 <= leverage <= product.default_leverage:
            raise bad_schema("leverage", f"leverage must be 1 to {product.default_leverage}")
        available = account.available(self.marks(), override=(product.product_id, leverage))
        if available < 0:
            raise OrderRejected(
                "insufficient_margin",
                {
                    "available_balance": money(account.available(self.marks())),
                    "required_additional_balance": money(-available),
                },
            )
        self._begin(now_ns)
        account.leverage[product.product_id] = leverage
        self._touched_wallets.add(user_id)
        return account.order_margin(product.product_id), self._finish()

    def apply_funding(
        self, symbol: str, rate_pct: Decimal, next_ns: int, now_ns: int
    ) -> list[SimEvent]:
        """Exchange funding at the mark price for every open position of ``symbol``."""
        product = self.by_symbol[symbol]
        self._begin(now_ns)
        self.funding_rate_pct[symbol] = rate_pct
        self.next_funding_ns[symbol] = next_ns
        mark_ticks = self.mark.get(symbol, self.last.get(symbol))
        if mark_ticks is not None:
            mark = product.price_of(mark_ticks)
            for account in self.accounts.values():
                pos = account.positions[product.product_id]
                if pos.size:
                    self._touched_positions.setdefault(
                        (account.user_id, product.product_id), pos.size
                    )
                    self._touched_wallets.add(account.user_id)
                    account.apply_funding(product, mark, rate_pct)
        self._out.append(FundingApplied(symbol, rate_pct, next_ns, now_ns))
        return self._finish()
