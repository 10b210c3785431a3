"""RestGateway: the sim/live order gateway, over DeltaRestClient and the private stream.

Commands (``PlaceOrder``, ``CancelOrder``, ``CancelAllOrders``) run on the actor's thread
through its own :class:`~exchange.delta.DeltaRestClient` (one client per incarnation, made in
``on_start``). Account events come from a :class:`~exchange.delta.DeltaPrivateStream`
(``orders``, ``margins`` and legacy ``user_trades``, which carries the commission that
``v2/user_trades`` lacks) whose thread only forwards each
message to this actor (``context.send`` is thread-safe); :class:`StreamTranslator` turns them
into the events :class:`EngineGateway` publishes, keyed the same way, so the trading tree is
the same in backtest and in sim/live:

- the first of the REST reply or the stream's ``CREATE`` -> ``OrderAccepted`` (once);
- a venue refusal (``Rejected``) -> ``OrderRejected`` with the venue's code;
- a ``user_trades`` fill -> ``OrderFilled`` (de-duplicated by fill id; ``leaves_size`` from
  the placed size less the fills seen);
- an order ``DELETE`` with contracts unfilled -> ``OrderCancelled`` (cancel, IOC remainder);
- a ``margins`` update -> ``EquityUpdated`` (equity = wallet balance: the venue's margins frame
  carries no unrealised PnL).

Timing of the exchange layer (signatures, weight window, backoff, stream staleness) uses a
``WallClock`` (docs/exchange.md). A ``Retryable`` placement failure is logged and reported as
``OrderRejected`` (code ``retryable:<code>``) after the client's own retries; the order may
exist, so a later stream ``CREATE`` still publishes ``OrderAccepted``. A failed stream
(``StreamFailed``) fails the actor, which its supervisor restarts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from actors._clock import WallClock
from actors._durable import DurableActor
from actors.trading._reconcile import reconcile
from exchange.delta import (
    DeltaPrivateStream,
    DeltaRestClient,
    NotFound,
    Rejected,
    Retryable,
    StreamFailed,
)
from messages import (
    CancelAllOrders,
    CancelOrder,
    Contracts,
    EquityUpdated,
    FillReported,
    Message,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrdersSnapshot,
    OrderUpdated,
    PlaceOrder,
    PositionsSnapshot,
    PositionUpdated,
    Product,
    ReconcileDiscrepancy,
    UnixNanos,
    WalletUpdated,
)
from messages.settings import ExchangeSettings, Secret

__all__ = ["RestGateway", "StreamFailedNotice", "StreamTranslator"]

Publish = Callable[[object, str | None], None]


@dataclass(frozen=True, slots=True)
class StreamFailedNotice:
    """Stream thread to the gateway: the private stream gave up (runtime-internal)."""

    error: StreamFailed


class StreamTranslator:
    """Private-stream and REST results to trading events (pure logic, no I/O)."""

    def __init__(self, asset: str = "USD") -> None:
        self.asset = asset
        self.products: dict[str, Product] = {}
        self.owner: dict[str, str | None] = {}
        self.command: dict[str, str] = {}
        self.size: dict[str, int] = {}
        self.filled: dict[str, int] = {}
        self.accepted: set[str] = set()
        self.fills: set[str] = set()
        self.open: set[str] = set()
        self.symbol_of: dict[str, str] = {}
        self.placed_ns: dict[str, int] = {}
        self.net: dict[str, int] = {}
        self.last_fill_ns = 0
        self.ended: list[str] = []
        """Orders that ended (filled, cancelled, refused), oldest first, at most
        ``ENDED_KEPT``: older ones are forgotten."""
        self.fills_of: dict[str, list[str]] = {}
        """Each known order's fill ids, so a forgotten order's go with it."""

    ENDED_KEPT = 512
    """Ended orders remembered. A fill racing a cancel, a frame replayed after a reconnect or
    a fill booked by reconciliation arrives seconds to minutes after its order ended, while
    hundreds of later orders would have to end first for it to be forgotten. Without a bound
    every order and fill id ever seen stays in memory and in a snapshot written on every
    money event (317 kB after 1,201 orders)."""

    STATE = (
        "owner",
        "command",
        "size",
        "filled",
        "accepted",
        "fills",
        "open",
        "symbol_of",
        "placed_ns",
        "net",
        "last_fill_ns",
        "ended",
        "fills_of",
    )
    """What a snapshot keeps: the open orders, the last ``ENDED_KEPT`` ended ones and their
    fills, the net position per symbol."""
    ADDED = ("ended", "fills_of")
    """State fields newer than the first snapshots: absent, they start empty."""

    def _close(self, coid: str) -> None:
        """The order is no longer open on the exchange (once: later calls do nothing):
        remember it among the last ended, forget the oldest beyond ``ENDED_KEPT``."""
        if coid not in self.open:
            return
        self.open.discard(coid)
        self.ended.append(coid)
        while len(self.ended) > self.ENDED_KEPT:
            self._forget(self.ended.pop(0))

    def _forget(self, coid: str) -> None:
        """Drop everything known of an ended order (not the net position it made)."""
        for table in (self.owner, self.command, self.size, self.filled, self.symbol_of):
            table.pop(coid, None)
        self.placed_ns.pop(coid, None)
        self.accepted.discard(coid)
        self.fills.difference_update(self.fills_of.pop(coid, ()))

    def placing(self, cmd: PlaceOrder) -> None:
        """Remember an order before it is sent: owner, command and size."""
        coid = cmd.client_order_id
        self.owner[coid], self.command[coid], self.size[coid] = (
            cmd.position_id,
            cmd.command_id,
            cmd.size,
        )
        self.filled.setdefault(coid, 0)
        self.open.add(coid)
        self.symbol_of[coid] = cmd.symbol
        self.placed_ns.setdefault(coid, cmd.ts_init)

    def accepted_event(
        self, coid: str, order_id: str, symbol: str, now_ns: int
    ) -> OrderAccepted | None:
        """``OrderAccepted`` the first time an order is known open, else None."""
        if coid in self.accepted or coid not in self.owner:
            return None
        self.accepted.add(coid)
        return OrderAccepted(
            ts_event=UnixNanos(now_ns),
            ts_init=UnixNanos(now_ns),
            command_id=self.command.get(coid, coid),
            client_order_id=coid,
            order_id=order_id,
            symbol=symbol,
        )

    def rejected(self, cmd: PlaceOrder, code: str, message: str, now_ns: int) -> OrderRejected:
        """The venue refused ``cmd``."""
        self._close(cmd.client_order_id)
        return OrderRejected(
            ts_event=UnixNanos(now_ns),
            ts_init=UnixNanos(now_ns),
            command_id=cmd.command_id,
            client_order_id=cmd.client_order_id,
            symbol=cmd.symbol,
            reason_code=code,
            message=message,
        )

    def on_order(self, ev: OrderUpdated) -> list[object]:
        """An order frame: acceptance, or the end of an order with contracts unfilled."""
        order, coid = ev.order, ev.order.client_order_id
        if coid is None or coid not in self.owner:
            return []
        out: list[object] = []
        accepted = self.accepted_event(coid, order.order_id, order.symbol, ev.ts_event)
        if accepted is not None:
            out.append(accepted)
        if ev.action.value == "DELETE" and order.filled_size < order.size:
            out.append(
                self.cancelled(
                    coid,
                    order.order_id,
                    order.symbol,
                    ev.reason or order.status.value.lower(),
                    ev.ts_event,
                    filled=order.filled_size,
                )
            )
        return out

    def cancelled(
        self, coid: str, order_id: str, symbol: str, reason: str, now_ns: int, *, filled: int
    ) -> OrderCancelled | None:
        """``OrderCancelled`` once for an order that ended with contracts unfilled."""
        if coid not in self.open:
            return None
        self._close(coid)
        return OrderCancelled(
            ts_event=UnixNanos(now_ns),
            ts_init=UnixNanos(now_ns),
            command_id=self.command.get(coid),
            client_order_id=coid,
            order_id=order_id,
            symbol=symbol,
            filled_size=Contracts(filled),
            reason=reason,
        )

    def on_fill(self, ev: FillReported) -> OrderFilled | None:
        """A trade of ours: ``OrderFilled`` once per fill id."""
        fill, coid = ev.fill, ev.fill.client_order_id
        if coid is None or coid not in self.owner or fill.fill_id in self.fills:
            return None
        fee = fill.fee
        if fee is None:  # the trade frame has no commission: the product's rate, as booked
            product = self.products[fill.symbol]
            rate = product.maker_fee_rate if fill.is_maker else product.taker_fee_rate
            fee = fill.price * fill.size * product.contract_value * rate
        self.fills.add(fill.fill_id)
        self.fills_of.setdefault(coid, []).append(fill.fill_id)
        self.filled[coid] = self.filled.get(coid, 0) + fill.size
        leaves = max(0, self.size.get(coid, fill.size) - self.filled[coid])
        if leaves == 0:
            self._close(coid)
        signed = fill.size if fill.side.value == "BUY" else -fill.size
        self.net[fill.symbol] = self.net.get(fill.symbol, 0) + signed
        self.last_fill_ns = max(self.last_fill_ns, fill.ts_event_ns)
        return OrderFilled(
            ts_event=fill.ts_event_ns,
            ts_init=ev.ts_init,
            fill_id=fill.fill_id,
            client_order_id=coid,
            order_id=fill.order_id,
            symbol=fill.symbol,
            side=fill.side,
            price=fill.price,
            size=fill.size,
            leaves_size=Contracts(leaves),
            fee=fee,
            fee_asset=fill.fee_asset or self.asset,
            is_maker=fill.is_maker,
        )

    def on_wallet(self, ev: WalletUpdated) -> EquityUpdated | None:
        """A margins frame of the settlement asset: the equity risk sizes and limits with."""
        wallet = ev.balance
        if wallet.asset != self.asset:
            return None
        return EquityUpdated(
            ts_event=ev.ts_event,
            ts_init=ev.ts_init,
            asset=wallet.asset,
            balance=wallet.balance,
            equity=wallet.balance,
            available_margin=wallet.available_balance,
            unrealised_pnl=Decimal(0),
        )


class RestGateway(DurableActor):
    """Orders over REST, account events from the private stream (see the module docstring).

    Every order it placed and every fill it booked is durable state. After a restart it
    reconciles with the exchange before it places anything new (:meth:`on_restored`).
    """

    state_fields = tuple(f"translator.{name}" for name in StreamTranslator.STATE)
    state_added = tuple(f"translator.{name}" for name in StreamTranslator.ADDED)

    def __init__(
        self,
        *,
        rest_url: str,
        ws_url: str,
        api_key: Secret,
        api_secret: Secret,
        settings: ExchangeSettings,
        symbols: tuple[str, ...],
        stale_entry_ns: int | None = None,
    ) -> None:
        self.rest_url, self.ws_url = rest_url, ws_url
        self.api_key, self.api_secret = api_key, api_secret
        self.settings, self.symbols = settings, symbols
        self.translator = StreamTranslator()
        self.client: DeltaRestClient | None = None
        self.stream: DeltaPrivateStream | None = None
        self.uncertain: list[PlaceOrder] = []
        self.stale_entry_ns = stale_entry_ns
        """An entry journaled longer ago than this and never sent is not placed at restart."""
        self.discrepancies = 0

    def on_start(self) -> None:
        """Load products, publish the wallet, start the private stream (its own thread)."""
        clock = WallClock()
        self.client = DeltaRestClient(
            self.rest_url,
            api_key=self.api_key,
            api_secret=self.api_secret,
            settings=self.settings,
            clock=clock,
        )
        products = self.client.load_products()
        ids = {products[s].product_id: s for s in self.symbols}
        self.translator.products = dict(products)
        me, send, syms = self.context.actor_id, self.context.send, tuple(self.symbols)
        self.stream = DeltaPrivateStream(
            self.ws_url,
            api_key=self.api_key,
            api_secret=self.api_secret,
            channels=(("orders", syms), ("margins", ()), ("user_trades", syms)),
            settings=self.settings,
            clock=clock,
            sink=lambda message: send(me, message),
            symbols=ids,
            on_failure=lambda error: send(me, StreamFailedNotice(error)),
        )
        self.stream.start()
        now = self.context.now_ns()
        for wallet in self.client.get_wallet_balances():
            update = WalletUpdated(ts_event=UnixNanos(now), ts_init=UnixNanos(now), balance=wallet)
            self.on_wallet_updated(update)
        self.restore()

    def on_restored(self) -> None:
        """Reconcile the journal with the exchange, which is the source of truth.

        Stream frames wait in the mailbox meanwhile (the translator drops what this already
        booked), and commands that arrive wait behind this handler, so nothing new is placed
        before the books agree.
        """
        assert self.client is not None
        reconcile(self, self.client)

    def on_stop(self) -> None:
        """Stop the stream thread and close the client."""
        if self.stream is not None:
            self.stream.stop(timeout_s=2.0)
        if self.client is not None:
            self.client.close()

    def describe(self) -> dict[str, object]:
        """Client and stream health, orders open, discrepancies found at start."""
        return {
            "rest": self.client.health() if self.client else None,
            "stream": self.stream.health() if self.stream else None,
            "open_orders": len(self.translator.open),
            "discrepancies": self.discrepancies,
        }

    def on_place_order(self, cmd: PlaceOrder) -> None:
        """Place over REST; a refusal becomes OrderRejected.

        Handled again after a restart, the order may have reached the exchange before the
        process died: it is looked up by client order id first (see :func:`reconcile`).
        """
        assert self.client is not None
        self.translator.placing(cmd)
        self.changed()
        if self.replaying:
            self.uncertain.append(cmd)
            return
        self.send_order(cmd)

    def send_order(self, cmd: PlaceOrder) -> None:
        """The REST call of a placement, and what it answers."""
        assert self.client is not None
        try:
            order = self.client.place_order(cmd)
        except Rejected as exc:
            self._publish(cmd.client_order_id, self._refused(cmd, exc.code, str(exc)))
            return
        except Retryable as exc:
            self.context.log.warning("%s: place %s: %s", self.context.actor_id, cmd.command_id, exc)
            refused = self._refused(cmd, f"retryable:{exc.code}", str(exc))
            self._publish(cmd.client_order_id, refused)
            return
        accepted = self.translator.accepted_event(
            cmd.client_order_id, order.order_id, cmd.symbol, self.context.now_ns()
        )
        if accepted is not None:
            self._publish(cmd.client_order_id, accepted)

    def on_cancel_order(self, cmd: CancelOrder) -> None:
        """Cancel by client order id; one already closed is a no-op (logged)."""
        assert self.client is not None
        try:
            self.client.cancel_order(symbol=cmd.symbol, client_order_id=cmd.client_order_id)
        except (NotFound, Rejected, Retryable) as exc:
            self.context.log.info(
                "%s: cancel %s: %s", self.context.actor_id, cmd.client_order_id, exc
            )

    def on_cancel_all_orders(self, cmd: CancelAllOrders) -> None:
        """Cancel every open order (of one symbol, or all)."""
        assert self.client is not None
        try:
            self.client.cancel_all_orders(cmd.symbol)
        except (Rejected, Retryable) as exc:
            self.context.log.error("%s: cancel all: %s", self.context.actor_id, exc)

    def on_order_updated(self, ev: OrderUpdated) -> None:
        """Order frames: acceptance and cancels."""
        for event in self.translator.on_order(ev):
            self._publish(ev.order.client_order_id, event)

    def on_fill_reported(self, ev: FillReported) -> None:
        """Trade frames: fills."""
        filled = self.translator.on_fill(ev)
        if filled is not None:
            self._publish(filled.client_order_id, filled)

    def on_wallet_updated(self, ev: WalletUpdated) -> None:
        """Margins frames: equity."""
        equity = self.translator.on_wallet(ev)
        if equity is not None:
            self.context.publish(equity)

    def publish_event(self, coid: str | None, event: Message) -> None:
        """Journal an order event, published under its owner once it is on disk."""
        self._publish(coid, event)

    def discrepancy(self, kind: str, detail: str, *, symbol: str | None, coid: str | None) -> None:
        """Log, count and journal a difference between the journal and the exchange."""
        now = UnixNanos(self.context.now_ns())
        self.discrepancies += 1
        self.context.log.warning("%s: reconcile: %s: %s", self.context.actor_id, kind, detail)
        self.record(
            ReconcileDiscrepancy(
                ts_event=now,
                ts_init=now,
                kind=kind,
                symbol=symbol,
                client_order_id=coid,
                detail=detail,
            )
        )

    def on_stream_failed_notice(self, notice: StreamFailedNotice) -> None:
        """The private stream gave up: fail, so the supervisor restarts the gateway."""
        raise notice.error

    def on_orders_snapshot(self, ev: OrdersSnapshot) -> None:
        """Open orders at (re)subscription: acceptance of orders placed before it; then a
        reconcile, since fills made while the stream was (re)connecting never come as frames
        (an order placed right at start can fill before the subscription is in place)."""
        now = self.context.now_ns()
        for order in ev.orders:
            coid = order.client_order_id
            accepted = (
                self.translator.accepted_event(coid, order.order_id, order.symbol, now)
                if coid
                else None
            )
            if accepted is not None:
                self._publish(coid, accepted)
        if self.client is not None and not self.replaying:
            reconcile(self, self.client)

    def on_positions_snapshot(self, ev: PositionsSnapshot) -> None:
        """Positions are booked from fills by the position actors."""
        del ev

    def on_position_updated(self, ev: PositionUpdated) -> None:
        """Positions are booked from fills by the position actors."""
        del ev

    def _refused(self, cmd: PlaceOrder, code: str, message: str) -> OrderRejected:
        return self.translator.rejected(cmd, code, message, self.context.now_ns())

    def _publish(self, coid: str | None, event: Message) -> None:
        key = self.translator.owner.get(coid) if coid else None
        self.changed()
        self.record(event, key=key)
