"""The runtime's plain logic without threads: supervision plans, timers, clocks, dispatch."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors import (
    Actor,
    Backoff,
    ChildExited,
    ChildSpec,
    ExitKind,
    Restart,
    ScaledClock,
    SimulatedClock,
    Strategy,
    SupervisorLogic,
    SupervisorSpec,
    handler_name,
)
from actors._timers import TimerQueue

SECOND = 1_000_000_000


def _logic(strategy: Strategy = Strategy.ONE_FOR_ONE, **kw: object) -> SupervisorLogic:
    children = tuple(ChildSpec(actor_id=n, factory=Actor) for n in ("a", "b", "c", "d"))
    spec = SupervisorSpec(strategy=strategy, children=children, **kw)  # type: ignore[arg-type]
    logic = SupervisorLogic(spec)
    for cid in logic.child_ids():
        logic.started(cid, 1, 0)
    return logic


def _fail(logic: SupervisorLogic, cid: str, now: int = 1, incarnation: int = 1) -> object:
    return logic.on_child_exited(ChildExited(cid, incarnation, ExitKind.FAILURE), now, 0.5)


@pytest.mark.parametrize(
    ("strategy", "stop", "restart"),
    [
        (Strategy.ONE_FOR_ONE, (), ("b",)),
        (Strategy.ONE_FOR_ALL, ("d", "c", "a"), ("a", "b", "c", "d")),
        (Strategy.REST_FOR_ONE, ("d", "c"), ("b", "c", "d")),
    ],
)
def test_strategy_plans(
    strategy: Strategy, stop: tuple[str, ...], restart: tuple[str, ...]
) -> None:
    plan = _fail(_logic(strategy), "b")
    assert plan.stop == stop
    assert plan.restart == restart
    assert plan.give_up is None


def test_stale_incarnation_exits_are_ignored() -> None:
    logic = _logic()
    logic.started("b", 2, 0)
    plan = _fail(logic, "b", incarnation=1)
    assert plan.restart == ()
    assert plan.stop == ()


def test_intensity_is_a_sliding_window() -> None:
    logic = _logic(max_restarts=2, within_ns=10 * SECOND)
    for t, n in ((1, 2), (2, 3)):
        assert _fail(logic, "a", now=t * SECOND, incarnation=n - 1).give_up is None
        logic.started("a", n, t * SECOND)
    # The first restart leaves the window before the third failure: no give-up.
    assert _fail(logic, "a", now=11 * SECOND + 1, incarnation=3).give_up is None
    logic.started("a", 4, 11 * SECOND + 1)
    plan = _fail(logic, "a", now=11 * SECOND + SECOND // 2, incarnation=4)
    assert plan.give_up is not None
    assert "max_restarts=2" in plan.give_up
    assert plan.stop == ("d", "c", "b")


def test_max_restarts_zero_gives_up_at_the_first_failure() -> None:
    plan = _fail(_logic(max_restarts=0), "c")
    assert plan.give_up is not None


@given(
    consecutive=st.integers(1, 40),
    unit=st.floats(0, 1, exclude_max=True),
    jitter=st.floats(0, 1),
)
def test_backoff_delay_is_bounded(consecutive: int, unit: float, jitter: float) -> None:
    backoff = Backoff(initial_ns=10, max_ns=10_000, reset_after_ns=1, jitter=jitter)
    base = min(10_000, 10 * 2 ** (consecutive - 1))
    delay = backoff.delay_ns(consecutive, unit)
    assert 0 <= delay <= 10_000
    assert base * (1 - jitter) - 1 <= delay <= base * (1 + jitter) + 1


def test_transient_normal_exit_is_removed_not_restarted() -> None:
    spec = ChildSpec(actor_id="t", factory=Actor, restart=Restart.TRANSIENT)
    logic = SupervisorLogic(SupervisorSpec(children=(spec,)))
    logic.started("t", 1, 0)
    plan = logic.on_child_exited(ChildExited("t", 1, ExitKind.NORMAL), 1, 0.5)
    assert plan.restart == ()
    assert not logic.has("t")


def test_duplicate_child_ids_are_rejected() -> None:
    logic = _logic()
    with pytest.raises(ValueError, match="duplicate child id 'a'"):
        logic.add(ChildSpec(actor_id="a", factory=Actor))


@given(st.lists(st.tuples(st.integers(0, 1000), st.booleans()), max_size=60))
def test_timer_queue_fires_each_live_timer_once_in_due_order(ops: list[tuple[int, bool]]) -> None:
    queue = TimerQueue()
    live = {}
    for i, (due, cancel) in enumerate(ops):
        tid = queue.add(due_ns=due, owner="a", incarnation=1, message=i)
        live[tid] = (due, i)
        if cancel:
            queue.cancel(tid)
            del live[tid]
    fired = queue.pop_due(1000)
    assert [t.message for t in fired] == [i for _, i in sorted(live.values())]
    assert queue.pop_due(10_000) == []


def test_repeating_timers_keep_an_exact_period_and_die_with_the_owner() -> None:
    queue = TimerQueue()
    queue.add(due_ns=10, owner="a", incarnation=1, message="tick", interval_ns=10)
    assert [t.due_ns for t in queue.pop_due(35)] == [10, 20, 30]
    assert queue.next_due_ns() == 40
    assert queue.cancel_owner("a", 1) == 1
    assert queue.next_due_ns() is None


def test_simulated_clock_never_runs_backwards() -> None:
    clock = SimulatedClock(100)
    clock.advance_to(200)
    assert clock.now_ns() == 200
    with pytest.raises(ValueError, match="backwards"):
        clock.advance_to(150)


def test_scaled_clock_runs_faster_than_real_time() -> None:
    clock = ScaledClock(speed=1000.0, start_ns=0)
    assert clock.real_seconds_until(clock.now_ns() + 1000 * SECOND) == pytest.approx(1.0, abs=0.05)
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(speed=0.0)


def test_handler_names_follow_the_message_class() -> None:
    class TopOfBook: ...

    class OrderFilled: ...

    class PlaceOCOOrder: ...

    assert handler_name(TopOfBook) == "on_top_of_book"
    assert handler_name(OrderFilled) == "on_order_filled"
    assert handler_name(PlaceOCOOrder) == "on_place_oco_order"


def test_a_message_without_handler_is_logged_with_the_actor_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from actors import DeterministicRuntime, supervisor

    class Mute(Actor):
        pass

    class Unexpected: ...

    rt = DeterministicRuntime()
    mute = ChildSpec(actor_id="m", factory=Mute)
    rt.start_root(supervisor("root", SupervisorSpec(children=(mute,))))
    with caplog.at_level(logging.WARNING):
        rt.inject("m", Unexpected())
        rt.run_until_idle()
    assert any("m: no handler on_unexpected" in r.getMessage() for r in caplog.records)


def test_temporary_siblings_are_stopped_and_removed_not_restarted() -> None:
    children = (
        ChildSpec(actor_id="a", factory=Actor),
        ChildSpec(actor_id="t", factory=Actor, restart=Restart.TEMPORARY),
    )
    logic = SupervisorLogic(SupervisorSpec(strategy=Strategy.ONE_FOR_ALL, children=children))
    for cid in ("a", "t"):
        logic.started(cid, 1, 0)
    plan = logic.on_child_exited(ChildExited("a", 1, ExitKind.FAILURE), 1, 0.5)
    assert plan.stop == ("t",)
    assert plan.restart == ("a",)
    assert plan.remove == ("t",)
