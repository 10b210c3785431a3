"""The trading actors: strategy, risk, execution, positions and hedges (issue 6).

Each actor is a thin shell over a pure logic class (:class:`SignalRules`,
:class:`RiskManager`, :class:`EntryPlanner`, :class:`PositionLedger`,
:class:`HedgeTrigger`/:class:`HedgeRunner`); :class:`EngineGateway` runs the simulator's
matching engine in-process so the whole tree runs on the deterministic runtime.
See docs/trading.md for the exact rules.
"""

from actors.trading._actors import ExecutionActor, RiskActor, StrategyActor, strategy_id
from actors.trading._dynamic import HedgeActor, PositionActor
from actors.trading._execution import EntryPlanner
from actors.trading._gateway import (
    USER_ID,
    ApplyFunding,
    EngineGateway,
    MarketMoves,
    MarketStep,
    PathStep,
    product_of,
)
from actors.trading._hedge import HedgePlan, HedgeRunner, HedgeTrigger, chunk_sizes, mid_price
from actors.trading._ids import (
    EXECUTION_ID,
    GATEWAY_ID,
    RISK_ID,
    TRADING_ID,
    Leg,
    client_order_id,
    hedge_actor_id,
    leg_of,
    position_actor_id,
    position_id_for,
)
from actors.trading._internal import (
    ArmTimeout,
    ChunkDue,
    EntryTimedOut,
    PositionReady,
    StartPosition,
)
from actors.trading._ledger import PositionLedger
from actors.trading._rest_gateway import RestGateway, StreamTranslator
from actors.trading._risk import DAY_NS, RiskManager
from actors.trading._signals import SignalRules, rule_inputs
from actors.trading._tree import rest_gateway_spec, trading_tree

__all__ = [
    "DAY_NS",
    "EXECUTION_ID",
    "GATEWAY_ID",
    "RISK_ID",
    "TRADING_ID",
    "USER_ID",
    "ApplyFunding",
    "ArmTimeout",
    "ChunkDue",
    "EngineGateway",
    "EntryPlanner",
    "EntryTimedOut",
    "ExecutionActor",
    "HedgeActor",
    "HedgePlan",
    "HedgeRunner",
    "HedgeTrigger",
    "Leg",
    "MarketMoves",
    "MarketStep",
    "PathStep",
    "PositionActor",
    "PositionLedger",
    "PositionReady",
    "RestGateway",
    "RiskActor",
    "RiskManager",
    "SignalRules",
    "StartPosition",
    "StrategyActor",
    "StreamTranslator",
    "chunk_sizes",
    "client_order_id",
    "hedge_actor_id",
    "leg_of",
    "mid_price",
    "position_actor_id",
    "position_id_for",
    "product_of",
    "rest_gateway_spec",
    "rule_inputs",
    "strategy_id",
    "trading_tree",
]
