"""STATE/health.json: replaced atomically on every report, never seen half-written."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import orjson
import pytest

from actors import ChildSpec, HealthReporter, ReportDue, SupervisorSpec, ThreadedRuntime, supervisor
from messages import HealthReport, decode
from tests.actors.harness import Recorder
from tests.actors.probes import probe

_MS = 1_000_000


def test_reports_replace_health_json_and_a_reader_never_sees_half_a_file(tmp_path: Path) -> None:
    rec = Recorder()
    children = tuple(probe(f"p{i}", rec) for i in range(60))  # a report of ~15 kB
    reporter = ChildSpec(
        actor_id="health",
        factory=lambda: HealthReporter(interval_ns=60_000 * _MS, state_dir=tmp_path),
    )
    path = tmp_path / "health.json"
    reads, errors, stop = [0], [], threading.Event()

    def reader() -> None:
        while not stop.is_set() and reads[0] < 20_000:
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            try:
                orjson.loads(data)
            except orjson.JSONDecodeError as error:
                errors.append(f"{error}: {len(data)} bytes")
            reads[0] += 1

    with ThreadedRuntime(seed=1) as rt:
        rt.start_root(supervisor("root", SupervisorSpec(children=(*children, reporter))))
        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        for _ in range(200):  # 200 reports back to back while the reader reads
            rt.ask("health", ReportDue(), timeout_s=5.0)
        stop.set()
        thread.join(timeout=10.0)
        report = decode(path.read_bytes())
    assert not thread.is_alive()
    assert errors == []
    assert reads[0] > 50
    assert isinstance(report, HealthReport)
    assert len(report.actors) == 62
    assert list(tmp_path.glob(".health.json.*")) == []  # no temporary file left behind


def test_a_failed_write_is_a_warning_and_reports_go_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "not-there"
    reporter = ChildSpec(
        actor_id="health",
        factory=lambda: HealthReporter(interval_ns=1000 * _MS, state_dir=missing),
    )
    with caplog.at_level(logging.WARNING), ThreadedRuntime(seed=1) as rt:
        rt.start_root(supervisor("root", SupervisorSpec(children=(reporter,))))
        for _ in range(3):
            assert isinstance(rt.ask("health", ReportDue(), timeout_s=5.0), HealthReport)
        assert rt.entry("health").restarts == 0
    warnings = [r.getMessage() for r in caplog.records if "cannot write" in r.getMessage()]
    assert len(warnings) == 1  # once per distinct error, not once per report
    assert "not-there" in warnings[0]


def test_without_a_state_dir_no_file_is_written() -> None:
    reporter = HealthReporter(interval_ns=_MS)
    assert reporter.path is None
    assert reporter.describe()["health_file"] is None
