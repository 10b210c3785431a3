"""Benchmark: this runtime against raw pykka, side by side in one run.

    python -m tests.bench.actors --json FILE [--quick]

Measures (a) tell throughput from one sender to one actor, (b) latency through a chain of
four actors (p50/p99), (c) crash-to-restarted-child latency (p50/p99) against raw pykka's
stop-and-start of a fresh actor, and (d) resident memory per idle actor, each in a fresh
subprocess. Goals: no more than 1.5x pykka per hop, restart p99 under 1 ms, no more than 2x
pykka's memory per actor.
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import pykka

from actors import Actor, ChildSpec, SupervisorSpec, ThreadedRuntime, supervisor
from tests.bench._report import parse_args, write_report

NS_PER_US = 1_000


# -- (a) throughput ---------------------------------------------------------------------------


class _RawCounter(pykka.ThreadingActor):
    def __init__(self, total: int, done: threading.Event) -> None:
        super().__init__()
        self.total, self.done, self.seen = total, done, 0

    def on_receive(self, _message: object) -> None:
        self.seen += 1
        if self.seen == self.total:
            self.done.set()


@dataclass(frozen=True, slots=True)
class Hit:
    n: int


class _Counter(Actor):
    def __init__(self, total: int, done: threading.Event) -> None:
        self.total, self.done, self.seen = total, done, 0

    def on_hit(self, _: Hit) -> None:
        self.seen += 1
        if self.seen == self.total:
            self.done.set()


def raw_throughput(total: int) -> float:
    done = threading.Event()
    ref = _RawCounter.start(total, done)
    message = Hit(0)
    start = time.perf_counter()
    for _ in range(total):
        ref.tell(message)
    done.wait(60)
    elapsed = time.perf_counter() - start
    ref.stop()
    return total / elapsed


def runtime_throughput(total: int) -> float:
    done = threading.Event()
    with ThreadedRuntime() as rt:
        spec = ChildSpec(actor_id="counter", factory=lambda: _Counter(total, done))
        rt.start_root(supervisor("root", SupervisorSpec(children=(spec,))))
        message = Hit(0)
        send = rt.send
        start = time.perf_counter()
        for _ in range(total):
            send("counter", message)
        done.wait(60)
        return total / (time.perf_counter() - start)


# -- (b) 4-hop chain latency -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hop:
    sent_ns: int


class _RawHop(pykka.ThreadingActor):
    def __init__(self, nxt: pykka.ActorRef | None, sink: list[int], done: threading.Event) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.nxt, self.sink, self.done = nxt, sink, done

    def on_receive(self, message: Hop) -> None:  # type: ignore[override]
        if self.nxt is not None:
            self.nxt.tell(message)
        else:
            self.sink.append(time.perf_counter_ns() - message.sent_ns)
            self.done.set()


class _Hop(Actor):
    def __init__(self, nxt: str | None, sink: list[int], done: threading.Event) -> None:
        self.nxt, self.sink, self.done = nxt, sink, done

    def on_hop(self, hop: Hop) -> None:
        if self.nxt is not None:
            self.context.send(self.nxt, hop)
        else:
            self.sink.append(time.perf_counter_ns() - hop.sent_ns)
            self.done.set()


def _drive_chain(send: object, rounds: int, done: threading.Event) -> None:
    for _ in range(rounds):
        done.clear()
        send(Hop(time.perf_counter_ns()))  # type: ignore[operator]
        done.wait(5)


def raw_chain(rounds: int) -> list[int]:
    sink: list[int] = []
    done = threading.Event()
    refs: list[pykka.ActorRef] = []  # type: ignore[type-arg]
    nxt = None
    for _ in range(4):
        nxt = _RawHop.start(nxt, sink, done)
        refs.append(nxt)
    first = refs[-1]
    _drive_chain(first.tell, rounds, done)
    for ref in refs:
        ref.stop()
    return sink


def runtime_chain(rounds: int) -> list[int]:
    sink: list[int] = []
    done = threading.Event()
    ids = ["h1", "h2", "h3", "h4"]
    children = tuple(
        ChildSpec(
            actor_id=aid,
            factory=lambda i=i: _Hop(ids[i + 1] if i + 1 < 4 else None, sink, done),
        )
        for i, aid in enumerate(ids)
    )
    with ThreadedRuntime() as rt:
        rt.start_root(supervisor("root", SupervisorSpec(children=children)))
        _drive_chain(lambda m: rt.send("h1", m), rounds, done)
    return sink


# -- (c) restart latency ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Die:
    sent_ns: int


class _Phoenix(Actor):
    def __init__(self, sink: list[int], box: list[int], done: threading.Event) -> None:
        self.sink, self.box, self.done = sink, box, done

    def on_start(self) -> None:
        if self.box:
            self.sink.append(time.perf_counter_ns() - self.box.pop())
            self.done.set()

    def on_die(self, die: Die) -> None:
        self.box.append(die.sent_ns)
        raise RuntimeError("benchmark crash")


class _RawIdle(pykka.ThreadingActor):
    pass


def raw_restart(rounds: int) -> list[int]:
    """Raw pykka has no supervision; its reference cost is stopping and starting an actor."""
    samples = []
    ref = _RawIdle.start()
    for _ in range(rounds):
        start = time.perf_counter_ns()
        ref.stop()
        ref = _RawIdle.start()
        ref.ask("ready?")  # answered once the new actor runs, as a restarted child would
        samples.append(time.perf_counter_ns() - start)
    ref.stop()
    return samples


def runtime_restart(rounds: int) -> list[int]:
    sink: list[int] = []
    box: list[int] = []
    done = threading.Event()
    spec = ChildSpec(actor_id="phoenix", factory=lambda: _Phoenix(sink, box, done))
    logging.disable(logging.CRITICAL)  # each crash would log a traceback
    try:
        with ThreadedRuntime() as rt:
            tree = SupervisorSpec(max_restarts=rounds + 10, within_ns=10**12, children=(spec,))
            rt.start_root(supervisor("root", tree))
            for _ in range(rounds):
                done.clear()
                rt.send("phoenix", Die(time.perf_counter_ns()))
                done.wait(5)
    finally:
        logging.disable(logging.NOTSET)
    return sink


# -- (d) memory per idle actor ---------------------------------------------------------------


def _rss_bytes() -> int:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _Idle(Actor):
    pass


def rss_child(kind: str, count: int) -> None:
    """Run in a subprocess: print the RSS growth per idle actor of one kind."""
    warm = ThreadedRuntime() if kind == "runtime" else None
    before = _rss_bytes()
    if kind == "pykka":
        refs = [_RawIdle.start() for _ in range(count)]
        after = _rss_bytes()
        for ref in refs:
            ref.stop()
    else:
        assert warm is not None
        children = tuple(ChildSpec(actor_id=f"idle:{i}", factory=_Idle) for i in range(count))
        warm.start_root(supervisor("root", SupervisorSpec(children=children)))
        after = _rss_bytes()
        warm.shutdown()
    print((after - before) / count)


def rss_per_actor(kind: str, count: int) -> float:
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.actors", "--rss-child", kind, str(count)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return float(out.stdout.strip().splitlines()[-1])


def _pct(samples: list[int], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / NS_PER_US


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--rss-child":
        rss_child(sys.argv[2], int(sys.argv[3]))
        return
    args = parse_args(__doc__ or "")
    total = 20_000 if args.quick else 200_000
    rounds = 300 if args.quick else 3_000
    restarts = 50 if args.quick else 500
    idle = 100 if args.quick else 1_000

    raw_rate = statistics.median(raw_throughput(total) for _ in range(3))
    our_rate = statistics.median(runtime_throughput(total) for _ in range(3))
    raw_lat, our_lat = raw_chain(rounds), runtime_chain(rounds)
    raw_re, our_re = raw_restart(restarts), runtime_restart(restarts)
    raw_mem, our_mem = rss_per_actor("pykka", idle), rss_per_actor("runtime", idle)

    metrics = {
        "pykka_tell_msgs_per_s": raw_rate,
        "runtime_tell_msgs_per_s": our_rate,
        "pykka_chain4_p50_us": _pct(raw_lat, 0.5),
        "pykka_chain4_p99_us": _pct(raw_lat, 0.99),
        "runtime_chain4_p50_us": _pct(our_lat, 0.5),
        "runtime_chain4_p99_us": _pct(our_lat, 0.99),
        "pykka_stop_start_p50_us": _pct(raw_re, 0.5),
        "pykka_stop_start_p99_us": _pct(raw_re, 0.99),
        "runtime_restart_p50_us": _pct(our_re, 0.5),
        "runtime_restart_p99_us": _pct(our_re, 0.99),
        "pykka_rss_per_idle_actor_kib": raw_mem / 1024,
        "runtime_rss_per_idle_actor_kib": our_mem / 1024,
    }
    ratios = {
        "tell_cost_vs_pykka": raw_rate / our_rate,
        "chain4_p50_vs_pykka": _pct(our_lat, 0.5) / _pct(raw_lat, 0.5),
        "chain4_p99_vs_pykka": _pct(our_lat, 0.99) / _pct(raw_lat, 0.99),
        "restart_p99_vs_pykka_stop_start": _pct(our_re, 0.99) / _pct(raw_re, 0.99),
        "rss_per_actor_vs_pykka": our_mem / raw_mem if raw_mem > 0 else float("nan"),
    }
    write_report("actors", metrics, ratios, args.json)


if __name__ == "__main__":
    main()
