"""EngineGateway: orders executed in-process by the simulator's pure matching engine.

The same :class:`~exchange.sim.MatchingEngine` the simulator's servers wrap, called directly
on the actor's thread with the runtime clock's time, so the whole trading tree runs on the
deterministic runtime (tests, backtests). It takes ``PlaceOrder``, ``CancelOrder`` and
``CancelAllOrders`` and publishes what the engine reports, translated to messages:
``OrderAccepted``/``OrderRejected``/``OrderCancelled``/``OrderFilled`` (keyed by the
order's ``position_id``, so a position or hedge actor subscribes to its own),
``EquityUpdated``, ``MarkPrice`` and ``FundingRate`` (keyed by symbol) and, when
``publish_tops``, ``TopOfBook`` (keyed by symbol) from the engine's market liquidity (or,
for a deferred quiet step, from the step's quote, which is what that liquidity becomes).

It reports as a live venue does, so that the trading tree sees in a backtest what it sees
live (``tests/test_parity.py``): ``EquityUpdated`` when the wallet changes (an order, a
fill, funding), with the equity a venue's margins frame gives (the wallet balance, no
unrealised PnL); a ``TopOfBook`` only when the best prices or their sizes changed, as the
live book actors publish.

An order the engine closes with contracts unfilled (an IOC remainder) is reported as
``OrderCancelled`` with its ``filled_size``, as the live exchange's cancel of the rest.

Scripted markets drive it with :class:`MarketStep`, :class:`PathStep` and
:class:`ApplyFunding` (runtime-internal commands, not journaled), several an instant in
one :class:`MarketMoves`. Cancelling an order that is already closed is
a no-op (logged), since cancels are idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from actors._durable import DurableActor
from exchange.sim import MatchingEngine, OrderRejected, OrderRequest, SimProduct
from exchange.sim._barpath import quote
from exchange.sim._model import (
    Filled,
    FundingApplied,
    MarkChanged,
    OrderChanged,
    PublicTrade,
    WalletChanged,
)
from messages import (
    CancelAllOrders,
    CancelOrder,
    Contracts,
    EquityUpdated,
    FundingRate,
    MarkPrice,
    Message,
    NotionalType,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderType,
    PlaceOrder,
    Product,
    ProductState,
    Side,
    TopOfBook,
    UnixNanos,
)
from messages import OrderRejected as OrderRejectedEvent

__all__ = [
    "USER_ID",
    "ApplyFunding",
    "EngineGateway",
    "MarketMoves",
    "MarketStep",
    "PathStep",
    "product_of",
]

USER_ID = 1
"""The engine account the bot trades on."""
_HUNDRED = Decimal(100)
_TYPES = {
    OrderType.LIMIT: ("limit_order", None),
    OrderType.MARKET: ("market_order", None),
    OrderType.STOP_MARKET: ("market_order", "stop_loss_order"),
    OrderType.STOP_LIMIT: ("limit_order", "stop_loss_order"),
    OrderType.TAKE_PROFIT_MARKET: ("market_order", "take_profit_order"),
    OrderType.TAKE_PROFIT_LIMIT: ("limit_order", "take_profit_order"),
}


def product_of(sim: SimProduct) -> Product:
    """The :class:`~messages.Product` value of a simulated product."""
    return Product(
        product_id=sim.product_id,
        symbol=sim.symbol,
        contract_type="perpetual_futures",
        state=ProductState.LIVE,
        notional_type=NotionalType.VANILLA,
        contract_value=sim.contract_value,
        tick_size=sim.tick_size,
        maker_fee_rate=sim.maker_rate,
        taker_fee_rate=sim.taker_rate,
        funding_interval_s=sim.funding_interval_s,
        settling_asset="USD",
        quoting_asset="USD",
    )


@dataclass(frozen=True, slots=True)
class MarketStep:
    """Script: the market of ``symbol`` moves (runtime-internal command to the gateway).

    ``price`` trades ``volume`` contracts and becomes the mark; ``bid``/``ask`` (when given)
    replace the market's liquidity with one level of ``depth`` contracts each. Prices are
    quote currency on the tick grid.
    """

    symbol: str
    price: Decimal | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    volume: int = 1
    depth: int = 1_000_000


@dataclass(frozen=True, slots=True)
class PathStep:
    """Script: one step of the bar path in ``symbol`` at ``ticks`` (runtime-internal).

    The backtest's market move (``exchange.sim._barpath``): one contract trades at
    ``ticks``, which becomes the mark, and the market quotes one deep level there and one
    tick above. In ticks, not prices: the backtest converts its candles once.
    """

    symbol: str
    ticks: int


@dataclass(frozen=True, slots=True)
class ApplyFunding:
    """Script: exchange funding of ``symbol`` at ``rate_pct`` % of notional (runtime-internal)."""

    symbol: str
    rate_pct: Decimal


@dataclass(frozen=True, slots=True)
class MarketMoves:
    """Script: what happens to several markets at one instant, in order (runtime-internal).

    Each symbol's funding due, then its step, symbol after symbol, as the simulator plays
    a step of every symbol before any client hears of it: one message instead of one a
    symbol, and every consequence published after all the moves.
    """

    moves: tuple[MarketStep | PathStep | ApplyFunding, ...]


def _ticks_of(product: SimProduct, price: Decimal) -> int:
    """``price`` in ticks of ``product``, as ``product.ticks_of`` gives it, faster.

    Every market move converts its prices, mostly fresh Decimals (so a cache keyed by them
    pays a Decimal hash, as slow as the division): one division, then an exact check that
    the result times the tick is the price. Anything else (off the grid, not finite) goes
    to ``product.ticks_of``, which raises its ValueError.
    """
    try:
        ticks = int(price / product.tick_size)
    except (ArithmeticError, TypeError, ValueError):
        return product.ticks_of(price)
    if ticks * product.tick_size == price:
        return ticks
    return product.ticks_of(price)


class EngineGateway(DurableActor):
    """Runs the pure matching engine in-process (one account) and reports in messages.

    Pass ``engine`` to keep the venue across restarts of this actor (a real exchange
    outlives its gateway); by default each incarnation builds a fresh engine. Order events
    and funding are journaled before anyone sees them; a ``PlaceOrder`` handled again after
    a restart is not sent to the engine when the engine already knows its client order id.
    """

    state_fields = ("owner", "command", "leaves")

    def __init__(
        self,
        *,
        products: Sequence[SimProduct],
        balance: Decimal,
        publish_tops: bool = True,
        engine: MatchingEngine | None = None,
        mark_each_move: bool = True,
    ) -> None:
        """``mark_each_move`` False publishes the mark only right before funding, the one
        time positions and hedges read it (the backtest: a third of its messages)."""
        self.products = tuple(products)
        self.balance = balance
        self.publish_tops = publish_tops
        self.mark_each_move = mark_each_move
        if engine is None:
            engine = MatchingEngine(self.products, book_deltas=False)  # deltas are ignored
            engine.add_account(USER_ID, balance)
        self.engine = engine
        self.owner: dict[str, str | None] = {}
        self.command: dict[str, str] = {}
        self.leaves: dict[int, int] = {}
        self._published: dict[str, tuple[int | None, ...]] = {}
        self._behind: dict[str, tuple[int, int]] = {}

    def on_start(self) -> None:
        """Restore, then publish the wallet, so risk knows the equity before any trade."""
        self.restore()

    def on_restored(self) -> None:
        """Publish the wallet."""
        account, now = self.engine.accounts[USER_ID], UnixNanos(self._now())
        wallet = account.wallet(self.engine.marks())
        self._wallet(WalletChanged(USER_ID, wallet, now))

    def on_stop(self) -> None:
        """Hand the deferred quiet steps to the engine, which outlives this incarnation."""
        self._catch_up()

    def describe(self) -> dict[str, object]:
        """Wallet balance and open order count."""
        account = self.engine.accounts[USER_ID]
        return {"balance": str(account.balance), "open_orders": len(account.open_orders)}

    def wallet_balance(self) -> Decimal:
        """The engine account's wallet balance, USD (for tests and backtest reports)."""
        return self.engine.accounts[USER_ID].balance

    # --- commands -------------------------------------------------------------------------

    def on_place_order(self, cmd: PlaceOrder) -> None:
        """Place ``cmd`` on the engine; publish what it caused, or an OrderRejected."""
        account = self.engine.accounts[USER_ID]
        coid = cmd.client_order_id
        if self.replaying and (coid in account.open_by_coid or coid in account.recent_by_coid):
            return  # placed before the restart; its events are in the journal
        self.owner[cmd.client_order_id] = cmd.position_id
        self.command[cmd.client_order_id] = cmd.command_id
        try:
            order, events = self.engine.place_order(USER_ID, self._request(cmd), self._now())
        except OrderRejected as exc:
            self._publish(cmd.client_order_id, self._rejected(cmd, exc))
            return
        self.leaves[order.id] = cmd.size
        self._emit(events)
        self._publish_top(cmd.symbol)  # a resting order at the touch changes its size

    def on_cancel_order(self, cmd: CancelOrder) -> None:
        """Cancel one open order by client order id; an unknown or closed one is a no-op."""
        self.command[cmd.client_order_id] = cmd.command_id
        try:
            _, events = self.engine.cancel_order(
                USER_ID, self._now(), client_order_id=cmd.client_order_id
            )
        except OrderRejected as exc:
            self.context.log.info(
                "%s: cancel %s: %s", self.context.actor_id, cmd.client_order_id, exc.code
            )
            return
        self._emit(events)
        self._publish_top(cmd.symbol)

    def on_cancel_all_orders(self, cmd: CancelAllOrders) -> None:
        """Cancel every open order (of one symbol, or all)."""
        product = self.engine.by_symbol.get(cmd.symbol) if cmd.symbol else None
        pid = product.product_id if product is not None else None
        for order in self.engine.accounts[USER_ID].open_orders.values():
            if order.client_order_id and (pid is None or order.product_id == pid):
                self.command[order.client_order_id] = cmd.command_id
        _, events = self.engine.cancel_all(USER_ID, self._now(), product_id=pid)
        self._emit(events)
        for symbol in [cmd.symbol] if cmd.symbol else list(self.engine.by_symbol):
            self._publish_top(symbol)

    def on_market_step(self, step: MarketStep) -> None:
        """Apply one scripted market move and publish its consequences."""
        engine, symbol = self.engine, step.symbol
        product = engine.by_symbol[symbol]
        price, bid, ask = step.price, step.bid, step.ask
        ticks = _ticks_of(product, price) if price is not None else None
        bid_ticks = None
        if bid is not None:
            bid_ticks = ticks if bid is price else _ticks_of(product, bid)
        ask_ticks = None
        if ask is not None:
            # Scripted markets quote one tick above the bid: one exact product confirms it.
            if bid_ticks is not None and ask == (bid_ticks + 1) * product.tick_size:
                ask_ticks = bid_ticks + 1
            else:
                ask_ticks = _ticks_of(product, ask)
        now = self.context.now_ns()
        events = engine.market_tick(
            symbol,
            now,
            trade=(ticks, step.volume, None) if ticks is not None else None,
            mark_ticks=ticks,
            bids={bid_ticks: step.depth} if bid_ticks is not None else None,
            asks={ask_ticks: step.depth} if ask_ticks is not None else None,
            tape=False,  # nobody here reads the venue's public tape
        )
        self._emit(events)
        self._publish_top(symbol)

    def receive(self, message: object) -> Any:
        """Bring the engine up to date before anything but a market move reads it."""
        if self._behind and type(message) is not MarketMoves and type(message) is not PathStep:
            self._catch_up()
        return super().receive(message)

    def on_path_step(self, step: PathStep) -> None:
        """Apply one step of the bar path and publish its consequences.

        A step in a quiet symbol (see :meth:`_quiet`) only moves prices: its top of book
        is published from the step, and the engine gets it when something next reads the
        engine (:meth:`_catch_up`) or the symbol's next step that is not quiet. A step
        in another symbol reads nothing of a quiet one, so the quiet ones stay behind
        through it. A backtest's symbols are quiet on most candles.
        """
        symbol, ticks, now = step.symbol, step.ticks, self.context.now_ns()
        if self._quiet(symbol):
            self._behind[symbol] = (ticks, now)
            if self.publish_tops:
                self._publish_levels(symbol, quote(ticks), now)
            return
        behind = self._behind.pop(symbol, None)
        if behind is not None:  # the engine's other symbols may stay behind: see _quiet
            self.engine.path_step(symbol, behind[1], behind[0], 1, tape=False)
        self._emit(self.engine.path_step(symbol, now, ticks, 1, tape=False))
        self._publish_top(symbol)

    def _quiet(self, symbol: str) -> bool:
        """Whether a market move in ``symbol`` matters only to its top of book: nothing of
        ours rests, waits or is held there, and nobody hears its mark."""
        engine = self.engine
        return not (
            engine.working(symbol)
            or engine.accounts[USER_ID].positions[engine.by_symbol[symbol].product_id].size
            or self.context.has_subscribers(MarkPrice, key=symbol)
        )

    def _catch_up(self) -> None:
        """Apply the quiet steps still behind to the engine (the latest of each symbol).

        They can only set prices and liquidity; the mark change they report was heard by
        nobody when they came, so it is dropped as it was then.
        """
        behind, self._behind = self._behind, {}
        for symbol, (ticks, ns) in behind.items():
            self.engine.path_step(symbol, ns, ticks, 1, tape=False)

    def on_market_moves(self, moves: MarketMoves) -> None:
        """Apply each move in order, committing after each as if it came alone: what a
        move records reaches its subscribers before the next move is applied, the order
        the separate messages gave (and the live simulator's frames give)."""
        for move in moves.moves:
            kind = type(move)
            if kind is PathStep:
                self.on_path_step(move)  # type: ignore[arg-type]
            else:
                self._catch_up()
                if kind is MarketStep:
                    self.on_market_step(move)  # type: ignore[arg-type]
                else:
                    self.on_apply_funding(move)  # type: ignore[arg-type]  # the only other kind
            self._commit()

    def on_apply_funding(self, cmd: ApplyFunding) -> None:
        """Exchange funding on every open position of the symbol (at the current mark).

        The mark is published first, so ledgers compute funding at the engine's price.
        """
        mark = self.engine.mark.get(cmd.symbol, self.engine.last.get(cmd.symbol))
        if mark is not None:
            self._publish_mark(cmd.symbol, mark, self._now())
        self._emit(self.engine.apply_funding(cmd.symbol, cmd.rate_pct, 0, self._now()))

    # --- translation ----------------------------------------------------------------------

    def _now(self) -> int:
        return self.context.now_ns()

    def _request(self, cmd: PlaceOrder) -> OrderRequest:
        product = self.engine.by_symbol[cmd.symbol]
        order_type, stop_type = _TYPES[cmd.order_type]
        return OrderRequest(
            product_id=product.product_id,
            size=cmd.size,
            side="buy" if cmd.side is Side.BUY else "sell",
            order_type=order_type,
            limit_ticks=product.ticks_of(cmd.limit_price) if cmd.limit_price is not None else None,
            time_in_force=cmd.time_in_force.value.lower(),
            post_only=cmd.post_only,
            reduce_only=cmd.reduce_only,
            client_order_id=cmd.client_order_id,
            stop_order_type=stop_type,
            stop_ticks=product.ticks_of(cmd.stop_price) if cmd.stop_price is not None else None,
        )

    def _rejected(self, cmd: PlaceOrder, exc: OrderRejected) -> OrderRejectedEvent:
        now = UnixNanos(self._now())
        return OrderRejectedEvent(
            ts_event=now,
            ts_init=now,
            command_id=cmd.command_id,
            client_order_id=cmd.client_order_id,
            symbol=cmd.symbol,
            reason_code=exc.code,
            message=str(exc.context),
        )

    def _emit(self, events: Sequence[object]) -> bool:
        """Publish what ``events`` mean to the bot; True when they held a WalletChanged."""
        touched = False
        for event in events:
            kind = type(event)
            if kind is PublicTrade:  # the most frequent, and nobody's business
                continue
            if kind is MarkChanged:  # one per market move
                if self.mark_each_move:
                    self._publish_mark(event.symbol, event.mark_ticks, event.ts_ns)  # type: ignore[attr-defined]
            elif isinstance(event, OrderChanged):
                self._order_changed(event)
            elif isinstance(event, Filled):
                self._filled(event)
            elif isinstance(event, WalletChanged):
                self._wallet(event)
                touched = True
            elif isinstance(event, FundingApplied):
                now = UnixNanos(event.ts_ns)
                rate = FundingRate(
                    ts_event=now,
                    ts_init=now,
                    symbol=event.symbol,
                    rate=event.rate_pct / _HUNDRED,
                    next_funding_ns=None,
                )
                self.record(rate, key=event.symbol)
        return touched

    def _publish_mark(self, symbol: str, mark_ticks: int, ts_ns: int) -> None:
        """Publish the symbol's mark, when anyone listens (not built otherwise)."""
        if not self.context.has_subscribers(MarkPrice, key=symbol):
            return
        now = UnixNanos(ts_ns)
        price = self.engine.by_symbol[symbol].price_of(mark_ticks)
        self.context.publish(
            MarkPrice(ts_event=now, ts_init=now, symbol=symbol, price=price), key=symbol
        )

    def _order_changed(self, event: OrderChanged) -> None:
        order, coid = event.order, event.order.client_order_id
        if coid is None:
            return
        now = UnixNanos(event.ts_ns)
        command_id = self.command.get(coid, coid)
        if event.action == "create":
            self._publish(
                coid,
                OrderAccepted(
                    ts_event=now,
                    ts_init=now,
                    command_id=command_id,
                    client_order_id=coid,
                    order_id=str(order.id),
                    symbol=order.symbol,
                ),
            )
        elif event.action == "delete" and (order.state == "cancelled" or order.unfilled > 0):
            # An IOC remainder closes the order with contracts unfilled: that is a cancel.
            self._publish(
                coid,
                OrderCancelled(
                    ts_event=now,
                    ts_init=now,
                    command_id=command_id,
                    client_order_id=coid,
                    order_id=str(order.id),
                    symbol=order.symbol,
                    filled_size=Contracts(order.filled),
                    reason=order.cancellation_reason or "ioc_remainder",
                ),
            )

    def _filled(self, event: Filled) -> None:
        fill = event.fill
        if fill.client_order_id is None:
            return
        product = self.engine.products[fill.product_id]
        leaves = self.leaves.get(fill.order_id, fill.size) - fill.size
        self.leaves[fill.order_id] = leaves
        now = UnixNanos(fill.created_ns)
        self._publish(
            fill.client_order_id,
            OrderFilled(
                ts_event=now,
                ts_init=now,
                fill_id=fill.id,
                client_order_id=fill.client_order_id,
                order_id=str(fill.order_id),
                symbol=fill.symbol,
                side=Side.BUY if fill.side == "buy" else Side.SELL,
                price=product.price_of(fill.price_ticks),
                size=Contracts(fill.size),
                leaves_size=Contracts(max(0, leaves)),
                fee=fill.commission,
                fee_asset="USD",
                is_maker=fill.role == "maker",
            ),
        )

    def _wallet(self, event: WalletChanged) -> None:
        wallet, now = event.wallet, UnixNanos(event.ts_ns)
        self.context.publish(
            EquityUpdated(
                ts_event=now,
                ts_init=now,
                asset="USD",
                balance=wallet.balance,
                equity=wallet.balance,  # as a venue's margins frame: no unrealised PnL
                available_margin=wallet.available_balance,
                unrealised_pnl=Decimal(0),
            )
        )

    def _publish(self, coid: str, message: Message) -> None:
        self.changed()
        self.record(message, key=self.owner.get(coid))

    def _publish_top(self, symbol: str) -> None:
        """Publish the symbol's top of book if it changed (prices or sizes)."""
        if not self.publish_tops:
            return
        self._publish_levels(symbol, self.engine.books[symbol].market_top(), self.context.now_ns())

    def _publish_levels(self, symbol: str, levels: _Levels, now: int) -> None:
        """Publish ``levels`` as the symbol's top of book, unless they are the last ones."""
        if self._published.get(symbol) == levels:
            return
        self._published[symbol] = levels
        product = self.engine.by_symbol[symbol]
        self.context.publish_state(
            TopOfBook, partial(_top_of_book, product, UnixNanos(now), levels), key=symbol
        )


_Levels = tuple[int | None, int | None, int | None, int | None]


def _top_of_book(product: SimProduct, now: UnixNanos, levels: _Levels) -> TopOfBook:
    """The ``TopOfBook`` of the engine's best (bid, bid size, ask, ask size), in ticks and
    contracts, at ``now``."""
    bid, bid_size, ask, ask_size = levels
    return TopOfBook(
        ts_event=now,
        ts_init=now,
        symbol=product.symbol,
        best_bid=product.price_of(bid) if bid is not None else None,
        best_bid_size=None if bid_size is None else Contracts(bid_size),
        best_ask=product.price_of(ask) if ask is not None else None,
        best_ask_size=None if ask_size is None else Contracts(ask_size),
        synced=True,
        stale=False,
    )
