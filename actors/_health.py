"""The health reporter: a periodic report of every actor and supervisor as one JSON line.

The runtime keeps per-actor health (state, restarts, inbox size, age of last message, uptime)
and per-supervisor intensity use; :class:`HealthReporter` asks for it on a timer, publishes
the :class:`~messages.HealthReport` for whoever subscribes (console, metrics), and logs it as
one JSON line on the ``health`` logger (the record's ``payload`` holds the encoded report,
which the JSON log formatter inlines), plus a one-line human summary on the actor's logger.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from actors._actor import Actor
from messages import ActorState, HealthReport, OverallHealth, encode

_json_log = logging.getLogger("health")


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


class HealthReporter(Actor):
    """Emits a :class:`~messages.HealthReport` every ``interval_ns`` of clock time."""

    def __init__(self, *, interval_ns: int) -> None:
        self.interval_ns = interval_ns
        self.reports = 0
        self.last_overall: OverallHealth | None = None

    def on_start(self) -> None:
        """Start the report timer."""
        self.context.schedule_repeating(self.interval_ns, ReportDue())

    def on_report_due(self, _: ReportDue) -> HealthReport:
        """Build, publish and log one report; the report is also the reply to an ask."""
        report = self.context.health_report()
        self.reports += 1
        self.last_overall = report.overall
        self.context.publish(report)
        _json_log.info("health report", extra={"payload": encode(report)})
        level = logging.INFO if report.overall is OverallHealth.OK else logging.WARNING
        self.context.log.log(level, summarize(report))
        return report

    def describe(self) -> dict[str, object]:
        """Report count and the last verdict."""
        return {"reports": self.reports, "last_overall": self.last_overall}
