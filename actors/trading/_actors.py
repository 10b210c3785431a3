"""The trading actors' thin shells: strategy, risk and execution.

Each handler calls its logic class and sends what it returns (see docs/trading.md). The
position and hedge shells are in ``_dynamic.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from actors._durable import DurableActor
from actors._specs import ChildSpec
from actors.trading._execution import Action, EntryPlanner
from actors.trading._ids import (
    EXECUTION_ID,
    GATEWAY_ID,
    RISK_ID,
    TRADING_ID,
    Leg,
    position_id_for,
)
from actors.trading._internal import (
    ArmTimeout,
    EntryTimedOut,
    PositionReady,
    StartPosition,
)
from actors.trading._risk import RiskManager
from actors.trading._signals import SignalRules
from messages import (
    CancelAllOrders,
    CancelOrder,
    Direction,
    EntryAbandoned,
    EquityUpdated,
    Flatten,
    HedgeClosed,
    HedgeDecision,
    HedgeOpened,
    IndicatorsUpdated,
    KillSwitchTriggered,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    PauseEntries,
    PlaceOrder,
    PositionChanged,
    PositionClosed,
    PositionFinished,
    PositionOpened,
    Product,
    RequestHedge,
    ResetKillSwitch,
    ResumeEntries,
    RiskDecision,
    RiskVerdict,
    Side,
    Signal,
    SymbolsInUse,
    TopOfBook,
    UnixNanos,
)
from messages.settings import ExecutionSettings, RiskSettings, StrategySettings

__all__ = ["ExecutionActor", "RiskActor", "StrategyActor", "strategy_id"]


def strategy_id(symbol: str) -> str:
    """Stable id of a symbol's strategy actor: ``"strategy:BTCUSD"``."""
    return f"strategy:{symbol}"


class StrategyActor(DurableActor):
    """Strategy[symbol]: SignalRules on each IndicatorsUpdated; signals go to risk.

    Its regimes are durable state, committed with the signal they produce, so a restart
    neither repeats an edge-triggered signal nor loses one.
    """

    state_fields = (
        "rules.long_active",
        "rules.short_active",
        "rules.fast_above",
        "rules.fast_below",
        "rules.exit_sent",
        "held",
        "last_open_ns",
    )

    def __init__(
        self,
        *,
        symbol: str,
        strategy: StrategySettings,
        risk: RiskSettings,
        product: Product,
        stale_after_ns: int | None = None,
    ) -> None:
        self.rules = SignalRules(symbol, strategy, risk, product)
        self.symbol = symbol
        self.held = 0
        self.last_open_ns = 0
        self.stale_after_ns = stale_after_ns
        self.started_ns = 0

    def on_start(self) -> None:
        """Subscribe to the symbol's indicators and to position changes."""
        self.started_ns = self.context.now_ns()
        self.context.subscribe(IndicatorsUpdated, key=self.symbol)
        for kind in (PositionOpened, PositionChanged, PositionClosed):
            self.context.subscribe(kind)
        self.restore()

    def describe(self) -> dict[str, object]:
        """Regimes and the size held."""
        return {"long": self.rules.long_active, "short": self.rules.short_active, "held": self.held}

    def on_indicators_updated(self, ev: IndicatorsUpdated) -> None:
        """Apply the candle; publish a signal (audit) and send it to risk.

        A candle not after the last one applied is ignored: after a restart the feed may
        publish candles again, and the same candle must never give the same signal twice.
        An entry signal is not acted on when its candle closed before this actor started (the
        bot was not there: the candle only tells the regime) or its indicators were computed
        more than ``stale_after_ns`` after it closed (a backfill after downtime): the moment
        has passed. Exits still are.
        """
        if ev.open_time_ns <= self.last_open_ns:
            return
        self.last_open_ns = ev.open_time_ns
        now = self.context.now_ns()
        signal = self.rules.on_indicators(ev, held=self.held, now_ns=now)
        self.changed()
        if signal is None:
            return
        late_ns = ev.ts_init - ev.ts_event  # computed after the candle closed, by this much
        stale = self.stale_after_ns is not None and late_ns > self.stale_after_ns
        before = ev.ts_event <= self.started_ns
        if (stale or before) and signal.direction is not Direction.EXIT:
            why = (
                "its candle closed before the strategy started"
                if before
                else f"its candle closed {late_ns / 1e9:.0f} s before it was computed"
            )
            self.context.log.info(
                "%s: %s not acted on: %s", self.context.actor_id, signal.signal_id, why
            )
            return
        self.record(signal, key=self.symbol)
        self.emit(RISK_ID, signal)

    def on_position_opened(self, ev: PositionOpened) -> None:
        """Our symbol's position opened: remember its size."""
        if ev.symbol == self.symbol:
            self.held = ev.size
            self.rules.position_changed()

    def on_position_changed(self, ev: PositionChanged) -> None:
        """Track the held size."""
        if ev.symbol == self.symbol:
            self.held = ev.size

    def on_position_closed(self, ev: PositionClosed) -> None:
        """Our symbol is flat again."""
        if ev.symbol == self.symbol:
            self.held = 0
            self.rules.position_changed()


