"""Delta Exchange client: REST, streams, parsers and errors. Wire types stay in here.

Public API (everything else is private):

- :class:`DeltaRestClient`: typed REST calls (products, tickers, books, candles, orders,
  positions, wallets, fills) with signing, a weight budget, retries and a circuit breaker.
- :class:`DeltaPublicStream`, :class:`DeltaPrivateStream`: market-data and account streams
  on the one venue-agnostic :class:`StreamLoop`.
- :func:`parse_public`, :func:`parse_private` and the REST object parsers: pure
  wire -> ``messages`` converters.
- :func:`endpoints_for`: hosts for a region and environment.
- The error tree (see ``exchange.delta._errors``) and :func:`error_from_reply`.
- Signing and the book checksum (``_signing``, ``_checksum``) re-exported.

See docs/exchange.md.
"""

from __future__ import annotations

from exchange.delta._checksum import CHECKSUM_DEPTH, book_checksum
from exchange.delta._endpoints import Endpoints, endpoints_for
from exchange.delta._errors import (
    AuthenticationFailed,
    BadSchema,
    CircuitOpen,
    DuplicateClientOrderId,
    ExchangeError,
    Fatal,
    InsufficientMargin,
    InvalidContract,
    IpNotWhitelisted,
    NetworkError,
    NotFound,
    OrderSizeExceeded,
    ParseError,
    PostOnlyWouldCross,
    RateLimited,
    ReduceOnlyViolated,
    Rejected,
    RequestTimeout,
    Retryable,
    RiskLimitsBreached,
    ServerError,
    SignatureExpired,
    StreamFailed,
    Unavailable,
    error_from_reply,
)
from exchange.delta._limits import (
    WEIGHTS,
    Backoff,
    BreakerState,
    CircuitBreaker,
    WeightBudget,
    weight_of,
)
from exchange.delta._order_wire import Bracket, bracket_body, edit_body, order_body
from exchange.delta._parse_private import parse_private
from exchange.delta._parse_public import UnknownFrame, parse_public
from exchange.delta._parse_rest import (
    RESOLUTION_S,
    parse_candle,
    parse_fill,
    parse_l2_book,
    parse_order,
    parse_position,
    parse_product,
    parse_ticker,
    parse_wallet,
)
from exchange.delta._rest import MAX_BATCH, MAX_CANDLES_PER_CALL, DeltaRestClient
from exchange.delta._session import USER_AGENT, encode_query
from exchange.delta._signing import SIGNATURE_VALIDITY_S, sign_request, sign_ws_auth
from exchange.delta._stream import Send, StreamConfig, StreamHandler, StreamLoop, StreamState
from exchange.delta._streams import (
    Channel,
    DeltaPrivateStream,
    DeltaPublicStream,
    private_channels,
    public_channels,
)

__all__ = [
    "CHECKSUM_DEPTH",
    "MAX_BATCH",
    "MAX_CANDLES_PER_CALL",
    "RESOLUTION_S",
    "SIGNATURE_VALIDITY_S",
    "USER_AGENT",
    "WEIGHTS",
    "AuthenticationFailed",
    "Backoff",
    "BadSchema",
    "Bracket",
    "BreakerState",
    "Channel",
    "CircuitBreaker",
    "CircuitOpen",
    "DeltaPrivateStream",
    "DeltaPublicStream",
    "DeltaRestClient",
    "DuplicateClientOrderId",
    "Endpoints",
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
    "Send",
    "ServerError",
    "SignatureExpired",
    "StreamConfig",
    "StreamFailed",
    "StreamHandler",
    "StreamLoop",
    "StreamState",
    "Unavailable",
    "UnknownFrame",
    "WeightBudget",
    "book_checksum",
    "bracket_body",
    "edit_body",
    "encode_query",
    "endpoints_for",
    "error_from_reply",
    "order_body",
    "parse_candle",
    "parse_fill",
    "parse_l2_book",
    "parse_order",
    "parse_position",
    "parse_private",
    "parse_product",
    "parse_public",
    "parse_ticker",
    "parse_wallet",
    "private_channels",
    "public_channels",
    "sign_request",
    "sign_ws_auth",
    "weight_of",
]
