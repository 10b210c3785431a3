"""The operations children: metrics, the HTTP endpoint, systemd notifications, memory.

``ops_specs`` returns their child specs for the ``ops`` supervisor, after the health
reporter: metrics first (so the HTTP server has a snapshot to serve almost at once), then
HTTP, then systemd, then the memory trimmer; the supervisor stops them in reverse order.
"""

from __future__ import annotations

from actors._specs import ChildSpec
from actors.ops._board import OpsBoard
from actors.ops._http import HttpActor
from actors.ops._memory import MemoryTrimmer, find_malloc_trim
from actors.ops._metrics_actor import MetricsActor
from actors.ops._systemd import SystemdActor, SystemdNotifier
from messages.settings import Settings

_NS = 1_000_000_000
_MS = 1_000_000

REFRESH_S = 1.0
"""Real seconds between health polls of the metrics actor (the /healthz resolution)."""

STALE_AFTER_S = 10.0
"""Real seconds without a fresh snapshot after which /healthz answers 503 STALE."""


def ops_specs(
    settings: Settings,
    *,
    clock_speed: float = 1.0,
    board: OpsBoard | None = None,
    notifier: SystemdNotifier | None = None,
    refresh_s: float = REFRESH_S,
) -> tuple[ChildSpec, ...]:
    """Return the specs of ``metrics``, ``http`` (when ``health.http_enabled``),
    ``systemd`` (when ``notifier`` is enabled) and ``memory`` (when
    ``health.memory_trim_s`` > 0), in start order.

    Args:
        settings: The bot's settings (``[health]``, ``[supervision]``).
        clock_speed: Clock seconds per real second; the real-time intervals (health poll,
            watchdog) are scaled by it because timers run on the runtime's clock.
        board: The snapshot hand-over shared by ``metrics`` and ``http``; pass one to read
            the bound address (``board.wait_address``) or the metrics elsewhere; default: a
            new one.
        notifier: The process's systemd notifier (``SystemdNotifier.from_env()``); None or
            disabled (no NOTIFY_SOCKET): no ``systemd`` child.
        refresh_s: Real seconds between health polls.
    """
    board = OpsBoard() if board is None else board
    health = settings.health
    shutdown_ns = settings.supervision.shutdown_timeout_ms * _MS
    refresh_ns = max(1, int(refresh_s * _NS * clock_speed))
    specs = [
        ChildSpec(
            actor_id="metrics",
            factory=lambda: MetricsActor(board=board, refresh_ns=refresh_ns),
            shutdown_timeout_ns=shutdown_ns,
        )
    ]
    if health.http_enabled:
        stale_ns = int(max(STALE_AFTER_S, 5 * refresh_s) * _NS)
        specs.append(
            ChildSpec(
                actor_id="http",
                factory=lambda: HttpActor(
                    host=health.http_host,
                    port=health.http_port,
                    board=board,
                    stale_after_ns=stale_ns,
                ),
                shutdown_timeout_ns=shutdown_ns,
            )
        )
    if notifier is not None and notifier.enabled:
        interval = notifier.watchdog_interval_ns
        watchdog_ns = None if interval is None else max(1, int(interval * clock_speed))
        specs.append(
            ChildSpec(
                actor_id="systemd",
                factory=lambda: SystemdActor(notifier=notifier, watchdog_ns=watchdog_ns),
                shutdown_timeout_ns=shutdown_ns,
            )
        )
    if health.memory_trim_s > 0:
        trim_ns = max(1, int(health.memory_trim_s * _NS * clock_speed))
        specs.append(
            ChildSpec(
                actor_id="memory",
                factory=lambda: MemoryTrimmer(interval_ns=trim_ns, trim=find_malloc_trim()),
                shutdown_timeout_ns=shutdown_ns,
            )
        )
    return tuple(specs)
