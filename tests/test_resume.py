"""``python bot.py`` twice: the second run goes on with the exchange the first one left.

Real processes on the embedded simulator (the crash test's fast, trade-happy settings). A
clean stop saves the simulated exchange beside the bot's state; the next start resumes it,
reconciles (booking what filled while the tree was stopping) and trades on, and the
exchange's positions always equal the fills in the bot's journal. After a kill nothing
could be saved: the next start makes a new exchange and moves the old state aside instead
of trading on a state its exchange never saw.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from actors._durable import decode_entry
from actors._journal_archive import read_history
from exchange.sim._persist import SavedExchange, load_exchange
from messages import OrderFilled, PlaceOrder, ReconcileDiscrepancy, Side
from messages.settings import Settings
from storage import Store
from tests.test_crash_recovery import SETS

REPO = Path(__file__).resolve().parents[1]
USER = 1


def _bot(state: Path, log: Path, duration: float) -> subprocess.Popen[bytes]:
    args = [sys.executable, str(REPO / "bot.py"), "run", "--state", str(state)]
    args += ["--duration", str(duration), "--log-format", "json"]
    for item in SETS:
        args += ["--set", item]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    with log.open("ab") as out:
        return subprocess.Popen(args, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env)


def _journal(state: Path) -> list[tuple[int, object]]:
    with Store.open(state, Settings().storage) as store:
        return [(seq, decode_entry(data).event) for seq, data in read_history(store)]


def _net_fills(journal: list[tuple[int, object]]) -> dict[str, int]:
    net: Counter[str] = Counter()
    for _, event in journal:
        if isinstance(event, OrderFilled):
            net[event.symbol] += event.size if event.side is Side.BUY else -event.size
    return {symbol: size for symbol, size in net.items() if size}


def _exchange_positions(saved: SavedExchange) -> dict[str, int]:
    account = saved.core.accounts[USER]
    return {
        saved.core.products[pid].symbol: p.size for pid, p in account.positions.items() if p.size
    }


def _placed(journal: list[tuple[int, object]]) -> int:
    return sum(isinstance(event, PlaceOrder) for _, event in journal)


def test_a_clean_stop_resumes_the_same_exchange_on_the_next_run(tmp_path: Path) -> None:
    state, log = tmp_path / "state", tmp_path / "bot.log"
    first = _bot(state, log, duration=20)
    assert first.wait(timeout=120) == 0, log.read_text()[-3000:]
    saved = load_exchange(state / "simulator.pickle")
    journal = _journal(state)
    assert saved.journal_seq == journal[-1][0], "saved at the journal's end"
    assert _placed(journal) >= 1, "the first run traded"
    assert _exchange_positions(saved) == _net_fills(journal)

    second = _bot(state, log, duration=12)
    assert second.wait(timeout=120) == 0, log.read_text()[-3000:]
    text = log.read_text()
    assert f"resuming the exchange saved at journal seq {saved.journal_seq}" in text
    # The market moves on while the tree stops (and a stream may drop a frame under load):
    # fills and cancels the exchange made meanwhile are found by reconciliation and booked.
    # Anything else (an order it does not know, a position that differs) would be a bug.
    kinds = {e.kind for _, e in _journal(state) if isinstance(e, ReconcileDiscrepancy)}
    assert kinds <= {"fill_while_away", "cancelled_while_away"}, kinds
    assert not any(p.name.startswith("data.mdb.previous-run") for p in state.iterdir())
    again = load_exchange(state / "simulator.pickle")
    journal = _journal(state)
    seqs = [seq for seq, _ in journal]
    assert seqs == list(range(1, len(seqs) + 1)), "one journal, gap-free, across both runs"
    assert again.journal_seq == seqs[-1] > saved.journal_seq, "the second run went on"
    assert _exchange_positions(again) == _net_fills(journal)
    orders = [*again.core.accounts[USER].closed, *again.core.accounts[USER].open_orders.values()]
    coids = Counter(o.client_order_id for o in orders if o.client_order_id)
    assert [c for c, n in coids.items() if n > 1] == [], "no client order id placed twice"


def test_after_a_kill_the_next_run_starts_a_new_exchange_and_keeps_the_old_state(
    tmp_path: Path,
) -> None:
    state, log = tmp_path / "state", tmp_path / "bot.log"
    first = _bot(state, log, duration=120)
    deadline = time.monotonic() + 90
    while "reconciled with the exchange" not in log.read_text():
        assert first.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the bot did not come up"
        time.sleep(0.05)  # a poll interval of a bounded wait
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert not (state / "simulator.pickle").exists(), "a killed run saved nothing"

    second = _bot(state, log, duration=3)
    assert second.wait(timeout=120) == 0, log.read_text()[-3000:]
    aside = [p for p in state.iterdir() if p.name.startswith("data.mdb.previous-run")]
    assert len(aside) == 1, "the killed run's state is kept, moved aside"
    assert "did not stop cleanly" in log.read_text()
