"""The dynamic trading actors: Position[id] and Hedge[id], children of the trading supervisor.

A position actor starts when an entry is approved, subscribes to its own order events (the
gateway keys them by ``position_id``), tells execution it is ready, and from the first fill
publishes ``PositionOpened``/``PositionChanged``/``PositionClosed`` with exact PnL, fees and
funding. It watches its price and starts hedge actors when :class:`HedgeTrigger` says so.
Once flat and with every hedge it started closed, it records ``PositionFinished`` and
ends (an entry abandoned unfilled ends it at once). A hedge actor enters in chunks on the
runtime clock, takes its profit, and closes when its parent closes or the kill switch trips.

Lifetimes nest, so a crash never orphans work: execution keeps an entry (and restarts its
position actor) until ``PositionFinished`` is on disk, and a position keeps its hedges (and
restarts them) until each has recorded ``HedgeClosed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from actors._durable import DurableActor
from actors._specs import ChildSpec, Restart
from actors.trading._hedge import HedgePlan, HedgeRunner, HedgeTrigger, mid_price
from actors.trading._ids import (
    EXECUTION_ID,
    GATEWAY_ID,
    RISK_ID,
    TRADING_ID,
    Leg,
    hedge_actor_id,
    leg_of,
    position_actor_id,
)
from actors.trading._internal import ChunkDue, CloseHedge, HedgeReady, PositionReady
from actors.trading._ledger import PositionLedger
from messages import (
    Contracts,
    CorrelationUpdated,
    EntryAbandoned,
    FundingRate,
    HedgeClosed,
    HedgeDecision,
    HedgeOpened,
    KillSwitchTriggered,
    MarkPrice,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    PlaceOrder,
    PositionChanged,
    PositionClosed,
    PositionFinished,
    PositionOpened,
    Product,
    RequestHedge,
    Signal,
    SymbolsInUse,
    TopOfBook,
    UnixNanos,
)
from messages.settings import HedgeSettings

__all__ = ["HedgeActor", "PositionActor"]

_CLOSE_REASONS = {
    Leg.STOP: "stop",
    Leg.TARGET: "target",
    Leg.EXIT: "exit signal",
    Leg.FLATTEN: "flatten",
}
_NS = 1_000_000_000
_MAX_CLOSE_REFUSALS = 3


class PositionActor(DurableActor):
    """Position[id]: the ledger of one position, its events, and its hedge trigger.

    The ledger, the hedges it started and what it knows of other positions and hedges are
    durable; after a restart it starts its open hedges again and tells execution it is ready
    (which places the entry only if that was not done before).
    """

    state_fields = (
        "ledger",
        "trigger.opened",
        "opened",
        "closed",
        "mark",
        "own_hedges",
        "pending_hedge",
    )
    state_added = ("closed", "pending_hedge")

    def __init__(
        self,
        *,
        position_id: str,
        signal: Signal,
        products: Mapping[str, Product],
        hedge: HedgeSettings,
        symbols: tuple[str, ...],
    ) -> None:
        self.position_id, self.signal, self.symbol = position_id, signal, signal.symbol
        self.products, self.hedge_settings = dict(products), hedge
        self.ledger = PositionLedger(products[signal.symbol].contract_value)
        self.trigger = HedgeTrigger(
            hedge, products, position_id=position_id, symbol=signal.symbol, symbols=symbols
        )
        self.opened = False
        self.closed = False
        self.finished = False
        self.mark: Decimal | None = None
        self.top: TopOfBook | None = None
        self.in_use: frozenset[str] = frozenset()
        self.pending_hedge: HedgePlan | None = None
        self.own_hedges: dict[str, HedgePlan] = {}

    def on_start(self) -> None:
        """Subscribe to own orders, hedges and abandonment, the symbol's prices and the
        symbols in use; then be ready. The other symbols' tops and the correlations matter
        only when a hedge is due: they are read then (:meth:`_check_hedge`)."""
        for kind in (OrderFilled, HedgeDecision, HedgeClosed):  # keyed by the position
            self.context.subscribe(kind, key=self.position_id)
        # keyed by the symbol; the price only matters to the hedge trigger
        hedging = (TopOfBook,) if self.hedge_settings.enabled else ()
        for kind in (*hedging, MarkPrice, FundingRate, EntryAbandoned):
            self.context.subscribe(kind, key=self.symbol)
        self.context.subscribe(SymbolsInUse)
        self.restore()

    def on_restored(self) -> None:
        """Start the hedges that were open again; tell execution this position listens (or,
        closed before a restart, end now if its hedges are closed too)."""
        for plan in self.own_hedges.values():
            self._start_hedge_actor(plan)
        if self.closed:
            self._maybe_finish()
        else:
            # The snapshot reaches the writer before execution can place the entry (one
            # mailbox, in order): after a kill -9 it holds the journal entries this position
            # will replay, its fills among them (see actors/_journal_trim.py).
            self.changed()
            self.flush_commit()
            self.context.send(EXECUTION_ID, PositionReady(self.position_id))

    def describe(self) -> dict[str, object]:
        """Size, entry, PnL."""
        return {
            "symbol": self.symbol,
            "size": self.ledger.size,
            "entry": str(self.ledger.entry_price),
            "realised": str(self.ledger.realised_pnl),
            "fees": str(self.ledger.fees),
            "hedges": self.trigger.opened,
        }

    def on_order_filled(self, fill: OrderFilled) -> None:
        """Book the fill and publish the position's new state."""
        if self.ledger.apply_fill(fill):
            self.changed()
            self.record(self._event(fill), key=self.position_id)
            self.closed = self.ledger.size == 0
            self._maybe_finish()
            self._check_hedge()

    def on_mark_price(self, ev: MarkPrice) -> None:
        """Keep the mark funding is exchanged at."""
        self.mark = ev.price
        self.changed(lazy=True)

    def on_funding_rate(self, ev: FundingRate) -> None:
        """Exchange funding on the open size at the last mark."""
        if self.ledger.size and self.mark is not None:
            self.ledger.apply_funding(self.mark, ev.rate)
            self.changed()
            self.record(self._changed("funding", ev.ts_event), key=self.position_id)

    def on_top_of_book(self, top: TopOfBook) -> None:
        """Our symbol's price: maybe start a hedge."""
        self.top = top
        self._check_hedge()

    def _check_hedge(self) -> None:
        """Ask risk for a hedge if the loss at our symbol's last price calls for one.

        Checked on each of our symbol's prices and after each fill: a fill and the price
        that made it come by separate routes, in either order, and the result must not
        depend on which came first. Risk grants each symbol to one holder: two positions
        hedging in the same instant cannot both take one (the exchange nets a symbol).
        """
        price = None if self.closed else mid_price(self.top)
        if price is None or self.replaying or self.pending_hedge is not None:
            return
        plan = self.trigger.check(
            self.ledger,
            stop_price=self.signal.stop_price,
            price=price,
            top_of=self._top_of,
            correlation_now=self._correlation,
            busy=self.in_use,
        )
        if plan is None:
            return
        self.pending_hedge = plan
        self.changed()
        self.emit(
            RISK_ID,
            RequestHedge(
                command_id=f"hedge-{plan.hedge_id}",
                ts_init=UnixNanos(self.context.now_ns()),
                hedge_id=plan.hedge_id,
                parent_position_id=self.position_id,
                symbol=plan.symbol,
            ),
        )

    def _top_of(self, symbol: str) -> TopOfBook | None:
        return self.context.latest(TopOfBook, key=symbol)

    def _correlation(self) -> CorrelationUpdated | None:
        return self.context.latest(CorrelationUpdated)  # type: ignore[return-value]

    def on_hedge_decision(self, ev: HedgeDecision) -> None:
        """Risk answered: start the hedge, or give the slot back and look again later."""
        plan = self.pending_hedge
        if plan is None or plan.hedge_id != ev.hedge_id:
            return
        self.pending_hedge = None
        self.changed()
        if not ev.granted:
            self.trigger.opened -= 1  # this hedge never was: the next one may use its slot
            self.context.log.info(
                "%s: hedge in %s refused by risk: %s", self.context.actor_id, ev.symbol, ev.reason
            )
            return
        self.own_hedges[plan.hedge_id] = plan
        self._start_hedge_actor(plan)

    def on_symbols_in_use(self, ev: SymbolsInUse) -> None:
        """Symbols a hedge may not take: every position, approved entry and hedge (risk's
        view, retained, so it includes what opened before this position started)."""
        self.in_use = frozenset(ev.held) | frozenset(ev.hedged)

    def on_entry_abandoned(self, ev: EntryAbandoned) -> None:
        """Our entry never filled: this actor ends."""
        if ev.position_id == self.position_id and not self.opened:
            self.finish()

    def on_hedge_closed(self, ev: HedgeClosed) -> None:
        """An own hedge closed: the last one may end this position."""
        if self.own_hedges.pop(ev.hedge_id, None) is not None:
            self._maybe_finish()

    def on_hedge_ready(self, msg: HedgeReady) -> None:
        """An own hedge listens now: if this position closed already, it may have missed
        that ``PositionClosed``, so tell it directly."""
        if self.closed and msg.hedge_id in self.own_hedges:
            self.context.send(hedge_actor_id(msg.hedge_id), CloseHedge("parent closed"))

    def _maybe_finish(self) -> None:
        """Flat with no own hedge left: record the end (execution forgets the entry) and
        stop for good, in one commit."""
        if not self.closed or self.own_hedges or self.finished:
            return
        self.finished = True
        now = UnixNanos(self.context.now_ns())
        self.record(
            PositionFinished(
                ts_event=now, ts_init=now, position_id=self.position_id, symbol=self.symbol
            ),
            key=self.position_id,
        )
        self.finish()

    def _start_hedge_actor(self, plan: HedgePlan) -> None:
        interval = self.hedge_settings.chunk_interval_s * _NS
        product, settings = self.products[plan.symbol], self.hedge_settings
        top = self.context.latest(TopOfBook, key=plan.symbol)
        self.context.start_child(
            TRADING_ID,
            ChildSpec(
                actor_id=hedge_actor_id(plan.hedge_id),
                factory=lambda: HedgeActor(
                    plan=plan, settings=settings, product=product, interval_ns=interval, top=top
                ),
                restart=Restart.TRANSIENT,
            ),
        )

    def _event(self, fill: OrderFilled) -> PositionOpened | PositionChanged | PositionClosed:
        led, now = self.ledger, UnixNanos(self.context.now_ns())
        if led.size == 0:
            return PositionClosed(
                ts_event=fill.ts_event,
                ts_init=now,
                position_id=self.position_id,
                symbol=self.symbol,
                entry_price=led.average_entry(),
                exit_price=led.average_exit(),
                realised_pnl=led.realised_pnl,
                fees=led.fees,
                funding=led.funding,
                reason=_CLOSE_REASONS.get(leg_of(fill.client_order_id), "fill"),
            )
        if not self.opened:
            self.opened = True
            assert led.entry_price is not None
            return PositionOpened(
                ts_event=fill.ts_event,
                ts_init=now,
                position_id=self.position_id,
                symbol=self.symbol,
                size=Contracts(led.size),
                entry_price=led.entry_price,
                stop_price=self.signal.stop_price,
                take_profit_price=self.signal.take_profit_price,
                fees=led.fees,
                signal_id=self.signal.signal_id,
            )
        return self._changed("fill", fill.ts_event)

    def _changed(self, reason: str, ts_event: int) -> PositionChanged:
        led = self.ledger
        return PositionChanged(
            ts_event=UnixNanos(ts_event),
            ts_init=UnixNanos(self.context.now_ns()),
            position_id=self.position_id,
            symbol=self.symbol,
            size=Contracts(led.size),
            entry_price=led.entry_price or Decimal(0),
            stop_price=self.signal.stop_price,
            take_profit_price=self.signal.take_profit_price,
            realised_pnl=led.realised_pnl,
            fees=led.fees,
            funding=led.funding,
            reason=reason,
        )


