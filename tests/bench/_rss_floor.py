"""The RSS of a process that only loads what the bot cannot run without: the floor.

``python -m tests.bench._rss_floor`` imports ``bot`` (every module the bot's tree imports at
start) and the indicator package, runs each streaming kernel the bot calls (a set's
warm-up, update and peek; the correlation's warm-up, update and peek) on a few hundred
synthetic candles, loaded as the bot loads them (``indicators.kernel_origin()``: the
ahead-of-time module, or numba's JIT when that cannot be built), then prints one JSON line:
the RSS in MB after each stage, which kernels ran and whether numba was imported (the JIT
costs ~150 MB; the ahead-of-time module about 1 MB).

Why: the soak's RSS goal (150 MB) is compared with this floor measured on the same machine
in the same run, so the report shows how much of the bot's RSS is its own state (candles,
actors, threads, buffers) and how much it pays for the runtime it is built on.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import orjson
import psutil

_MB = 1024 * 1024
_CANDLES = 400
_FIFTEEN_MIN_NS = 900 * 1_000_000_000


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / _MB


def _load_kernels() -> None:
    """Run every streaming kernel the bot uses once (each is loaded from numba's cache)."""
    import numpy as np

    from indicators import CANDLE_DTYPE, IndicatorSet, RollingCorrelation

    rng = np.random.default_rng(7)
    closes = 100.0 + np.cumsum(rng.normal(0.0, 1.0, _CANDLES))
    history = np.zeros(_CANDLES, dtype=CANDLE_DTYPE)
    history["open_time_ns"] = np.arange(_CANDLES, dtype=np.int64) * _FIFTEEN_MIN_NS
    history["open"] = history["close"] = closes
    history["high"], history["low"] = closes + 1.0, closes - 1.0
    history["volume"] = 1.0
    last = SimpleNamespace(**{name: history[-1][name].item() for name in CANDLE_DTYPE.names})
    indicators = IndicatorSet()
    indicators.warmup(history[:-1])
    indicators.peek(last)
    indicators.update(last)
    correlation = RollingCorrelation(n_symbols=3)
    matrix = np.stack([closes, closes * 2.0, closes[::-1]], axis=1)
    correlation.warmup(matrix[:-1])
    correlation.peek(matrix[-1])
    correlation.update(matrix[-1])


def main() -> None:
    """Print {"start", "bot_imported", "kernels_loaded", "kernels", "numba"}."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))
    stages: dict[str, object] = {"start": _rss_mb()}
    import bot  # noqa: F401  # what the bot imports before its tree starts
    from indicators._kernels import kernels

    stages["bot_imported"] = _rss_mb()
    _load_kernels()
    stages["kernels_loaded"] = _rss_mb()
    stages["kernels"] = kernels().origin.split(":", 1)[0]
    stages["numba"] = sys.modules.get("numba") is not None
    print(orjson.dumps(stages).decode())


if __name__ == "__main__":
    main()
