"""A writer killed with SIGKILL mid-stream loses nothing it reported as committed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from storage import Store

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_keeps_every_reported_commit_and_no_gap(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    reported = 0
    for round_ in range(3):  # three crashes into the same environment
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.storage._appender", str(tmp_path), str(seed + round_)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert child.stdout is not None
        try:
            for _ in range(rng.randint(1, 300)):  # kill after a random number of commits
                line = child.stdout.readline()
                assert line, child.stderr.read() if child.stderr else b""
                seq = int(line)
                assert seq > reported
                reported = seq
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
            child.stdout.close()
            if child.stderr is not None:
                child.stderr.close()
        assert child.returncode == -signal.SIGKILL

        with Store.open(tmp_path) as store:  # the integrity check runs here too
            entries = list(store.read_journal())
            store.check(deep=True)
        seqs = [seq for seq, _ in entries]
        assert seqs == list(range(1, len(seqs) + 1))  # gap-free from 1
        assert len(seqs) >= reported  # every reported commit survived
        assert all(event == f"event-{seq}".encode() for seq, event in entries)
