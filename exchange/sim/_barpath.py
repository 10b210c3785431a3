"""The four-point intra-candle path the backtest trades on, shared with the simulator.

One rule in one place, so that a candle file replayed by the simulator (``sim.candle_path =
"backtest"``) moves the market exactly as the backtest does and the two trade alike:

- four steps per candle, at 1/8, 3/8, 5/8 and 7/8 of it (:func:`step_offsets`): open, one
  extreme, the other extreme, close. No step sits on a candle boundary, so the venue's first
  frame of a candle (which closes the previous one for the bot) always comes with its open.
- the extreme *against* the account's position in the symbol comes first (low for a long,
  high for a short); with no position, the candle's own direction (low first when it closes
  at or above its open). So when one candle touches both a position's stop and its target,
  the stop fills first: conservative (:func:`low_first`).
- each step trades at its price with one level of :data:`DEPTH` contracts at the price
  (bid) and one tick above (ask), so a resting post-only buy fills only once a later price
  trades below it.
"""

from __future__ import annotations

__all__ = ["DEPTH", "STEPS", "low_first", "quote", "step_offsets"]

STEPS = 4
"""Path steps per candle."""

DEPTH = 1_000_000
"""Contracts at the bid and at the ask on every step (deep: fills never run out)."""


def step_offsets(timeframe_ns: int) -> tuple[int, ...]:
    """Times of the steps from the candle's open, ns: 1/8, 3/8, 5/8 and 7/8 of it."""
    return tuple((2 * k + 1) * timeframe_ns // (2 * STEPS) for k in range(STEPS))


def low_first(held: int, open_: object, close: object) -> bool:
    """Whether the path visits the low before the high (see the module docstring).

    ``held``: the account's signed position in the symbol when the extremes come due.
    """
    if held:
        return held > 0
    return close >= open_  # type: ignore[operator]


def quote(ticks: int) -> tuple[int, int, int, int]:
    """The market's (bid, bid size, ask, ask size) after a step at ``ticks``: one level of
    :data:`DEPTH` at the price and one tick above."""
    return ticks, DEPTH, ticks + 1, DEPTH
