"""Child process for the crash test: append forever, print each committed sequence.

``python -m tests.storage._appender DIR SEED``: appends batches of 1 to 8 events, each
event ``b"event-<seq>"``, and after every commit prints the batch's last sequence number
and flushes stdout. The parent kills it with SIGKILL at a point it chooses.
"""

from __future__ import annotations

import random
import sys

from messages.settings import StorageSettings
from storage import Store


def main() -> None:
    """Append until killed."""
    state_dir, seed = sys.argv[1], int(sys.argv[2])
    rng = random.Random(seed)
    store = Store.open(state_dir, StorageSettings(map_size_mb=1, map_size_max_mb=64))
    next_seq = store.last_seq() + 1
    while True:
        batch = [f"event-{next_seq + i}".encode() for i in range(rng.randint(1, 8))]
        last = store.append(batch)
        next_seq = last + 1
        sys.stdout.write(f"{last}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
