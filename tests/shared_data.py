"""Where the real Binance candles live, and a skip when they are absent.

The candles sit in ``../shared/data`` beside the repository on the developers' machines and
in CI. A user's machine does not have them, so every test that reads them must skip cleanly
through :func:`require_shared_data`. ``BOT_SHARED_DATA`` points elsewhere when set.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA_DIR = Path(
    os.environ.get("BOT_SHARED_DATA")
    or Path(__file__).resolve().parent.parent.parent / "shared" / "data"
)
BINANCE_DIR = SHARED_DATA_DIR / "ohlcv_binance_spot"


def require_shared_data(name: str) -> Path:
    """Return the path of a shared data file, or skip the calling test when it is absent."""
    path = BINANCE_DIR / name
    if not path.exists():
        pytest.skip(f"shared data file {path} is absent (only developers' machines have it)")
    return path
