"""Paper trading: real public market data, orders matched by the local engine.

:class:`PaperBridge` (actor id ``"paper-bridge"``) turns the market subtree's public data
into :class:`~actors.trading.MarketStep` commands for the :class:`EngineGateway`: every
``TopOfBook`` becomes the engine's one-level liquidity on each side (so a market order fills
at the real best price), every public ``Trade`` trades at its price (so a resting limit
order fills once the real market trades through it). Nothing is sent to the exchange:
paper mode needs no keys. :func:`paper_gateway_specs` gives the gateway and the bridge.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from actors._actor import Actor
from actors._specs import ChildSpec
from actors.trading._gateway import EngineGateway, MarketStep
from actors.trading._ids import GATEWAY_ID
from exchange.sim import SimProduct
from messages import Product, TopOfBook, Trade

__all__ = ["PAPER_BRIDGE_ID", "PaperBridge", "paper_gateway_specs", "sim_product_of"]

PAPER_BRIDGE_ID = "paper-bridge"


def sim_product_of(product: Product) -> SimProduct:
    """The engine's product for a venue product (fees, tick, contract value, funding)."""
    return SimProduct(
        symbol=product.symbol,
        product_id=product.product_id,
        underlying=product.symbol.removesuffix("USD"),
        contract_value=product.contract_value,
        tick_size=product.tick_size,
        maker_rate=product.maker_fee_rate,
        taker_rate=product.taker_fee_rate,
        funding_interval_s=product.funding_interval_s,
    )


class PaperBridge(Actor):
    """Public market data -> the local engine's market (see the module docstring)."""

    def __init__(self, symbols: tuple[str, ...]) -> None:
        self.symbols = symbols
        self.tops = 0
        self.trades = 0

    def on_start(self) -> None:
        """Subscribe to each traded symbol's top of book and public trades."""
        for symbol in self.symbols:
            self.context.subscribe(TopOfBook, key=symbol)
            self.context.subscribe(Trade, key=symbol)

    def describe(self) -> dict[str, object]:
        """Counts of what was forwarded."""
        return {"tops": self.tops, "trades": self.trades}

    def on_top_of_book(self, top: TopOfBook) -> None:
        """A usable top becomes the engine's liquidity."""
        if not top.synced or top.stale or top.best_bid is None or top.best_ask is None:
            return
        self.tops += 1
        depth = min(top.best_bid_size or 1, top.best_ask_size or 1)
        step = MarketStep(
            top.symbol, bid=top.best_bid, ask=top.best_ask, volume=0, depth=max(1, depth)
        )
        self.context.send(GATEWAY_ID, step)

    def on_trade(self, trade: Trade) -> None:
        """A public trade trades on the engine at its price."""
        self.trades += 1
        step = MarketStep(trade.symbol, price=trade.price, volume=max(1, int(trade.size)))
        self.context.send(GATEWAY_ID, step)


def paper_gateway_specs(
    products: Mapping[str, Product], symbols: tuple[str, ...], balance: Decimal
) -> tuple[ChildSpec, ChildSpec]:
    """The gateway (local engine, no top-of-book publishing: the real books do that) and
    the bridge that feeds it."""
    sims = [sim_product_of(p) for p in products.values()]
    gateway = ChildSpec(
        actor_id=GATEWAY_ID,
        factory=lambda: EngineGateway(products=sims, balance=balance, publish_tops=False),
    )
    bridge = ChildSpec(actor_id=PAPER_BRIDGE_ID, factory=lambda: PaperBridge(symbols))
    return gateway, bridge
