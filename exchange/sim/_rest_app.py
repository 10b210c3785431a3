"""The REST front: CDN check, faults, authentication, rate limits, JSON parsing, envelopes.

:meth:`RestApp.handle` turns one raw request (method, raw target, headers, body bytes)
into (status, body bytes, extra headers). It never raises: a business refusal becomes a
400 envelope, a bug a 500 envelope (logged). It runs on the HTTP server's request threads;
its shared state (rate-limit windows) has a lock. Signature expiry uses the WALL clock
(the scaled clock is market time only).

Answers that mirror Delta (see docs/simulator.md):

- no ``User-Agent``: 403 ``{"error":"Forbidden","message":"Request blocked by CDN"}``;
- signed endpoint without ``api-key``/``signature``/``timestamp``: 401
  ``{"success":false,"error":{"code":"UnauthorizedApiAccess"},...}``;
- unknown key: 401 ``{"success":false,"error":"InvalidApiKey","message":"Api Key not found"}``
  (Delta's flat form, ``error`` a string);
- timestamp older or newer than 5 s: 401 ``SignatureExpired`` (flat form, with
  ``context.request_time`` and ``context.server_time``);
- bad signature: 401 ``{"success":false,"error":{"code":"Signature Mismatch"}}``;
- over the weight budget or an injected 429: 429 with ``X-RATE-LIMIT-RESET`` (ms).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson

from exchange.delta._signing import SIGNATURE_VALIDITY_S, sign_request, signatures_match
from exchange.sim._errors import OrderRejected, bad_schema
from exchange.sim._facade import SimEngine
from exchange.sim._faults import Faults

__all__ = ["CDN_BODY", "Request", "RestApp", "Route"]

log = logging.getLogger(__name__)

CDN_BODY = b'{"error":"Forbidden","message":"Request blocked by CDN"}'
WINDOW_S = 300


@dataclass(frozen=True, slots=True)
class Request:
    """A parsed request handed to a route: JSON body, query and path groups, the user."""

    method: str
    path: str
    query: Mapping[str, str]
    body: Mapping[str, Any]
    groups: tuple[str, ...]
    user_id: int | None


Handler = Callable[[Request], Any]


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint: method, path pattern (regex on the path), weight, signed or not."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    weight: int
    signed: bool


Response = tuple[int, bytes, dict[str, str]]


class RestApp:
    """Routes plus the checks every request passes (see the module docstring)."""

    def __init__(
        self, engine: SimEngine, faults: Faults, routes: list[Route], *, budget: int = 10_000
    ) -> None:
        self.engine = engine
        self.faults = faults
        self.routes = routes
        self.budget = budget
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, ip: str
    ) -> Response:
        """Answer one request; never raises."""
        try:
            return self._handle(method.upper(), target, headers, body, ip)
        except OrderRejected as exc:
            return _error(exc.status, exc.code, exc.context)
        except Exception:
            log.exception("sim rest: %s %s failed", method, target[:200])
            return _error(500, "internal_server_error", {})

    def _handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, ip: str
    ) -> Response:
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000)
        if not headers.get("user-agent"):
            return 403, CDN_BODY, {}
        path, _, raw_query = target.partition("?")
        route, groups, allowed = self._match(method, path)
        if route is None:
            code = 405 if allowed else 404
            return _error(code, "method_not_allowed" if allowed else "not_found", {"path": path})
        fault = self.faults.take_rest_fault()
        if fault is not None:
            status, reset = fault
            if status == 429:
                return _too_many(reset or 1000)
            return _error(status, "unavailable" if status == 503 else "internal_server_error", {})
        user_id = None
        if route.signed:
            checked = self._authenticate(method, path, raw_query, headers, body)
            if isinstance(checked, tuple):
                return checked
            user_id = checked
        reset_ms = self._spend(f"user:{user_id}" if user_id else f"ip:{ip}", route.weight)
        if reset_ms is not None:
            return _too_many(reset_ms)
        request = Request(method, path, _query(raw_query), _json_body(body), groups, user_id)
        result = route.handler(request)
        if isinstance(result, tuple):  # (result, meta)
            payload: dict[str, Any] = {"success": True, "result": result[0], "meta": result[1]}
        elif result is None:
            payload = {"success": True}
        else:
            payload = {"success": True, "result": result}
        return 200, orjson.dumps(payload), {}

    def _match(self, method: str, path: str) -> tuple[Route | None, tuple[str, ...], bool]:
        allowed = False
        for route in self.routes:
            found = route.pattern.fullmatch(path)
            if found is None:
                continue
            if route.method == method:
                return route, found.groups(), True
            allowed = True
        return None, (), allowed

    def _authenticate(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> int | Response:
        key = headers.get("api-key")
        signature = headers.get("signature")
        stamp = headers.get("timestamp")
        if not key or not signature or not stamp:
            return _error(
                401,
                "UnauthorizedApiAccess",
                {"message": "api-key, signature and timestamp are required"},
            )
        found = self.engine.credentials(key)
        if found is None:
            return _flat(401, "InvalidApiKey", "Api Key not found", {})
        secret, user_id = found
        now = time.time()
        try:
            request_time = int(stamp)
        except ValueError:
            request_time = 0
        if abs(now - request_time) > SIGNATURE_VALIDITY_S:
            context = {"request_time": request_time, "server_time": int(now)}
            return _flat(401, "SignatureExpired", "your signature has expired", context)
        expected = sign_request(
            secret,
            method=method,
            timestamp=stamp,
            path=path,
            query=f"?{query}" if query else "",
            body=body,
        )
        if not signatures_match(expected, signature):
            return _error(401, "Signature Mismatch", {})
        return user_id

    def _spend(self, bucket: str, weight: int) -> int | None:
        """Charge ``weight``; return the ms until the window resets when over budget."""
        now_ms = int(time.monotonic() * 1000)
        window_ms = WINDOW_S * 1000
        with self._lock:
            start, used = self._windows.get(bucket, (now_ms - now_ms % window_ms, 0))
            if now_ms >= start + window_ms:
                start, used = now_ms - now_ms % window_ms, 0
            if used + weight > self.budget:
                self._windows[bucket] = (start, used)
                return start + window_ms - now_ms
            self._windows[bucket] = (start, used + weight)
            return None

    def quota(self, bucket: str) -> tuple[int, int]:
        """(remaining weight, ms until reset) of a bucket (``user:<id>`` or ``ip:<addr>``)."""
        now_ms = int(time.monotonic() * 1000)
        window_ms = WINDOW_S * 1000
        with self._lock:
            start, used = self._windows.get(bucket, (now_ms - now_ms % window_ms, 0))
        if now_ms >= start + window_ms:
            return self.budget, window_ms - now_ms % window_ms
        return self.budget - used, start + window_ms - now_ms


def _query(raw: str) -> dict[str, str]:
    try:
        parsed = parse_qs(raw, keep_blank_values=True, strict_parsing=False)
    except ValueError as exc:
        raise bad_schema("query", "malformed query string") from exc
    return {k: v[-1] for k, v in parsed.items()}


def _json_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise bad_schema("body", f"body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise bad_schema("body", "body must be a JSON object")
    return value


def _error(status: int, code: str, context: Mapping[str, object]) -> Response:
    body = {"success": False, "error": {"code": code, "context": dict(context)}}
    return status, orjson.dumps(body), {}


def _flat(status: int, code: str, message: str, context: Mapping[str, object]) -> Response:
    body = {"success": False, "error": code, "message": message, "context": dict(context)}
    return status, orjson.dumps(body), {}


def _too_many(reset_ms: int) -> Response:
    status, body, _ = _error(429, "too_many_requests", {"reset_ms": reset_ms})
    return status, body, {"X-RATE-LIMIT-RESET": str(reset_ms)}
