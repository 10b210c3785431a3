"""A scripted trading world: the trading tree over the in-process engine.

``World`` starts ``trading_tree`` with an :class:`EngineGateway` under a DeterministicRuntime
(default) or a ThreadedRuntime (``kind="threaded"``), records every trading event, and offers
one-line steps: move a market, close a candle. Each step returns once the tree is quiet:
the deterministic runtime runs until idle; under threads the world waits (bounded, 10 s)
until every mailbox is empty and no handler runs, seen on several consecutive polls.
Simulated-time jumps (:meth:`World.advance`) exist only on the deterministic runtime.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from decimal import Decimal
from typing import Any

from actors import (
    Actor,
    ChildSpec,
    DeterministicRuntime,
    Restart,
    ScaledClock,
    SupervisorSpec,
    ThreadedRuntime,
    supervisor,
)
from actors._actor import Journaled
from actors._durable import STORAGE_ID
from actors._journal_trim import JournalPins
from actors._storage_writer import StorageWriter
from actors.market._indicators import INDICATOR_FIELDS
from actors.trading import (
    GATEWAY_ID,
    USER_ID,
    EngineGateway,
    MarketStep,
    product_of,
    trading_tree,
)
from exchange.sim import MatchingEngine, default_products
from messages import (
    CorrelationUpdated,
    EntryAbandoned,
    EquityUpdated,
    HedgeClosed,
    HedgeDecision,
    HedgeOpened,
    IndicatorsUpdated,
    KillSwitchReset,
    KillSwitchTriggered,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    PositionChanged,
    PositionClosed,
    PositionFinished,
    PositionOpened,
    RiskDecision,
    Signal,
    UnixNanos,
)
from messages.settings import Settings
from storage import Store

START_NS = 1_700_006_400_000_000_000  # 2023-11-15 00:00 UTC: a day boundary
BALANCE = Decimal(10_000)
CANDLE_NS = 900 * 1_000_000_000
ALL_VALID = INDICATOR_FIELDS  # every indicator an IndicatorsUpdated carries
RECORDED = (
    HedgeDecision,
    Signal,
    RiskDecision,
    OrderAccepted,
    OrderRejected,
    OrderCancelled,
    OrderFilled,
    PositionOpened,
    PositionChanged,
    PositionClosed,
    HedgeOpened,
    HedgeClosed,
    KillSwitchTriggered,
    KillSwitchReset,
    EquityUpdated,
    EntryAbandoned,
    PositionFinished,
)


class Recorder(Actor):
    """Subscribes to every trading event and keeps them in order."""

    def __init__(self, log: list[Any]) -> None:
        self.log = log

    def on_start(self) -> None:
        for kind in RECORDED:
            self.context.subscribe(kind)

    def receive(self, message: object) -> Any:
        self.log.append(message.event if isinstance(message, Journaled) else message)


def indicators(
    symbol: str,
    close: str,
    *,
    t: int,
    fast: float,
    mid: float,
    slow: float,
    trend: float = 0.0,
    rsi: float = 50.0,
    atr: float = 100.0,
    r1: float = 1e9,
    r2: float = 1e9,
    s1: float = 0.0,
    s2: float = 0.0,
    valid: tuple[str, ...] = ALL_VALID,
) -> IndicatorsUpdated:
    """One closed candle's indicators (nan where not valid)."""

    def v(name: str, value: float) -> float:
        return value if name in valid else math.nan

    return IndicatorsUpdated(
        ts_event=UnixNanos(t + CANDLE_NS),
        ts_init=UnixNanos(t + CANDLE_NS),
        symbol=symbol,
        open_time_ns=UnixNanos(t),
        close=Decimal(close),
        ema_fast=v("ema_fast", fast),
        ema_mid=v("ema_mid", mid),
        ema_slow=v("ema_slow", slow),
        ema_trend=v("ema_trend", trend),
        rsi=v("rsi", rsi),
        atr=v("atr", atr),
        adx=v("adx", 25.0),
        pivot_p=v("pivot_p", 1.0),
        pivot_r1=v("pivot_r1", r1),
        pivot_r2=v("pivot_r2", r2),
        pivot_s1=v("pivot_s1", s1),
        pivot_s2=v("pivot_s2", s2),
        valid=valid,
        bars_seen=300,
    )


def long_candle(t: int, close: str = "70000", **kw: Any) -> IndicatorsUpdated:
    """BTCUSD candle in a long regime (stop 700 below with ATR 350)."""
    args: dict[str, Any] = {
        "fast": 70500.0,
        "mid": 70000.0,
        "slow": 69000.0,
        "trend": 65000.0,
        "rsi": 65.0,
        "atr": 350.0,
        "r1": 72000.0,
        "r2": 74000.0,
    }
    args.update(kw)
    return indicators("BTCUSD", close, t=t, **args)


def short_candle(t: int, close: str = "70000", **kw: Any) -> IndicatorsUpdated:
    """BTCUSD candle in a short regime."""
    args: dict[str, Any] = {
        "fast": 69500.0,
        "mid": 70000.0,
        "slow": 71000.0,
        "trend": 75000.0,
        "rsi": 35.0,
        "atr": 350.0,
        "s1": 68000.0,
        "s2": 66000.0,
    }
    args.update(kw)
    return indicators("BTCUSD", close, t=t, **args)