class HedgeActor(DurableActor):
    """Hedge[id]: chunked entry on the runtime clock, profit take, close with its parent.

    Its runner (chunks placed, ledger, closing) is durable: a restarted hedge goes on with
    the next chunk instead of placing the first one again.
    """

    state_fields = (
        "runner.ledger",
        "runner.next_chunk",
        "runner.closing",
        "runner.close_reason",
        "runner.closes",
        "runner.close_coid",
        "runner.in_flight",
        "announced",
        "closed_reported",
        "close_refusals",
        "mark",
    )
    state_added = ("runner.in_flight",)

    def __init__(
        self,
        *,
        plan: HedgePlan,
        settings: HedgeSettings,
        product: Product,
        interval_ns: int,
        top: TopOfBook | None = None,
    ) -> None:
        self.runner = HedgeRunner(plan, settings, product)
        self.plan, self.interval_ns = plan, interval_ns
        self.top = top
        self.mark: Decimal | None = None
        self.announced = False
        self.closed_reported = False
        self.close_refusals = 0

    def on_start(self) -> None:
        """Subscribe, then restore (see on_restored)."""
        plan = self.plan
        self.context.subscribe(OrderFilled, key=plan.hedge_id)
        self.context.subscribe(OrderCancelled, key=plan.hedge_id)
        self.context.subscribe(OrderRejected, key=plan.hedge_id)
        self.context.subscribe(TopOfBook, key=plan.symbol)
        self.context.subscribe(MarkPrice, key=plan.symbol)
        self.context.subscribe(FundingRate, key=plan.symbol)
        self.context.subscribe(PositionClosed, key=plan.parent_position_id)
        self.context.subscribe(KillSwitchTriggered)
        self.restore()

    def on_restored(self) -> None:
        """New: publish HedgeOpened and place the first chunk. Restored: go on chunking.

        Either way the parent hears that this hedge listens (it may have closed before).
        """
        parent = position_actor_id(self.plan.parent_position_id)
        self.context.send(parent, HedgeReady(self.plan.hedge_id))
        if self.announced:
            if not self.runner.closing and self.runner.next_chunk < len(self.plan.chunks):
                self.context.schedule(self.interval_ns, ChunkDue())
            self._maybe_done()
            return
        plan = self.plan
        self.announced = True
        self.changed()
        now = UnixNanos(self.context.now_ns())
        self.record(
            HedgeOpened(
                ts_event=now,
                ts_init=now,
                hedge_id=plan.hedge_id,
                parent_position_id=plan.parent_position_id,
                symbol=plan.symbol,
                target_size=Contracts(plan.target_size),
                chunks=len(plan.chunks),
                correlation=plan.correlation,
                reason=plan.reason,
            ),
            key=plan.parent_position_id,
        )
        self.on_chunk_due(ChunkDue())

    def describe(self) -> dict[str, object]:
        """Chunks placed, size, PnL."""
        return {
            "symbol": self.plan.symbol,
            "chunks_placed": self.runner.next_chunk,
            "size": self.runner.ledger.size,
            "closing": self.runner.closing,
        }

    def on_chunk_due(self, _: ChunkDue) -> None:
        """Place the next chunk (or wait an interval while the book is stale)."""
        orders, more = self.runner.chunk_due(self.top, now_ns=self.context.now_ns())
        self.changed()
        self._send(orders)
        if more:
            self.context.schedule(self.interval_ns, ChunkDue())

    def on_order_filled(self, fill: OrderFilled) -> None:
        """Book the fill; a closing hedge closes what a late chunk added; flat, it reports
        and stops."""
        self.runner.ledger.apply_fill(fill)
        if fill.leaves_size == 0:
            self.runner.order_ended(fill.client_order_id)
        if self.runner.closing:
            self._close(self.runner.close_reason)
            return
        if self.top is not None and not self.replaying:
            self.on_top_of_book(self.top)  # the price that made this fill may have come first
        self._maybe_done()

    def on_order_cancelled(self, ev: OrderCancelled) -> None:
        """An IOC remainder was cancelled: the rest is closed on the next usable price."""
        self.runner.order_ended(ev.client_order_id)
        self._maybe_done()

    def on_order_rejected(self, ev: OrderRejected) -> None:
        """A refused order (no liquidity, say): a close is tried again on the next price.

        A close refused as not reducing means the exchange's position in the symbol is not
        this hedge's (it nets with another); after ``_MAX_CLOSE_REFUSALS`` the hedge stops
        trying and says so loudly instead of sending an order on every price.
        """
        self.context.log.warning(
            "%s: %s rejected: %s", self.context.actor_id, ev.client_order_id, ev.reason_code
        )
        self.runner.order_ended(ev.client_order_id)
        if "reduce_only" in ev.reason_code:
            self.close_refusals += 1
            self.changed()
            if self.close_refusals == _MAX_CLOSE_REFUSALS:
                self.context.log.error(
                    "%s: the exchange refuses to reduce %s: its position there is not this "
                    "hedge's alone; closing stopped, check the account",
                    self.context.actor_id,
                    self.plan.symbol,
                )

    def on_top_of_book(self, top: TopOfBook) -> None:
        """Keep the price; take the profit when it is reached."""
        self.top = top
        if self.close_refusals >= _MAX_CLOSE_REFUSALS:
            return
        orders = self.runner.on_price(top, now_ns=self.context.now_ns())
        if orders:
            self.changed()
            self._send(orders)

    def on_mark_price(self, ev: MarkPrice) -> None:
        """Keep the mark funding is exchanged at."""
        self.mark = ev.price
        self.changed(lazy=True)

    def on_funding_rate(self, ev: FundingRate) -> None:
        """Exchange funding on the hedge's open size."""
        if self.runner.ledger.size and self.mark is not None:
            self.runner.ledger.apply_funding(self.mark, ev.rate)
            self.changed()

    def on_position_closed(self, _: PositionClosed) -> None:
        """The parent closed: close the hedge."""
        self._close("parent closed")

    def on_close_hedge(self, msg: CloseHedge) -> None:
        """The parent closed before this hedge listened: close it."""
        self._close(msg.reason)

    def on_kill_switch_triggered(self, _: KillSwitchTriggered) -> None:
        """Kill switch: close the hedge."""
        self._close("kill switch")

    def _close(self, reason: str) -> None:
        self.changed()
        self._send(self.runner.close(reason, now_ns=self.context.now_ns()))
        self._maybe_done()

    def _send(self, orders: list[PlaceOrder]) -> None:
        for order in orders:
            self.emit(GATEWAY_ID, order)

    def _maybe_done(self) -> None:
        if not self.runner.finished():
            return
        if self.closed_reported:  # a restart after the close was recorded
            self.finish()
            return
        self.closed_reported = True
        led, now = self.runner.ledger, UnixNanos(self.context.now_ns())
        self.changed()
        self.record(
            HedgeClosed(
                ts_event=now,
                ts_init=now,
                hedge_id=self.plan.hedge_id,
                parent_position_id=self.plan.parent_position_id,
                symbol=self.plan.symbol,
                realised_pnl=led.realised_pnl,
                fees=led.fees,
                funding=led.funding,
                reason=self.runner.close_reason,
            ),
            key=self.plan.parent_position_id,
        )
        self.finish()
