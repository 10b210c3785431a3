"""The example in docs/indicators.md runs, and the numba cache hook is in place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import indicators._cache as cache
from indicators._moving_average import _ema_batch

DOC = Path(__file__).resolve().parents[2] / "docs" / "indicators.md"


def test_docs_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks, "docs/indicators.md has no python example"
    # The docs example is the test: run it as this module's code.
    exec(compile(blocks[0], str(DOC), "exec"), {"__name__": __name__})
    assert "EMA200" in capsys.readouterr().out


def test_kernels_are_stamped_with_the_whole_package() -> None:
    locator = _ema_batch._cache._impl.locator  # type: ignore[attr-defined]  # numba internals
    assert type(locator).__name__.startswith("IndicatorPackage")
    assert locator.get_source_stamp() == cache.package_stamp()