def correlations(btc_eth: float = 0.8, btc_sol: float = 0.7) -> CorrelationUpdated:
    """A correlation matrix over BTCUSD, ETHUSD, SOLUSD."""
    return CorrelationUpdated(
        ts_event=UnixNanos(START_NS),
        ts_init=UnixNanos(START_NS),
        symbols=("BTCUSD", "ETHUSD", "SOLUSD"),
        matrix=((1.0, btc_eth, btc_sol), (btc_eth, 1.0, 0.6), (btc_sol, 0.6, 1.0)),
        window=100,
    )


class World:
    """The trading tree over the in-process engine on a deterministic runtime."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        kind: str = "deterministic",
        store: Store | None = None,
        engine: MatchingEngine | None = None,
        writer_class: type[StorageWriter] = StorageWriter,
        **sections: Any,
    ) -> None:
        """``engine``: the venue of an earlier World (a process restart against the same
        exchange); ``writer_class``: the storage writer (tests substitute a lossy one)."""
        base = settings or Settings()
        for name, changes in sections.items():
            base = replace(base, **{name: replace(getattr(base, name), **changes)})
        self.settings = base
        sims = default_products()
        self.products = {p.symbol: product_of(p) for p in sims}
        self.log: list[Any] = []
        # The venue outlives its gateway: a restarted gateway finds the same engine.
        if engine is None:
            engine = MatchingEngine(sims)
            engine.add_account(USER_ID, BALANCE)
        self.engine = engine
        gateway = ChildSpec(
            actor_id=GATEWAY_ID,
            factory=lambda: EngineGateway(products=sims, balance=BALANCE, engine=self.engine),
        )
        recorder = ChildSpec(actor_id="recorder", factory=lambda: Recorder(self.log))
        tree = trading_tree(base, products=self.products, gateway_spec=gateway)
        children: tuple[ChildSpec, ...] = (recorder, tree)
        if store is not None:
            pins = JournalPins()  # outlives the writer, as in the bot's tree
            writer = ChildSpec(
                actor_id=STORAGE_ID,
                factory=lambda: writer_class(store=store, settings=base.storage, pins=pins),
            )
            children = (recorder, writer, tree)
        root = supervisor("root", SupervisorSpec(children=children), restart=Restart.PERMANENT)
        self.kind = kind
        self.runtime: Any
        if kind == "threaded":
            # Real time from START_NS: candles of the scenario close after the tree started.
            clock = ScaledClock(speed=1.0, start_ns=START_NS)
            self.runtime = ThreadedRuntime(seed=7, start_timeout_ns=5_000_000_000, clock=clock)
        else:
            self.runtime = DeterministicRuntime(start_ns=START_NS, seed=7)
        self.runtime.start_root(root)
        self.settle()

    # --- driving --------------------------------------------------------------------------

    def market(self, symbol: str, bid: str, ask: str, *, price: str | None = None) -> None:
        """Set the symbol's market to one bid and one ask level; ``price`` trades (and marks)."""
        self._deliver(
            GATEWAY_ID,
            MarketStep(
                symbol, price=Decimal(price) if price else None, bid=Decimal(bid), ask=Decimal(ask)
            ),
        )

    def send(self, target: str, message: object) -> None:
        self._deliver(target, message)

    def correlate(self, correlation: CorrelationUpdated) -> None:
        """Publish the correlations retained, as the correlation actor does live."""
        self.runtime.publish(correlation, None, retain=True)
        self.settle()

    def _deliver(self, target: str, message: object) -> None:
        if self.kind == "threaded":
            self.runtime.send(target, message)
        else:
            self.runtime.inject(target, message)
        self.settle()

    def settle(self, timeout_s: float = 10.0) -> None:
        """Return once the tree is quiet (see the module docstring)."""
        if self.kind != "threaded":
            self.runtime.run_until_idle()
            return
        deadline, quiet = time.monotonic() + timeout_s, 0
        while quiet < 5:
            if time.monotonic() > deadline:
                raise AssertionError(f"the trading tree is not quiet after {timeout_s} s")
            entries = list(self.runtime._entries.values())
            busy = any(
                e.busy_since_mono_ns or (e.mailbox is not None and e.mailbox.qsize())
                for e in entries
            )
            quiet = 0 if busy else quiet + 1
            time.sleep(0.002)  # a poll interval of the bounded quiescence wait

    def candle(self, ev: IndicatorsUpdated) -> None:
        self.send(f"strategy:{ev.symbol}", ev)

    def advance(self, seconds: float) -> None:
        assert self.kind != "threaded", "simulated time jumps need the deterministic runtime"
        self.runtime.advance(int(seconds * 1e9))

    def now(self) -> int:
        return self.runtime.clock.now_ns()

    # --- reading --------------------------------------------------------------------------

    def of(self, kind: type) -> list[Any]:
        return [m for m in self.log if isinstance(m, kind)]

    def balance(self) -> Decimal:
        return self.of(EquityUpdated)[-1].balance

    def close(self) -> None:
        if self.kind == "threaded":
            assert self.runtime.shutdown(timeout_s=60.0) == []
        else:
            assert self.runtime.shutdown() == []
