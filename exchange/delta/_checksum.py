"""The order-book checksum of Delta's ``ob_updates`` / ``l2_updates`` channels.

After applying an update, take the best (at most) ten levels of each side as
``"price:size"`` strings exactly as sent on the wire, join each side with ``","``, join the
two sides as ``asks + "|" + bids``, and take the unsigned CRC32 of that text. Asks are
ascending, bids descending. An empty side contributes an empty string (Delta's rendering of
an empty side is unconfirmed; the simulator and client agree on this one).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

CHECKSUM_DEPTH = 10


def book_checksum(asks: Iterable[tuple[str, str]], bids: Iterable[tuple[str, str]]) -> int:
    """Return the CRC32 checksum of the best levels.

    Args:
        asks: (price, size) wire strings, best (lowest) first.
        bids: (price, size) wire strings, best (highest) first.
    """
    ask_text = ",".join(f"{p}:{s}" for p, s in _top(asks))
    bid_text = ",".join(f"{p}:{s}" for p, s in _top(bids))
    return zlib.crc32(f"{ask_text}|{bid_text}".encode()) & 0xFFFFFFFF


def _top(levels: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    top = []
    for level in levels:
        top.append(level)
        if len(top) == CHECKSUM_DEPTH:
            break
    return top
