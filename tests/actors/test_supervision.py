"""OTP supervision under both runtimes: strategies, restart types, intensity, escalation."""

from __future__ import annotations

import pytest

from actors import Restart, Strategy, SupervisorSpec
from messages import ActorState
from tests.actors.harness import Harness
from tests.actors.probes import Crash, Forward, Ping, RaiseSystemExit, StopNow, probe, tree

SECOND = 1_000_000_000


def _abc(runtime: Harness, strategy: Strategy, **kw: object) -> None:
    rec = runtime.recorder
    spec = SupervisorSpec(
        strategy=strategy,
        max_restarts=5,
        children=tuple(probe(name, rec) for name in ("a", "b", "c")),
        **kw,  # type: ignore[arg-type]
    )
    runtime.start(tree("root", spec))
    assert rec.of("start") == [("a", 1), ("b", 1), ("c", 1)]


def _incarnations(runtime: Harness) -> dict[str, int]:
    return {
        name: runtime.runtime.entry(name).incarnation
        for name in ("a", "b", "c")
        if runtime.runtime.entry(name)
    }


def test_children_start_in_order_and_stop_in_reverse(runtime: Harness) -> None:
    _abc(runtime, Strategy.ONE_FOR_ONE)
    runtime.runtime.stop_actor("root", 2 * SECOND)
    assert runtime.recorder.of("stop") == [("c", 1), ("b", 1), ("a", 1)]


def test_one_for_one_restarts_only_the_failed_child(runtime: Harness) -> None:
    _abc(runtime, Strategy.ONE_FOR_ONE)
    runtime.tell("b", Crash())
    runtime.wait_until(lambda: ("b", 2) in runtime.recorder.of("start"))
    assert _incarnations(runtime) == {"a": 1, "b": 2, "c": 1}
    assert runtime.recorder.of("stop") == []


def test_one_for_all_restarts_every_child_in_order(runtime: Harness) -> None:
    _abc(runtime, Strategy.ONE_FOR_ALL)
    runtime.tell("b", Crash())
    runtime.wait_until(lambda: ("c", 2) in runtime.recorder.of("start"))
    assert runtime.recorder.of("stop") == [("c", 1), ("a", 1)]
    assert runtime.recorder.of("start")[3:] == [("a", 2), ("b", 2), ("c", 2)]


def test_rest_for_one_restarts_the_child_and_those_after_it(runtime: Harness) -> None:
    _abc(runtime, Strategy.REST_FOR_ONE)
    runtime.tell("b", Crash())
    runtime.wait_until(lambda: ("c", 2) in runtime.recorder.of("start"))
    assert runtime.recorder.of("stop") == [("c", 1)]
    assert runtime.recorder.of("start")[3:] == [("b", 2), ("c", 2)]
    assert _incarnations(runtime)["a"] == 1


@pytest.mark.parametrize(
    ("restart", "message", "restarted"),
    [
        (Restart.PERMANENT, StopNow(), True),
        (Restart.PERMANENT, Crash(), True),
        (Restart.TRANSIENT, StopNow(), False),
        (Restart.TRANSIENT, Crash(), True),
        (Restart.TEMPORARY, StopNow(), False),
        (Restart.TEMPORARY, Crash(), False),
    ],
)
def test_restart_types(
    runtime: Harness, restart: Restart, message: object, restarted: bool
) -> None:
    rec = runtime.recorder
    spec = SupervisorSpec(children=(probe("w", rec, restart=restart), probe("other", rec)))
    runtime.start(tree("root", spec))
    runtime.tell("w", message)
    if restarted:
        runtime.wait_until(lambda: ("w", 2) in rec.of("start"))
        assert runtime.runtime.entry("w").state is ActorState.RUNNING
    else:
        runtime.wait_until(lambda: runtime.runtime.entry("w") is None)
        assert ("w", 2) not in rec.of("start")
        assert runtime.ask("other", Ping("alive")) == ("other", 1, "alive")


