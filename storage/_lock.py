"""``StateLock``: one process at a time may own ``--state DIR`` (the running bot, a restore).

LMDB lets readers in beside a writer, but nothing stops two bots from both writing the
same journal, or a restore from swapping ``data.mdb`` under a running bot. So the bot and
``bot.py snapshot restore`` take an exclusive ``flock`` on ``DIR/bot.lock`` first. The
kernel drops a flock when its holder exits or is killed, so a crash never leaves a stale
lock behind. The file holds the holder's pid, only to name it in the refusal message.

The file is never deleted: unlinking it would let a later process lock a fresh inode while
an earlier one still holds the old, and both would think they own the directory.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from storage._errors import StorageError

LOCK_NAME = "bot.lock"


class StateLockedError(StorageError):
    """Raised when ``DIR/bot.lock`` is held by another process (or another ``StateLock``).

    Nothing was changed. The operator stops the other bot (named by pid) and tries again.

    Attributes:
        path: The lock file.
        holder_pid: The pid written by the holder, or ``None`` when it has not written one.
    """

    def __init__(self, message: str, *, path: str, holder_pid: int | None) -> None:
        super().__init__(message)
        self.path = path
        self.holder_pid = holder_pid


class StateLock:
    """Exclusive, non-blocking ownership of a state directory, held until released.

    Use as a context manager, or call :meth:`acquire` and :meth:`release` (for a lock held
    for the process's life, as ``bot.py run`` does). Any thread may call them; the lock
    belongs to this object's open file, so a second ``StateLock`` on the same directory is
    refused even in the same process.
    """

    def __init__(self, state_dir: str | Path) -> None:
        """Name the directory; nothing is opened until :meth:`acquire`."""
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock (creating the directory if missing) and record this process's pid.

        Raises:
            StateLockedError: Another process holds it; the message names its pid.
            RuntimeError: This object already holds it.
        """
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this StateLock")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        # No O_TRUNC: the file may be the current holder's, and its pid is the message.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"process {holder}" if holder is not None else "another process"
            raise StateLockedError(
                f"state directory {self.state_dir} is in use by {who} (another bot is "
                "running); stop it first",
                path=str(self.path),
                holder_pid=holder,
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Clear the pid and drop the lock. Idempotent; process exit does the same."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)  # still ours: no one else reads a stale pid
        finally:
            os.close(fd)  # closing the last descriptor releases the flock

    def __enter__(self) -> StateLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    """Return the pid in the lock file, or ``None`` if the holder has not written it yet."""
    text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    return int(text) if text.isdigit() else None
