"""Exchange errors: Delta's error envelope mapped to one typed tree under ``BotError``.

::

    BotError
    `- ExchangeError                 anything the venue (or the way to it) refused or broke
       |- Retryable                  transient; carries retry_after_s; safe calls are retried
       |  |- RateLimited             HTTP 429 / local weight budget spent (X-RATE-LIMIT-RESET)
       |  |- ServerError             HTTP 5xx, or an ``internal_server_error`` reply
       |  |- NetworkError            connect/read failure: the request may or may not have run
       |  |  `- RequestTimeout      no answer within rest_timeout_ms
       |  `- CircuitOpen             too many failures in a row; the client fails fast
       |- Rejected                   the venue refused this request; repeating it cannot help
       |  |- InsufficientMargin      ``insufficient_margin``
       |  |- PostOnlyWouldCross      ``immediate_execution_post_only``, self-match post-only
       |  |- BadSchema               ``bad_schema`` / ``validation_error`` / incomplete payload
       |  |- NotFound                ``open_order_not_found``, ``not_found``, HTTP 404
       |  |- DuplicateClientOrderId  ``duplicate_client_order_id`` (an open order has the id)
       |  |- OrderSizeExceeded       ``order_size_exceed_available``
       |  |- RiskLimitsBreached      ``risk_limits_breached``
       |  |- ReduceOnlyViolated      ``reduce_only_violation``
       |  |- InvalidContract         ``invalid_contract`` (wrong environment's product id?)
       |  `- Unavailable             ``unavailable``: the venue does not take it right now
       `- Fatal                      the configuration or the protocol is wrong; stop and fix
          |- AuthenticationFailed    bad key or signature, unauthorised, CDN 403
          |  |- SignatureExpired     the signed timestamp is more than 5 s off the server's
          |  `- IpNotWhitelisted     the key does not allow this IP
          |- ParseError              a reply or frame lacks a field or has an unusable value
          `- StreamFailed            a stream gave up after reconnect_max_retries failures

Every error carries ``code`` (the venue's code as sent, or ours), ``status`` (HTTP status,
or None), ``context`` (the venue's ``error.context``) and ``retry_after_s`` (None except for
``Retryable``). No secret is ever part of an error: the client builds them from replies.
:func:`error_from_reply` is the one mapping from a reply to an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from messages import BotError

__all__ = [
    "AuthenticationFailed",
    "BadSchema",
    "CircuitOpen",
    "DuplicateClientOrderId",
    "ExchangeError",
    "Fatal",
    "InsufficientMargin",
    "InvalidContract",
    "IpNotWhitelisted",
    "NetworkError",
    "NotFound",
    "OrderSizeExceeded",
    "ParseError",
    "PostOnlyWouldCross",
    "RateLimited",
    "ReduceOnlyViolated",
    "Rejected",
    "RequestTimeout",
    "Retryable",
    "RiskLimitsBreached",
    "ServerError",
    "SignatureExpired",
    "StreamFailed",
    "Unavailable",
    "error_from_reply",
    "normalise_code",
]


class ExchangeError(BotError):
    """Raised when the venue refuses a request, fails, or sends what cannot be read.

    Never raised directly. Attributes:
        code: The venue's error code as sent (``"insufficient_margin"``), or ours.
        status: The HTTP status, or None (streams, local checks).
        context: The venue's ``error.context`` (JSON values), possibly empty.
        retry_after_s: Seconds to wait before retrying; None unless ``Retryable``.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        status: int | None = None,
        context: Mapping[str, Any] | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.context: dict[str, Any] = dict(context or {})
        self.retry_after_s = retry_after_s

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, code={self.code!r}, status={self.status})"


class Retryable(ExchangeError):
    """Raised when a failure is transient. ``retry_after_s`` says how long to wait.

    The REST client retries it by itself only for calls that are safe to repeat (reads, and
    order placement keyed by ``client_order_id``); other callers decide.
    """


