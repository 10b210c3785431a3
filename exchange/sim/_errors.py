"""The simulator's errors, hung under the project's :class:`messages.BotError`.

::

    BotError
    `- ExchangeSimError        the simulator was misused or misconfigured (not a wire error)
       |- OrderRejected        the engine refused a request; carries Delta's error code
       `- CandleDataError      a candle file is missing, unreadable or inconsistent

Wire-level failures (bad signature, bad JSON) are never raised to a caller: the servers answer
them with Delta's error envelopes. :class:`OrderRejected` is what the pure engine raises so the
REST layer can turn it into ``{"success": false, "error": {"code": ..., "context": ...}}``.
"""

from __future__ import annotations

from collections.abc import Mapping

from messages import BotError

__all__ = ["CandleDataError", "ExchangeSimError", "OrderRejected"]


class ExchangeSimError(BotError):
    """Raised when the simulator is misused or misconfigured (bad product, port in use, ...).

    The caller must fix the configuration or the call; retrying cannot help.
    """


class OrderRejected(ExchangeSimError):
    """Raised by the matching engine when it refuses a request, with Delta's error code.

    Attributes:
        code: Delta's ``error.code`` (``insufficient_margin``, ``bad_schema``, ...).
        context: JSON-ready ``error.context`` (strings, ints, lists, dicts).
        status: the HTTP status the REST layer answers with (400 unless stated).
    """

    def __init__(
        self, code: str, context: Mapping[str, object] | None = None, *, status: int = 400
    ) -> None:
        super().__init__(code)
        self.code = code
        self.context: dict[str, object] = dict(context or {})
        self.status = status


class CandleDataError(ExchangeSimError):
    """Raised when candle files cannot be used: missing, unreadable, bad header or values.

    Also raised for a feather file when ``pyarrow`` is not installed (the message names it).
    """


def bad_schema(param: str, message: str) -> OrderRejected:
    """Return Delta's ``bad_schema`` rejection naming one parameter."""
    return OrderRejected(
        "bad_schema",
        {"schema_errors": [{"code": "validation_error", "message": message, "param": param}]},
    )
