"""Config, values object, state bytes format and the package's public surface."""

from __future__ import annotations

import dataclasses
import re
import struct
import zlib
from types import SimpleNamespace

import numpy as np
import pytest

import indicators as ind
from indicators import (
    IndicatorConfig,
    IndicatorConfigError,
    IndicatorSet,
    IndicatorStateError,
    IndicatorValues,
)
from messages import BotError
from tests.indicators._helpers import random_ohlcv, to_candles

STRATEGY = SimpleNamespace(
    ema_fast=9,
    ema_mid=21,
    ema_slow=50,
    ema_trend=200,
    rsi_period=14,
    atr_period=14,
    adx_period=14,
    pivot_mode="candles",
    pivot_lookback_candles=14,
    macd_fast=12,
    macd_slow=26,
    macd_signal=9,
    bb_period=20,
    bb_stddev=2.0,
    max_positions=3,  # other strategy keys are ignored
)


def test_from_settings_reads_the_strategy_section() -> None:
    stream = IndicatorSet.from_settings(STRATEGY)
    assert stream.config == IndicatorConfig()
    utc = SimpleNamespace(**{**vars(STRATEGY), "pivot_mode": "utc_day"})
    assert IndicatorSet.from_settings(utc, candle_interval_ns=3_600_000_000_000).config == (
        IndicatorConfig(pivot_mode="utc_day", candle_interval_ns=3_600_000_000_000)
    )


def test_from_settings_accepts_the_real_strategy_section() -> None:
    settings = pytest.importorskip("messages.settings")
    strategy = settings.StrategySettings()
    interval = (
        settings.TIMEFRAME_SECONDS["15m"] * 10**9
        if hasattr(settings, "TIMEFRAME_SECONDS")
        else None
    )
    config = IndicatorSet.from_settings(strategy).config
    assert config == IndicatorConfig()
    if interval is not None:
        assert config.candle_interval_ns == interval


def test_config_reports_every_problem_at_once() -> None:
    bad = SimpleNamespace(
        **{**vars(STRATEGY), "ema_fast": 0, "pivot_mode": "weekly", "bb_stddev": float("nan")}
    )
    with pytest.raises(IndicatorConfigError) as info:
        IndicatorSet.from_settings(bad)
    message = str(info.value)
    assert "strategy.ema_fast: expected an integer >= 1, was 0" in message
    assert "strategy.pivot_mode" in message and "'weekly'" in message
    assert "strategy.bb_stddev" in message
    with pytest.raises(IndicatorConfigError, match=re.escape("macd_fast: expected < macd_slow")):
        IndicatorConfig(macd_fast=26, macd_slow=12)
    with pytest.raises(
        IndicatorConfigError, match=re.escape("strategy.rsi_period: expected a value")
    ):
        IndicatorSet.from_settings(SimpleNamespace(ema_fast=9))
    with pytest.raises(IndicatorConfigError, match="rsi_period"):
        IndicatorSet(rsi_period=True)


def test_config_is_frozen_and_keyword_only() -> None:
    config = IndicatorConfig(ema_fast=5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.ema_fast = 6  # type: ignore[misc]  # frozen on purpose
    with pytest.raises(TypeError):
        IndicatorConfig(5)  # type: ignore[call-arg]  # keyword-only on purpose
    assert IndicatorSet(ema_fast=5).config == config
    with pytest.raises(TypeError):
        IndicatorSet(config, ema_fast=5)


def test_values_object() -> None:
    stream = IndicatorSet()
    values = stream.warmup(random_ohlcv(300, seed=1))
    assert isinstance(values, IndicatorValues)
    assert values is not None
    assert values.valid("rsi") and values.all_valid
    assert set(values.as_dict()) == set(ind.OUTPUT_NAMES)
    assert values.valid_names() == ind.OUTPUT_NAMES
    assert values.bars_seen == 300
    assert isinstance(values.valid_mask, int) and isinstance(values.ema_trend, float)
    with pytest.raises(AttributeError):
        values.rsi = 1.0  # type: ignore[misc]  # immutable on purpose
    series = IndicatorSet().run(random_ohlcv(30, seed=1))
    assert len(series) == 30
    assert not series.values.flags.writeable
    assert series.valid("ema_fast").tolist() == [False] * 8 + [True] * 22
    assert series.row(29).bars_seen == 30


def test_to_bytes_layout_and_refusals() -> None:
    stream = IndicatorSet()
    stream.warmup(random_ohlcv(50, seed=2))
    data = stream.to_bytes()
    magic, version, kind, n_int, n_float, n_state = struct.unpack_from("<4sHHIIQ", data)
    assert (magic, version, kind, n_int, n_float) == (b"BTIS", 1, 1, 14, 1)
    assert len(data) == 24 + 8 * (n_int + n_float + n_state) + 4
    assert IndicatorSet.from_bytes(data).bars_seen == 50

    corrupt = bytearray(data)
    corrupt[100] ^= 1
    with pytest.raises(IndicatorStateError, match="checksum"):
        IndicatorSet.from_bytes(bytes(corrupt))
    with pytest.raises(IndicatorStateError, match="too short"):
        IndicatorSet.from_bytes(data[:10])
    with pytest.raises(IndicatorStateError, match="bytes, its header says"):
        IndicatorSet.from_bytes(data[:-12] + data[-4:])
    with pytest.raises(IndicatorStateError, match="does not start"):
        IndicatorSet.from_bytes(b"XXXX" + data[4:])
    newer = bytearray(data)
    struct.pack_into("<H", newer, 4, 2)
    newer[-4:] = struct.pack("<I", zlib.crc32(bytes(newer[:-4])))
    with pytest.raises(IndicatorStateError, match="version 2"):
        IndicatorSet.from_bytes(bytes(newer))
    with pytest.raises(IndicatorStateError, match="kind 1, expected kind 2"):
        ind.RollingCorrelation.from_bytes(data)
    with pytest.raises(IndicatorStateError, match="expected"):
        IndicatorSet.from_bytes(data, expected=IndicatorConfig(ema_fast=10))


def test_public_surface() -> None:
    assert sorted(ind.__all__) == sorted(set(ind.__all__))
    for name in ind.__all__:
        assert hasattr(ind, name), name
    assert issubclass(ind.IndicatorInputError, ValueError)
    assert issubclass(ind.IndicatorInputError, ind.IndicatorError)
    assert issubclass(ind.IndicatorError, BotError)
    assert ind.CANDLE_DTYPE.names == ("open_time_ns", "open", "high", "low", "close", "volume")
    assert ind.candles_to_array(to_candles(random_ohlcv(3, seed=1))).dtype == ind.CANDLE_DTYPE
    assert "bars_seen=0" in repr(IndicatorSet())


def test_ema_trend_convergence_needs_many_bars() -> None:
    """The docs' claim: from a cold start EMA200 needs ~1,100-1,400 bars to converge."""
    data = random_ohlcv(3000, seed=12, price=50_000.0, vol=0.004)
    c = data["close"]
    cold = ind.ema(c[1500:], 200)
    warm = ind.ema(c, 200)[1500:]
    gap = np.abs(cold - warm) / warm
    converged = int(np.argmax(gap < 1e-6))
    assert 1000 < converged < 1500