class RateLimited(Retryable):
    """Raised on HTTP 429 or when the local 5-minute weight budget is spent.

    ``retry_after_s`` is the venue's ``X-RATE-LIMIT-RESET`` (ms) in seconds, or the time
    until the local window resets.
    """


class ServerError(Retryable):
    """Raised on HTTP 5xx, or an ``internal_server_error`` status. The request may have run."""


class NetworkError(Retryable):
    """Raised when the connection failed before a complete reply; the request may have run."""


class RequestTimeout(NetworkError):
    """Raised when no complete reply came within ``rest_timeout_ms``; it may have run."""


class CircuitOpen(Retryable):
    """Raised without any request when the circuit breaker is open (repeated failures).

    ``retry_after_s`` is the time until the breaker lets one trial request through. The
    client never retries this by itself.
    """


class Rejected(ExchangeError):
    """Raised when the venue refused this request. Repeating it unchanged cannot help.

    Also raised directly for a business code with no subclass; ``code`` names it.
    """


class InsufficientMargin(Rejected):
    """Raised on ``insufficient_margin``; context has ``available_balance`` and
    ``required_additional_balance``."""


class PostOnlyWouldCross(Rejected):
    """Raised when a post-only order would take liquidity and was cancelled instead."""


class BadSchema(Rejected):
    """Raised on ``bad_schema``: context ``schema_errors`` lists each bad ``param``.

    Also raised locally, before sending, for a request the venue would refuse (a
    ``client_order_id`` over 32 characters, an unsupported time in force).
    """


class NotFound(Rejected):
    """Raised when the order, product or resource does not exist (or is already closed)."""


class DuplicateClientOrderId(Rejected):
    """Raised when an open order already has this ``client_order_id``.

    Placement catches it after a retry and fetches the existing order instead.
    """


class OrderSizeExceeded(Rejected):
    """Raised on ``order_size_exceed_available``: not enough liquidity for IOC/market."""


class RiskLimitsBreached(Rejected):
    """Raised on ``risk_limits_breached``: the position would exceed the venue's limit."""


class ReduceOnlyViolated(Rejected):
    """Raised when a reduce-only order would increase the position."""


class InvalidContract(Rejected):
    """Raised on ``invalid_contract``: unknown product (often a wrong environment's id)."""


class Unavailable(Rejected):
    """Raised on ``unavailable``: the venue does not accept this now (maintenance,
    disruption). Not retried automatically; the caller may try later."""


class Fatal(ExchangeError):
    """Raised when configuration or protocol is wrong; retrying cannot help. Stop, fix."""


class AuthenticationFailed(Fatal):
    """Raised when the key or signature is refused (HTTP 401/403, key-auth failure)."""


class SignatureExpired(AuthenticationFailed):
    """Raised when the signed timestamp is outside the venue's 5 s window (clock skew)."""


class IpNotWhitelisted(AuthenticationFailed):
    """Raised when the key is not allowed from this IP; ``context`` may carry the IP."""


class ParseError(Fatal):
    """Raised when a reply or frame lacks a field or holds a value that cannot be used.

    ``field`` names the field path (``"result[0].limit_price"``). A stream counts and logs
    it and goes on; a REST call raises it (a write is never retried on it).
    """

    def __init__(self, field: str, reason: str, *, status: int | None = None) -> None:
        super().__init__(f"{field}: {reason}", code="parse_error", status=status)
        self.field = field
        self.reason = reason


class StreamFailed(Fatal):
    """Raised (reported) when a stream failed ``reconnect_max_retries`` times in a row,
    or met a fatal error (refused authentication). The supervisor decides what next."""


