"""The REST endpoints: thin handlers that parse, call the engine, and format.

Each handler receives a :class:`Request` and returns the ``result`` (or ``(result, meta)``,
or None for a bare ``{"success": true}``); :class:`OrderRejected` becomes a 400 envelope in
:class:`RestApp`. Handlers run on HTTP request threads; reads hold the engine lock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from exchange.sim._candles import RESOLUTIONS, CandleStore
from exchange.sim._errors import OrderRejected, bad_schema
from exchange.sim._facade import SimEngine
from exchange.sim._model import Order
from exchange.sim._params import as_bool, as_int, as_price, as_str, order_request, product_of
from exchange.sim._public import candle_json, l2_json, trade_json
from exchange.sim._rest_app import Request, Route
from exchange.sim._tickers import ticker_json
from exchange.sim._wire import (
    fill_json,
    order_json,
    position_json,
    product_json,
    us,
    wallet_json,
)

__all__ = ["build_routes"]

MAX_CANDLES = 2000
MAX_BATCH = 50
_SYMBOL = r"([A-Za-z0-9:_.,-]+)"


def build_routes(
    engine: SimEngine, candles: CandleStore, quota: Callable[[str], tuple[int, int]]
) -> list[Route]:
    """All endpoints, with Delta's rate-limit weights."""
    h = _Handlers(engine, candles, quota)

    def r(method: str, path: str, fn: Callable[[Request], Any], weight: int, signed: bool) -> Route:
        return Route(method, re.compile(path), fn, weight, signed)

    return [
        r("GET", "/v2/products", h.products, 3, False),
        r("GET", "/v2/products/" + _SYMBOL, h.product, 3, False),
        r("GET", "/v2/tickers", h.tickers, 3, False),
        r("GET", "/v2/tickers/" + _SYMBOL, h.tickers_of, 3, False),
        r("GET", "/v2/l2orderbook/" + _SYMBOL, h.l2, 3, False),
        r("GET", "/v2/trades/" + _SYMBOL, h.trades, 1, False),
        r("GET", "/v2/history/candles", h.history_candles, 3, False),
        r("GET", "/v2/settings", h.settings, 1, False),
        r("GET", "/v2/orders", h.open_orders, 3, True),
        r("POST", "/v2/orders", h.place, 5, True),
        r("PUT", "/v2/orders", h.edit, 5, True),
        r("DELETE", "/v2/orders", h.cancel, 5, True),
        r("GET", "/v2/orders/history", h.history, 10, True),
        r("DELETE", "/v2/orders/all", h.cancel_all, 5, True),
        r("POST", "/v2/orders/batch", h.batch_place, 25, True),
        r("PUT", "/v2/orders/batch", h.batch_edit, 25, True),
        r("DELETE", "/v2/orders/batch", h.batch_cancel, 25, True),
        r("POST", "/v2/orders/bracket", h.bracket, 5, True),
        r("GET", r"/v2/orders/client_order_id/([^/]+)", h.order_by_coid, 1, True),
        r("GET", r"/v2/orders/(\d+)", h.order_by_id, 1, True),
        r("GET", "/v2/positions", h.positions, 3, True),
        r("GET", "/v2/positions/margined", h.margined, 3, True),
        r("GET", "/v2/fills", h.fills, 10, True),
        r("GET", "/v2/wallet/balances", h.balances, 3, True),
        r("GET", r"/v2/products/(\d+)/orders/leverage", h.get_leverage, 1, True),
        r("POST", r"/v2/products/(\d+)/orders/leverage", h.set_leverage, 5, True),
        r("GET", "/v2/rate_limits/quota", h.quota, 1, True),
    ]


def _ids(text: str | None, param: str) -> set[int] | None:
    if not text:
        return None
    try:
        values = {int(v) for v in text.split(",") if v.strip()}
    except ValueError as exc:
        raise bad_schema(param, f"{param} must be comma-separated integers") from exc
    if len(values) > 10:
        raise bad_schema(param, f"{param} takes at most 10 values")
    return values


def _page(items: list[Any], req: Request, *, cap: int) -> tuple[list[Any], dict[str, Any]]:
    """Cursor paging over newest-first items: ``after`` is the index to continue from."""
    size = min(cap, as_int(req.query, "page_size") or cap)
    if size < 1:
        raise bad_schema("page_size", "page_size must be positive")
    start = as_int(req.query, "after") or 0
    chunk = items[start : start + size]
    after = str(start + size) if start + size < len(items) else None
    return chunk, {"after": after, "before": str(start) if start else None}


