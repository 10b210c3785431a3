"""docs/operations.md lists exactly the families /metrics serves; its health.json example
decodes; docs/bot.service has the keys the doc promises."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from actors.ops import Metrics
from messages import HealthReport, decode

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_the_family_table_matches_what_metrics_serves() -> None:
    text = (DOCS / "operations.md").read_text()
    table = dict(re.findall(r"^\| `(bot_\w+)` \| (\w+) \|", text, flags=re.M))
    served = {f.name: f.type for f in Metrics().families(0)}
    served["bot_metrics_snapshot_age_seconds"] = "gauge"
    assert table == served


def test_the_health_json_example_decodes() -> None:
    text = (DOCS / "operations.md").read_text()
    (example,) = re.findall(r"^```json\n(.*?)^```$", text, flags=re.M | re.S)
    assert isinstance(decode(example.encode()), HealthReport)


def test_the_unit_file_is_type_notify_with_a_watchdog() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    unit.read_string((DOCS / "bot.service").read_text())
    service = unit["Service"]
    assert service["Type"] == "notify"
    assert int(service["WatchdogSec"]) > 0
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"].startswith("/")
    assert "bot.py run" in service["ExecStart"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"