def test_intensity_exhaustion_escalates_to_the_parent(runtime: Harness) -> None:
    rec = runtime.recorder
    inner = SupervisorSpec(
        max_restarts=2,
        within_ns=60 * SECOND,
        children=(probe("x", rec), probe("y", rec)),
    )
    outer = SupervisorSpec(max_restarts=5, children=(tree("inner", inner), probe("z", rec)))
    runtime.start(tree("root", outer))
    for incarnation in (1, 2, 3):
        runtime.wait_until(lambda n=incarnation: ("x", n) in rec.of("start"))
        runtime.tell("x", Crash())
    # The third crash exceeds max_restarts=2: inner stops y then fails; root restarts inner.
    runtime.wait_until(lambda: ("y", 2) in rec.of("start"))
    assert ("y", 1) in rec.of("stop")
    assert runtime.runtime.entry("inner").incarnation == 2
    assert runtime.runtime.entry("x").incarnation == 4
    assert runtime.runtime.entry("z").incarnation == 1
    assert runtime.runtime.root_failure is None


def test_root_giving_up_fails_the_runtime(runtime: Harness) -> None:
    rec = runtime.recorder
    spec = SupervisorSpec(max_restarts=1, within_ns=60 * SECOND, children=(probe("x", rec),))
    runtime.start(tree("root", spec))
    runtime.tell("x", Crash())
    runtime.wait_until(lambda: ("x", 2) in rec.of("start"))
    runtime.tell("x", Crash())
    runtime.wait_until(lambda: runtime.runtime.root_failure is not None)
    assert "max_restarts=1" in str(runtime.runtime.root_failure)
    assert runtime.runtime.health_report().overall == "FAILED"


def test_on_start_failure_during_restart_counts_and_recovers(runtime: Harness) -> None:
    rec = runtime.recorder
    failures = [0]
    spec = SupervisorSpec(max_restarts=5, children=(probe("x", rec, start_failures=failures),))
    runtime.start(tree("root", spec))
    failures[0] = 2  # the next two starts fail in on_start
    runtime.tell("x", Crash())
    runtime.wait_until(lambda: ("x", 4) in rec.of("start"))
    assert rec.of("start_failed") == [("x", 2), ("x", 3)]
    assert runtime.ask("x", Ping("p")) == ("x", 4, "p")


def test_initial_on_start_failure_fails_the_start(runtime: Harness) -> None:
    from actors import RuntimeFailed

    rec = runtime.recorder
    spec = SupervisorSpec(children=(probe("a", rec), probe("b", rec, start_failures=[1])))
    with pytest.raises(RuntimeFailed, match="b failed to start"):
        runtime.start(tree("root", spec))
    assert rec.of("stop") == [("a", 1)]


def test_system_exit_in_one_actor_spares_the_bystander(runtime: Harness) -> None:
    rec = runtime.recorder
    spec = SupervisorSpec(children=(probe("victim", rec), probe("bystander", rec)))
    runtime.start(tree("root", spec))
    runtime.tell("victim", RaiseSystemExit())
    runtime.wait_until(lambda: ("victim", 2) in rec.of("start"))
    assert runtime.ask("bystander", Ping("still here")) == ("bystander", 1, "still here")
    assert runtime.ask("victim", Ping("back")) == ("victim", 2, "back")


def test_messages_by_stable_id_reach_the_restarted_incarnation(runtime: Harness) -> None:
    rec = runtime.recorder
    spec = SupervisorSpec(children=(probe("target", rec), probe("sender", rec)))
    runtime.start(tree("root", spec))
    runtime.tell("target", Crash())
    # Sent right behind the crash: waits in the mailbox for the next incarnation.
    runtime.tell("sender", Forward("target", Ping("after")))
    runtime.wait_until(lambda: ("target", 2, "after") in rec.of("ping"))
    assert [p for p in rec.of("ping") if p[0] == "target"] == [("target", 2, "after")]


def test_unknown_target_is_a_counted_dead_letter(runtime: Harness) -> None:
    runtime.start(tree("root", SupervisorSpec(children=(probe("a", runtime.recorder),))))
    before = runtime.runtime.dead_letters
    assert runtime.runtime.send("nobody", Ping("lost")) is False
    assert runtime.runtime.dead_letters == before + 1
