"""Delta's request signatures, shared by the client (signs) and the simulator (verifies).

REST: hex HMAC-SHA256 of ``METHOD + timestamp + path + query + body`` with the API secret,
where the timestamp is UNIX seconds as a decimal string, ``path`` starts with ``/v2``,
``query`` is ``""`` or ``"?k=v&..."`` exactly as sent, and ``body`` is exactly the bytes
sent. WebSocket ``key-auth``: the same HMAC over ``"GET" + timestamp + "/live"``.

A request is valid for :data:`SIGNATURE_VALIDITY_S` seconds after its timestamp.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_VALIDITY_S = 5
"""Seconds a signed request stays valid after its timestamp (Delta: 5 s)."""

WS_AUTH_PATH = "/live"


def prehash(*, method: str, timestamp: str, path: str, query: str, body: bytes | str) -> bytes:
    """Return the bytes Delta signs for a REST request.

    Args:
        method: HTTP method, upper case.
        timestamp: UNIX seconds as a decimal string, exactly as sent in the header.
        path: the path including ``/v2``.
        query: ``""`` or ``"?"`` followed by the raw query string, exactly as sent.
        body: the exact body bytes sent, or ``""``.
    """
    body_bytes = body.encode() if isinstance(body, str) else body
    return f"{method.upper()}{timestamp}{path}{query}".encode() + body_bytes


def sign(secret: str, message: bytes) -> str:
    """Return the lowercase hex HMAC-SHA256 of ``message`` under ``secret``."""
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_request(
    secret: str, *, method: str, timestamp: str, path: str, query: str, body: bytes | str
) -> str:
    """Return the ``signature`` header for a REST request (see :func:`prehash`)."""
    return sign(
        secret, prehash(method=method, timestamp=timestamp, path=path, query=query, body=body)
    )


def sign_ws_auth(secret: str, timestamp: str) -> str:
    """Return the signature of a WebSocket ``key-auth`` request made at ``timestamp``."""
    return sign(secret, f"GET{timestamp}{WS_AUTH_PATH}".encode())


def signatures_match(expected: str, received: str) -> bool:
    """Compare two hex signatures in constant time."""
    return hmac.compare_digest(expected.encode(), received.encode())
