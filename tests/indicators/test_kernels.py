"""The ahead-of-time kernels: identical to numba's JIT, built once, and no numba at run time.

The bot runs its indicators on the extension module ``indicators._aot`` builds, so that the
process never imports numba (~125 MB of RSS). These tests hold the two compilations equal
bit for bit, check that a process streaming indicators does not import numba, and that a
failed build falls back to the JIT with its reason recorded.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from indicators import IndicatorConfig, IndicatorConfigError, IndicatorSet, _kernels
from indicators._correlation import correlation_state_size
from indicators._kernels import KernelBuildError, Kernels, jit_kernels, kernels
from tests.indicators.test_properties import configs, histories

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def aot() -> Kernels:
    """The kernels this process runs on: must be the ahead-of-time module on this machine."""
    loaded = kernels()
    assert loaded.origin.startswith("aot: "), (
        f"the indicator kernels fell back to {loaded.origin!r}: the ahead-of-time build "
        "failed (see the warning logged, and the .failed file beside the module)"
    )
    return loaded


def _bits(values: Any) -> NDArray[np.int64]:
    """The exact bit patterns of a float64 array or tuple (NaN payloads included)."""
    return np.asarray(values, dtype=np.float64).view(np.int64)


def _columns(data: NDArray[np.void]) -> tuple[NDArray[Any], ...]:
    names = ("open", "high", "low", "close", "volume")
    return tuple(np.ascontiguousarray(data[name]) for name in ("open_time_ns", *names))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=histories(min_size=2, max_size=400), config=configs, split=st.floats(0.0, 1.0))
def test_aot_set_kernels_equal_jit_bit_for_bit(
    aot: Kernels, data: NDArray[np.void], config: IndicatorConfig, split: float
) -> None:
    jit = jit_kernels()
    blocks = [IndicatorSet(config)._block.copy() for _ in range(2)]
    cut = int(split * (len(data) - 1))
    results = [
        k.set_run(block, *_columns(data[:cut])) for k, block in zip((aot, jit), blocks, strict=True)
    ]
    assert np.array_equal(_bits(results[0][0]), _bits(results[1][0]))
    assert results[0][1:] == results[1][1:]
    for row in data[cut:]:
        args = (
            int(row["open_time_ns"]),
            *(float(row[n]) for n in ("open", "high", "low", "close", "volume")),
        )
        peeks = [k.set_peek(b, *args) for k, b in zip((aot, jit), blocks, strict=True)]
        updates = [k.set_update(b, *args) for k, b in zip((aot, jit), blocks, strict=True)]
        assert np.array_equal(_bits(peeks[0]), _bits(peeks[1]))
        assert np.array_equal(_bits(updates[0]), _bits(updates[1]))
        assert np.array_equal(_bits(blocks[0]), _bits(blocks[1]))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_bars=st.integers(2, 300),
    n_symbols=st.integers(1, 4),
    window=st.integers(2, 80),
)
def test_aot_correlation_kernels_equal_jit_bit_for_bit(
    aot: Kernels, seed: int, n_bars: int, n_symbols: int, window: int
) -> None:
    jit = jit_kernels()
    rng = np.random.default_rng(seed)
    closes = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, (n_bars, n_symbols)), axis=0))
    size = correlation_state_size(window, n_symbols)
    states = [np.zeros(size), np.zeros(size)]
    outs = [np.empty((n_symbols, n_symbols)), np.empty((n_symbols, n_symbols))]
    scratch = np.empty(size)
    for row in closes:
        peeks = []
        for k, state, out in zip((aot, jit), states, outs, strict=True):
            peeks.append((k.corr_peek(state, scratch, window, row, out), _bits(out).copy()))
        assert peeks[0][0] == peeks[1][0]
        assert np.array_equal(peeks[0][1], peeks[1][1])
        codes = [
            k.corr_step(s, window, row, o) for k, s, o in zip((aot, jit), states, outs, strict=True)
        ]
        assert codes[0] == codes[1]
        assert np.array_equal(_bits(outs[0]), _bits(outs[1]))
        assert np.array_equal(_bits(states[0]), _bits(states[1]))
    pair = [k.pair_batch(closes[:, 0].copy(), closes[:, -1].copy(), window) for k in (aot, jit)]
    assert np.array_equal(_bits(pair[0][0]), _bits(pair[1][0]))
    assert pair[0][1:] == pair[1][1:]


def test_streaming_process_never_imports_numba(aot: Kernels) -> None:  # noqa: ARG001 (built first)
    """What the bot does with indicators, in a fresh process: numba must stay out."""
    script = """