class RiskActor(DurableActor):
    """Risk: RiskManager decisions on signals; kill switch; operator pause, resume, reset."""

    state_fields = tuple(f"manager.{name}" for name in RiskManager.STATE)

    def __init__(self, *, risk: RiskSettings, products: Mapping[str, Product]) -> None:
        self.manager = RiskManager(risk, products)
        self.in_use: tuple[tuple[str, ...], tuple[str, ...]] | None = None

    def on_restored(self) -> None:
        """Tell positions which symbols are taken (retained: later ones learn it too)."""
        self._share_in_use()

    def receive(self, message: object) -> object:
        """Handle, then share the symbols in use if the message changed them."""
        result = super().receive(message)
        if not self._restoring:
            self._share_in_use()
        return result

    def _share_in_use(self) -> None:
        in_use = self.manager.symbols_in_use()
        if in_use == self.in_use:
            return
        self.in_use = in_use
        now = UnixNanos(self.context.now_ns())
        # Derived state, not a money event: published at once (retained), not journaled.
        self.context.publish(
            SymbolsInUse(ts_event=now, ts_init=now, held=in_use[0], hedged=in_use[1]),
            retain=True,
        )

    def on_start(self) -> None:
        """Subscribe to equity, positions, hedges and abandoned entries."""
        for kind in (
            EquityUpdated,
            PositionOpened,
            PositionChanged,
            PositionClosed,
            HedgeOpened,
            HedgeClosed,
            EntryAbandoned,
            PositionFinished,
        ):
            self.context.subscribe(kind)
        self.restore()

    def describe(self) -> dict[str, object]:
        """Equity, peak, kill switch and counts."""
        m = self.manager
        return {
            "equity": str(m.equity),
            "peak": str(m.peak),
            "killed": m.killed,
            "paused": m.paused,
            "day_blocked": m.day_blocked,
            "open": len(m.positions),
            "pending": len(m.pending),
        }

    def on_signal(self, signal: Signal) -> RiskDecision:
        """Decide; publish the decision (audit); pass approved ones to execution."""
        pid = position_id_for(signal.signal_id)
        decision = self.manager.decide(signal, pid, now_ns=self.context.now_ns())
        self.changed()
        self.record(decision, key=signal.symbol)
        if decision.decision is not RiskVerdict.REJECTED:
            self.emit(EXECUTION_ID, signal)
            self.emit(EXECUTION_ID, decision)
        return decision

    def on_equity_updated(self, ev: EquityUpdated) -> None:
        """Track equity; a drawdown breach latches and publishes the kill switch.

        Equity alone is committed lazily: the next update repeats it.
        """
        tripped = self.manager.on_equity(ev, now_ns=self.context.now_ns())
        if tripped is None:
            self.changed(lazy=True)
            return
        self.context.log.error("%s: kill switch: %s", self.context.actor_id, tripped.reason)
        self.changed()
        self.record(tripped)

    def on_reset_kill_switch(self, cmd: ResetKillSwitch) -> None:
        """Operator resume: unlatch and publish KillSwitchReset."""
        self.changed()
        self.record(
            self.manager.reset_kill_switch(cmd.command_id, cmd.reason, now_ns=self.context.now_ns())
        )

    def on_pause_entries(self, cmd: PauseEntries) -> None:
        """Refuse new entries until ResumeEntries."""
        self.manager.paused = True
        self.changed()
        self.context.log.info("%s: entries paused: %s", self.context.actor_id, cmd.reason)

    def on_resume_entries(self, cmd: ResumeEntries) -> None:
        """Allow new entries again (the kill switch stays latched if it is)."""
        self.manager.paused = False
        self.changed()
        self.context.log.info("%s: entries resumed: %s", self.context.actor_id, cmd.reason)

    def on_flatten(self, cmd: Flatten) -> None:
        """Pause entries and have execution flatten."""
        self.manager.paused = True
        self.changed()
        self.emit(EXECUTION_ID, cmd)

    def on_position_opened(self, ev: PositionOpened) -> None:
        """Count the position as open."""
        self.manager.position_opened(ev.position_id, ev.symbol, ev.size, ev.entry_price)

    def on_position_changed(self, ev: PositionChanged) -> None:
        """Track its size."""
        self.manager.position_changed(ev.position_id, ev.size, ev.entry_price)

    def on_position_closed(self, ev: PositionClosed) -> None:
        """Free its slot."""
        self.manager.position_closed(ev.position_id)

    def on_entry_abandoned(self, ev: EntryAbandoned) -> None:
        """Free the pending slot of an entry that never filled."""
        self.manager.position_closed(ev.position_id)

    def on_hedge_opened(self, ev: HedgeOpened) -> None:
        """No entries in a symbol a hedge holds."""
        self.manager.hedged_symbols[ev.hedge_id] = ev.symbol

    def on_hedge_closed(self, ev: HedgeClosed) -> None:
        """The hedge's symbol is free again."""
        self.manager.hedged_symbols.pop(ev.hedge_id, None)

    def on_request_hedge(self, cmd: RequestHedge) -> None:
        """Grant the hedge its symbol, or refuse; the decision is journaled (audit)."""
        granted, reason = self.manager.reserve_hedge(cmd.hedge_id, cmd.symbol)
        self.changed()
        now = UnixNanos(self.context.now_ns())
        decision = HedgeDecision(
            ts_event=now,
            ts_init=now,
            hedge_id=cmd.hedge_id,
            parent_position_id=cmd.parent_position_id,
            symbol=cmd.symbol,
            granted=granted,
            reason=reason,
        )
        self.record(decision, key=cmd.parent_position_id)

    def on_position_finished(self, ev: PositionFinished) -> None:
        """Free what the position's hedges had reserved."""
        self.manager.position_finished(ev.position_id)
        self.changed()


