"""One signed REST request, and the retry loop around it: the I/O core of the REST client.

:class:`RestSession` owns a synchronous ``httpx.Client``. It is **not thread-safe**: each
instance is confined to one thread (the ``RestGateway`` actor's); create one per thread.

A request is built once: the query string is encoded once (``quote_plus``, in the order
given), signed, and sent as exactly that URL; the body is serialised once (orjson, compact)
and the same bytes are signed and sent with ``content=``. Every request carries a
``User-Agent`` (Delta's CDN answers 403 without one). Signed requests carry ``api-key``,
``timestamp`` (UNIX seconds of the injected clock, taken per attempt so a retry is never
stale) and ``signature``.

Per attempt: circuit breaker check -> weight budget -> send -> map the reply. Failures map
to the :mod:`exchange.delta._errors` tree. A ``Retryable`` failure is retried, up to
``max_retries`` times, only when the caller says the call is safe to repeat; the wait is
``X-RATE-LIMIT-RESET`` for a 429 and exponential backoff with jitter otherwise, and a wait
longer than ``backoff_max_ms`` is not waited out (the error is raised). Waits are measured
on the injected clock and slept in real time (``clock.real_seconds_until``).

Secrets: the key and secret are held as :class:`Secret`, revealed only to build headers,
and never logged, repr'd or put in an error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import httpx
import orjson

from actors._clock import Clock
from exchange.delta._errors import (
    AuthenticationFailed,
    CircuitOpen,
    ExchangeError,
    NetworkError,
    ParseError,
    RateLimited,
    RequestTimeout,
    Retryable,
    ServerError,
    error_from_reply,
)
from exchange.delta._limits import Backoff, CircuitBreaker, WeightBudget, weight_of
from exchange.delta._signing import sign_request
from messages.settings import ExchangeSettings, Secret

__all__ = ["USER_AGENT", "Attempts", "RestSession", "encode_query"]

log = logging.getLogger(__name__)

USER_AGENT = "delta-actor-bot/0.1 (+httpx)"
_NS = 1_000_000_000

Params = Sequence[tuple[str, object]]


def encode_query(params: Params | None) -> str:
    """Return ``""`` or ``"?k=v&..."``: values ``quote_plus``-encoded, None skipped, in order.

    Booleans are sent as ``true``/``false``. This exact text is signed and sent.
    """
    if not params:
        return ""
    parts = []
    for key, value in params:
        if value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        parts.append(f"{quote_plus(key)}={quote_plus(text)}")
    return "?" + "&".join(parts) if parts else ""


@dataclass(slots=True)
class Attempts:
    """How many times one logical call was sent (filled in by :meth:`RestSession.call`)."""

    sent: int = 0


class RestSession:
    """Signed requests with rate limiting, retries and a circuit breaker (one thread)."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: Secret | None,
        api_secret: Secret | None,
        settings: ExchangeSettings,
        clock: Clock,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._key = api_key
        self._secret = api_secret
        self._clock = clock
        self._settings = settings
        self._http = httpx.Client(
            timeout=settings.rest_timeout_ms / 1000,
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        self.budget = WeightBudget(clock, per_window=settings.rate_limit_weight_per_5min)
        self.backoff = Backoff(
            initial_ms=settings.backoff_initial_ms, max_ms=settings.backoff_max_ms
        )
        self.breaker = CircuitBreaker(
            clock,
            failures=settings.circuit_breaker_failures,
            reset_s=settings.circuit_breaker_reset_s,
        )
        self.wait: Callable[[float], None] = self._wait
        """Waits ``seconds`` of clock time between attempts; tests may replace it."""
        self.counters: dict[str, int] = {
            "requests": 0,
            "retries": 0,
            "errors": 0,
            "rate_limited": 0,
        }

    def __repr__(self) -> str:
        return f"RestSession({self._base!r}, signed={self._key is not None})"

    @property
    def can_sign(self) -> bool:
        """True when both the key and the secret were given."""
        return self._key is not None and self._secret is not None

    def close(self) -> None:
        """Close the connection pool. Idempotent."""
        self._http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Mapping[str, Any] | None = None,
        signed: bool = False,
        retry: bool = False,
        attempts: Attempts | None = None,
    ) -> tuple[Any, Mapping[str, Any]]:
        """Send one logical request; return the envelope's ``(result, meta)``.

        Args:
            method: HTTP method, upper case.
            path: Path starting with ``/v2``.
            params: Query parameters, in order; None values are skipped.
            body: JSON body (also for DELETE), or None.
            signed: Add the authentication headers.
            retry: The call is safe to repeat: retry ``Retryable`` failures.
            attempts: Receives how many times the request was sent.

        Raises:
            ExchangeError: The typed failure of the last attempt.
        """
        query = encode_query(params)
        content = b"" if body is None else orjson.dumps(body)
        tries = attempts or Attempts()
        attempt = 0
        while True:
            try:
                return self._once(method, path, query, content, signed=signed, tries=tries)
            except Retryable as exc:
                delay = self._retry_delay(exc, attempt) if retry else None
                if delay is None:
                    raise
                log.warning(
                    "%s; retry %d/%d in %.3fs", exc, attempt + 1, self._settings.max_retries, delay
                )
                self.counters["retries"] += 1
                self.wait(delay)
                attempt += 1

    def _retry_delay(self, exc: Retryable, attempt: int) -> float | None:
        if isinstance(exc, CircuitOpen) or attempt >= self._settings.max_retries:
            return None
        if isinstance(exc, RateLimited) and exc.retry_after_s is not None:
            delay = exc.retry_after_s
        else:
            delay = self.backoff.delay_s(attempt)
        return None if delay > self.backoff.max_s else delay

    def _wait(self, seconds: float) -> None:
        """Sleep until the clock has moved ``seconds`` on (real time, via the clock's rate)."""
        deadline = self._clock.now_ns() + int(seconds * _NS)
        time.sleep(self._clock.real_seconds_until(deadline))

    def _once(
        self, method: str, path: str, query: str, content: bytes, *, signed: bool, tries: Attempts
    ) -> tuple[Any, Mapping[str, Any]]:
        what = f"{method} {path}"
        wait = self.breaker.before_call()
        if wait:
            raise CircuitOpen(f"{what}: circuit open", code="circuit_open", retry_after_s=wait)
        wait = self.budget.try_spend(weight_of(method, path))
        if wait:
            self.counters["rate_limited"] += 1
            raise RateLimited(
                f"{what}: local weight budget spent", code="budget", retry_after_s=wait
            )
        headers = {"Content-Type": "application/json"}
        if signed:
            headers.update(self._auth_headers(method, path, query, content))
        tries.sent += 1
        self.counters["requests"] += 1
        try:
            response = self._http.request(
                method, self._base + path + query, content=content or None, headers=headers
            )
        except httpx.TimeoutException as exc:
            self._fail()
            raise RequestTimeout(
                f"{what}: no reply within {self._settings.rest_timeout_ms} ms",
                code="timeout",
                retry_after_s=self.backoff.initial_s,
            ) from exc
        except httpx.TransportError as exc:
            self._fail()
            raise NetworkError(
                f"{what}: {type(exc).__name__}",
                code="network",
                retry_after_s=self.backoff.initial_s,
            ) from exc
        return self._reply(what, response)

    def _auth_headers(self, method: str, path: str, query: str, content: bytes) -> dict[str, str]:
        if self._key is None or self._secret is None:
            raise AuthenticationFailed(f"{method} {path}: no API key configured", code="no_key")
        timestamp = str(self._clock.now_ns() // _NS)
        signature = sign_request(
            self._secret.reveal(),
            method=method,
            timestamp=timestamp,
            path=path,
            query=query,
            body=content,
        )
        return {"api-key": self._key.reveal(), "timestamp": timestamp, "signature": signature}

    def _fail(self) -> None:
        self.counters["errors"] += 1
        self.breaker.record_failure()

    def _reply(self, what: str, response: httpx.Response) -> tuple[Any, Mapping[str, Any]]:
        status = response.status_code
        try:
            body: Any = orjson.loads(response.content) if response.content else None
        except orjson.JSONDecodeError:
            body = None
        if status >= 500:
            self._fail()
            error = error_from_reply(status, body, retry_after_s=self.backoff.initial_s, what=what)
            if not isinstance(error, Retryable):
                error = ServerError(
                    str(error),
                    code=error.code,
                    status=status,
                    context=error.context,
                    retry_after_s=self.backoff.initial_s,
                )
            raise error
        self.breaker.record_success()
        if status == 429:
            reset_s = _reset_seconds(response.headers.get("X-RATE-LIMIT-RESET"))
            self.budget.close_for(reset_s)
            self.counters["rate_limited"] += 1
            raise error_from_reply(status, body, retry_after_s=reset_s, what=what)
        if isinstance(body, Mapping) and body.get("success") is True and status < 300:
            if "result" not in body:
                return None, _meta(body)
            return body["result"], _meta(body)
        if 200 <= status < 300 and not isinstance(body, Mapping):
            raise ParseError(f"{what} reply", "not a JSON object", status=status)
        if 200 <= status < 300 and isinstance(body, Mapping) and "success" not in body:
            raise ParseError(f"{what} reply.success", "missing", status=status)
        self.counters["errors"] += 1
        error = error_from_reply(status, body, what=what)
        _log_error(error)
        raise error


def _meta(body: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = body.get("meta")
    return meta if isinstance(meta, Mapping) else {}


def _reset_seconds(header: str | None) -> float:
    """``X-RATE-LIMIT-RESET`` is milliseconds until the quota resets; 1 s if unreadable."""
    try:
        return max(int(float(header or "")), 0) / 1000
    except (ValueError, OverflowError):
        return 1.0


def _log_error(error: ExchangeError) -> None:
    log.info("%s (code=%s, status=%s)", error, error.code, error.status)
