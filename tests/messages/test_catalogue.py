"""The catalogue: which message types exist, where, of which kind, and documented.

Adding a message type means adding its name here too; that is deliberate, so that a type
never appears on (or vanishes from) the wire unnoticed.
"""

from __future__ import annotations

import dataclasses
import re
import typing

import messages
from messages import (
    Command,
    Event,
    Message,
    Request,
    Response,
    UnixNanos,
    Value,
    all_message_types,
)
from messages._schema import fields_of

CATALOGUE: dict[str, set[str]] = {
    "messages._market": {
        "CandleClosed",
        "BookSnapshot",
        "BookUpdate",
        "TopOfBook",
        "Trade",
        "MarkPrice",
        "FundingRate",
        "Ticker",
        "FetchCandles",
        "FetchCandlesReply",
    },
    "messages._indicators": {"IndicatorsUpdated", "CorrelationUpdated"},
    "messages._orders": {
        "PlaceOrder",
        "CancelOrder",
        "CancelAllOrders",
        "OrderAccepted",
        "OrderRejected",
        "OrderCancelled",
        "OrderFilled",
        "FetchOpenOrders",
        "FetchOpenOrdersReply",
    },
    "messages._trading": {
        "Signal",
        "RiskDecision",
        "PositionOpened",
        "PositionChanged",
        "PositionClosed",
        "HedgeOpened",
        "HedgeClosed",
        "KillSwitchTriggered",
        "KillSwitchReset",
        "EquityUpdated",
        "EntryAbandoned",
        "PositionFinished",
        "SymbolsInUse",
        "RequestHedge",
        "HedgeDecision",
        "ReconcileDiscrepancy",
    },
    "messages._control": {
        "PauseEntries",
        "ResumeEntries",
        "Flatten",
        "ResetKillSwitch",
        "RestartActor",
        "KillActor",
        "TakeSnapshot",
        "SnapshotTaken",
        "SetLogLevel",
        "StopBot",
    },
    "messages._health": {"HealthReport", "ActorStateChanged"},
    "messages._account": {
        "OrdersSnapshot",
        "OrderUpdated",
        "PositionsSnapshot",
        "PositionUpdated",
        "WalletUpdated",
        "FillReported",
        "CandleUpdated",
        "BookFeedFailed",
    },
    "messages._marketdata": {
        "ResyncBook",
        "StreamConnected",
        "CandleHistoryLoaded",
        "BookHealth",
        "FeedHealth",
    },
}
KINDS = (Command, Event, Request, Response)


def _value_classes() -> set[type]:
    found: set[type] = set()
    pending: list[type] = list(all_message_types())
    while pending:
        for _, shape in fields_of(pending.pop()):
            leaf = shape
            while leaf.inner is not None:
                leaf = leaf.inner
            if leaf.cls is not None and issubclass(leaf.cls, Value) and leaf.cls not in found:
                found.add(leaf.cls)
                pending.append(leaf.cls)
    return found


def test_the_registry_is_the_catalogue() -> None:
    registered = {(cls.__module__, cls.__name__) for cls in all_message_types()}
    expected = {(module, name) for module, names in CATALOGUE.items() for name in names}
    assert registered == expected


def test_every_concrete_subclass_is_registered() -> None:
    def walk(cls: type) -> list[type]:
        return [cls, *(sub for child in cls.__subclasses__() for sub in walk(child))]

    concrete = {
        cls
        for cls in walk(Message)
        if "__slots__" in cls.__dict__  # not the unslotted first draft @dataclass replaces
        and cls not in (Message, *KINDS)
        and cls.__module__.startswith("messages.")
    }
    assert concrete == set(all_message_types())


def test_every_message_is_of_exactly_one_kind_and_named_for_it() -> None:
    for cls in all_message_types():
        kinds = [kind for kind in KINDS if issubclass(cls, kind)]
        assert len(kinds) == 1, cls
        if kinds[0] is Response:
            assert cls.__name__.endswith("Reply"), cls
        if kinds[0] is Request:
            assert messages.message_type(f"{cls.__name__}Reply") is not None, cls


def test_every_type_is_exported() -> None:
    exported = set(messages.__all__)
    for cls in {*all_message_types(), *_value_classes()}:
        assert cls.__name__ in exported
        assert getattr(messages, cls.__name__) is cls
    for name in messages.__all__:
        assert hasattr(messages, name), name
    assert {"encode", "decode", "CodecError", "MessageError", "BotError"} <= exported
    assert "all_message_types" in exported


def test_every_docstring_documents_every_field() -> None:
    for cls in {*all_message_types(), *_value_classes()}:
        doc = cls.__doc__ or ""
        assert "Attributes:" in doc, cls
        for field in dataclasses.fields(cls):
            assert re.search(rf"\b{field.name}\b", doc), f"{cls.__name__}.{field.name}"


def test_times_are_integer_ns_and_named_so() -> None:
    """A ``UnixNanos`` field is ``ts_*`` or ends in ``_ns``; an ``_ns`` field is an int."""
    int_hints = (int, UnixNanos, int | None, UnixNanos | None)
    for cls in {*all_message_types(), *_value_classes()}:
        hints = typing.get_type_hints(cls)
        for name, hint in hints.items():
            if name.endswith("_ns"):
                assert hint in int_hints, f"{cls.__name__}.{name}"
            if hint in (UnixNanos, UnixNanos | None):
                assert name.startswith("ts_") or name.endswith("_ns"), f"{cls.__name__}.{name}"