class ExecutionActor(DurableActor):
    """Execution: EntryPlanner over order events; starts position actors; flattens.

    Commands reach the gateway only after the planner's new state is on disk (see
    ``actors._durable``); after a restart the positions in flight are started again and
    their entry timeouts re-armed.
    """

    state_fields = ("planner.intents", "planner.orders", "planner.ended", "signals")

    def __init__(
        self,
        *,
        execution: ExecutionSettings,
        products: Mapping[str, Product],
        position_spec: Callable[[StartPosition], ChildSpec],
    ) -> None:
        self.planner = EntryPlanner(execution, products)
        self.position_spec = position_spec
        self.signals: dict[str, Signal] = {}
        self.watching: frozenset[str] = frozenset()

    def on_start(self) -> None:
        """Subscribe to order events and the kill switch (tops: see :meth:`_watch_tops`)."""
        for kind in (
            OrderAccepted,
            OrderRejected,
            OrderCancelled,
            OrderFilled,
            KillSwitchTriggered,
            PositionFinished,
        ):
            self.context.subscribe(kind)
        self.restore()

    def on_restored(self) -> None:
        """Start the position actors of restored entries again (a position that went flat
        but had not recorded its end yet finishes then); re-arm entry timeouts."""
        timeout_ns = self.planner.settings.entry_timeout_s * 1_000_000_000
        for intent in self.planner.intents.values():
            size = intent.size if intent.side is Side.BUY else -intent.size
            start = StartPosition(intent.position_id, intent.signal, size)
            self.context.start_child(TRADING_ID, self.position_spec(start))
            if intent.state in ("waiting", "placing", "resting"):
                self.context.schedule(
                    timeout_ns, EntryTimedOut(intent.position_id, intent.generation)
                )
        self._watch_tops()

    def describe(self) -> dict[str, object]:
        """Entries in flight."""
        return {"intents": {k: v.state for k, v in self.planner.intents.items()}}

    def on_signal(self, signal: Signal) -> None:
        """Keep an approved signal until its decision (sent right after it by risk)."""
        self.signals[signal.signal_id] = signal
        self.changed()

    def on_risk_decision(self, decision: RiskDecision) -> None:
        """Open an approved entry, or close the symbol's position for an exit."""
        signal = self.signals.pop(decision.signal_id)
        now = self.context.now_ns()
        if signal.direction is Direction.EXIT:
            self._act(
                self.planner.exit(signal.symbol, reason=signal.reason, leg=Leg.EXIT, now_ns=now)
            )
        else:
            self._act(self.planner.open(signal, decision.size, position_id_for(signal.signal_id)))

    def on_position_ready(self, msg: PositionReady) -> None:
        """The position actor listens: place its entry."""
        self._act(self.planner.position_ready(msg.position_id, now_ns=self.context.now_ns()))

    def on_entry_timed_out(self, msg: EntryTimedOut) -> None:
        """Cancel or reprice a stale entry."""
        self._act(
            self.planner.on_timeout(msg.position_id, msg.generation, now_ns=self.context.now_ns())
        )

    def on_top_of_book(self, top: TopOfBook) -> None:
        """Place entries waiting for a price."""
        self._act(self.planner.on_top(top, now_ns=self.context.now_ns()))

    def on_order_accepted(self, ev: OrderAccepted) -> None:
        """Mark the entry as resting."""
        self.planner.on_accepted(ev.client_order_id)
        self.changed()

    def on_order_rejected(self, ev: OrderRejected) -> None:
        """Reprice a post-only entry or give it up."""
        self.context.log.info(
            "%s: %s rejected: %s", self.context.actor_id, ev.client_order_id, ev.reason_code
        )
        self._act(self.planner.on_rejected(ev, now_ns=self.context.now_ns()))

    def on_order_cancelled(self, ev: OrderCancelled) -> None:
        """Replace a repriced entry, or end it."""
        self._act(self.planner.on_cancelled(ev, now_ns=self.context.now_ns()))

    def on_order_filled(self, ev: OrderFilled) -> None:
        """Protect a new position; clean up once it is flat."""
        self._act(self.planner.on_filled(ev, now_ns=self.context.now_ns()))

    def on_position_finished(self, ev: PositionFinished) -> None:
        """The position's actor ended for good: its entry is over."""
        self.planner.position_finished(ev.position_id)
        self.changed()
        self._watch_tops()

    def on_kill_switch_triggered(self, ev: KillSwitchTriggered) -> None:
        """Cancel every order and close every position."""
        self._act(self.planner.flatten(f"kill switch: {ev.reason}", now_ns=self.context.now_ns()))

    def on_flatten(self, cmd: Flatten) -> None:
        """Operator flatten (all symbols, or one)."""
        now = self.context.now_ns()
        if cmd.symbol is None:
            self._act(self.planner.flatten(cmd.reason, now_ns=now))
        else:
            self._act(self.planner.exit(cmd.symbol, reason=cmd.reason, leg=Leg.FLATTEN, now_ns=now))

    def _watch_tops(self) -> None:
        """Hear the tops of book of the symbols with an entry in flight, and only those.

        Tops are retained, so a new subscription brings the current one at once (before the
        position actor started for the entry can report ready). Live, a feed moves many
        times a second and nearly always with no entry in flight; in a backtest this halves
        the messages delivered.
        """
        wanted = self.planner.watched()
        if wanted == self.watching:
            return
        for symbol in sorted(wanted - self.watching):
            self.context.subscribe(TopOfBook, key=symbol)
        for symbol in sorted(self.watching - wanted):
            self.context.unsubscribe(TopOfBook, key=symbol)
            self.planner.forget_top(symbol)
        self.watching = wanted

    def _act(self, actions: list[Action]) -> None:
        self.changed()
        self._watch_tops()
        for action in actions:
            if isinstance(action, PlaceOrder | CancelOrder | CancelAllOrders):
                self.emit(GATEWAY_ID, action)
            elif isinstance(action, EntryAbandoned):
                self.context.log.info(
                    "%s: entry %s abandoned: %s",
                    self.context.actor_id,
                    action.position_id,
                    action.reason,
                )
                self.record(action, key=action.symbol)
            elif isinstance(action, StartPosition):
                self.context.start_child(TRADING_ID, self.position_spec(action))
            elif isinstance(action, ArmTimeout):
                self.context.schedule(
                    action.delay_ns, EntryTimedOut(action.position_id, action.generation)
                )
