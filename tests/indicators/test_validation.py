"""Bad input is rejected with a typed error naming field and bar, and changes nothing."""

from __future__ import annotations

import math
import pickle
import re
from collections.abc import Callable

import numpy as np
import pytest

import indicators as ind
from indicators import IndicatorInputError, IndicatorSet
from tests.indicators._helpers import Candle, random_ohlcv, to_candles

GOOD = Candle(1_735_689_600_000_000_000, 100.0, 101.0, 99.0, 100.5, 10.0)


def _with(**changes: object) -> Candle:
    fields = {
        k: getattr(GOOD, k) for k in ("open_time_ns", "open", "high", "low", "close", "volume")
    }
    fields.update(changes)
    return Candle(**fields)


CASES = [
    (_with(open=math.nan), "open", "not finite"),
    (_with(high=math.inf), "high", "not finite"),
    (_with(low=-math.inf), "low", "not finite"),
    (_with(close=math.nan), "close", "not finite"),
    (_with(volume=math.nan), "volume", "not finite"),
    (_with(high=98.0, low=99.0, open=98.5, close=98.5), "high", "high < low"),
    (_with(close=101.5), "close", "outside [low, high]"),
    (_with(close=98.0), "close", "outside [low, high]"),
    (_with(open=102.0), "open", "outside [low, high]"),
    (_with(volume=-1.0), "volume", "negative"),
]


@pytest.mark.parametrize(("candle", "field", "reason"), CASES)
@pytest.mark.parametrize("method", ["update", "peek"])
def test_bad_candle_is_rejected_and_state_unchanged(
    candle: Candle, field: str, reason: str, method: str
) -> None:
    stream = IndicatorSet()
    history = random_ohlcv(50, seed=1)
    stream.warmup(history)
    before = stream.to_bytes()
    late = Candle(
        int(history["open_time_ns"][-1]) + 900_000_000_000,
        candle.open,
        candle.high,
        candle.low,
        candle.close,
        candle.volume,
    )
    with pytest.raises(IndicatorInputError, match=re.escape(reason)) as info:
        getattr(stream, method)(late)
    assert info.value.field == field
    assert info.value.bar_index == 50
    assert field in str(info.value)
    assert "bar 50" in str(info.value)
    assert stream.to_bytes() == before
    assert isinstance(info.value, ValueError)


def test_error_survives_pickling() -> None:
    error = IndicatorInputError("close", 7, "is not finite")
    again = pickle.loads(pickle.dumps(error))
    assert (again.field, again.bar_index, str(again)) == (
        "close",
        7,
        "close at bar 7 is not finite",
    )


def test_warmup_rejects_a_bad_row_and_commits_nothing() -> None:
    data = random_ohlcv(100, seed=2)
    data["close"][63] = data["high"][63] * 1.01
    stream = IndicatorSet()
    stream.warmup(random_ohlcv(10, seed=3)[:0])
    with pytest.raises(IndicatorInputError) as info:
        stream.warmup(data)
    assert (info.value.field, info.value.bar_index) == ("close", 63)
    assert stream.bars_seen == 0


def test_warmup_rejects_unsorted_times() -> None:
    data = random_ohlcv(20, seed=2)
    data["open_time_ns"][10] = data["open_time_ns"][9]
    with pytest.raises(IndicatorInputError) as info:
        IndicatorSet().run(data)
    assert (info.value.field, info.value.bar_index) == ("open_time_ns", 10)


def test_history_must_be_candles_or_structured() -> None:
    with pytest.raises(IndicatorInputError, match="structured array"):
        IndicatorSet().run(np.zeros((5, 6)))


@pytest.mark.parametrize(
    ("func", "bad_field"),
    [
        (lambda *hlc: ind.ema(hlc[2], 5), "values"),
        (lambda *hlc: ind.sma(hlc[2], 5), "values"),
        (lambda *hlc: ind.rsi(hlc[2], 5), "values"),
        (lambda *hlc: ind.macd(hlc[2]), "values"),
        (lambda *hlc: ind.bollinger(hlc[2]), "values"),
        (ind.atr, "close"),
        (ind.adx, "close"),
        (ind.pivots, "close"),
    ],
)
def test_batch_rejects_nan_after_the_start(func: Callable[..., object], bad_field: str) -> None:
    data = random_ohlcv(80, seed=4)
    h, lo, c = (data[k].copy() for k in ("high", "low", "close"))
    c[41] = math.nan
    with pytest.raises(IndicatorInputError) as info:
        func(h, lo, c)
    assert (info.value.field, info.value.bar_index) == (bad_field, 41)


def test_batch_rejects_inconsistent_bars() -> None:
    data = random_ohlcv(30, seed=5)
    h, lo, c = (data[k].copy() for k in ("high", "low", "close"))
    lo[12] = h[12] + 1.0
    with pytest.raises(IndicatorInputError, match="high < low") as info:
        ind.atr(h, lo, c)
    assert (info.value.field, info.value.bar_index) == ("high", 12)
    with pytest.raises(IndicatorInputError, match="length"):
        ind.adx(h, lo[:-1], c)


def test_correlation_rejects_non_positive_closes() -> None:
    corr = ind.RollingCorrelation(window=5, n_symbols=3)
    corr.update([1.0, 2.0, 3.0])
    before = corr.to_bytes()
    with pytest.raises(IndicatorInputError, match="not positive") as info:
        corr.update([1.0, 0.0, 3.0])
    assert (info.value.field, info.value.bar_index) == ("close[1]", 1)
    with pytest.raises(IndicatorInputError, match="not finite"):
        corr.update([math.nan, 1.0, 3.0])
    with pytest.raises(IndicatorInputError, match="expected 3"):
        corr.update([1.0, 2.0])
    assert corr.to_bytes() == before
    with pytest.raises(IndicatorInputError) as info:
        ind.rolling_correlation([1.0, 2.0, -1.0], [1.0, 2.0, 3.0], window=2)
    assert (info.value.field, info.value.bar_index) == ("close_a", 2)


def test_bank_rejects_the_whole_bar() -> None:
    candles = to_candles(random_ohlcv(2, seed=6))
    bank = ind.IndicatorBank(["A", "B"])
    bank.update([candles[0], candles[0]])
    before = bank.to_bytes()
    bad = Candle(candles[1].open_time_ns, 1.0, 1.0, 1.0, 2.0, 1.0)
    with pytest.raises(IndicatorInputError, match="symbol B"):
        bank.update([candles[1], bad])
    assert bank.to_bytes() == before
