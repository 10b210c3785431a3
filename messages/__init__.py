"""Immutable message types, grouped by concern, and the one codec that carries them.

Every message is a frozen, slotted, keyword-only dataclass of one of four kinds
(:class:`Command`, :class:`Event`, :class:`Request`, :class:`Response`); see
``docs/messages.md``. Modules: ``_market`` (candles, books, trades), ``_indicators``,
``_orders`` and ``_trading`` (orders, signals, risk, positions, hedges, equity),
``_control`` (operator commands, timers), ``_health`` (actor states and reports).

:func:`encode` and :func:`decode` turn any registered message into orjson bytes and back,
exactly; :func:`all_message_types` lists them. Importing this package checks every
message class once and raises :class:`MessageDefinitionError` if one is declared wrongly.
"""

from __future__ import annotations

from messages._base import (
    Command,
    Event,
    Message,
    Request,
    Response,
    all_message_types,
    message_type,
)
from messages._codec import decode, encode, prepare_all
from messages._control import (
    Flatten,
    KillActor,
    PauseEntries,
    ResetKillSwitch,
    RestartActor,
    ResumeEntries,
    SetLogLevel,
    SnapshotTaken,
    StopBot,
    TakeSnapshot,
)
from messages._enums import Direction, OrderStatus, OrderType, RiskVerdict, Side, TimeInForce
from messages._errors import (
    BotError,
    CodecError,
    InvalidFieldError,
    MessageDefinitionError,
    MessageError,
)
from messages._health import (
    ActorHealth,
    ActorState,
    ActorStateChanged,
    HealthReport,
    OverallHealth,
    SupervisorHealth,
)
from messages._indicators import CorrelationUpdated, IndicatorsUpdated
from messages._market import (
    BookLevel,
    BookSnapshot,
    BookUpdate,
    Candle,
    CandleClosed,
    FetchCandles,
    FetchCandlesReply,
    FundingRate,
    MarkPrice,
    Ticker,
    TopOfBook,
    Trade,
)
from messages._orders import (
    CLIENT_ORDER_ID_MAX_LEN,
    CancelAllOrders,
    CancelOrder,
    FetchOpenOrders,
    FetchOpenOrdersReply,
    OpenOrder,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    PlaceOrder,
)
from messages._schema import Value
from messages._trading import (
    EquityUpdated,
    HedgeClosed,
    HedgeOpened,
    KillSwitchReset,
    KillSwitchTriggered,
    PositionChanged,
    PositionClosed,
    PositionOpened,
    RiskCheck,
    RiskDecision,
    Signal,
)
from messages._types import ActorId, Contracts, UnixNanos

prepare_all()

__all__ = [
    "CLIENT_ORDER_ID_MAX_LEN",
    "ActorHealth",
    "ActorId",
    "ActorState",
    "ActorStateChanged",
    "BookLevel",
    "BookSnapshot",
    "BookUpdate",
    "BotError",
    "CancelAllOrders",
    "CancelOrder",
    "Candle",
    "CandleClosed",
    "CodecError",
    "Command",
    "Contracts",
    "CorrelationUpdated",
    "Direction",
    "EquityUpdated",
    "Event",
    "FetchCandles",
    "FetchCandlesReply",
    "FetchOpenOrders",
    "FetchOpenOrdersReply",
    "Flatten",
    "FundingRate",
    "HealthReport",
    "HedgeClosed",
    "HedgeOpened",
    "IndicatorsUpdated",
    "InvalidFieldError",
    "KillActor",
    "KillSwitchReset",
    "KillSwitchTriggered",
    "MarkPrice",
    "Message",
    "MessageDefinitionError",
    "MessageError",
    "OpenOrder",
    "OrderAccepted",
    "OrderCancelled",
    "OrderFilled",
    "OrderRejected",
    "OrderStatus",
    "OrderType",
    "OverallHealth",
    "PauseEntries",
    "PlaceOrder",
    "PositionChanged",
    "PositionClosed",
    "PositionOpened",
    "Request",
    "ResetKillSwitch",
    "Response",
    "RestartActor",
    "ResumeEntries",
    "RiskCheck",
    "RiskDecision",
    "RiskVerdict",
    "SetLogLevel",
    "Side",
    "Signal",
    "SnapshotTaken",
    "StopBot",
    "SupervisorHealth",
    "TakeSnapshot",
    "Ticker",
    "TimeInForce",
    "TopOfBook",
    "Trade",
    "UnixNanos",
    "Value",
    "all_message_types",
    "decode",
    "encode",
    "message_type",
]
