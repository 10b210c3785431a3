"""Every benchmark still runs: each module under tests/bench/ with --quick, in a subprocess.

Only the report's shape and sanity are asserted (names, finite positive numbers). Absolute
times and ratios are never asserted: shared machines are too noisy for that, and the
figures belong in the notes of the work that measured them.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent.parent
MODULES = sorted(p.stem for p in BENCH_DIR.glob("*.py") if not p.stem.startswith(("_", "test_")))


@pytest.mark.parametrize("module", MODULES)
def test_benchmark_runs_and_writes_its_report(module: str, tmp_path: Path) -> None:
    out = tmp_path / f"{module}.json"
    result = subprocess.run(
        [sys.executable, "-m", f"tests.bench.{module}", "--quick", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = orjson.loads(out.read_bytes())
    assert set(report) == {"name", "metrics", "ratios"}
    assert report["name"] == module
    assert report["metrics"]
    assert report["ratios"]
    for key, value in {**report["metrics"], **report["ratios"]}.items():
        assert isinstance(value, int | float), key
        assert math.isnan(value) or value >= 0, key
    assert "ratio" in result.stdout  # the printed table
