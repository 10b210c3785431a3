"""Common output for every benchmark: a printed table and a JSON file.

Each benchmark module is run as ``python -m tests.bench.NAME --json FILE`` and writes
``{"name", "metrics", "ratios"}``. Ratios compare against a reference measured in the same
run (raw pykka, TA-Lib, ...), because absolute times on shared machines are noise.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson


def parse_args(description: str, *, repeat: int | None = None) -> argparse.Namespace:
    """Parse the flags every benchmark takes (``--json FILE`` and ``--quick``), and
    ``--repeat N`` (default ``repeat``) for a benchmark that offers it."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", type=Path, help="write {name, metrics, ratios} to this file")
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes, for a smoke run in the test suite"
    )
    if repeat is not None:
        parser.add_argument(
            "--repeat",
            type=int,
            default=repeat,
            metavar="N",
            help=f"time each engine N times, in turns, and keep the fastest (default {repeat})",
        )
    return parser.parse_args()


def best_of(repeats: int, func: Callable[[], Any]) -> float:
    """Run ``func`` ``repeats`` times and return the fastest wall time in seconds.

    The minimum is the least noisy estimate of the cost on a machine shared with other work.
    """
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def write_report(
    name: str,
    metrics: dict[str, float],
    ratios: dict[str, float],
    json_path: Path | None,
) -> dict[str, Any]:
    """Print the metrics and ratios as a table and write them as JSON when asked."""
    report = {"name": name, "metrics": metrics, "ratios": ratios}
    width = max((len(k) for k in (*metrics, *ratios)), default=10) + 2
    print(f"== {name} ==")
    for title, table in (("metric", metrics), ("ratio", ratios)):
        print(f"{title:<{width}}value")
        for key, value in table.items():
            print(f"{key:<{width}}{value:,.4g}")
        print()
    if json_path is not None:
        json_path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    return report
