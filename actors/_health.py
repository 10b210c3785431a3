"""The health reporter: a periodic report of every actor and supervisor as one JSON line.

The runtime keeps per-actor health (state, restarts, inbox size, age of last message, uptime)
and per-supervisor intensity use; :class:`HealthReporter` asks for it on a timer, publishes
the :class:`~messages.HealthReport` for whoever subscribes (console, metrics, systemd), and
logs it as one JSON line on the ``health`` logger (the record's ``payload`` holds the encoded
report, which the JSON log formatter inlines), plus a one-line human summary on the actor's
logger. Given a state directory it also replaces ``STATE/health.json`` with the report, so a
script or monitoring agent can read the bot's health without talking to it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from actors._actor import Actor
from messages import ActorState, HealthReport, OverallHealth, encode

_json_log = logging.getLogger("health")

HEALTH_FILE = "health.json"
"""Name of the health file under the state directory."""


@dataclass(frozen=True, slots=True)
class ReportDue:
    """Timer message: time to emit a health report."""


def summarize(report: HealthReport) -> str:
    """Return a one-line human summary: overall state and the actors that need attention."""
    counts: dict[ActorState, int] = {}
    for actor in report.actors:
        counts[actor.state] = counts.get(actor.state, 0) + 1
    states = ", ".join(f"{count} {state.lower()}" for state, count in sorted(counts.items()))
    trouble = [
        f"{a.actor_id}={a.state.lower()}"
        for a in report.actors
        if a.state not in (ActorState.RUNNING, ActorState.STOPPED)
    ]
    restarts = sum(a.restarts for a in report.actors)
    line = f"health {report.overall}: {len(report.actors)} actors ({states}), {restarts} restarts"
    if trouble:
        line += "; attention: " + ", ".join(trouble)
    return line


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a reader sees the old file or the new, never a
    mix: write a temporary file in the same directory (same file system, so the rename is
    atomic), fsync it, then ``os.replace`` it over ``path``.

    Raises:
        OSError: The directory is missing or not writable, or the disk is full; the old
            file is left as it was and the temporary file is removed.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class HealthReporter(Actor):
    """Emits a :class:`~messages.HealthReport` every ``interval_ns`` of clock time.

    Args:
        interval_ns: Report period on the runtime's clock, ns.
        state_dir: Directory for ``health.json`` (the codec's JSON of the latest report,
            decodable with ``messages.decode``); ``None`` writes no file. A failed write is
            logged as a WARNING (once per distinct error) and never fails the reporter:
            the report still goes to the log and to subscribers.
    """

    def __init__(self, *, interval_ns: int, state_dir: Path | str | None = None) -> None:
        self.interval_ns = interval_ns
        self.path = None if state_dir is None else Path(state_dir) / HEALTH_FILE
        self.reports = 0
        self.last_overall: OverallHealth | None = None
        self.last_write_error: str | None = None

    def on_start(self) -> None:
        """Start the report timer."""
        self.context.schedule_repeating(self.interval_ns, ReportDue())

    def on_report_due(self, _: ReportDue) -> HealthReport:
        """Build, publish, log and store one report; the report is also the reply to an ask."""
        report = self.context.health_report()
        self.reports += 1
        self.last_overall = report.overall
        self.context.publish(report)
        data = encode(report)
        _json_log.info("health report", extra={"payload": data})
        level = logging.INFO if report.overall is OverallHealth.OK else logging.WARNING
        self.context.log.log(level, summarize(report))
        self._store(data)
        return report

    def _store(self, data: bytes) -> None:
        if self.path is None:
            return
        try:
            write_atomically(self.path, data)
        except OSError as error:
            # strerror, not str(error): the latter names the random temporary file.
            text = f"{type(error).__name__}: {error.strerror or error}"
            if text != self.last_write_error:
                self.context.log.warning(
                    "%s: cannot write %s: %s", self.context.actor_id, self.path, text
                )
            self.last_write_error = text
        else:
            self.last_write_error = None

    def describe(self) -> dict[str, object]:
        """Report count, the last verdict and where the health file goes."""
        return {
            "reports": self.reports,
            "last_overall": self.last_overall,
            "health_file": None if self.path is None else str(self.path),
            "write_error": self.last_write_error,
        }
