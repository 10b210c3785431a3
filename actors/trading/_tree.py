"""trading_tree: the trading subtree's ChildSpec, built from settings.

trading           Supervisor one_for_one
|- gateway        the order gateway (EngineGateway in-process, or a REST gateway)
|- risk           RiskActor
|- execution      ExecutionActor
|- strategy:S     StrategyActor for each symbol S in bot.symbols
|- position:<id>  PositionActor, dynamic (started by execution), transient
`- hedge:<id>     HedgeActor, dynamic (started by its position), transient
"""

from __future__ import annotations

from collections.abc import Mapping

from actors._specs import ChildSpec, Restart, SupervisorSpec
from actors._supervisor import Supervisor
from actors.trading._actors import ExecutionActor, RiskActor, StrategyActor, strategy_id
from actors.trading._dynamic import PositionActor
from actors.trading._ids import EXECUTION_ID, GATEWAY_ID, RISK_ID, TRADING_ID, position_actor_id
from actors.trading._internal import StartPosition
from actors.trading._rest_gateway import RestGateway
from messages import Product
from messages.settings import TIMEFRAME_SECONDS, Secret, Settings

__all__ = ["rest_gateway_spec", "trading_tree"]

_NS = 1_000_000_000
_MS = 1_000_000


def trading_tree(
    settings: Settings,
    *,
    products: Mapping[str, Product],
    gateway_spec: ChildSpec,
    clock_speed: float = 1.0,
) -> ChildSpec:
    """Return the ChildSpec of the trading supervisor and its children.

    Args:
        settings: The bot's settings ([bot] symbols, [strategy], [risk], [execution], [hedge],
            [supervision]).
        products: The Product of every traded symbol (and of every hedge instrument).
        gateway_spec: The order gateway; its actor id must be ``"gateway"``.
        clock_speed: Clock seconds per real second (the simulator's speed), for lateness.
    """
    symbols = settings.bot.symbols
    missing = [s for s in symbols if s not in products]
    if missing:
        msg = f"trading_tree: no product for {', '.join(missing)}"
        raise ValueError(msg)
    products = dict(products)
    # An entry signal computed this late after its candle closed is a backfill after
    # downtime: one timeframe, but never less than 10 real seconds of a fast clock (a busy
    # machine must not silence a simulation).
    late_ns = max(TIMEFRAME_SECONDS[settings.bot.timeframe] * _NS, int(10 * _NS * clock_speed))

    def position_spec(start: StartPosition) -> ChildSpec:
        return ChildSpec(
            actor_id=position_actor_id(start.position_id),
            factory=lambda: PositionActor(
                position_id=start.position_id,
                signal=start.signal,
                products=products,
                hedge=settings.hedge,
                symbols=symbols,
            ),
            restart=Restart.TRANSIENT,
        )

    children = (
        ChildSpec(
            actor_id=RISK_ID, factory=lambda: RiskActor(risk=settings.risk, products=products)
        ),
        ChildSpec(
            actor_id=EXECUTION_ID,
            factory=lambda: ExecutionActor(
                execution=settings.execution, products=products, position_spec=position_spec
            ),
        ),
        *(
            ChildSpec(
                actor_id=strategy_id(s),
                factory=lambda s=s: StrategyActor(
                    symbol=s,
                    strategy=settings.strategy,
                    risk=settings.risk,
                    product=products[s],
                    stale_after_ns=late_ns,
                ),
            )
            for s in symbols
        ),
        gateway_spec,
    )
    sup = settings.supervision
    spec = SupervisorSpec(
        max_restarts=sup.max_restarts, within_ns=sup.within_s * _NS, children=children
    )
    # Stopping takes each child's budget in turn, plus room for a few dynamic positions.
    stop_ns = sum(c.shutdown_timeout_ns for c in children) + 4 * sup.shutdown_timeout_ms * _MS
    return ChildSpec(
        actor_id=TRADING_ID, factory=lambda: Supervisor(spec), shutdown_timeout_ns=stop_ns
    )


def rest_gateway_spec(
    settings: Settings, *, rest_url: str, ws_url: str, api_key: Secret, api_secret: Secret
) -> ChildSpec:
    """Return the ChildSpec of the REST gateway (sim and live): pass it as ``gateway_spec``.

    For sim mode: ``rest_url=sim.rest_url, ws_url=sim.ws_url`` and the sim's key pair; the
    market subtree is ``market_tree(settings, rest_url=..., public_ws_url=sim.public_ws_url,
    clock_speed=...)`` and must start before the trading subtree (its books publish the
    ``TopOfBook`` execution prices from, its indicators the candles strategies act on).
    """
    return ChildSpec(
        actor_id=GATEWAY_ID,
        factory=lambda: RestGateway(
            rest_url=rest_url,
            ws_url=ws_url,
            api_key=api_key,
            api_secret=api_secret,
            settings=settings.exchange,
            symbols=settings.bot.symbols,
            stale_entry_ns=settings.execution.entry_timeout_s * _NS,
        ),
        shutdown_timeout_ns=settings.supervision.shutdown_timeout_ms * 1_000_000,
    )
