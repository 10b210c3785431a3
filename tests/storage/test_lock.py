"""``StateLock``: one owner per state directory, named when refused, freed when it dies."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import StateLock, StateLockedError, StorageError

REPO = Path(__file__).resolve().parents[2]
_HOLDER = (
    "import sys\n"
    "from storage import StateLock\n"
    "lock = StateLock(sys.argv[1])\n"
    "lock.acquire()\n"
    "print('locked', flush=True)\n"
    "sys.stdin.read()\n"
)


@contextlib.contextmanager
def held_by_child(state_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run a child python that holds ``state_dir``'s lock until its stdin closes or a kill.

    Yields once the child reports the lock taken; the child is killed and reaped on exit.
    """
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(state_dir)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    try:
        ready, _, _ = select.select([child.stdout], [], [], 10)
        assert ready, "the lock holder did not report within 10 s"
        line = child.stdout.readline()
        assert line == b"locked\n", child.stderr.read().decode()
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)
        for pipe in (child.stdin, child.stdout, child.stderr):
            if pipe is not None:
                pipe.close()


def test_second_lock_is_refused_naming_the_holder_until_released(tmp_path: Path) -> None:
    state = tmp_path / "state"  # missing: acquire creates it
    with StateLock(state) as first:
        assert first.held
        assert (state / "bot.lock").read_text() == f"{os.getpid()}\n"
        with pytest.raises(StateLockedError) as info:
            StateLock(state).acquire()
    assert isinstance(info.value, StorageError)
    assert info.value.holder_pid == os.getpid()
    assert str(info.value) == (
        f"state directory {state} is in use by process {os.getpid()} "
        "(another bot is running); stop it first"
    )
    assert not first.held
    assert (state / "bot.lock").read_text() == ""  # released: no stale pid left behind
    with StateLock(state):
        pass


def test_release_is_idempotent_and_a_held_lock_is_not_taken_twice(tmp_path: Path) -> None:
    lock = StateLock(tmp_path)
    lock.acquire()
    with pytest.raises(RuntimeError, match="already held"):
        lock.acquire()
    lock.release()
    lock.release()
    assert not lock.held


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_holder_frees_the_lock(tmp_path: Path) -> None:
    with held_by_child(tmp_path) as child:
        with pytest.raises(StateLockedError) as info:
            StateLock(tmp_path).acquire()
        assert info.value.holder_pid == child.pid
        assert f"in use by process {child.pid}" in str(info.value)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
        with StateLock(tmp_path) as lock:  # the kernel dropped the dead holder's flock
            assert lock.held
            assert (tmp_path / "bot.lock").read_text() == f"{os.getpid()}\n"
