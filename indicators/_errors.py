"""Errors raised by the indicators package, hung under the project's ``BotError``::

    BotError                                              (messages)
     `- IndicatorError                                    anything about indicators
         |- IndicatorInputError(IndicatorError, ValueError)   bad candle or input array
         |- IndicatorStateError(IndicatorError, ValueError)   bytes that do not restore
         `- IndicatorConfigError(IndicatorError, ValueError)  periods that make no sense

Every error is raised before any state is changed, so the caller may log it, drop the
offending input and carry on with the same object.
"""

from __future__ import annotations

from messages import BotError

#: Input field names in the order the numba kernels number them (``field_code``).
FIELD_NAMES: tuple[str, ...] = ("open_time_ns", "open", "high", "low", "close", "volume")

#: Reasons the kernels report, by code; 0 means "accepted".
REASONS: dict[int, str] = {
    1: "is not finite",
    2: "is below low (high < low)",
    3: "is outside [low, high]",
    4: "is negative",
    5: "is not after the previous candle's open time",
    6: "is not positive",
}


class IndicatorError(BotError):
    """Raised when the indicators package cannot accept an input, a state or a setting.

    Never raised directly; see the subclasses.
    """


class IndicatorInputError(IndicatorError, ValueError):
    """Raised when an input value is non-finite or inconsistent (NaN, inf, high < low, ...).

    The indicator state is left exactly as it was before the call, so the caller can drop
    the bad candle and feed the next one.

    Attributes:
        field: Name of the offending input, e.g. ``"close"`` or ``"open_time_ns"``.
        bar_index: Which bar: for streaming calls the index the candle would have had
            (the number of candles committed before it); for batch functions and
            ``warmup`` its position in the arrays passed in.
        reason: Short text saying what is wrong with the value.
    """

    def __init__(self, field: str, bar_index: int, reason: str) -> None:
        self.field = field
        self.bar_index = bar_index
        self.reason = reason
        super().__init__(f"{field} at bar {bar_index} {reason}")

    def __reduce__(self) -> tuple[type[IndicatorInputError], tuple[str, int, str]]:
        """Keep the attributes across pickling (exceptions cross process boundaries)."""
        return (type(self), (self.field, self.bar_index, self.reason))


class IndicatorStateError(IndicatorError, ValueError):
    """Raised when state bytes are corrupt, of an unknown version or of another config.

    The caller should discard the snapshot and rebuild the state with ``warmup``.
    """


class IndicatorConfigError(IndicatorError, ValueError):
    """Raised when indicator settings are out of range (a period below 1, fast >= slow, ...)."""
