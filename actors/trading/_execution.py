"""EntryPlanner: the order lifecycle of every entry, its protection and its exit (pure logic).

Inputs are the events the gateway reports and the top of book; outputs are *actions*: the
commands to send to the gateway (``PlaceOrder``, ``CancelOrder``, ``CancelAllOrders``), the
events to publish (``EntryAbandoned``) and directives for the shell (:class:`StartPosition`,
:class:`ArmTimeout`). No clock: every call takes ``now_ns``.

Life of an entry (settings in ``[execution]``):

1. An approved decision: :class:`StartPosition` (the shell starts the position's actor,
   which subscribes to its order events, then calls :meth:`EntryPlanner.position_ready`).
2. A post-only GTC limit order at best bid - ``price_offset_ticks`` (buy) or best ask +
   offset (sell) from the last synced, fresh ``TopOfBook``; with none, it waits for one.
   One :class:`ArmTimeout` of ``entry_timeout_s`` starts then.
   An entry whose price is already at or past the signal's stop (the market moved through
   it since the candle closed) is abandoned instead: it would be stopped out at once.
3. ``immediate_execution_post_only``: reprice from a newer top of book (or wait for the next
   one) and place again, at most ``post_only_max_retries`` times, then abandon.
4. The timeout: ``"cancel"`` cancels the order; ``"reprice"`` cancels it and places the rest
   at the current top again (at most ``max_timeout_reprices`` times, then cancels).
5. The first fill places a reduce-only STOP_MARKET at the signal's stop and a reduce-only
   TAKE_PROFIT_MARKET at its target, each for the full entry size (the exchange clips a
   reduce-only order to the position, so a partial entry is covered exactly).
6. An entry that ends with no fill is abandoned (:class:`~messages.EntryAbandoned`, on
   which its position actor ends); a partial one keeps its position and protection.
7. An exit (opposite cross, operator flatten, kill switch) is a reduce-only IOC market order
   for the size held. If it ends short (its remainder cancelled, or refused, e.g. no
   liquidity), the rest is closed again on the symbol's next usable top of book.
8. When the position's fills bring it back to flat, whatever is left (the entry, the stop,
   the target) is cancelled. The entry is kept until the position's actor reports
   :class:`~messages.PositionFinished` (flat and its hedges closed): until then a restart
   starts that actor again, so a close it had not yet recorded is never lost.

Client order ids come from :func:`~actors.trading._ids.client_order_id` of (position id,
leg, attempt), so the same intent always yields the same ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from actors.trading._ids import Leg, client_order_id, opposite
from actors.trading._internal import ArmTimeout, StartPosition
from actors.trading._orders import cancel_order, market_order, place_order
from messages import (
    CancelAllOrders,
    CancelOrder,
    EntryAbandoned,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrderType,
    PlaceOrder,
    Product,
    Side,
    Signal,
    TopOfBook,
    UnixNanos,
)
from messages.settings import ExecutionSettings

__all__ = ["POST_ONLY_REJECT", "Action", "EntryPlanner"]

POST_ONLY_REJECT = "immediate_execution_post_only"
_NS = 1_000_000_000
_EXIT_LEGS = (Leg.EXIT, Leg.FLATTEN)
_ENDED_KEPT = 1000

Action = PlaceOrder | CancelOrder | CancelAllOrders | EntryAbandoned | StartPosition | ArmTimeout


@dataclass(slots=True)
class _Intent:
    signal: Signal
    position_id: str
    side: Side
    size: int
    attempt: int = 0
    retries: int = 0
    reprices: int = 0
    generation: int = 0
    state: str = "starting"
    entry_coid: str | None = None
    used_top: TopOfBook | None = None
    filled: int = 0
    net: int = 0
    exits: int = 0
    exit_coid: str | None = None
    exit_leg: str | None = None
    protective: list[str] = field(default_factory=list)


class EntryPlanner:
    """Every entry's orders, from approval to flat; one instance behind the execution actor."""

    def __init__(self, settings: ExecutionSettings, products: Mapping[str, Product]) -> None:
        self.settings = settings
        self.products = dict(products)
        self.tops: dict[str, TopOfBook] = {}
        self.intents: dict[str, _Intent] = {}
        self.orders: dict[str, tuple[str, str]] = {}
        self._ended: list[str] = []
        self._ended_ids: set[str] = set()

    @property
    def ended(self) -> list[str]:
        """Recently ended position ids, oldest first (the last ``_ENDED_KEPT``): one is
        never opened again, since its client order ids would repeat ones the exchange has
        seen. Kept with a set beside it, so that asking costs the same at any length."""
        return self._ended

    @ended.setter
    def ended(self, ids: list[str]) -> None:  # a snapshot being loaded
        self._ended = list(ids)
        self._ended_ids = set(self._ended)

    # --- inputs ---------------------------------------------------------------------------

    def open(self, signal: Signal, size: int, position_id: str) -> list[Action]:
        """An approved entry of ``size`` signed contracts: start its position actor."""
        if position_id in self.intents or position_id in self._ended_ids or size == 0:
            return []
        side = Side.BUY if size > 0 else Side.SELL
        self.intents[position_id] = _Intent(signal, position_id, side, abs(size))
        return [StartPosition(position_id, signal, size)]

    def position_ready(self, position_id: str, *, now_ns: int) -> list[Action]:
        """The position actor listens now: place the entry and arm its timeout."""
        intent = self.intents.get(position_id)
        if intent is None or intent.state != "starting":
            return []
        timeout = ArmTimeout(position_id, 0, self.settings.entry_timeout_s * _NS)
        return [*self._place_entry(intent, now_ns, fresh=True), timeout]

    def on_top(self, top: TopOfBook, *, now_ns: int) -> list[Action]:
        """A new top of book: entries of its symbol waiting for a price are placed now."""
        self.tops[top.symbol] = top
        out: list[Action] = []
        for intent in list(self.intents.values()):
            if intent.signal.symbol != top.symbol:
                continue
            if intent.state == "waiting":
                out += self._place_entry(intent, now_ns, fresh=False)
            if self._exit_due(intent, top) and intent.exit_leg is not None:
                out.append(self._close(intent, intent.exit_leg, now_ns))
        return out

    def on_rejected(self, ev: OrderRejected, *, now_ns: int) -> list[Action]:
        """An order was refused: reprice a post-only entry, else abandon the entry.

        A refused exit is placed again on the symbol's next usable top of book.
        """
        self._exit_ended(ev.client_order_id)
        intent = self._entry_of(ev.client_order_id)
        if intent is None:
            return []
        if (
            ev.reason_code == POST_ONLY_REJECT
            and intent.retries < self.settings.post_only_max_retries
        ):
            intent.retries += 1
            return self._place_entry(intent, now_ns, fresh=False)
        why = f"entry rejected: {ev.reason_code}" + (
            f" after {intent.retries} reprices" if ev.reason_code == POST_ONLY_REJECT else ""
        )
        return self._entry_over(intent, why, now_ns)

    def on_filled(self, ev: OrderFilled, *, now_ns: int) -> list[Action]:
        """Count a fill; the first entry fill protects the position; flat cancels the rest."""
        owner = self.orders.get(ev.client_order_id)
        if owner is None:
            return []
        intent = self.intents.get(owner[0])
        if intent is None:
            return []
        intent.net += ev.size if ev.side is Side.BUY else -ev.size
        if ev.leaves_size == 0 and ev.client_order_id == intent.exit_coid:
            intent.exit_coid = None
        out: list[Action] = []
        if owner[1] == Leg.ENTRY:
            intent.filled += ev.size
            if not intent.protective:
                out += self._protect(intent, now_ns)
            if ev.leaves_size == 0:
                intent.state = "done"
        elif intent.net == 0:
            out += self._cancel_rest(intent, now_ns)
            intent.state = "flat"
        return out

    def position_finished(self, position_id: str) -> None:
        """The position's actor ended (flat, hedges closed): forget the entry."""
        if position_id in self.intents:
            self._forget(position_id)

    def on_cancelled(self, ev: OrderCancelled, *, now_ns: int) -> list[Action]:
        """An entry order closed unfilled or part filled: place the rest again or end it.

        The cancelled remainder of an exit is closed again on the next usable top of book.
        """
        self._exit_ended(ev.client_order_id)
        intent = self._entry_of(ev.client_order_id)
        if intent is None:
            return []
        if intent.state == "repricing":
            return self._place_entry(intent, now_ns, fresh=False)
        return self._entry_over(intent, f"entry cancelled: {ev.reason}", now_ns)

    def on_timeout(self, position_id: str, generation: int, *, now_ns: int) -> list[Action]:
        """The entry rested ``entry_timeout_s`` unfilled: cancel it, or cancel and reprice."""
        intent = self.intents.get(position_id)
        if intent is None or generation != intent.generation:
            return []
        if intent.state == "waiting":
            return self._entry_over(intent, "entry timeout without a usable top of book", now_ns)
        if intent.state not in ("placing", "resting") or intent.entry_coid is None:
            return []
        reprice = (
            self.settings.on_entry_timeout == "reprice"
            and intent.reprices < self.settings.max_timeout_reprices
        )
        intent.state = "repricing" if reprice else "cancelling"
        out: list[Action] = [cancel_order(intent.entry_coid, intent.signal.symbol, now_ns)]
        if reprice:
            intent.reprices += 1
            intent.generation += 1
            delay = self.settings.entry_timeout_s * _NS
            out.append(ArmTimeout(position_id, intent.generation, delay))
        return out

    def on_accepted(self, client_order_id: str) -> None:
        """An order is open on the exchange."""
        intent = self._entry_of(client_order_id)
        if intent is not None and intent.state == "placing":
            intent.state = "resting"

    def exit(self, symbol: str, *, reason: str, leg: str, now_ns: int) -> list[Action]:
        """Close every position of ``symbol`` (or all when None) at market, reduce-only."""
        out: list[Action] = []
        for intent in list(self.intents.values()):
            if symbol and intent.signal.symbol != symbol:
                continue
            if intent.entry_coid is not None and intent.state in ("placing", "resting"):
                intent.state = "cancelling"
                out.append(cancel_order(intent.entry_coid, intent.signal.symbol, now_ns))
            if intent.net != 0 and intent.exit_coid is None:
                out.append(self._close(intent, leg, now_ns))
        del reason
        return out

    def flatten(self, reason: str, *, now_ns: int) -> list[Action]:
        """Kill switch or operator flatten: cancel every order, close every position."""
        cancel_all = CancelAllOrders(
            command_id=f"cancel-all-{now_ns}",
            ts_init=UnixNanos(now_ns),
            symbol=None,
            reason=reason,
        )
        for intent in self.intents.values():
            if intent.state in ("placing", "resting", "repricing", "waiting", "starting"):
                intent.state = "cancelling"
        closes = [
            self._close(i, Leg.FLATTEN, now_ns)
            for i in self.intents.values()
            if i.net and i.exit_coid is None
        ]
        waiting = [i for i in self.intents.values() if i.filled == 0 and i.entry_coid is None]
        ended = [a for i in waiting for a in self._entry_over(i, reason, now_ns)]
        return [cancel_all, *closes, *ended]

    def watched(self) -> frozenset[str]:
        """The symbols whose tops of book the planner needs: an entry not yet over (it is
        priced, repriced or waits for a price), or an exit that may have to be placed again.
        A position resting on its stop and target needs none."""
        return frozenset(
            i.signal.symbol
            for i in self.intents.values()
            if i.state not in ("done", "flat") or (i.exit_leg is not None and i.net != 0)
        )

    def forget_top(self, symbol: str) -> None:
        """No entry needs ``symbol``'s top any more: drop it, so a later entry never prices
        from a top older than the one its subscription brings."""
        self.tops.pop(symbol, None)

    def held(self, symbol: str) -> int:
        """Signed contracts the planner's fills hold in ``symbol``."""
        return sum(i.net for i in self.intents.values() if i.signal.symbol == symbol)

    # --- internals ------------------------------------------------------------------------

    def _entry_of(self, coid: str) -> _Intent | None:
        owner = self.orders.get(coid)
        if owner is None or owner[1] != Leg.ENTRY:
            return None
        intent = self.intents.get(owner[0])
        return intent if intent is not None and intent.entry_coid == coid else None

    def _exit_due(self, intent: _Intent, top: TopOfBook) -> bool:
        """An exit ended short and the book is usable: close the rest now."""
        live = top.synced and not top.stale
        return live and intent.exit_leg is not None and intent.exit_coid is None and intent.net != 0

    def _exit_ended(self, coid: str) -> None:
        owner = self.orders.get(coid)
        intent = self.intents.get(owner[0]) if owner is not None else None
        if intent is not None and intent.exit_coid == coid:
            intent.exit_coid = None

    def _forget(self, position_id: str) -> None:
        """The entry is over: drop it and its order routes, remember its id."""
        del self.intents[position_id]
        self.orders = {c: owner for c, owner in self.orders.items() if owner[0] != position_id}
        self._ended.append(position_id)
        self._ended_ids.add(position_id)
        while len(self._ended) > _ENDED_KEPT:
            self._ended_ids.discard(self._ended.pop(0))

    def _usable(self, top: TopOfBook | None, side: Side) -> Decimal | None:
        if top is None or not top.synced or top.stale:
            return None
        return top.best_bid if side is Side.BUY else top.best_ask

    def _place_entry(self, intent: _Intent, now_ns: int, *, fresh: bool) -> list[Action]:
        top = self.tops.get(intent.signal.symbol)
        best = self._usable(top, intent.side)
        if best is None or (not fresh and top is intent.used_top and intent.state != "repricing"):
            intent.state = "waiting"
            return []
        product = self.products[intent.signal.symbol]
        offset = product.tick_size * self.settings.price_offset_ticks
        price = best - offset if intent.side is Side.BUY else best + offset
        if price <= 0:
            intent.state = "waiting"
            return []
        stop = intent.signal.stop_price
        if intent.filled == 0 and stop is not None:
            past = price <= stop if intent.side is Side.BUY else price >= stop
            if past:  # the market moved through the stop since the signal: no trade
                why = f"price {price} already past the stop {stop}"
                return self._entry_over(intent, why, now_ns)
        if not fresh and intent.entry_coid is not None:  # waiting for a first price is no attempt
            intent.attempt += 1
        coid = client_order_id(intent.position_id, Leg.ENTRY, intent.attempt)
        intent.entry_coid, intent.used_top, intent.state = coid, top, "placing"
        self.orders[coid] = (intent.position_id, Leg.ENTRY)
        return [
            place_order(
                coid=coid,
                owner=intent.position_id,
                symbol=intent.signal.symbol,
                side=intent.side,
                size=intent.size - intent.filled,
                kind=OrderType.LIMIT,
                limit=price,
                stop=None,
                now_ns=now_ns,
                post_only=True,
            )
        ]

    def _protect(self, intent: _Intent, now_ns: int) -> list[Action]:
        sig, side = intent.signal, opposite(intent.side)
        out: list[Action] = []
        for leg, kind, price in (
            (Leg.STOP, OrderType.STOP_MARKET, sig.stop_price),
            (Leg.TARGET, OrderType.TAKE_PROFIT_MARKET, sig.take_profit_price),
        ):
            if price is None:
                continue
            coid = client_order_id(intent.position_id, leg, 0)
            self.orders[coid] = (intent.position_id, leg)
            intent.protective.append(coid)
            out.append(
                place_order(
                    coid=coid,
                    owner=intent.position_id,
                    symbol=sig.symbol,
                    side=side,
                    size=intent.size,
                    kind=kind,
                    limit=None,
                    stop=price,
                    now_ns=now_ns,
                    reduce_only=True,
                )
            )
        return out

    def _close(self, intent: _Intent, leg: str, now_ns: int) -> PlaceOrder:
        intent.exits += 1
        coid = client_order_id(intent.position_id, leg, intent.exits)
        self.orders[coid] = (intent.position_id, leg)
        intent.exit_coid, intent.exit_leg = coid, leg
        return market_order(
            coid=coid,
            owner=intent.position_id,
            symbol=intent.signal.symbol,
            side=Side.SELL if intent.net > 0 else Side.BUY,
            size=abs(intent.net),
            now_ns=now_ns,
            reduce_only=True,
        )

    def _cancel_rest(self, intent: _Intent, now_ns: int) -> list[Action]:
        coids = list(intent.protective)
        if intent.entry_coid is not None and intent.state in ("placing", "resting"):
            coids.append(intent.entry_coid)
        return [cancel_order(c, intent.signal.symbol, now_ns) for c in coids]

    def _entry_over(self, intent: _Intent, reason: str, now_ns: int) -> list[Action]:
        intent.state = "done"
        if intent.filled > 0:
            return []
        self._forget(intent.position_id)
        abandoned = EntryAbandoned(
            ts_event=UnixNanos(now_ns),
            ts_init=UnixNanos(now_ns),
            signal_id=intent.signal.signal_id,
            position_id=intent.position_id,
            symbol=intent.signal.symbol,
            reason=reason,
        )
        return [abandoned]
