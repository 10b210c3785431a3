"""Save a simulated exchange at a clean stop and resume it at the next start.

The bot's embedded simulator is a whole exchange: accounts, orders, positions, fills, books,
candles, and where its market's price source is. Saved beside the bot's own state with the
bot's journal sequence at that moment, it lets ``python bot.py`` resume against the same
exchange it left, so the next start reconciles instead of starting over (``bot.py`` decides
when a saved exchange may be used: see ``docs/simulator.md``).

The file is a pickle of the simulator's own objects: it is written and read only by this
program, in the user's state directory, and it is as trusted as the code that reads it (a
file from elsewhere must not be put there). A file that does not load, or was written by
another version of the format, is refused with :class:`SimStateError`, never half-used.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exchange.sim._errors import ExchangeSimError

__all__ = ["FORMAT", "SavedExchange", "SimStateError", "load_exchange", "save_exchange"]

FORMAT = 1
"""Version of the saved layout; another version is refused."""


class SimStateError(ExchangeSimError):
    """A saved simulator that cannot be used (unreadable, or another format version)."""


@dataclass(frozen=True, slots=True)
class SavedExchange:
    """A simulated exchange as it was at a clean stop.

    Attributes:
        fingerprint: The settings that shaped it (products, market source, seed, balance);
            a start with other settings makes a new exchange instead.
        journal_seq: The bot's last journal sequence when it was saved.
        clock_ns: Market time when it was saved; the resumed clock starts there.
        core: The matching engine (accounts, orders, positions, fills, books).
        event_id: The last event number the exchange handed out.
        candles: The candle store's rows.
        source: The market's price source, positioned at the next step.
        market: The market driver's position (next step time, last prices, funding times).
    """

    fingerprint: tuple[Any, ...]
    journal_seq: int
    clock_ns: int
    core: Any
    event_id: int
    candles: dict[str, Any]
    source: Any
    market: dict[str, Any]


def save_exchange(path: Path, saved: SavedExchange) -> None:
    """Write ``saved`` atomically (a crash leaves the old file or the new one, never half)."""
    temp = path.with_name(path.name + ".tmp")
    with temp.open("wb") as out:
        pickle.dump((FORMAT, saved), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()
        os.fsync(out.fileno())
    temp.replace(path)


def load_exchange(path: Path) -> SavedExchange:
    """Read a :func:`save_exchange` file.

    Raises:
        SimStateError: unreadable, truncated, or another format version.
    """
    try:
        with path.open("rb") as src:
            version, saved = pickle.load(src)  # our own file: see the module docstring
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError) as exc:
        raise SimStateError(f"{path}: cannot read the saved simulator: {exc}") from exc
    except (AttributeError, ImportError, IndexError) as exc:
        raise SimStateError(f"{path}: saved by another version of the program: {exc}") from exc
    if version != FORMAT or not isinstance(saved, SavedExchange):
        raise SimStateError(f"{path}: saved in format {version!r}, this program reads {FORMAT}")
    return saved
