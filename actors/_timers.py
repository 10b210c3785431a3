"""Timers as plain logic: a heap of due times that both runtimes drain.

pykka has no timers. The threaded runtime runs one scheduler thread over a
:class:`TimerQueue`; the deterministic runtime drains the same queue between messages as its
simulated clock advances. Timers belong to an actor incarnation and die with it.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
from dataclasses import dataclass, field


@dataclass(order=True, slots=True)
class Timer:
    """One scheduled delivery; ordered by due time, then by creation order (deterministic).

    Attributes:
        due_ns: clock time at which it fires, ns.
        seq: creation order, the tie-breaker.
        timer_id: the id returned to the actor.
        owner: the actor id it is delivered to.
        incarnation: the incarnation that scheduled it.
        message: what is delivered.
        interval_ns: repeat period, ns; 0 for a one-shot timer.
    """

    due_ns: int
    seq: int
    timer_id: int = field(compare=False)
    owner: str = field(compare=False)
    incarnation: int = field(compare=False)
    message: object = field(compare=False)
    interval_ns: int = field(compare=False, default=0)


class TimerQueue:
    """A min-heap of timers with lazy cancellation. Not thread-safe: callers lock."""

    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._ids = itertools.count(1)
        self._live: dict[int, Timer] = {}
        self._by_owner: dict[tuple[str, int], set[int]] = {}

    def __len__(self) -> int:
        return len(self._live)

    def add(
        self, *, due_ns: int, owner: str, incarnation: int, message: object, interval_ns: int = 0
    ) -> int:
        """Schedule ``message`` for ``owner`` at ``due_ns``; returns the timer id."""
        timer_id = next(self._ids)
        timer = Timer(due_ns, timer_id, timer_id, owner, incarnation, message, interval_ns)
        heapq.heappush(self._heap, timer)
        self._live[timer_id] = timer
        self._by_owner.setdefault((owner, incarnation), set()).add(timer_id)
        return timer_id

    def cancel(self, timer_id: int) -> None:
        """Cancel one timer; unknown or fired ids are ignored."""
        timer = self._live.pop(timer_id, None)
        if timer is not None:
            owned = self._by_owner.get((timer.owner, timer.incarnation))
            if owned is not None:
                owned.discard(timer_id)

    def cancel_owner(self, owner: str, incarnation: int) -> int:
        """Cancel every timer of one incarnation; returns how many were cancelled."""
        ids = self._by_owner.pop((owner, incarnation), set())
        for timer_id in ids:
            self._live.pop(timer_id, None)
        return len(ids)

    def next_due_ns(self) -> int | None:
        """Return the earliest due time of a live timer, or None when there is none."""
        heap = self._heap
        while heap and heap[0].timer_id not in self._live:
            heapq.heappop(heap)
        return heap[0].due_ns if heap else None

    def pop_due(self, now_ns: int) -> list[Timer]:
        """Remove and return the timers due at or before ``now_ns``, in firing order.

        A repeating timer is put back with its next due time (period kept exact, no drift).
        """
        fired: list[Timer] = []
        heap = self._heap
        while heap and heap[0].due_ns <= now_ns:
            timer = heapq.heappop(heap)
            if timer.timer_id not in self._live:
                continue
            fired.append(timer)
            if timer.interval_ns > 0:
                following = dataclasses.replace(
                    timer, due_ns=timer.due_ns + timer.interval_ns, seq=next(self._ids)
                )
                self._live[timer.timer_id] = following
                heapq.heappush(heap, following)
            else:
                del self._live[timer.timer_id]
                owned = self._by_owner.get((timer.owner, timer.incarnation))
                if owned is not None:
                    owned.discard(timer.timer_id)
        return fired


@dataclass(frozen=True, slots=True)
class TimerFire:
    """A due timer in a mailbox: delivered only if ``incarnation`` is still the live one.

    Mailboxes belong to the stable id and outlive incarnations, so a tick queued before a
    crash would otherwise reach the next incarnation, which never asked for it.
    """

    incarnation: int
    message: object
