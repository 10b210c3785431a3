"""DeltaRestClient: every REST endpoint the bot uses, as typed calls returning messages.

Threading: synchronous (``httpx.Client``). An instance is **confined to one thread** (the
``RestGateway`` actor's); it is not thread-safe. Every call blocks that thread for at most
about ``(max_retries + 1) * rest_timeout_ms`` plus the retry waits.

Products are loaded at start (:meth:`load_products`) and every id, contract value, tick
and fee comes from them; calls that need a product id raise :class:`NotFound` for a symbol
that was not loaded.

Retries (see ``_session``): reads are retried on ``Retryable`` failures; order placement is
retried too, always with the same ``client_order_id``; edits, cancels, batches and brackets
are not (the caller decides). If a retried placement is refused as a duplicate client order
id, the first attempt did reach the venue: the order is fetched by its client order id and
returned as the result, so a timeout never creates a second order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import httpx

from actors._clock import Clock
from exchange.delta._errors import BadSchema, DuplicateClientOrderId, NotFound
from exchange.delta._fields import obj, seq
from exchange.delta._order_wire import (
    Bracket,
    bracket_body,
    check_client_order_id,
    edit_body,
    order_body,
    wire_id,
)
from exchange.delta._parse_rest import (
    RESOLUTION_S,
    parse_candle,
    parse_fill,
    parse_l2_book,
    parse_order,
    parse_position,
    parse_product,
    parse_result_list,
    parse_ticker,
    parse_wallet,
)
from exchange.delta._session import Attempts, Params, RestSession
from messages import (
    BookSnapshot,
    Candle,
    Fill,
    OpenOrder,
    PlaceOrder,
    PositionSnapshot,
    Product,
    Ticker,
    WalletBalance,
)
from messages.settings import ExchangeSettings, Secret

__all__ = ["MAX_BATCH", "MAX_CANDLES_PER_CALL", "DeltaRestClient"]

MAX_CANDLES_PER_CALL = 2000
MAX_BATCH = 50
_PAGE_SIZE = 50
_MAX_PAGES = 1000


class DeltaRestClient:
    """Typed REST calls to Delta (see the module docstring for threads and retries).

    Args:
        base_url: REST base without ``/v2`` (``endpoints_for(settings).rest_url``).
        api_key: The key, or None for public calls only.
        api_secret: The secret, or None for public calls only.
        settings: The ``[exchange]`` section (timeouts, retries, budget, breaker).
        clock: Time for signatures, the weight window, backoff and the breaker.
        transport: httpx transport (tests use ``httpx.MockTransport``); None for the real one.
    """

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
        self._clock = clock
        self.session = RestSession(
            base_url,
            api_key=api_key,
            api_secret=api_secret,
            settings=settings,
            clock=clock,
            transport=transport,
        )
        self._products: dict[str, Product] = {}
        self._symbols: dict[int, str] = {}

    def __repr__(self) -> str:
        return f"DeltaRestClient({self.session!r}, products={len(self._products)})"

    def close(self) -> None:
        """Close the connection pool. Idempotent."""
        self.session.close()

    def health(self) -> dict[str, object]:
        """Breaker state, weight left, request counters: for the health report."""
        return {
            "breaker": self.session.breaker.health(),
            "weight_remaining": self.session.budget.remaining,
            **self.session.counters,
        }

    # --- products and market data (public, retried) --------------------------------------

    def load_products(self, *, contract_types: str = "perpetual_futures") -> dict[str, Product]:
        """Fetch every live product of ``contract_types`` (all pages) and keep them.

        Returns:
            Symbol -> product. Later calls resolve symbols through this map.
        """
        params: list[tuple[str, object]] = [("contract_types", contract_types), ("states", "live")]
        for raw in self._pages("/v2/products", params, signed=False, page_size=100):
            product = parse_product(raw)
            self._products[product.symbol] = product
            self._symbols[product.product_id] = product.symbol
        return dict(self._products)

    @property
    def products(self) -> Mapping[str, Product]:
        """The products loaded so far, by symbol."""
        return dict(self._products)

    def product(self, symbol: str) -> Product:
        """Return a loaded product. Raises :class:`NotFound` if it was not loaded."""
        try:
            return self._products[symbol]
        except KeyError:
            raise NotFound(f"product {symbol!r} not loaded", code="product_not_loaded") from None

    def get_product(self, symbol: str) -> Product:
        """Fetch one product by symbol (and keep it)."""
        result, _ = self.session.call("GET", f"/v2/products/{symbol}", retry=True)
        product = parse_product(obj(result, "result"))
        self._products[product.symbol] = product
        self._symbols[product.product_id] = product.symbol
        return product

    def get_ticker(self, symbol: str) -> Ticker:
        """Fetch one symbol's ticker."""
        result, _ = self.session.call("GET", f"/v2/tickers/{symbol}", retry=True)
        return parse_ticker(obj(result, "result"), self._clock.now_ns())

    def get_tickers(self, *, contract_types: str = "perpetual_futures") -> tuple[Ticker, ...]:
        """Fetch the tickers of every product of ``contract_types``."""
        result, _ = self.session.call(
            "GET", "/v2/tickers", params=[("contract_types", contract_types)], retry=True
        )
        now = self._clock.now_ns()
        return tuple(parse_ticker(raw, now) for raw in parse_result_list(result, "result"))

    def get_order_book(self, symbol: str, *, depth: int | None = None) -> BookSnapshot:
        """Fetch the L2 book (``seq`` is -1: REST books have no sequence)."""
        result, _ = self.session.call(
            "GET", f"/v2/l2orderbook/{symbol}", params=[("depth", depth)], retry=True
        )
        return parse_l2_book(obj(result, "result"), self._clock.now_ns())

    def get_candles(
        self, symbol: str, *, resolution: str, start_s: int, end_s: int
    ) -> tuple[Candle, ...]:
        """Fetch candles with open time in ``[start_s, end_s)``, paging 2,000 per call.

        Times are UNIX seconds. The result is sorted by open time without duplicates
        (the venue's order is unconfirmed). ``symbol`` may carry ``MARK:`` etc.
        """
        res_s = RESOLUTION_S.get(resolution)
        if res_s is None:
            raise BadSchema(f"unknown resolution {resolution!r}", code="bad_schema")
        found: dict[int, Candle] = {}
        page_start = start_s - start_s % res_s
        while page_start < end_s:
            page_end = min(end_s, page_start + MAX_CANDLES_PER_CALL * res_s)
            params = [
                ("resolution", resolution),
                ("symbol", symbol),
                ("start", page_start),
                ("end", page_end - 1),
            ]
            result, _ = self.session.call("GET", "/v2/history/candles", params=params, retry=True)
            for raw in parse_result_list(result, "result"):
                candle = parse_candle(raw, symbol=symbol, resolution_s=res_s)
                if start_s * 10**9 <= candle.open_time_ns < end_s * 10**9:
                    found[candle.open_time_ns] = candle
            page_start = page_end
        return tuple(found[k] for k in sorted(found))

    # --- orders ---------------------------------------------------------------------------

    def place_order(self, order: PlaceOrder, *, bracket: Bracket | None = None) -> OpenOrder:
        """Place one order; idempotent by ``client_order_id`` (see the module docstring).

        Raises:
            Rejected: The venue refused it (``InsufficientMargin``, ``PostOnlyWouldCross``,
                ``BadSchema``, ``DuplicateClientOrderId`` on a first attempt, ...).
            Retryable: Every attempt failed; the order may or may not exist: reconcile with
                :meth:`get_order_by_client_id`.
        """
        body = order_body(order, self.product(order.symbol), bracket=bracket)
        attempts = Attempts()
        try:
            result, _ = self.session.call(
                "POST", "/v2/orders", body=body, signed=True, retry=True, attempts=attempts
            )
        except DuplicateClientOrderId:
            if attempts.sent < 2:
                raise
            return self.get_order_by_client_id(order.client_order_id)
        return self._order(result)

    def edit_order(
        self,
        *,
        symbol: str,
        order_id: str,
        size: int | None = None,
        limit_price: Decimal | None = None,
        post_only: bool | None = None,
        stop_price: Decimal | None = None,
    ) -> OpenOrder:
        """Edit an open order; ``size`` is the total size after the edit. Not retried."""
        body = edit_body(
            self.product(symbol),
            order_id=order_id,
            size=size,
            limit_price=limit_price,
            post_only=post_only,
            stop_price=stop_price,
        )
        result, _ = self.session.call("PUT", "/v2/orders", body=body, signed=True)
        return self._order(result)

    def cancel_order(
        self, *, symbol: str, order_id: str | None = None, client_order_id: str | None = None
    ) -> OpenOrder:
        """Cancel one order by venue id or client order id (exactly one). Not retried.

        Raises:
            NotFound: No open order has that id (already filled or cancelled).
        """
        if (order_id is None) == (client_order_id is None):
            raise BadSchema("give exactly one of order_id and client_order_id", code="bad_schema")
        body: dict[str, Any] = {"product_id": self.product(symbol).product_id}
        if order_id is not None:
            body["id"] = wire_id(order_id)
        else:
            assert client_order_id is not None
            check_client_order_id(client_order_id)
            body["client_order_id"] = client_order_id
        result, _ = self.session.call("DELETE", "/v2/orders", body=body, signed=True)
        return self._order(result)

    def cancel_all_orders(self, symbol: str | None = None) -> None:
        """Cancel every open limit, stop and reduce-only order (of ``symbol``, or all)."""
        body: dict[str, Any] = {
            "cancel_limit_orders": "true",
            "cancel_stop_orders": "true",
            "cancel_reduce_only_orders": "true",
        }
        if symbol is not None:
            body["product_id"] = self.product(symbol).product_id
        self.session.call("DELETE", "/v2/orders/all", body=body, signed=True)

    def place_orders(self, symbol: str, orders: Sequence[PlaceOrder]) -> tuple[OpenOrder, ...]:
        """Place up to 50 orders of one product in one batch. Not retried.

        Returns only the orders the venue processed (it gives no per-order error).
        """
        product = self.product(symbol)
        if not 1 <= len(orders) <= MAX_BATCH:
            raise BadSchema(f"a batch holds 1 to {MAX_BATCH} orders", code="bad_schema")
        items = []
        for order in orders:
            if order.symbol != symbol:
                raise BadSchema(f"batch for {symbol} holds {order.symbol}", code="bad_schema")
            item = order_body(order, product)
            del item["product_id"]
            items.append(item)
        body = {"product_id": product.product_id, "orders": items}
        result, _ = self.session.call("POST", "/v2/orders/batch", body=body, signed=True)
        return tuple(self._order(raw) for raw in parse_result_list(result, "result"))

    def cancel_orders(self, symbol: str, order_ids: Sequence[str]) -> tuple[OpenOrder, ...]:
        """Cancel up to 50 orders of one product by venue id. Not retried."""
        if not 1 <= len(order_ids) <= MAX_BATCH:
            raise BadSchema(f"a batch holds 1 to {MAX_BATCH} orders", code="bad_schema")
        body = {
            "product_id": self.product(symbol).product_id,
            "orders": [{"id": wire_id(i)} for i in order_ids],
        }
        result, _ = self.session.call("DELETE", "/v2/orders/batch", body=body, signed=True)
        return tuple(self._order(raw) for raw in parse_result_list(result, "result"))

    def place_bracket(self, symbol: str, bracket: Bracket) -> tuple[OpenOrder, ...]:
        """Attach stop-loss / take-profit orders to the open position. Not retried.

        Returns the stop orders when the venue returns them, else an empty tuple.
        """
        body = bracket_body(self.product(symbol), bracket)
        result, _ = self.session.call("POST", "/v2/orders/bracket", body=body, signed=True)
        if isinstance(result, list):
            return tuple(self._order(raw) for raw in parse_result_list(result, "result"))
        return ()

    def get_open_orders(self, symbol: str | None = None) -> tuple[OpenOrder, ...]:
        """Fetch every open or pending (untriggered stop) order, all pages."""
        params: list[tuple[str, object]] = [("states", "open,pending")]
        if symbol is not None:
            params.insert(0, ("product_ids", self.product(symbol).product_id))
        return tuple(self._order(raw) for raw in self._pages("/v2/orders", params, signed=True))

    def get_order(self, order_id: str) -> OpenOrder:
        """Fetch one order by venue id. Raises :class:`NotFound`."""
        result, _ = self.session.call("GET", f"/v2/orders/{order_id}", signed=True, retry=True)
        return self._order(result)

    def get_order_by_client_id(self, client_order_id: str) -> OpenOrder:
        """Fetch one order by client order id. Raises :class:`NotFound`."""
        check_client_order_id(client_order_id)
        path = f"/v2/orders/client_order_id/{client_order_id}"
        result, _ = self.session.call("GET", path, signed=True, retry=True)
        return self._order(result)

    # --- account --------------------------------------------------------------------------

    def get_position(self, symbol: str) -> PositionSnapshot:
        """Fetch the real-time position of one product (``/v2/positions``)."""
        product = self.product(symbol)
        result, _ = self.session.call(
            "GET",
            "/v2/positions",
            params=[("product_id", product.product_id)],
            signed=True,
            retry=True,
        )
        raw = dict(obj(result, "result"))
        raw.setdefault("product_id", product.product_id)
        raw.setdefault("product_symbol", symbol)
        return parse_position(raw, self._symbols)

    def get_positions(self) -> tuple[PositionSnapshot, ...]:
        """Fetch every open position with full fields (``/v2/positions/margined``)."""
        result, _ = self.session.call("GET", "/v2/positions/margined", signed=True, retry=True)
        return tuple(
            parse_position(raw, self._symbols) for raw in parse_result_list(result, "result")
        )

    def get_wallet_balances(self) -> tuple[WalletBalance, ...]:
        """Fetch every asset's wallet."""
        result, _ = self.session.call("GET", "/v2/wallet/balances", signed=True, retry=True)
        return tuple(parse_wallet(raw) for raw in parse_result_list(result, "result"))

    def get_fills(
        self,
        symbol: str | None = None,
        *,
        start_ns: int | None = None,
        end_ns: int | None = None,
    ) -> tuple[Fill, ...]:
        """Fetch our fills (all pages of 50), optionally of one symbol and in a time range."""
        params: list[tuple[str, object]] = []
        if symbol is not None:
            params.append(("product_ids", self.product(symbol).product_id))
        if start_ns is not None:
            params.append(("start_time", start_ns // 1000))
        if end_ns is not None:
            params.append(("end_time", end_ns // 1000))
        return tuple(
            parse_fill(raw, self._symbols) for raw in self._pages("/v2/fills", params, signed=True)
        )

    # --- helpers --------------------------------------------------------------------------

    def _order(self, raw: object) -> OpenOrder:
        return parse_order(obj(raw, "result"), self._symbols)

    def _pages(
        self, path: str, params: Params, *, signed: bool, page_size: int = _PAGE_SIZE
    ) -> Iterator[Mapping[str, Any]]:
        """Yield every object of a cursor-paged list (``meta.after``)."""
        after: object = None
        for _ in range(_MAX_PAGES):
            page = [*params, ("page_size", page_size), ("after", after)]
            result, meta = self.session.call("GET", path, params=page, signed=signed, retry=True)
            yield from parse_result_list(result, "result")
            after = meta.get("after")
            if after in (None, "") or not seq(result, "result"):
                return
