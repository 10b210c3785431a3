"""Runtime services under both runtimes: timers, pub/sub, dynamic children, health, asks."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from actors import (
    Actor,
    ActorCrashed,
    Backoff,
    ChildSpec,
    DeterministicRuntime,
    HealthReporter,
    ReportDue,
    Restart,
    SupervisorSpec,
    ThreadedRuntime,
    supervisor,
)
from messages import ActorState, ActorStateChanged, HealthReport, OverallHealth
from tests.actors.harness import START_NS, Harness, Recorder
from tests.actors.probes import Block, Crash, Ping, probe, tree

MS = 1_000_000
SECOND = 1_000 * MS


@dataclass(frozen=True, slots=True)
class Tick:
    n: int


@dataclass(frozen=True, slots=True)
class Quote:
    symbol: str
    price: int


@dataclass(frozen=True, slots=True)
class Spawn:
    actor_id: str


@dataclass(frozen=True, slots=True)
class Despawn:
    actor_id: str


class Ticker(Actor):
    """Schedules three one-shot timers and one it cancels; records when each fires."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def on_start(self) -> None:
        self.context.schedule(30 * MS, Tick(3))
        self.context.schedule(10 * MS, Tick(1))
        self.context.schedule(20 * MS, Tick(2))
        cancelled = self.context.schedule(15 * MS, Tick(99))
        self.context.cancel_timer(cancelled)

    def on_tick(self, tick: Tick) -> None:
        self.recorder.add("tick", tick.n, self.context.incarnation)


class Listener(Actor):
    def __init__(self, recorder: Recorder, key: str | None) -> None:
        self.recorder, self.key = recorder, key

    def on_start(self) -> None:
        self.context.subscribe(Quote, key=self.key)

    def on_quote(self, quote: Quote) -> None:
        self.recorder.add("quote", self.context.actor_id, quote.symbol, quote.price)


class Publisher(Actor):
    def on_quote(self, quote: Quote) -> int:
        return self.context.publish(quote, key=quote.symbol)


