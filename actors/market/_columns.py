"""Candles in columns: the feed's snapshot form, and the float columns its consumers use.

A warm restart spends its CPU on per-candle Python work: decoding the kept candles,
building :class:`~messages.Candle` values, and converting every ``Decimal`` to ``float``
for the indicators and the correlation (about 200 ns a value, 7,000 values a symbol).
Everything here does that work once per candle, or not at all:

- :class:`RowCache`: the kept candles' exact price strings and floats as restored, so the
  float array of a restored history is a slice, not a conversion.
- :func:`row_bytes` / :func:`candles_from_rows`: one kept candle as one row of the feed's
  stored series (:meth:`storage.Store.put_series`, the exact strings as text): each closed
  candle is written once, not the whole window in every snapshot.
- :func:`columns_state` / :func:`columns_from_state`: the columnar form (the feed's
  snapshot schema 2, still read; the series rows are decoded through it): open times,
  exact ``Decimal`` strings per field, and the same values as float64 (orjson writes a
  float's shortest repr and reads it back to the same double, so they survive exactly).
  Decoding builds ``Decimal`` values with one ``map`` per column and the candles without
  the dataclass ``__init__`` (the same type check runs).
- :func:`share_floats` / :func:`history_array`: the float columns of a published history
  tuple, handed to its in-process consumers with it. ``history_array`` returns the
  remembered columns when given the very tuple they were shared for (identity, with the
  tuple kept alive by the memo), else converts the candles as before; the floats are the
  same either way (``float(Decimal)`` is correctly rounded, as is reading the shortest repr
  back), so the consumers' results do not depend on which path ran. The feed
  :func:`unshare_floats` its history once a later candle is published (its consumers have
  had it by then; a late one converts): a remembered tuple would otherwise keep every
  candle the feed has since dropped alive, a second copy of the history.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from numpy.typing import NDArray

from indicators import CANDLE_DTYPE, candles_to_array
from messages import Candle

__all__ = [
    "FIELDS",
    "RowCache",
    "build_candles",
    "candles_from_rows",
    "columns_from_state",
    "columns_state",
    "history_array",
    "row_bytes",
    "share_floats",
    "unshare_floats",
]

FIELDS = ("open", "high", "low", "close", "volume")
"""The Decimal fields of a candle, in column order."""

Row = tuple[Candle, tuple[str, ...], tuple[float, ...]]


def _row(candle: Candle) -> Row:
    o, h, lo, c, v = candle.open, candle.high, candle.low, candle.close, candle.volume
    return (
        candle,
        (str(o), str(h), str(lo), str(c), str(v)),
        (float(o), float(h), float(lo), float(c), float(v)),
    )


class RowCache:
    """Each kept candle's strings and floats, computed once (keyed by open time; an entry
    is used only for the very candle object it was made from).

    The candles restored from a snapshot keep their columns as one block, looked up by
    index: nothing is built per candle at restore, and the float array of a history made
    of a run of them is a slice, not a conversion.
    """

    def __init__(self) -> None:
        self._rows: dict[int, Row] = {}
        self._block: list[Candle] = []
        self._block_index: dict[int, int] = {}
        self._block_strs: Sequence[Sequence[str]] = ()
        self._block_floats: Sequence[Sequence[float]] = ()
        self._block_array: NDArray[np.void] = np.empty(0, dtype=CANDLE_DTYPE)

    def put(
        self,
        candles: Sequence[Candle],
        strs: Sequence[Sequence[str]],
        floats: Sequence[Sequence[float]],
    ) -> None:
        """Remember ``candles`` with their string and float columns (from a snapshot)."""
        if len(strs) != len(FIELDS) or len(floats) != len(FIELDS):
            raise ValueError("five string and five float columns expected")
        times = [c.open_time_ns for c in candles]
        array = np.empty(len(candles), dtype=CANDLE_DTYPE)
        array["open_time_ns"] = times
        for name, column in zip(FIELDS, floats, strict=True):
            array[name] = column
        array.flags.writeable = False
        self._rows = {}
        self._block = list(candles)
        self._block_index = dict(zip(times, range(len(times)), strict=True))
        self._block_strs, self._block_floats, self._block_array = strs, floats, array

    def rows(self, candles: Iterable[Candle]) -> list[Row]:
        """The rows of ``candles`` (computing the missing ones); forgets all others."""
        old = self._rows
        index, block = self._block_index, self._block
        strs, floats = self._block_strs, self._block_floats
        new: dict[int, Row] = {}
        out = []
        for candle in candles:
            t = candle.open_time_ns
            row = old.get(t)
            if row is None or row[0] is not candle:
                i = index.get(t)
                if i is not None and block[i] is candle:
                    row = (candle, tuple(s[i] for s in strs), tuple(f[i] for f in floats))
                else:
                    row = _row(candle)
            new[t] = row
            out.append(row)
        self._rows = new
        if self._block:  # every kept candle has its row now
            self.put([], [[]] * len(FIELDS), [[]] * len(FIELDS))
            self._rows = new
        return out

    def floats(self, candles: Sequence[Candle]) -> NDArray[np.void]:
        """A read-only :data:`~indicators.CANDLE_DTYPE` array of ``candles``."""
        if candles:
            i = self._block_index.get(candles[0].open_time_ns)
            if i is not None:
                run = self._block[i : i + len(candles)]
                if len(run) == len(candles) and all(map(operator.is_, run, candles)):
                    return self._block_array[i : i + len(candles)]
        rows = self.rows(candles)
        array = np.empty(len(rows), dtype=CANDLE_DTYPE)
        if rows:
            array["open_time_ns"] = [r[0].open_time_ns for r in rows]
            values = np.array([r[2] for r in rows], dtype=np.float64)
            for k, name in enumerate(FIELDS):
                array[name] = values[:, k]
        array.flags.writeable = False
        return array


def columns_state(
    symbol: str, timeframe_ns: int, candles: Iterable[Candle], cache: RowCache | None = None
) -> dict[str, Any]:
    """Closed candles in the columnar snapshot form (JSON-ready, schema 2).

    ``{"symbol", "timeframe_ns", "open_time_ns": [...], "open": [...], ..., "volume": [...],
    "floats": [[open...], ..., [volume...]]}``: the price and volume columns hold the exact
    ``Decimal`` strings, ``floats`` the same values as float64; the close time is the open
    time plus the timeframe.
    """
    rows = (cache or RowCache()).rows(candles)
    strs = list(zip(*(r[1] for r in rows), strict=True)) if rows else [()] * 5
    floats = list(zip(*(r[2] for r in rows), strict=True)) if rows else [()] * 5
    state: dict[str, Any] = {
        "symbol": symbol,
        "timeframe_ns": timeframe_ns,
        "open_time_ns": [r[0].open_time_ns for r in rows],
    }
    for name, column in zip(FIELDS, strs, strict=True):
        state[name] = list(column)
    state["floats"] = [list(column) for column in floats]
    return state


def row_bytes(candle: Candle) -> bytes:
    """``candle`` as one series row (its open time is the row's index): its five exact
    ``Decimal`` strings, space-separated ASCII.

    Plain text, not JSON: orjson builds each result in a 1 KiB buffer that it shrinks
    afterwards, so thousands of small rows (a history written at a cold start) would leave
    as many 1 KiB holes in the feed thread's malloc arena; a joined ``str`` is allocated at
    its size. The floats are not stored: converting them at restore costs what parsing
    them would.
    """
    o, h, lo, c, v = candle.open, candle.high, candle.low, candle.close, candle.volume
    return f"{o} {h} {lo} {c} {v}".encode("ascii")


def candles_from_rows(
    rows: Sequence[tuple[int, bytes]], *, symbol: str, timeframe_ns: int
) -> tuple[list[Candle], list[list[str]], list[list[float]]]:
    """The candles, string columns and float columns of :func:`row_bytes` rows (index =
    open time, in order), checked as :func:`columns_from_state` checks its columns.

    Raises:
        ValueError: A row is not in that form.
    """
    try:
        values = [raw.decode("ascii").split(" ") for _, raw in rows]
    except UnicodeDecodeError as exc:
        raise ValueError(f"bad candle row: {exc}") from exc
    if any(len(v) != len(FIELDS) for v in values):
        raise ValueError(f"bad candle row: not {len(FIELDS)} values")
    columns = [list(c) for c in zip(*values, strict=True)] if values else [[]] * len(FIELDS)
    state: dict[str, Any] = {
        "symbol": symbol,
        "timeframe_ns": timeframe_ns,
        "open_time_ns": [t for t, _ in rows],
    }
    state.update(zip(FIELDS, columns, strict=True))
    return columns_from_state(state, symbol=symbol, timeframe_ns=timeframe_ns)


_SLOTS = tuple(
    Candle.__dict__[name].__set__ for name in ("symbol", "open_time_ns", "close_time_ns", *FIELDS)
)
_INT64_MAX = 2**63 - 1


def build_candles(
    symbol: str, timeframe_ns: int, times: Sequence[int], columns: Sequence[Sequence[Decimal]]
) -> list[Candle]:
    """Candles from columns, without the dataclass ``__init__``.

    ``Candle.__post_init__`` is not run per candle; the same checks run per column instead
    (every open and close time an ``int`` in the signed 64-bit range, every price and
    volume a finite ``Decimal``, the symbol a ``str``), so the result is what the
    constructor would have built, or ``ValueError``.
    """
    n = len(times)
    if (
        type(symbol) is not str
        or type(timeframe_ns) is not int
        or len(columns) != len(FIELDS)
        or any(len(column) != n for column in columns)
    ):
        raise ValueError("bad candle columns")
    if n and (
        set(map(type, times)) != {int}
        or min(times) < 0
        or max(times) > _INT64_MAX - max(timeframe_ns, 0)
        or min(times) + timeframe_ns < 0
    ):
        raise ValueError("bad open time (an int in the signed 64-bit range)")
    for column in columns:
        if n and (set(map(type, column)) != {Decimal} or not all(map(_finite, column))):
            raise ValueError("bad price or volume (a finite Decimal)")
    s0, s1, s2, s3, s4, s5, s6, s7 = _SLOTS
    new = object.__new__
    out = []
    append = out.append
    for t, o, h, lo, c, v in zip(times, *columns, strict=True):
        candle = new(Candle)
        s0(candle, symbol)
        s1(candle, t)
        s2(candle, t + timeframe_ns)
        s3(candle, o)
        s4(candle, h)
        s5(candle, lo)
        s6(candle, c)
        s7(candle, v)
        append(candle)
    return out


_finite = Decimal.is_finite


def columns_from_state(
    state: Any, *, symbol: str, timeframe_ns: int
) -> tuple[list[Candle], list[list[str]], list[list[float]]]:
    """The candles, string columns and float columns of a :func:`columns_state` value;
    ``([], [], [])`` when it is another symbol's or timeframe's.

    The floats are checked against the strings on a sample of rows (all of them would cost
    what the stored floats save); a column that fails, or is missing, is computed again.

    Raises:
        ValueError: ``state`` is not in that form (a bad column, type or number).
    """
    if not isinstance(state, dict) or not isinstance(state.get("open_time_ns"), list):
        raise ValueError("not a columns state")
    if state.get("symbol") != symbol or state.get("timeframe_ns") != timeframe_ns:
        return [], [], []
    times = state["open_time_ns"]
    n = len(times)
    try:
        strs = [state[name] for name in FIELDS]
        if any(type(column) is not list for column in strs):
            raise ValueError("a column is not a list")
        decimals = [list(map(Decimal, column)) for column in strs]
        candles = build_candles(symbol, timeframe_ns, times, decimals)
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise ValueError(f"bad candle column: {exc}") from exc
    if not all(map(operator.lt, times, times[1:])):
        raise ValueError("bad candle column: open times not increasing")
    floats = state.get("floats")
    if type(floats) is not list or len(floats) != len(FIELDS):
        floats = [None] * len(FIELDS)
    sample = (*range(0, n, max(1, n // 16)), n - 1) if n else ()
    checked = []
    for k, column in enumerate(floats):
        good = (
            type(column) is list
            and len(column) == n
            and not set(map(type, column)) - {float}
            and all(column[i] == float(decimals[k][i]) for i in sample)
        )
        checked.append(column if good else [float(d) for d in decimals[k]])
    return candles, strs, checked


# --- float columns shared with a published history --------------------------------------

_SHARED: dict[int, tuple[tuple[Candle, ...], NDArray[np.void]]] = {}
_SHARED_LOCK = threading.Lock()
_SHARED_MAX = 64


def share_floats(candles: tuple[Candle, ...], array: NDArray[np.void]) -> None:
    """Remember ``array`` (:data:`~indicators.CANDLE_DTYPE`, read-only) as the float form
    of the history tuple ``candles`` about to be published (see the module docstring)."""
    with _SHARED_LOCK:
        _SHARED[id(candles)] = (candles, array)
        while len(_SHARED) > _SHARED_MAX:
            del _SHARED[next(iter(_SHARED))]


def unshare_floats(candles: tuple[Candle, ...]) -> None:
    """Forget what :func:`share_floats` remembered for ``candles`` (nothing if it is gone)."""
    with _SHARED_LOCK:
        hit = _SHARED.get(id(candles))
        if hit is not None and hit[0] is candles:
            del _SHARED[id(candles)]


def history_array(candles: Sequence[Candle]) -> NDArray[np.void]:
    """The :data:`~indicators.CANDLE_DTYPE` array of ``candles``: the shared one for a
    published history tuple, else converted here (the same floats either way)."""
    with _SHARED_LOCK:
        hit = _SHARED.get(id(candles))
    if hit is not None and hit[0] is candles:
        return hit[1]
    return candles_to_array(candles)
