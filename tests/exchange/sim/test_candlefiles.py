"""Candle files: CSV, CSV.gz, feather (needs pyarrow), the intra-candle path and the market."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import httpx
import pytest

from exchange.sim import CandleDataError, find_candle_files, read_candles
from messages.settings import SimSettings
from tests.exchange.sim.conftest import make_sim
from tests.exchange.sim.helpers import UA

HEADER = "open_time_ms,open,high,low,close,volume\n"
T0 = 1_700_000_100_000 // 900_000 * 900_000


def candles_csv(n: int, base: float, *, res_ms: int = 900_000) -> str:
    rows = []
    for i in range(n):
        o = base + (i % 7) * 10
        c = o + (15 if i % 2 else -12)
        rows.append(f"{T0 + i * res_ms},{o},{max(o, c) + 5},{min(o, c) - 6},{c},{100 + i}")
    return HEADER + "\n".join(rows) + "\n"


def write_set(tmp_path: Path, n: int = 40) -> None:
    (tmp_path / "BTCUSD-15m.csv").write_text(candles_csv(n, 60000.0))
    (tmp_path / "ETHUSD-15m.csv.gz").write_bytes(gzip.compress(candles_csv(n, 3000.0).encode()))
    (tmp_path / "sol_usd-15m.csv").write_text(candles_csv(n, 150.0))


def test_reading_csv_and_gzip(tmp_path: Path) -> None:
    write_set(tmp_path)
    files = find_candle_files(tmp_path, ["BTCUSD", "ETHUSD", "SOLUSD"])
    assert files["SOLUSD"].name == "sol_usd-15m.csv"
    eth = read_candles(files["ETHUSD"])
    assert eth.resolution_ms == 900_000 and len(eth.ohlc) == 40


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,2\n", "header"),
        (HEADER + "1,2,3\n2,1,1,1,1,1\n", "6 numbers"),
        (HEADER + "2,1,2,1,1,1\n1,1,2,1,1,1\n", "increase"),
        (HEADER + "1,10,9,8,9,1\n2,1,2,1,1,1\n", "inconsistent"),
    ],
)
def test_bad_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "BTCUSD.csv"
    path.write_text(text)
    with pytest.raises(CandleDataError, match=message):
        read_candles(path)


def test_feather_needs_pyarrow(tmp_path: Path) -> None:
    path = tmp_path / "BTC_USD-15m-futures.feather"
    if importlib.util.find_spec("pyarrow") is not None:
        pytest.skip("pyarrow installed: the error path cannot be exercised")
    path.write_bytes(b"not really feather")
    with pytest.raises(CandleDataError, match="pyarrow"):
        read_candles(path)


def test_missing_symbol_file(tmp_path: Path) -> None:
    (tmp_path / "BTCUSD.csv").write_text(candles_csv(3, 100.0))
    with pytest.raises(CandleDataError, match="ETHUSD"):
        find_candle_files(tmp_path, ["BTCUSD", "ETHUSD"])


def test_files_market_reproduces_the_file_candles(tmp_path: Path) -> None:
    write_set(tmp_path)
    settings = SimSettings(data_dir=str(tmp_path))
    with make_sim(settings=settings, market="files", history_candles=30) as sim:
        source = read_candles(tmp_path / "BTCUSD-15m.csv")
        now = sim.clock.now_ns() // 10**9
        with httpx.Client(base_url=sim.rest_url, headers=UA) as http:
            got = http.get(
                "/v2/history/candles",
                params={
                    "symbol": "BTCUSD",
                    "resolution": "15m",
                    "start": now - 40 * 900,
                    "end": now,
                },
            ).json()["result"]
        closed = got[:-1]  # the last one is the current, still open, candle
        assert len(closed) == 30
        shift = closed[0]["time"] - T0 // 1000
        assert shift % 900 == 0
        for candle, (o, h, low, c) in zip(closed, source.ohlc, strict=False):
            assert (candle["open"], candle["high"], candle["low"], candle["close"]) == (
                float(o),
                float(h),
                float(low),
                float(c),
            )
        assert closed[3]["volume"] == pytest.approx(103)
        minutes = [c for c in got if True]
        assert minutes
        with httpx.Client(base_url=sim.rest_url, headers=UA) as http:
            one = http.get(
                "/v2/history/candles",
                params={
                    "symbol": "BTCUSD",
                    "resolution": "1m",
                    "start": closed[1]["time"],
                    "end": closed[1]["time"] + 899,
                },
            ).json()["result"]
        # rising candle (close >= open): open, then low, then high, then close
        lows = [c["low"] for c in one]
        highs = [c["high"] for c in one]
        assert lows.index(min(lows)) < highs.index(max(highs))
