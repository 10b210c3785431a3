"""/healthz and /metrics over real sockets on 127.0.0.1, from a small threaded tree."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from actors import Backoff, SupervisorSpec, ThreadedRuntime, supervisor
from actors.ops import HealthHttpServer, OpsBoard, healthz, ops_specs
from messages.settings import HealthSettings, Settings
from tests.actors.harness import Recorder
from tests.actors.ops.events import market_events, trading_events
from tests.actors.probes import Crash, probe

parser = pytest.importorskip("prometheus_client.parser")

_S = 1_000_000_000


def get(address: tuple[str, int], path: str, method: str = "GET") -> (
    tuple[int, dict[str, str], bytes]
):
    conn = http.client.HTTPConnection(*address, timeout=5.0)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def wait_for(condition: Any, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.fixture
def bot() -> Iterator[tuple[ThreadedRuntime, OpsBoard, Recorder]]:
    """root: metrics, http (ephemeral port), and `work` (x) restarting after a 60 s backoff."""
    board, rec = OpsBoard(), Recorder()
    settings = Settings(health=HealthSettings(http_port=0, memory_trim_s=0))
    work = SupervisorSpec(backoff=Backoff(initial_ns=60 * _S, jitter=0.0),
                          children=(probe("x", rec),))  # fmt: skip
    children = (*ops_specs(settings, board=board, refresh_s=0.02), supervisor("work", work))
    runtime = ThreadedRuntime(seed=3)
    runtime.start_root(supervisor("root", SupervisorSpec(children=children)))
    try:
        yield runtime, board, rec
    finally:
        assert runtime.shutdown(timeout_s=5.0) == []


def test_healthz_is_200_while_ok_and_503_once_an_actor_is_down(bot: Any) -> None:
    runtime, board, _ = bot
    address = board.wait_address(5.0)
    assert address is not None and address[0] == "127.0.0.1" and address[1] > 0

    def status() -> tuple[int, dict[str, Any]]:
        code, headers, body = get(address, "/healthz")
        assert headers["Content-Type"] == "application/json"
        return code, orjson.loads(body)

    wait_for(lambda: status()[1]["report"] is not None and all(
        a["state"] == "RUNNING" for a in status()[1]["report"]["actors"]))  # fmt: skip
    code, body = status()
    assert (code, body["status"], body["healthy"]) == (200, "OK", True)
    assert {a["actor_id"] for a in body["report"]["actors"]} == {"root", "metrics", "http",
                                                                  "work", "x"}  # fmt: skip
    runtime.send("x", Crash())  # x now waits 60 s for its restart: DEGRADED
    wait_for(lambda: status()[0] == 503)
    code, body = status()
    assert (body["status"], body["healthy"]) == ("DEGRADED", False)
    x = next(a for a in body["report"]["actors"] if a["actor_id"] == "x")
    assert x["state"] == "RESTARTING"


def test_metrics_parse_with_the_prometheus_parser(bot: Any) -> None:
    runtime, board, _ = bot
    address = board.wait_address(5.0)
    for event in trading_events() + market_events():
        runtime.send("metrics", event)
    runtime.send("x", Crash())

    def scrape() -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
        code, headers, body = get(address, "/metrics")
        assert code == 200
        assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        return {
            fam.name: {tuple(sorted(s.labels.items())): s.value for s in fam.samples}
            for fam in parser.text_string_to_metric_families(body.decode())
        }

    wait_for(lambda: scrape()["bot_actor_restarts"].get((("actor", "x"),)) == 0
             and scrape()["bot_actor_state"][(("actor", "x"), ("state", "RESTARTING"))] == 1
             and scrape()["bot_book_updates"])  # fmt: skip
    families = scrape()
    assert families["bot_orders_accepted"] == {(("symbol", "BTCUSD"),): 1,
                                               (("symbol", "ETHUSD"),): 1}  # fmt: skip
    assert families["bot_fills"][(("liquidity", "maker"), ("side", "BUY"),
                                  ("symbol", "BTCUSD"))] == 2  # fmt: skip
    assert families["bot_equity"] == {(("asset", "USD"),): 950}
    assert families["bot_drawdown_ratio"] == {(("asset", "USD"),): pytest.approx(0.05)}
    assert families["bot_feed_stale"] == {(("symbol", "BTCUSD"),): 1}
    assert families["bot_book_resyncs"] == {(("symbol", "BTCUSD"),): 2}
    assert families["bot_health"][(("status", "DEGRADED"),)] == 1
    assert families["bot_actors"][(("state", "RESTARTING"),)] == 1
    assert set(families["bot_actor_inbox_size"]) == {
        (("actor", a),) for a in ("root", "metrics", "http", "work", "x")
    }
    assert families["bot_supervisor_restarts_in_window"][(("supervisor", "work"),)] == 1
    assert 0 <= families["bot_metrics_snapshot_age_seconds"][()] < 5


def test_unknown_paths_are_404_and_other_methods_405(bot: Any) -> None:
    _, board, _ = bot
    address = board.wait_address(5.0)
    assert get(address, "/nope")[0] == 404
    assert get(address, "/healthz?verbose=1")[0] in (200, 503)
    for method in ("POST", "PUT", "DELETE", "HEAD", "BREW"):
        code, headers, _ = get(address, "/metrics", method)
        assert code == 405, method
        assert headers["Allow"] == "GET"


def test_a_restarted_http_actor_serves_again_on_a_fresh_bind(bot: Any) -> None:
    runtime, board, _ = bot
    from messages import ActorState, KillActor, UnixNanos

    first = board.wait_address(5.0)
    runtime.send("http", KillActor(actor_id="http", command_id="k", ts_init=UnixNanos(0)))
    wait_for(lambda: (runtime.entry("http").incarnation == 2
                      and runtime.entry("http").state is ActorState.RUNNING))  # fmt: skip
    second = board.address
    assert get(second, "/metrics")[0] == 200
    if second != first:  # the failed incarnation's server was closed, its port freed
        with pytest.raises(ConnectionRefusedError):
            get(first, "/metrics")


def test_healthz_is_503_before_the_first_snapshot_and_when_it_is_stale() -> None:
    assert healthz(None, 0, _S)[0] == 503
    board = OpsBoard()
    from actors.ops import Metrics
    from messages import HealthReport, OverallHealth, UnixNanos, encode

    report = HealthReport(overall=OverallHealth.OK, actors=(), supervisors=(),
                          ts_event=UnixNanos(0), ts_init=UnixNanos(0))  # fmt: skip
    board.publish(report, encode(report), Metrics().families(0))
    snapshot = board.snapshot()
    assert snapshot is not None
    published = snapshot.published_mono_ns
    assert healthz(snapshot, published + _S, 2 * _S)[0] == 200
    code, body = healthz(snapshot, published + 3 * _S, 2 * _S)
    assert (code, orjson.loads(body)["status"]) == (503, "STALE")


def test_slow_clients_are_dropped_and_connections_are_capped() -> None:
    server = HealthHttpServer(("127.0.0.1", 0), board=OpsBoard(), stale_after_ns=_S,
                              read_timeout_s=0.3, max_connections=2)  # fmt: skip
    server.start()
    try:
        idle = [socket.create_connection(server.address, timeout=5.0) for _ in range(2)]
        idle[0].sendall(b"GET /hea")  # half a request line, then silence
        wait_for(lambda: _refused_busy(server.address), timeout_s=2.0)
        for sock in idle:  # both dropped after the read timeout: recv sees EOF
            started = time.monotonic()
            assert sock.recv(1024) == b""
            assert time.monotonic() - started < 2.0
            sock.close()
        wait_for(lambda: get(server.address, "/healthz")[0] == 503, timeout_s=2.0)
    finally:
        server.close()


def _refused_busy(address: tuple[str, int]) -> bool:
    with socket.create_connection(address, timeout=5.0) as sock:
        sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        return sock.recv(1024).startswith(b"HTTP/1.0 503")