import sys
from types import SimpleNamespace
import numpy as np
import bot
from indicators import CANDLE_DTYPE, IndicatorSet, RollingCorrelation, kernel_origin
history = np.zeros(300, dtype=CANDLE_DTYPE)
history["open_time_ns"] = np.arange(300, dtype=np.int64) * 900_000_000_000
history["open"] = history["high"] = history["low"] = history["close"] = 100.0
indicators = IndicatorSet()
indicators.warmup(history[:-1])
last = SimpleNamespace(open_time_ns=300 * 900_000_000_000, open=100.0, high=101.0, low=99.0,
                       close=100.5, volume=1.0)
indicators.peek(last)
indicators.update(last)
correlation = RollingCorrelation(window=10, n_symbols=3)
correlation.warmup(np.full((50, 3), 100.0))
correlation.update([101.0, 99.0, 100.5])
print(kernel_origin().split(":")[0], "numba" in sys.modules, "llvmlite" in sys.modules)
"""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop(_kernels.ENV_VAR, None)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["aot", "False", "False"]


def test_batch_functions_still_available_lazily() -> None:
    """The batch forms (numba JIT) load on first use through the package."""
    import indicators

    closes = np.linspace(1.0, 2.0, 20)
    assert np.isfinite(indicators.ema(closes, 3)[-1])
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = indicators.nope  # type: ignore[attr-defined]


def test_mode_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_kernels.ENV_VAR, "fast")
    with pytest.raises(
        IndicatorConfigError,
        match="BOT_INDICATOR_KERNELS: expected one of auto, aot, jit, was 'fast'",
    ):
        _kernels.mode()
    monkeypatch.setenv(_kernels.ENV_VAR, " JIT ")
    assert _kernels.mode() == "jit"


def test_failed_build_falls_back_to_jit_once_then_refuses_in_aot_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A build that cannot finish: the reason is kept, the JIT runs, no retry per start."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_kernels, "BUILD_TIMEOUT_S", 0.01)
    path = _kernels.aot_path()
    assert path.parent == tmp_path / "indicators"
    with caplog.at_level("WARNING", logger="indicators._kernels"):
        assert _kernels._choose("auto").origin == "jit"
    failed = path.with_name(path.name + ".failed")
    assert "did not finish" in failed.read_text()
    assert any(
        "using numba's JIT" in r.getMessage() and str(failed) in r.getMessage()
        for r in caplog.records
    )
    monkeypatch.setattr(_kernels, "BUILD_TIMEOUT_S", 600.0)
    assert _kernels._choose("auto").origin == "jit"
    assert not path.exists()
    monkeypatch.setattr(_kernels, "BUILD_TIMEOUT_S", 0.01)
    with pytest.raises(KernelBuildError, match="BOT_INDICATOR_KERNELS=aot"):
        _kernels._choose("aot")


def test_a_new_build_keeps_the_newest_modules_and_every_lock(tmp_path: Path) -> None:
    suffix = _kernels.EXTENSION_SUFFIXES[0]
    modules = [tmp_path / f"indicators_aot_k{i}{suffix}" for i in range(7)]
    for age, path in enumerate(modules):  # modules[0] is the newest
        path.write_text("x")
        path.with_name(path.name + ".lock").write_text("")
        path.with_name(path.name + ".failed").write_text("why")
        os.utime(path, (1_700_000_000 - age * 60, 1_700_000_000 - age * 60))
    (tmp_path / "unrelated.txt").write_text("x")
    _kernels._remove_stale(modules[0])
    kept = _kernels.KEEP_MODULES
    assert all(p.exists() for p in modules[:kept])
    assert not any(p.exists() for p in modules[kept:])
    assert not any(p.with_name(p.name + ".failed").exists() for p in modules[kept:])
    assert all(p.with_name(p.name + ".lock").exists() for p in modules)
    assert (tmp_path / "unrelated.txt").exists()


def test_a_module_that_does_not_load_is_rebuilt_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module that no longer loads (another numpy, a damaged file) is deleted and built
    again; here that build cannot finish, so the JIT runs and the reason is kept."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_kernels, "BUILD_TIMEOUT_S", 0.01)
    path = _kernels.aot_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x7fELF not really")
    assert _kernels._choose("auto").origin == "jit"
    assert not path.exists()
    assert "did not finish" in path.with_name(path.name + ".failed").read_text()
