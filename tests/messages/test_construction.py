"""Messages are immutable and exact from the moment they are built.

Decision tested here: a list where a tuple is declared is rejected (InvalidFieldError),
never converted, so no caller keeps a mutable list that a message appears to own.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import messages
from messages import (
    ActorHealth,
    ActorState,
    BookLevel,
    BookSnapshot,
    BotError,
    CorrelationUpdated,
    HealthReport,
    InvalidFieldError,
    MessageDefinitionError,
    MessageError,
    OrderFilled,
    OverallHealth,
    PlaceOrder,
    Side,
    SupervisorHealth,
    TopOfBook,
    Value,
    _base,
    _codec,
)
from messages._schema import fields_of
from tests.messages.strategies import any_message


def _fill(**changes: Any) -> OrderFilled:
    fields: dict[str, Any] = {
        "ts_init": 2,
        "ts_event": 1,
        "fill_id": "f-1",
        "client_order_id": "c-1",
        "order_id": "o-1",
        "symbol": "BTCUSD",
        "side": Side.BUY,
        "price": Decimal("65000.50"),
        "size": 10,
        "leaves_size": 0,
        "fee": Decimal("0.0325"),
        "fee_asset": "USD",
        "is_maker": True,
    }
    fields.update(changes)
    return OrderFilled(**fields)


def _book(**changes: Any) -> BookSnapshot:
    fields: dict[str, Any] = {
        "ts_init": 2,
        "ts_event": 1,
        "symbol": "BTCUSD",
        "seq": 1,
        "bids": (BookLevel(price=Decimal("1"), size=1),),
        "asks": (),
        "checksum": None,
    }
    fields.update(changes)
    return BookSnapshot(**fields)


def _rejected(build: Any, path: str, reason: str) -> None:
    with pytest.raises(InvalidFieldError) as info:
        build()
    assert info.value.path == path
    assert reason in info.value.reason
    assert str(info.value).startswith(f"{info.value.type_name}.{path}: ")


def test_fields_cannot_be_assigned_or_deleted() -> None:
    fill = _fill()
    with pytest.raises(dataclasses.FrozenInstanceError):
        fill.price = Decimal(1)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del fill.price  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        fill.note = "x"  # type: ignore[attr-defined]
    assert not hasattr(fill, "__dict__")


def test_messages_are_hashable_values() -> None:
    assert hash(_fill()) == hash(_fill())
    assert len({_fill(), _fill(), _fill(size=11)}) == 2


def test_every_message_and_value_class_is_frozen_slotted_and_keyword_only() -> None:
    classes = set(messages.all_message_types())
    classes |= {
        shape.cls
        for cls in messages.all_message_types()
        for _, shape in fields_of(cls)
        if shape.cls is not None and issubclass(shape.cls, Value)
    }
    for cls in classes:
        assert cls.__dataclass_params__.frozen, cls  # type: ignore[attr-defined]
        assert "__slots__" in cls.__dict__, cls
        assert all(field.kw_only for field in dataclasses.fields(cls)), cls
        with pytest.raises(TypeError):
            cls(*range(len(dataclasses.fields(cls))))


def test_a_list_for_a_tuple_is_rejected_not_converted() -> None:
    _rejected(lambda: _book(bids=[BookLevel(price=Decimal(1), size=1)]), "bids", "got list")
    _rejected(
        lambda: CorrelationUpdated(
            ts_event=1, ts_init=1, symbols=("A",), matrix=([1.0],), window=1
        ),
        "matrix[0]",
        "expected tuple[float, ...], got list",
    )


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("price", 65000.5, "expected Decimal, got float"),
        ("price", 65000, "expected Decimal, got int"),
        ("price", "65000.5", "expected Decimal, got str"),
        ("price", Decimal("NaN"), "not finite"),
        ("price", Decimal("-Infinity"), "not finite"),
        ("size", True, "expected int, got bool"),
        ("size", 10.0, "expected int, got float"),
        ("size", np.int64(10), "expected int, got int64"),
        ("size", 2**63, "outside the signed 64-bit range"),
        ("ts_init", -(2**63) - 1, "outside the signed 64-bit range"),
        ("is_maker", 1, "expected bool, got int"),
        ("side", "BUY", "expected Side, got str"),
        ("symbol", Side.BUY, "expected str, got Side"),
        ("symbol", None, "expected str, got NoneType"),
    ],
)
def test_a_wrong_type_is_rejected_naming_the_field(field: str, value: Any, reason: str) -> None:
    _rejected(lambda: _fill(**{field: value}), field, reason)


def test_floats_must_be_python_floats() -> None:
    def build(value: Any) -> CorrelationUpdated:
        return CorrelationUpdated(
            ts_event=1, ts_init=1, symbols=("A",), matrix=((value,),), window=1
        )

    assert math.isnan(build(math.nan).matrix[0][0])
    _rejected(lambda: build(np.float64(0.5)), "matrix[0][0]", "expected float, got float64")
    _rejected(lambda: build(1), "matrix[0][0]", "expected float, got int")


def test_nested_values_and_optional_fields() -> None:
    _rejected(lambda: _book(bids=((1, 2),)), "bids[0]", "expected BookLevel, got tuple")
    _rejected(lambda: BookLevel(price=Decimal(1), size=None), "size", "got NoneType")
    top = TopOfBook(
        ts_event=1,
        ts_init=1,
        symbol="X",
        best_bid=None,
        best_bid_size=None,
        best_ask=Decimal("2"),
        best_ask_size=3,
        synced=True,
        stale=False,
    )
    assert top.best_bid is None
    _rejected(
        lambda: dataclasses.replace(top, best_ask=2.0), "best_ask", "expected Decimal, got float"
    )


def test_health_report_nests_tuples_of_values() -> None:
    actor = ActorHealth(
        actor_id=messages.ActorId("risk"),
        actor_class="RiskActor",
        state=ActorState.RUNNING,
        restarts=0,
        inbox_size=0,
        last_message_age_ns=None,
        uptime_ns=5,
        parent=None,
    )
    supervisor = SupervisorHealth(
        actor_id=messages.ActorId("root"),
        strategy="one_for_one",
        restarts_in_window=0,
        max_restarts=3,
        window_ns=60_000_000_000,
        children=(messages.ActorId("risk"),),
    )
    report = HealthReport(
        ts_event=1, ts_init=1, overall=OverallHealth.OK, actors=(actor,), supervisors=(supervisor,)
    )
    assert messages.decode(messages.encode(report)) == report
    _rejected(
        lambda: dataclasses.replace(supervisor, children=("risk", 1)),
        "children[1]",
        "expected str, got int",
    )


def test_place_order_checks_the_id_length_and_the_size() -> None:
    def order(**changes: Any) -> PlaceOrder:
        fields: dict[str, Any] = {
            "ts_init": 1,
            "command_id": "cmd",
            "client_order_id": "x" * 32,
            "symbol": "BTCUSD",
            "side": Side.SELL,
            "size": 1,
            "order_type": messages.OrderType.MARKET,
            "limit_price": None,
            "stop_price": None,
            "post_only": False,
            "reduce_only": True,
            "time_in_force": messages.TimeInForce.IOC,
            "position_id": "p-1",
        }
        fields.update(changes)
        return PlaceOrder(**fields)

    assert order().client_order_id == "x" * 32
    _rejected(lambda: order(client_order_id="x" * 33), "client_order_id", "1 to 32")
    _rejected(lambda: order(client_order_id=""), "client_order_id", "1 to 32")
    _rejected(lambda: order(size=0), "size", "must be > 0")
    _rejected(lambda: order(size=-1), "size", "must be > 0")
    _rejected(lambda: order(client_order_id=5), "client_order_id", "expected str")


def test_invalid_field_error_is_a_message_error_and_a_type_error() -> None:
    assert issubclass(InvalidFieldError, MessageError)
    assert issubclass(InvalidFieldError, TypeError)
    assert issubclass(MessageDefinitionError, MessageError)
    assert issubclass(MessageError, BotError)


# -- declaring classes --------------------------------------------------------------------


@pytest.fixture
def scratch_registry() -> Iterator[None]:
    """Let a test register message classes, and forget them afterwards."""
    saved = dict(_base._REGISTRY)
    try:
        yield
    finally:
        _base._REGISTRY.clear()
        _base._REGISTRY.update(saved)


@pytest.mark.usefixtures("scratch_registry")
def test_a_duplicate_message_name_is_an_error() -> None:
    real = messages.message_type("OrderFilled")
    with pytest.raises(MessageDefinitionError, match="duplicate message type name 'OrderFilled'"):

        @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
        class OrderFilled(messages.Event):  # the name is the wire tag: it must be unique
            """A second class with the same name.

            Attributes:
                note: Anything.
            """

            note: str

    assert messages.message_type("OrderFilled") is real


@pytest.mark.usefixtures("scratch_registry")
def test_a_new_message_class_registers_itself() -> None:
    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class ScratchHappened(messages.Event):
        """A test event.

        Attributes:
            levels: Some levels.
        """

        levels: tuple[BookLevel, ...]

    assert messages.message_type("ScratchHappened") is ScratchHappened
    assert ScratchHappened in messages.all_message_types()
    msg = ScratchHappened(ts_event=1, ts_init=2, levels=(BookLevel(price=Decimal("1.0"), size=2),))
    assert messages.decode(messages.encode(msg)) == msg


@pytest.mark.parametrize(
    "hint",
    [list[int], dict[str, int], int | str, tuple[int, str], set[int], "bytes", "object"],
)
def test_an_unsupported_field_type_is_a_definition_error(hint: Any) -> None:
    cls = dataclasses.make_dataclass(
        "Scratch", [("field", hint)], bases=(Value,), frozen=True, slots=True, kw_only=True
    )
    with pytest.raises(MessageDefinitionError, match=r"Scratch\.field: unsupported field type"):
        cls(field=None)


def test_a_value_class_must_be_frozen_and_slotted() -> None:
    @dataclasses.dataclass(kw_only=True)
    class Mutable(Value):
        size: int

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class NoSlots(Value):
        size: int

    for cls in (Mutable, NoSlots):
        with pytest.raises(MessageDefinitionError, match="frozen=True, slots=True"):
            cls(size=1)


@pytest.mark.usefixtures("scratch_registry")
def test_a_registered_class_with_a_bad_field_fails_prepare_all() -> None:
    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class BadHappened(messages.Event):
        """Attributes: items: a list, which messages may not hold."""

        items: list[int]

    with pytest.raises(MessageDefinitionError, match=r"BadHappened\.items"):
        _codec.prepare_all()


@pytest.mark.usefixtures("scratch_registry")
def test_a_field_named_type_is_a_definition_error() -> None:
    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Typed(messages.Event):
        """Attributes: type: clashes with the wire tag."""

        type: str

    with pytest.raises(MessageDefinitionError, match="no field may be named 'type'"):
        messages.encode(Typed(ts_event=1, ts_init=1, type="x"))


ODD_VALUES = st.sampled_from(
    [
        None,
        0,
        -1,
        2**64,
        1.0,
        math.nan,
        True,
        "",
        "BUY",
        Decimal("1.5"),
        Decimal("NaN"),
        (),
        [],
        ("a",),
        (1.0,),
        ((1.0,),),
        Side.BUY,
        ActorState.RUNNING,
        BookLevel(price=Decimal(1), size=1),
        np.float64(1.0),
        object(),
    ]
)


@settings(max_examples=300, deadline=None)
@given(any_message(), st.data())
def test_any_field_given_any_value_is_accepted_or_refused_by_name(
    msg: messages.Message, data: st.DataObject
) -> None:
    """The generated check and the diagnosis agree: a refusal always names the field."""
    field = data.draw(st.sampled_from([f.name for f in dataclasses.fields(msg)]))
    value = data.draw(ODD_VALUES)
    refusal: InvalidFieldError | None = None
    try:
        changed = dataclasses.replace(msg, **{field: value})
    except InvalidFieldError as error:
        refusal = error
    if refusal is not None:
        assert refusal.path.startswith(field)
        assert refusal.type_name == type(msg).__name__
    else:
        wire = messages.encode(changed)
        assert messages.encode(messages.decode(wire)) == wire


@settings(max_examples=200, deadline=None)
@given(any_message(), st.randoms(use_true_random=False), st.data())
def test_a_positional_maker_builds_what_keywords_build_and_checks_alike(
    msg: messages.Message, rng: Any, data: st.DataObject
) -> None:
    """In any order it is given, the maker builds the equal message, and refuses what the
    keyword constructor refuses, naming the same field."""
    names = [f.name for f in dataclasses.fields(msg)]
    rng.shuffle(names)
    make = messages.positional_maker(type(msg), tuple(names))
    assert make(*(getattr(msg, n) for n in names)) == msg
    field = data.draw(st.sampled_from(names))
    value = data.draw(ODD_VALUES)
    args = [value if n == field else getattr(msg, n) for n in names]
    try:
        want: Any = dataclasses.replace(msg, **{field: value})
    except InvalidFieldError as error:
        want = (error.path, error.reason)
    try:
        got: Any = make(*args)
    except InvalidFieldError as error:
        got = (error.path, error.reason)
    assert got == want


def test_a_positional_maker_needs_exactly_the_fields() -> None:
    names = tuple(f.name for f in dataclasses.fields(TopOfBook))
    with pytest.raises(MessageDefinitionError, match="not exactly its fields"):
        messages.positional_maker(TopOfBook, names[:-1])
    with pytest.raises(MessageDefinitionError, match="not exactly its fields"):
        messages.positional_maker(TopOfBook, (*names, "extra"))
