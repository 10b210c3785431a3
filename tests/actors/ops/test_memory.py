"""The memory trimmer: glibc really gives freed memory back, and the actor does it on time."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import threading
import time

import pytest

from actors import ChildSpec, SupervisorSpec, ThreadedRuntime, supervisor
from actors.console import ThreadedView
from actors.ops import MemoryTrimmer, find_malloc_trim, fix_mmap_threshold, ops_specs
from messages.settings import HealthSettings, Settings

_MS = 1_000_000
_MB = 1024 * 1024


def _anon_mb() -> float:
    """This process's anonymous resident memory (Linux), MB."""
    for line in open("/proc/self/status", encoding="ascii"):  # noqa: SIM115 (tiny read)
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    pytest.skip("no RssAnon in /proc/self/status")


def test_malloc_trim_gives_freed_heap_memory_back() -> None:
    """64 MB freed below a live allocation stays resident until trimmed (glibc keeps it)."""
    trim = find_malloc_trim()
    if trim is None:
        pytest.skip("this C library has no malloc_trim")
    trim()
    blocks = [bytearray(4096) for _ in range(16_384)]  # 64 MB from malloc, not Python's arenas
    pin = bytearray(4096)  # allocated after them: the heap's top stays in use
    for block in blocks:
        block[::512] = b"x" * 8  # touch every page
    before = _anon_mb()
    del blocks
    freed = _anon_mb()
    assert trim()
    after = _anon_mb()
    assert before - after > 32, (before, freed, after)
    assert len(pin) == 4096


_MAPPED_AFTER_A_BIG_FREE = """
import ctypes, sys
from actors.ops import fix_mmap_threshold

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "fix":
    assert fix_mmap_threshold()
big = bytearray(4 * 1024 * 1024)  # mapped; freeing it raises glibc's own threshold to 4 MiB
del big
before = libc.mallinfo2().hblks
block = bytearray(512 * 1024)
print(libc.mallinfo2().hblks - before)
"""


def _mapped_blocks(mode: str) -> int:
    """How many mappings a 512 KiB block got after a 4 MiB block was freed, in a fresh
    process (the threshold is process-wide)."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")
    }
    done = subprocess.run(
        [sys.executable, "-c", _MAPPED_AFTER_A_BIG_FREE, mode],
        capture_output=True, text=True, timeout=60, env=env, check=True,
    )  # fmt: skip
    return int(done.stdout)


def test_a_fixed_mmap_threshold_keeps_large_blocks_out_of_the_arenas() -> None:
    """glibc, left alone, serves a 512 KiB block from its heap once a 4 MiB block was
    freed (the threshold followed it up); fixed at 128 KiB, the block gets its own mapping,
    which goes back to the system when freed."""
    if find_malloc_trim() is None or not hasattr(ctypes.CDLL(None), "mallinfo2"):
        pytest.skip("not glibc 2.33 or later")
    assert _mapped_blocks("leave") == 0
    assert _mapped_blocks("fix") == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [("MALLOC_MMAP_THRESHOLD_", "65536"), ("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=65536")],
)
def test_an_operators_mmap_threshold_is_left_as_set(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    assert fix_mmap_threshold() is False


def test_the_actor_trims_on_its_timer_and_reports_it() -> None:
    calls = threading.Semaphore(0)

    def fake_trim() -> bool:
        calls.release()
        return True

    spec = ChildSpec(
        actor_id="memory", factory=lambda: MemoryTrimmer(interval_ns=20 * _MS, trim=fake_trim)
    )
    with ThreadedRuntime(seed=1) as rt:
        rt.start_root(supervisor("root", SupervisorSpec(children=(spec,))))
        deadline = time.monotonic() + 5.0
        got = 0
        while got < 4 and time.monotonic() < deadline:
            got += calls.acquire(timeout=0.5)
        (answer,) = ThreadedView(rt).describe(["memory"], timeout_s=2.0)
    assert got >= 4  # one at start, then every 20 ms
    assert answer.value["available"] is True
    assert answer.value["trims"] >= 4 and answer.value["released"] >= 4


def test_without_malloc_trim_the_actor_only_says_so() -> None:
    trimmer = MemoryTrimmer(interval_ns=_MS, trim=None)
    trimmer.on_trim_due(None)  # type: ignore[arg-type]  # any timer message
    assert trimmer.describe() == {"available": False, "trims": 0, "released": 0, "last_ms": 0.0}


def test_ops_specs_include_the_trimmer_unless_switched_off() -> None:
    on = [s.actor_id for s in ops_specs(Settings(health=HealthSettings(memory_trim_s=10)))]
    off = [s.actor_id for s in ops_specs(Settings(health=HealthSettings(memory_trim_s=0)))]
    assert on == ["metrics", "http", "memory"]
    assert off == ["metrics", "http"]
