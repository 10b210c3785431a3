"""The storage schema version and the migrations from older versions.

The version describes the layout of the databases (key and value formats in
``storage._keys``), not the actors' own state layouts (each snapshot carries its own
``schema``). It is stored in the ``meta`` database under ``b"schema_version"`` as a u32.

To change the layout: bump :data:`SCHEMA_VERSION` to N+1 and register
``MIGRATIONS[N] = migrate_N`` that rewrites a version-N environment into version N+1 inside
the write transaction it is given. :meth:`storage.Store.open` runs every step from the
stored version up, in one transaction, then writes the new version: all or nothing. Take a
backup first (``python bot.py snapshot export FILE``); a migration is not undone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import lmdb

SCHEMA_VERSION = 1
"""The layout version this code reads and writes."""

SCHEMA_KEY = b"schema_version"


@dataclass(frozen=True, slots=True)
class Databases:
    """The named databases of one environment, as given to a migration step."""

    snapshots: lmdb._Database
    journal: lmdb._Database
    trades: lmdb._Database
    meta: lmdb._Database
    series: lmdb._Database
    """Append-only rows an actor keeps beside its snapshot (a feed's closed candles), keyed
    by series name and a u64 index (``storage._keys.series_key``). Added without a version
    bump: an environment from before it simply has none (its feeds start cold), and an
    older bot ignores it."""


Migration = Callable[[lmdb.Transaction, Databases], None]
"""One step: rewrites version N into version N+1 inside the given write transaction."""

MIGRATIONS: Mapping[int, Migration] = {}
"""Step from the key's version to the next one. Empty: version 1 is the first layout."""


def open_databases(env: lmdb.Environment, txn: lmdb.Transaction) -> Databases:
    """Open (creating if missing) the named databases inside write transaction ``txn``."""
    return Databases(
        snapshots=env.open_db(b"snapshots", txn=txn),
        journal=env.open_db(b"journal", txn=txn),
        trades=env.open_db(b"trades", txn=txn),
        meta=env.open_db(b"meta", txn=txn),
        series=env.open_db(b"series", txn=txn),
    )


MAX_DBS = 5
"""Named databases an environment is opened for (``lmdb.open(max_dbs=...)``)."""
