"""Load the recorded Delta payloads of tests/data/delta/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

DATA = Path(__file__).resolve().parents[2] / "data" / "delta"
TS_INIT = 1_800_000_000_000_000_000


def payloads(name: str) -> list[Any]:
    """Return the recorded payloads of one parser (``tests/data/delta/<name>.json``)."""
    loaded = orjson.loads((DATA / f"{name}.json").read_bytes())
    result: list[Any] = loaded["payloads"]
    return result
