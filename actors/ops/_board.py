"""The hand-over point between the metrics actor and the HTTP thread.

The HTTP thread must never block on or call into an actor, so the metrics actor publishes
immutable :class:`Snapshot` values here and the HTTP thread reads the latest one. Like an
actor's mailbox the board belongs to the stable ids (``metrics``, ``http``), not to one
incarnation: it is built once in :func:`~actors.ops.ops_specs` and survives restarts, so a
restarted HTTP server goes on serving the last snapshot.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol

from actors.ops._exposition import Family
from messages import HealthReport


class Closeable(Protocol):
    """A running server that a new incarnation may have to close."""

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What /healthz and /metrics serve, frozen when the metrics actor published it.

    Attributes:
        report: The runtime's health report it was built from.
        report_json: ``report`` encoded by the message codec.
        families: Every metric family.
        published_mono_ns: ``time.monotonic_ns()`` when it was published (real time, so the
            HTTP thread can tell a stale snapshot from a fresh one in any clock mode).
    """

    report: HealthReport
    report_json: bytes
    families: tuple[Family, ...]
    published_mono_ns: int


class OpsBoard:
    """Thread-safe holder of the latest :class:`Snapshot` and the HTTP server's address.

    Every method is safe from any thread and returns at once, except the ``wait_*`` methods,
    which block for at most their timeout (for tests and the bot's start-up log).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._address: tuple[str, int] | None = None
        self._server: Closeable | None = None
        self._published = threading.Condition(self._lock)

    def publish(
        self, report: HealthReport, report_json: bytes, families: tuple[Family, ...]
    ) -> None:
        """Replace the snapshot (called by the metrics actor)."""
        snapshot = Snapshot(report, report_json, families, time.monotonic_ns())
        with self._lock:
            self._snapshot = snapshot
            self._published.notify_all()

    def snapshot(self) -> Snapshot | None:
        """Return the latest snapshot, or None before the first."""
        with self._lock:
            return self._snapshot

    def set_address(self, address: tuple[str, int] | None) -> None:
        """Record where the HTTP server listens (None once it stopped)."""
        with self._lock:
            self._address = address
            self._published.notify_all()

    @property
    def address(self) -> tuple[str, int] | None:
        """``(host, port)`` the HTTP server is bound to, or None while it is not serving."""
        with self._lock:
            return self._address

    def swap_server(self, server: Closeable | None) -> Closeable | None:
        """Record the running HTTP server and return the one recorded before.

        A failed HTTP actor incarnation gets no ``on_stop``, so its server would keep the
        port; the next incarnation takes it from here and closes it before binding again.
        """
        with self._lock:
            old, self._server = self._server, server
            return old

    def wait_address(self, timeout_s: float) -> tuple[str, int] | None:
        """Wait up to ``timeout_s`` for the HTTP server to be bound; return its address."""
        with self._lock:
            self._published.wait_for(lambda: self._address is not None, timeout_s)
            return self._address

    def wait_snapshot(self, after_mono_ns: int, timeout_s: float) -> Snapshot | None:
        """Wait up to ``timeout_s`` for a snapshot published after ``after_mono_ns``."""

        def fresh() -> bool:
            return self._snapshot is not None and self._snapshot.published_mono_ns > after_mono_ns

        with self._lock:
            self._published.wait_for(fresh, timeout_s)
            return self._snapshot if fresh() else None