_BY_CODE: dict[str, type[ExchangeError]] = {
    # authentication [IN-AUTH, CCXT, MCP; key-auth statuses from IN-WS]
    "invalidapikey": AuthenticationFailed,
    "invalid_api_key": AuthenticationFailed,
    "api_key_not_found": AuthenticationFailed,
    "unauthorizedapiaccess": AuthenticationFailed,
    "unauthorized_api_access": AuthenticationFailed,
    "unauthorized": AuthenticationFailed,
    "signature_mismatch": AuthenticationFailed,
    "invalid_signature": AuthenticationFailed,
    "forbidden": AuthenticationFailed,
    "signatureexpired": SignatureExpired,
    "signature_expired": SignatureExpired,
    "request_expired": SignatureExpired,
    "ip_not_whitelisted_for_api_key": IpNotWhitelisted,
    "ip_not_whitelisted": IpNotWhitelisted,
    # business rejections [IN-ERR, CCXT, sim]
    "insufficient_margin": InsufficientMargin,
    "immediate_execution_post_only": PostOnlyWouldCross,
    "self_matching_disrupted_post_only": PostOnlyWouldCross,
    "bad_schema": BadSchema,
    "validation_error": BadSchema,
    "incomplete_payload": BadSchema,
    "open_order_not_found": NotFound,
    "order_not_found": NotFound,
    "not_found": NotFound,
    "duplicate_client_order_id": DuplicateClientOrderId,
    "order_size_exceed_available": OrderSizeExceeded,
    "risk_limits_breached": RiskLimitsBreached,
    "reduce_only_violation": ReduceOnlyViolated,
    "invalid_contract": InvalidContract,
    "unavailable": Unavailable,
    "internal_server_error": ServerError,
    "too_many_requests": RateLimited,
    "rate_limit_exceeded": RateLimited,
}


def normalise_code(code: str) -> str:
    """Return the lookup form of a venue code: lower case, spaces and dashes as ``_``.

    ``"Signature Mismatch"`` -> ``"signature_mismatch"``; ``"InvalidApiKey"`` ->
    ``"invalidapikey"`` (both spellings are in the map).
    """
    return code.strip().lower().replace(" ", "_").replace("-", "_")


def error_from_reply(
    status: int,
    body: object,
    *,
    retry_after_s: float | None = None,
    what: str = "request",
) -> ExchangeError:
    """Return the typed error for a failed reply (pure; the caller raises it).

    Reads both envelope forms: ``{"error": {"code", "context"}}`` and the flat
    ``{"error": "InvalidApiKey", "message": ...}``. The code decides the class when it is
    known; otherwise the HTTP status does (401/403 authentication, 404 not found, 429 rate
    limited, 5xx server error, other 4xx rejected).

    Args:
        status: HTTP status of the reply.
        body: The decoded JSON body, or None when it was not JSON.
        retry_after_s: For 429, the venue's reset delay in seconds.
        what: The request, for the message (``"POST /v2/orders"``); never holds secrets.
    """
    code, context, message = _envelope(body)
    cls = _BY_CODE.get(normalise_code(code)) if code else None
    if cls is None:
        if status == 429:
            cls = RateLimited
        elif status >= 500:
            cls = ServerError
        elif status in (401, 403):
            cls = AuthenticationFailed
        elif status == 404:
            cls = NotFound
        else:
            cls = Rejected
    if not issubclass(cls, Retryable):
        retry_after_s = None
    elif retry_after_s is None:
        retry_after_s = 1.0
    detail = code or f"HTTP {status}"
    if message:
        detail = f"{detail} ({message})"
    return cls(
        f"{what}: {detail}",
        code=code,
        status=status,
        context=context,
        retry_after_s=retry_after_s,
    )


def _envelope(body: object) -> tuple[str, dict[str, Any], str]:
    """Return (code, context, message) from an error envelope, tolerating any shape."""
    if not isinstance(body, Mapping):
        return "", {}, ""
    error = body.get("error")
    message = body.get("message")
    if isinstance(error, Mapping):
        code = error.get("code")
        context = error.get("context")
        message = error.get("message", message)
        return (
            code if isinstance(code, str) else "",
            dict(context) if isinstance(context, Mapping) else {},
            message if isinstance(message, str) else "",
        )
    if isinstance(error, str):
        return error, {}, message if isinstance(message, str) else ""
    return "", {}, message if isinstance(message, str) else ""
