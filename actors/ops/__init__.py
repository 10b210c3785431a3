"""Operations: metrics, /healthz and /metrics over HTTP, systemd notifications, and handing
freed memory back to the OS.

Wire it into the ``ops`` supervisor with :func:`ops_specs`; send READY from the process with
``SystemdNotifier.from_env().ready()`` once the root supervisor has started. See
docs/operations.md.
"""

from actors.ops._board import OpsBoard, Snapshot
from actors.ops._exposition import CONTENT_TYPE, Family, Sample, render
from actors.ops._http import HealthHttpServer, HttpActor, healthz, metrics_text
from actors.ops._memory import MemoryTrimmer, TrimDue, find_malloc_trim, fix_mmap_threshold
from actors.ops._metrics import EVENTS, Metrics
from actors.ops._metrics_actor import MetricsActor, RefreshDue
from actors.ops._specs import REFRESH_S, STALE_AFTER_S, ops_specs
from actors.ops._systemd import SystemdActor, SystemdNotifier, WatchdogDue, root_running

__all__ = [
    "CONTENT_TYPE",
    "EVENTS",
    "REFRESH_S",
    "STALE_AFTER_S",
    "Family",
    "HealthHttpServer",
    "HttpActor",
    "MemoryTrimmer",
    "Metrics",
    "MetricsActor",
    "OpsBoard",
    "RefreshDue",
    "Sample",
    "Snapshot",
    "SystemdActor",
    "SystemdNotifier",
    "TrimDue",
    "WatchdogDue",
    "find_malloc_trim",
    "fix_mmap_threshold",
    "healthz",
    "metrics_text",
    "ops_specs",
    "render",
    "root_running",
]
