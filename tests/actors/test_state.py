"""Snapshots written before a field existed still load (a bot upgraded with a position open)."""

from __future__ import annotations

import pytest

from actors._durable import DurableActor
from actors._state import StateError, dump_state, load_state
from actors.trading._dynamic import HedgeActor, PositionActor


class _Owner:
    def __init__(self) -> None:
        self.size = 0
        self.closed = False


def test_a_state_without_an_added_field_loads_and_keeps_its_default() -> None:
    old = _Owner()
    old.size = 7
    data = dump_state(old, ("size",))  # written before "closed" existed
    new = _Owner()
    load_state(new, ("size", "closed"), data, added=("closed",))
    assert (new.size, new.closed) == (7, False)


def test_a_missing_field_that_is_not_declared_added_is_refused_by_name() -> None:
    data = dump_state(_Owner(), ("size",))
    with pytest.raises(StateError, match="closed"):
        load_state(_Owner(), ("size", "closed"), data)


@pytest.mark.parametrize("actor", [PositionActor, HedgeActor])
def test_added_fields_are_state_fields(actor: type[DurableActor]) -> None:
    assert set(actor.state_added) <= set(actor.state_fields)
