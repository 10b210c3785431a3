"""``run_standalone``: prints its URLs and the demo key hint, stops on time."""

from __future__ import annotations

import pytest

from exchange.sim import run_standalone
from messages.settings import Settings, SimSettings


def test_run_standalone_prints_urls_and_stops(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_standalone(Settings(), duration_s=0.3) == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:" in out and "ws://127.0.0.1:" in out
    assert "DELTA_API_KEY=sim-demo-key" in out and "DELTA_API_SECRET=sim-demo-secret" in out
    assert "simulator stopped" in out


def test_run_standalone_reports_a_bad_candle_dir(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(sim=SimSettings(data_dir="/nonexistent/candles"))
    assert run_standalone(settings, duration_s=0.1) == 1
    assert "cannot start" in capsys.readouterr().out