class _Handlers:
    def __init__(
        self, engine: SimEngine, candles: CandleStore, quota: Callable[[str], tuple[int, int]]
    ) -> None:
        self.engine = engine
        self.candles = candles
        self.quota_of = quota

    def _user(self, req: Request) -> int:
        assert req.user_id is not None
        return req.user_id

    def _symbols(self, text: str) -> list[str]:
        names = [s for s in text.split(",") if s]
        if len(names) > 10:
            raise bad_schema("symbol", "at most 10 symbols")
        with self.engine.locked() as core:
            for name in names:
                core.product(symbol=name)
        return names

    def _order(self, order: Order) -> dict[str, Any]:
        return order_json(order, self.engine.core.products[order.product_id])

    # --- public -------------------------------------------------------------------------

    def products(self, req: Request) -> Any:
        with self.engine.locked() as core:
            items = [product_json(p) for p in core.products.values()]
        return _page(items, req, cap=500)

    def product(self, req: Request) -> Any:
        with self.engine.locked() as core:
            return product_json(core.product(symbol=req.groups[0]))

    def tickers(self, req: Request) -> Any:  # noqa: ARG002 - every handler takes the request
        with self.engine.locked() as core:
            now = self.engine.clock.now_ns()
            return [ticker_json(core, self.candles, s, now) for s in core.by_symbol]

    def tickers_of(self, req: Request) -> Any:
        names = self._symbols(req.groups[0])
        with self.engine.locked() as core:
            now = self.engine.clock.now_ns()
            found = [ticker_json(core, self.candles, s, now) for s in names]
        return found[0] if len(found) == 1 else found

    def l2(self, req: Request) -> Any:
        depth = as_int(req.query, "depth") or 1000
        with self.engine.locked() as core:
            symbol = req.groups[0]
            if symbol.isdigit():
                symbol = core.product(int(symbol)).symbol
            core.product(symbol=symbol)
            return l2_json(core, symbol, max(1, depth), self.engine.clock.now_ns())

    def trades(self, req: Request) -> Any:
        with self.engine.locked() as core:
            product = core.product(symbol=req.groups[0])
            recent = list(core.trades[product.symbol])[::-1]
            return {"trades": [trade_json(t, product) for t in recent]}

    def history_candles(self, req: Request) -> Any:
        symbol = as_str(req.query, "symbol")
        resolution = as_str(req.query, "resolution", choices=tuple(RESOLUTIONS))
        start, end = as_int(req.query, "start"), as_int(req.query, "end")
        for name, value in (
            ("symbol", symbol),
            ("resolution", resolution),
            ("start", start),
            ("end", end),
        ):
            if value is None:
                raise bad_schema(name, f"{name} is required")
        assert symbol and resolution and start is not None and end is not None
        prefix, _, base = symbol.rpartition(":")
        if prefix not in ("", "MARK"):
            return []  # FUNDING: and OI: series are not simulated
        product = self.engine.core.product(symbol=base)
        got = self.candles.query(product.symbol, RESOLUTIONS[resolution], start, end)
        return [candle_json(c, product) for c in got[-MAX_CANDLES:]]

    def settings(self, req: Request) -> Any:  # noqa: ARG002 - every handler takes the request
        return {"server_time": us(self.engine.clock.now_ns()), "under_maintenance": "false"}

    # --- orders ---------------------------------------------------------------------------

    def _open_list(self, req: Request, states: Iterable[str]) -> list[Order]:
        pids = _ids(req.query.get("product_ids") or req.query.get("product_id"), "product_ids")
        with self.engine.locked() as core:
            orders = [
                o.snapshot()
                for o in core.accounts[self._user(req)].open_orders.values()
                if o.state in states and (pids is None or o.product_id in pids)
            ]
        return sorted(orders, key=lambda o: -o.id)

    def open_orders(self, req: Request) -> Any:
        states = (req.query.get("states") or "open,pending").split(",")
        items = [self._order(o) for o in self._open_list(req, states)]
        return _page(items, req, cap=1000)

    def history(self, req: Request) -> Any:
        pids = _ids(req.query.get("product_ids"), "product_ids")
        with self.engine.locked() as core:
            done = [
                o.snapshot()
                for o in core.accounts[self._user(req)].closed
                if pids is None or o.product_id in pids
            ]
        return _page([self._order(o) for o in done[::-1]], req, cap=50)

    def order_by_id(self, req: Request) -> Any:
        with self.engine.locked() as core:
            order = core.find_order(self._user(req), order_id=int(req.groups[0]))
            if order is None:
                raise OrderRejected("not_found", {"id": req.groups[0]}, status=404)
            return self._order(order.snapshot())

    def order_by_coid(self, req: Request) -> Any:
        with self.engine.locked() as core:
            order = core.find_order(self._user(req), client_order_id=req.groups[0])
            if order is None:
                raise OrderRejected("not_found", {"client_order_id": req.groups[0]}, status=404)
            return self._order(order.snapshot())

    def place(self, req: Request) -> Any:
        order = self.engine.place_order(self._user(req), order_request(self.engine.core, req.body))
        return self._order(order)

    def _edit(self, user_id: int, body: dict[str, Any], product_id: int | None = None) -> Order:
        product = (
            self.engine.core.product(product_id)
            if product_id
            else product_of(self.engine.core, body)
        )
        order_id = as_int(body, "id", required=True)
        return self.engine.edit_order(
            user_id,
            order_id=order_id,
            product_id=product.product_id,
            limit_ticks=as_price(product, body, "limit_price"),
            size=as_int(body, "size"),
            post_only=as_bool(body, "post_only", False) if "post_only" in body else None,
            stop_ticks=as_price(product, body, "stop_price"),
        )

    def edit(self, req: Request) -> Any:
        return self._order(self._edit(self._user(req), dict(req.body)))

    def _cancel(self, user_id: int, body: dict[str, Any], product_id: int | None = None) -> Order:
        pid = product_id if product_id is not None else as_int(body, "product_id")
        order_id, coid = as_int(body, "id"), as_str(body, "client_order_id")
        if order_id is None and coid is None:
            raise bad_schema("id", "id or client_order_id is required")
        return self.engine.cancel_order(
            user_id, product_id=pid, order_id=order_id, client_order_id=coid
        )

    def cancel(self, req: Request) -> Any:
        return self._order(self._cancel(self._user(req), dict(req.body)))

    def cancel_all(self, req: Request) -> Any:
        body = req.body
        pid = as_int(body, "product_id")
        if pid is not None:
            self.engine.core.product(pid)
        self.engine.cancel_all(
            self._user(req),
            product_id=pid,
            limit_orders=as_bool(body, "cancel_limit_orders", True),
            stop_orders=as_bool(body, "cancel_stop_orders", True),
            reduce_only_orders=as_bool(body, "cancel_reduce_only_orders", True),
        )
        return None

    def _batch(self, req: Request) -> tuple[int, list[dict[str, Any]]]:
        product = product_of(self.engine.core, req.body)
        orders = req.body.get("orders")
        if (
            not isinstance(orders, list)
            or not orders
            or not all(isinstance(o, dict) for o in orders)
        ):
            raise bad_schema("orders", "orders must be a non-empty list of objects")
        if len(orders) > MAX_BATCH:
            raise bad_schema("orders", f"at most {MAX_BATCH} orders per batch")
        return product.product_id, orders

    def batch_place(self, req: Request) -> Any:
        pid, orders = self._batch(req)
        placed = []
        for body in orders:
            if body.get("time_in_force") == "ioc":
                raise bad_schema("time_in_force", "ioc is not allowed in a batch")
            try:
                request = order_request(
                    self.engine.core, {**body, "product_id": pid, "product_symbol": None}
                )
                placed.append(self._order(self.engine.place_order(self._user(req), request)))
            except OrderRejected:
                continue  # Delta returns only the orders it processed
        return placed

    def batch_edit(self, req: Request) -> Any:
        pid, orders = self._batch(req)
        done = []
        for body in orders:
            try:
                done.append(self._order(self._edit(self._user(req), body, pid)))
            except OrderRejected:
                continue
        return done

    def batch_cancel(self, req: Request) -> Any:
        pid, orders = self._batch(req)
        done = []
        for body in orders:
            try:
                done.append(self._order(self._cancel(self._user(req), body, pid)))
            except OrderRejected:
                continue
        return done

    def bracket(self, req: Request) -> Any:
        product = product_of(self.engine.core, req.body)
        legs = []
        for key in ("stop_loss_order", "take_profit_order"):
            leg = req.body.get(key)
            if leg is None:
                legs.append(None)
                continue
            if not isinstance(leg, dict):
                raise bad_schema(key, f"{key} must be an object")
            stop = as_price(product, leg, "stop_price")
            if stop is None:
                raise bad_schema(f"{key}.stop_price", "stop_price is required")
            legs.append((stop, as_price(product, leg, "limit_price")))
        trigger = as_str(
            req.body,
            "bracket_stop_trigger_method",
            choices=("mark_price", "last_traded_price", "spot_price"),
            default="mark_price",
        )
        made = self.engine.place_bracket(
            self._user(req),
            product_id=product.product_id,
            stop_loss=legs[0],
            take_profit=legs[1],
            trigger=trigger or "mark_price",
        )
        return [self._order(o) for o in made]

    # --- account ----------------------------------------------------------------------------

    def positions(self, req: Request) -> Any:
        pid = as_int(req.query, "product_id")
        underlying = req.query.get("underlying_asset_symbol")
        if pid is None and not underlying:
            raise bad_schema("product_id", "product_id or underlying_asset_symbol is required")
        with self.engine.locked() as core:
            account = core.accounts[self._user(req)]
            now = us(self.engine.clock.now_ns())
            products = (
                [core.product(pid)]
                if pid is not None
                else [p for p in core.products.values() if p.underlying == underlying]
            )
            found = []
            for product in products:
                pos = account.positions[product.product_id]
                entry = None if pos.entry_price is None else f"{pos.entry_price:f}"
                found.append(
                    {
                        "size": pos.size,
                        "entry_price": entry,
                        "timestamp": now,
                        "product_id": product.product_id,
                        "product_symbol": product.symbol,
                    }
                )
        return found[0] if pid is not None else found

    def margined(self, req: Request) -> Any:
        pids = _ids(req.query.get("product_ids"), "product_ids")
        with self.engine.locked() as core:
            account = core.accounts[self._user(req)]
            marks = core.marks()
            return [
                position_json(
                    pos, core.products[pid], leverage=account.leverage[pid], mark=marks.get(pid)
                )
                for pid, pos in account.positions.items()
                if pos.size != 0 and (pids is None or pid in pids)
            ]

    def fills(self, req: Request) -> Any:
        pids = _ids(req.query.get("product_ids"), "product_ids")
        start, end = as_int(req.query, "start_time"), as_int(req.query, "end_time")
        with self.engine.locked() as core:
            items = [
                fill_json(f, core.products[f.product_id])
                for f in reversed(core.accounts[self._user(req)].fills)
                if (pids is None or f.product_id in pids)
                and (start is None or us(f.created_ns) >= start)
                and (end is None or us(f.created_ns) <= end)
            ]
        return _page(items, req, cap=50)

    def balances(self, req: Request) -> Any:
        with self.engine.locked() as core:
            account = core.accounts[self._user(req)]
            wallet = account.wallet(core.marks())
        equity = str(wallet.balance + wallet.unrealized_pnl)
        return [wallet_json(wallet)], {"net_equity": equity, "robo_trading_equity": "0"}

    def get_leverage(self, req: Request) -> Any:
        with self.engine.locked() as core:
            product = core.product(int(req.groups[0]))
            account = core.accounts[self._user(req)]
            return {
                "leverage": str(account.leverage[product.product_id]),
                "order_margin": str(account.order_margin(product.product_id)),
                "product_id": product.product_id,
            }

    def set_leverage(self, req: Request) -> Any:
        leverage = as_int(req.body, "leverage", required=True)
        assert leverage is not None
        pid = int(req.groups[0])
        margin = self.engine.set_leverage(self._user(req), pid, leverage)
        return {"leverage": str(leverage), "order_margin": str(margin), "product_id": pid}

    def quota(self, req: Request) -> Any:
        remaining, reset = self.quota_of(f"user:{self._user(req)}")
        return {"current_quota": remaining, "remaining_time_in_milliseconds": reset}
