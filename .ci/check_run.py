"""Fresh-machine check: the bot's run left health OK, no FAILED actor, an order placed and filled.

Usage: python .ci/check_run.py STATE_DIR. Exits 1 naming what is missing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from actors._durable import decode_entry
from actors._journal_archive import read_history
from messages import HealthReport, OrderFilled, PlaceOrder, decode
from messages.settings import Settings
from storage import Store


def main() -> int:
    state = Path(sys.argv[1])
    problems: list[str] = []
    report = decode((state / "health.json").read_bytes())
    assert isinstance(report, HealthReport)
    if report.overall.value != "OK":
        problems.append(f"health.json: overall {report.overall.value}, expected OK")
    failed = [a.actor_id for a in report.actors if a.state.value == "FAILED"]
    if failed:
        problems.append(f"health.json: FAILED actors {failed}")
    with Store.open(state, Settings().storage) as store:
        events = [decode_entry(data).event for _, data in read_history(store)]
    placed = sum(isinstance(e, PlaceOrder) for e in events)
    filled = sum(isinstance(e, OrderFilled) for e in events)
    if not placed or not filled:
        problems.append(f"journal: {placed} orders placed, {filled} fills (need >= 1 of each)")
    print(f"fresh-machine run: health {report.overall.value}, {len(report.actors)} actors, "
          f"{placed} orders placed, {filled} fills")  # fmt: skip
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
