"""The repository stays ruff-clean and strictly typed where STYLE.md asks for it.

These run the same tools a developer runs before committing, so CI catches a regression.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
STRICT = [
    "messages",
    "indicators",
    "exchange/delta",
    "storage",
    "actors/_clock.py",
    "actors/_specs.py",
    "actors/_supervision.py",
    "actors/_timers.py",
    "actors/_durable.py",
    "actors/_state.py",
    "actors/_storage_writer.py",
    "actors/_health.py",
    "actors/ops",
    "actors/console",
]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout[-4000:]


def test_strict_packages_type_check() -> None:
    pytest.importorskip("mypy")
    result = _run("mypy", "--strict", *STRICT)
    assert result.returncode == 0, result.stdout[-4000:]
