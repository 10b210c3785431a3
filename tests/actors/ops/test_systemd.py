"""sd_notify against a real AF_UNIX datagram socket bound in tmp_path (and abstract)."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors import ChildSpec, HealthReporter, SupervisorSpec, ThreadedRuntime, supervisor
from actors.ops import SystemdActor, SystemdNotifier, ops_specs, root_running
from messages import ActorHealth, ActorId, ActorState, HealthReport, OverallHealth, UnixNanos
from messages.settings import HealthSettings, Settings

_MS = 1_000_000


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    path = str(tmp_path / "n.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5.0)
    try:
        yield path, sock
    finally:
        sock.close()


def received(sock: socket.socket, count: int) -> list[str]:
    return [sock.recv(4096).decode() for _ in range(count)]


def test_ready_status_watchdog_stopping_are_datagrams(listener: tuple[str, socket.socket]) -> None:
    path, sock = listener
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "3000000"}
    notifier = SystemdNotifier.from_env(env)
    assert notifier.enabled and notifier.watchdog_interval_ns == 1_500_000_000
    assert notifier.ready() and notifier.ready()  # the second is not sent again
    assert notifier.status("health OK:\n3 actors")
    assert notifier.watchdog()
    assert notifier.stopping()
    notifier.close()
    assert received(sock, 4) == [
        f"READY=1\nMAINPID={os.getpid()}",
        "STATUS=health OK: 3 actors",
        "WATCHDOG=1",
        "STOPPING=1",
    ]


def test_abstract_namespace_address() -> None:
    name = f"delta-bot-test-{os.getpid()}-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5.0)
        notifier = SystemdNotifier.from_env({"NOTIFY_SOCKET": "@" + name})
        assert notifier.watchdog()
        notifier.close()
        assert sock.recv(64) == b"WATCHDOG=1"


def test_without_notify_socket_everything_is_a_no_op() -> None:
    notifier = SystemdNotifier.from_env({"WATCHDOG_USEC": "1000000"})
    assert not notifier.enabled
    assert notifier.watchdog_interval_ns is None
    assert not notifier.ready() and not notifier.status("x") and not notifier.watchdog()
    assert "systemd" not in [s.actor_id for s in ops_specs(Settings(), notifier=notifier)]


def test_watchdog_for_another_pid_or_malformed_is_off(tmp_path: Path) -> None:
    other = SystemdNotifier.from_env(
        {"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "10", "WATCHDOG_PID": "1"}
    )
    assert other.watchdog_interval_ns is None
    bad = SystemdNotifier.from_env({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "soon"})
    assert bad.watchdog_interval_ns is None
    assert not SystemdNotifier(str(tmp_path / "nobody.sock")).watchdog()  # logged, not raised


def test_actor_sends_status_per_report_and_watchdog_while_the_root_runs(
    listener: tuple[str, socket.socket],
) -> None:
    path, sock = listener
    notifier = SystemdNotifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "40000"})
    settings = Settings(health=HealthSettings(http_enabled=False, memory_trim_s=0))
    specs = ops_specs(settings, notifier=notifier)
    assert [s.actor_id for s in specs] == ["metrics", "systemd"]
    health = ChildSpec(actor_id="health", factory=lambda: HealthReporter(interval_ns=50 * _MS))
    with ThreadedRuntime(seed=1) as rt:
        rt.start_root(supervisor("root", SupervisorSpec(children=(health, *specs))))
        notifier.ready()
        messages: list[str] = []
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and not (
            sum(m == "WATCHDOG=1" for m in messages) >= 3
            and any(m.startswith("STATUS=health OK: 4 actors") for m in messages)
        ):
            messages.append(sock.recv(4096).decode())
    assert messages[0] == f"READY=1\nMAINPID={os.getpid()}" or "READY=1" in "".join(messages)
    assert sum(m == "WATCHDOG=1" for m in messages) >= 3
    assert any(m.startswith("STATUS=health OK: 4 actors") for m in messages)


def test_root_running_reads_the_root_entry() -> None:
    def report(state: ActorState) -> HealthReport:
        root = ActorHealth(actor_id=ActorId("root"), actor_class="Supervisor", state=state,
                           restarts=0, inbox_size=0, last_message_age_ns=None, uptime_ns=0,
                           parent=None)  # fmt: skip
        return HealthReport(overall=OverallHealth.OK, actors=(root,), supervisors=(),
                            ts_event=UnixNanos(0), ts_init=UnixNanos(0))  # fmt: skip

    assert root_running(report(ActorState.RUNNING))
    for state in (ActorState.STARTING, ActorState.UNRESPONSIVE, ActorState.FAILED):
        assert not root_running(report(state))
    assert SystemdActor(notifier=SystemdNotifier(None), watchdog_ns=None).describe()["pings"] == 0