class Spawner(Actor):
    """Starts and stops dynamic children under the 'dyn' supervisor, like positions."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def on_spawn(self, spawn: Spawn) -> None:
        self.context.start_child("dyn", probe(spawn.actor_id, self.recorder))

    def on_despawn(self, despawn: Despawn) -> None:
        self.context.stop_child("dyn", despawn.actor_id)


def test_timers_fire_in_due_order_and_cancelled_ones_never(runtime: Harness) -> None:
    rec = runtime.recorder
    spec = ChildSpec(actor_id="ticker", factory=lambda: Ticker(rec))
    runtime.start(tree("root", SupervisorSpec(children=(spec,))))
    runtime.wait_until(lambda: len(rec.of("tick")) == 3)
    assert rec.of("tick") == [(1, 1), (2, 1), (3, 1)]


def test_timers_die_with_their_incarnation(runtime: Harness) -> None:
    rec = runtime.recorder

    class Once(Ticker):
        def on_crash(self, _: Crash) -> None:
            raise RuntimeError("crash before timers fire")

    spec = ChildSpec(actor_id="ticker", factory=lambda: Once(rec))
    runtime.start(tree("root", SupervisorSpec(children=(spec,))))
    runtime.tell("ticker", Crash())
    runtime.wait_until(lambda: len(rec.of("tick")) == 3)
    # Only the second incarnation's timers fire, each once.
    assert rec.of("tick") == [(1, 2), (2, 2), (3, 2)]


def test_publish_reaches_type_and_key_subscribers(runtime: Harness) -> None:
    rec = runtime.recorder
    children = (
        ChildSpec(actor_id="all", factory=lambda: Listener(rec, None)),
        ChildSpec(actor_id="btc", factory=lambda: Listener(rec, "BTCUSD")),
        ChildSpec(actor_id="pub", factory=Publisher),
    )
    runtime.start(tree("root", SupervisorSpec(children=children)))
    assert runtime.ask("pub", Quote("BTCUSD", 1)) == 2
    assert runtime.ask("pub", Quote("ETHUSD", 2)) == 1
    runtime.wait_until(lambda: len(rec.of("quote")) == 3)
    assert sorted(rec.of("quote")) == [
        ("all", "BTCUSD", 1),
        ("all", "ETHUSD", 2),
        ("btc", "BTCUSD", 1),
    ]


def test_subscriptions_are_renewed_by_the_restarted_incarnation(runtime: Harness) -> None:
    rec = runtime.recorder

    class CrashyListener(Listener):
        def on_crash(self, _: Crash) -> None:
            raise RuntimeError("boom")

    children = (
        ChildSpec(actor_id="l", factory=lambda: CrashyListener(rec, None)),
        ChildSpec(actor_id="pub", factory=Publisher),
    )
    runtime.start(tree("root", SupervisorSpec(children=children)))
    runtime.tell("l", Crash())
    runtime.wait_until(lambda: runtime.runtime.entry("l").incarnation == 2)
    runtime.wait_until(lambda: runtime.runtime.entry("l").state is ActorState.RUNNING)
    assert runtime.ask("pub", Quote("SOLUSD", 3)) == 1  # subscribed once, not twice


class KeyedSpawner(Actor):
    """Starts and stops listeners under 'dyn'; each subscribes under ``key``, or under its
    own id when None, as positions do."""

    def __init__(self, recorder: Recorder, key: str | None = None) -> None:
        self.recorder, self.key = recorder, key

    def on_spawn(self, spawn: Spawn) -> None:
        name, key = spawn.actor_id, self.key or spawn.actor_id
        spec = ChildSpec(actor_id=name, factory=lambda: Listener(self.recorder, key))
        self.context.start_child("dyn", spec)

    def on_despawn(self, despawn: Despawn) -> None:
        self.context.stop_child("dyn", despawn.actor_id)


def test_ended_actors_leave_no_topic_behind(runtime: Harness) -> None:
    """A long run starts thousands of keyed subscribers: the table must not keep their keys."""
    dyn = supervisor("dyn", SupervisorSpec(max_restarts=10))
    spawner = ChildSpec(actor_id="spawner", factory=lambda: KeyedSpawner(runtime.recorder))
    publisher = ChildSpec(actor_id="pub", factory=Publisher)
    runtime.start(tree("root", SupervisorSpec(children=(dyn, spawner, publisher))))
    kernel = runtime.runtime
    before = kernel.topic_count()
    names = [f"position:{n}" for n in range(20)]
    for name in names:
        runtime.tell("spawner", Spawn(name))
    runtime.wait_until(lambda: kernel.topic_count() == before + len(names))
    assert runtime.ask("pub", Quote("position:3", 1)) == 1
    for name in names:
        runtime.tell("spawner", Despawn(name))
    runtime.wait_until(lambda: all(kernel.entry(n) is None for n in names))
    assert kernel.topic_count() == before
    assert runtime.ask("pub", Quote("position:3", 2)) == 0


class StatePublisher(Actor):
    """Publishes each quote as retained state, counting how many it had to build."""

    def __init__(self) -> None:
        self.built = 0

    def _build(self, quote: Quote) -> Quote:
        self.built += 1
        return quote

    def on_quote(self, quote: Quote) -> int:
        return self.context.publish_state(Quote, lambda: self._build(quote), key=quote.symbol)

    def on_ping(self, _: Ping) -> int:
        return self.built


def test_state_is_built_only_when_someone_hears_it(runtime: Harness) -> None:
    """A simulated top moves every step and is heard only while an entry is in flight."""
    dyn = supervisor("dyn", SupervisorSpec(max_restarts=10))
    spawner = ChildSpec(
        actor_id="spawner", factory=lambda: KeyedSpawner(runtime.recorder, "BTCUSD")
    )
    publisher = ChildSpec(actor_id="pub", factory=StatePublisher)
    runtime.start(tree("root", SupervisorSpec(children=(dyn, spawner, publisher))))
    for price in range(1, 101):
        assert runtime.ask("pub", Quote("BTCUSD", price)) == 0
    assert runtime.ask("pub", Ping("built")) == 0
    runtime.tell("spawner", Spawn("late"))
    runtime.wait_until(lambda: len(runtime.recorder.of("quote")) == 1)
    assert runtime.recorder.of("quote") == [("late", "BTCUSD", 100)]  # the latest, built once
    assert runtime.ask("pub", Quote("BTCUSD", 101)) == 1  # heard now: built and sent
    runtime.wait_until(lambda: len(runtime.recorder.of("quote")) == 2)
    assert runtime.ask("pub", Ping("built")) == 2


def test_dynamic_children_start_and_stop(runtime: Harness) -> None:
    rec = runtime.recorder
    dyn = supervisor("dyn", SupervisorSpec(max_restarts=10))
    spawner = ChildSpec(actor_id="spawner", factory=lambda: Spawner(rec))
    runtime.start(tree("root", SupervisorSpec(children=(dyn, spawner))))
    runtime.tell("spawner", Spawn("position:1"))
    runtime.tell("spawner", Spawn("position:2"))
    runtime.wait_until(lambda: ("position:2", 1) in rec.of("start"))
    runtime.tell("position:1", Crash())
    runtime.wait_until(lambda: ("position:1", 2) in rec.of("start"))
    runtime.tell("spawner", Despawn("position:1"))
    runtime.wait_until(lambda: runtime.runtime.entry("position:1") is None)
    assert ("position:1", 2) in rec.of("stop")
    assert runtime.ask("position:2", Ping("p")) == ("position:2", 1, "p")


def test_ask_on_a_crashing_handler_raises_to_the_asker(runtime: Harness) -> None:
    runtime.start(tree("root", SupervisorSpec(children=(probe("a", runtime.recorder),))))
    with pytest.raises(ActorCrashed):
        runtime.ask("a", Crash())
    runtime.wait_until(lambda: ("a", 2) in runtime.recorder.of("start"))


def test_health_report_names_every_actor_with_restarts(runtime: Harness) -> None:
    rec = runtime.recorder
    reporter = ChildSpec(actor_id="health", factory=lambda: HealthReporter(interval_ns=SECOND))
    runtime.start(tree("root", SupervisorSpec(children=(probe("a", rec), reporter))))
    runtime.tell("a", Crash())
    runtime.wait_until(lambda: ("a", 2) in rec.of("start"))
    report = runtime.ask("health", ReportDue())
    assert isinstance(report, HealthReport)
    by_id = {a.actor_id: a for a in report.actors}
    assert set(by_id) == {"root", "a", "health"}
    assert by_id["a"].restarts == 1
    assert by_id["a"].parent == "root"
    assert by_id["a"].state is ActorState.RUNNING
    assert report.overall is OverallHealth.OK
    (sup,) = report.supervisors
    assert sup.actor_id == "root"
    assert sup.restarts_in_window == 1
    assert sup.children == ("a", "health")


# -- deterministic only -------------------------------------------------------------------


def _crash_loop_runtime(backoff: Backoff) -> tuple[DeterministicRuntime, Recorder]:
    rec = Recorder()
    rt = DeterministicRuntime(start_ns=START_NS, seed=1)
    spec = SupervisorSpec(
        max_restarts=100, within_ns=3600 * SECOND, backoff=backoff, children=(probe("x", rec),)
    )
    rt.start_root(supervisor("root", spec))
    return rt, rec


def _start_time(rt: DeterministicRuntime, rec: Recorder, incarnation: int) -> int:
    for _ in range(1000):
        if ("x", incarnation) in rec.of("start"):
            return rt.clock.now_ns()
        rt.run_until_idle()
        if ("x", incarnation) in rec.of("start"):
            return rt.clock.now_ns()
        due = rt._timers.next_due_ns()
        assert due is not None, "no restart scheduled"
        rt.run_until(due)
    raise AssertionError("never restarted")


def test_backoff_doubles_on_the_simulated_clock_and_resets_after_stability() -> None:
    backoff = Backoff(initial_ns=100 * MS, max_ns=350 * MS, reset_after_ns=10 * SECOND, jitter=0.0)
    rt, rec = _crash_loop_runtime(backoff)
    delays = []
    for incarnation in (2, 3, 4, 5):
        crashed_at = rt.clock.now_ns()
        rt.inject("x", Crash())
        delays.append(_start_time(rt, rec, incarnation) - crashed_at)
    assert delays == [100 * MS, 200 * MS, 350 * MS, 350 * MS]
    rt.advance(11 * SECOND)  # stable long enough: the next delay starts over
    crashed_at = rt.clock.now_ns()
    rt.inject("x", Crash())
    assert _start_time(rt, rec, 6) - crashed_at == 100 * MS


def test_backoff_jitter_stays_within_bounds() -> None:
    backoff = Backoff(initial_ns=100 * MS, max_ns=10 * SECOND, reset_after_ns=SECOND, jitter=0.5)
    rt, rec = _crash_loop_runtime(backoff)
    crashed_at = rt.clock.now_ns()
    rt.inject("x", Crash())
    delay = _start_time(rt, rec, 2) - crashed_at
    assert 50 * MS <= delay <= 150 * MS


def test_messages_sent_during_backoff_wait_for_the_new_incarnation() -> None:
    rt, rec = _crash_loop_runtime(Backoff(initial_ns=SECOND, jitter=0.0))
    rt.inject("x", Crash())
    rt.run_until_idle()
    assert rt.entry("x").state is ActorState.RESTARTING
    rt.inject("x", Ping("waiting"))
    rt.run_until_idle()
    assert rec.of("ping") == []
    rt.advance(SECOND)
    assert rec.of("ping") == [("x", 2, "waiting")]


def _scripted_run() -> bytes:
    rec = Recorder()
    rt = DeterministicRuntime(start_ns=START_NS, seed=42)
    children = (
        ChildSpec(actor_id="ticker", factory=lambda: Ticker(rec)),
        ChildSpec(actor_id="all", factory=lambda: Listener(rec, None)),
        ChildSpec(actor_id="pub", factory=Publisher),
        probe("x", rec),
        ChildSpec(actor_id="health", factory=lambda: HealthReporter(interval_ns=SECOND)),
    )
    spec = SupervisorSpec(backoff=Backoff(initial_ns=50 * MS), children=children)
    rt.start_root(supervisor("root", spec))
    for i in range(20):
        rt.inject("pub", Quote("BTCUSD", i))
        if i % 7 == 3:
            rt.inject("x", Crash())
        rt.advance(137 * MS)
    rt.advance(3 * SECOND)
    rt.shutdown()
    return rt.trace_bytes()


def test_same_inputs_give_byte_identical_traces() -> None:
    first, second = _scripted_run(), _scripted_run()
    assert first == second
    assert first.count(b"Quote(") >= 40
    assert b"fail>x" in first
    assert b"ReportDue" in first


# -- threaded only --------------------------------------------------------------------------


def test_a_stuck_child_is_abandoned_after_its_shutdown_timeout() -> None:
    rec = Recorder()
    release = threading.Event()
    with ThreadedRuntime(seed=1) as rt:
        stuck = probe("stuck", rec, shutdown_timeout_ns=100 * MS)
        rt.start_root(supervisor("root", SupervisorSpec(children=(probe("ok", rec), stuck))))
        rt.send("stuck", Block(release))
        deadline = threading.Event()
        for _ in range(500):
            if rec.of("blocked"):
                break
            deadline.wait(0.01)
        assert rec.of("blocked") == [("stuck", 1)]
        assert rt.stop_actor("stuck", 100 * MS) is False
        assert rt.entry("stuck").state is ActorState.ABANDONED
        assert rt.health_report().overall is OverallHealth.DEGRADED
        assert rt.ask("ok", Ping("fine"), timeout_s=2.0) == ("ok", 1, "fine")
        release.set()


def test_a_busy_actor_is_reported_unresponsive() -> None:
    rec = Recorder()
    release = threading.Event()
    with ThreadedRuntime(seed=1, unresponsive_after_ns=20 * MS) as rt:
        rt.start_root(supervisor("root", SupervisorSpec(children=(probe("slow", rec),))))
        rt.send("slow", Block(release))
        seen = set()
        waiter = threading.Event()
        for _ in range(500):
            report = rt.health_report()
            seen = {a.actor_id for a in report.actors if a.state is ActorState.UNRESPONSIVE}
            if seen:
                break
            waiter.wait(0.005)
        release.set()
        assert seen == {"slow"}
        assert report.overall is OverallHealth.DEGRADED


def test_restart_type_temporary_child_crash_does_not_count_or_restart() -> None:
    rec = Recorder()
    rt = DeterministicRuntime(start_ns=START_NS)
    spec = SupervisorSpec(max_restarts=0, children=(probe("t", rec, restart=Restart.TEMPORARY),))
    rt.start_root(supervisor("root", spec))
    rt.inject("t", Crash())
    rt.run_until_idle()
    assert rt.root_failure is None
    assert rt.entry("t") is None


class StateWatcher(Actor):
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def on_start(self) -> None:
        self.context.subscribe(ActorStateChanged)

    def on_actor_state_changed(self, event: ActorStateChanged) -> None:
        self.recorder.add("state", event.actor_id, event.old, event.new)


def test_every_state_change_is_published(runtime: Harness) -> None:
    rec = runtime.recorder
    watcher = ChildSpec(actor_id="watcher", factory=lambda: StateWatcher(rec))
    runtime.start(tree("root", SupervisorSpec(children=(watcher, probe("x", rec)))))
    runtime.tell("x", Crash())
    runtime.wait_until(lambda: ("x", "STARTING", "RUNNING") in rec.of("state")[2:])
    changes = [c[1:] for c in rec.of("state") if c[0] == "x"]
    assert changes == [
        ("STARTING", "RUNNING"),
        ("RUNNING", "RESTARTING"),
        ("RESTARTING", "STARTING"),
        ("STARTING", "RUNNING"),
    ]


def test_trade_logger_writes_one_line_per_event_with_net_pnl(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from decimal import Decimal

    from actors._trade_log import TradeLogger
    from messages import PositionClosed, UnixNanos

    rt = DeterministicRuntime(start_ns=START_NS)
    spec = ChildSpec(actor_id="trades", factory=TradeLogger)
    rt.start_root(supervisor("root", SupervisorSpec(children=(spec,))))
    ts = UnixNanos(START_NS)
    closed = PositionClosed(
        ts_event=ts, ts_init=ts, position_id="p1", symbol="BTCUSD",
        entry_price=Decimal("70000"), exit_price=Decimal("71400"),
        realised_pnl=Decimal("198.80"), fees=Decimal("2.84"), funding=Decimal("-0.10"),
        reason="target",
    )  # fmt: skip
    with caplog.at_level("INFO"):
        rt.inject("trades", closed)
        rt.inject("trades", closed)
        rt.run_until_idle()
    lines = [r.getMessage() for r in caplog.records if r.name == "actor.trades"]
    assert len(lines) == 2
    assert "net 391.72 after 2 trades" in lines[-1]


def test_trade_logger_candle_line_pnl_summary_and_table_at_stop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from decimal import Decimal

    from actors._trade_log import TradeLogger
    from messages import Candle, CandleClosed, PositionClosed, UnixNanos

    rt = DeterministicRuntime(start_ns=START_NS)
    spec = ChildSpec(
        actor_id="trades",
        factory=lambda: TradeLogger(symbols=("BTCUSD", "ETHUSD"), summary_ns=60 * SECOND),
    )
    rt.start_root(supervisor("root", SupervisorSpec(children=(spec,))))
    ts = UnixNanos(START_NS)

    def close(symbol: str, price: str) -> CandleClosed:
        p = Decimal(price)
        end = UnixNanos(START_NS + 60 * SECOND)
        candle = Candle(symbol=symbol, open_time_ns=ts, close_time_ns=end,
                        open=p, high=p, low=p, close=p, volume=Decimal(1))  # fmt: skip
        return CandleClosed(ts_event=candle.close_time_ns, ts_init=ts, candle=candle,
                            backfilled=False)  # fmt: skip

    closed = PositionClosed(
        ts_event=ts, ts_init=ts, position_id="p1", symbol="ETHUSD",
        entry_price=Decimal("3500"), exit_price=Decimal("3400"),
        realised_pnl=Decimal("-10"), fees=Decimal("1"), funding=Decimal("0"), reason="stop",
    )  # fmt: skip
    with caplog.at_level("INFO"):
        rt.inject("trades", close("BTCUSD", "70000"))
        rt.run_until_idle()
        assert not [r for r in caplog.records if "candle" in r.getMessage()]  # waits for ETH
        rt.inject("trades", close("ETHUSD", "3500"))
        rt.inject("trades", closed)
        rt.advance(60 * SECOND)
        assert rt.shutdown() == []
    lines = [r.getMessage() for r in caplog.records if r.name == "actor.trades"]
    assert any("closed: BTCUSD 70000  ETHUSD 3500" in line for line in lines)
    assert any(line.startswith("pnl: 1 trades closed, net -11") for line in lines)
    table = lines[-1].splitlines()
    assert table[0] == "trades and PnL this run:" and "ETHUSD" in table[2]
    assert table[-1].split()[0] == "total" and table[-1].split()[-1] == "-11"


def test_backoff_restarts_of_two_children_both_happen() -> None:
    # Each child's scheduled restart stands on its own: a later plan must not cancel it.
    rec = Recorder()
    rt = DeterministicRuntime(start_ns=START_NS, seed=1)
    spec = SupervisorSpec(
        max_restarts=10,
        backoff=Backoff(initial_ns=SECOND, jitter=0.0),
        children=(probe("a", rec), probe("b", rec)),
    )
    rt.start_root(supervisor("root", spec))
    rt.inject("a", Crash())
    rt.run_until_idle()
    rt.advance(SECOND // 2)
    rt.inject("b", Crash())
    rt.advance(2 * SECOND)
    assert ("a", 2) in rec.of("start")
    assert ("b", 2) in rec.of("start")
    assert rt.entry("a").state is ActorState.RUNNING
