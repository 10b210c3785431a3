"""The read-only commands: ps, tree, inspect, where, health, positions, orders, trades, pnl,
metrics.

Each takes the :class:`Env` and its arguments and returns a :class:`Reply`. Actor state comes
only from ``describe`` asks bounded by ``command_timeout_ms``; an actor that does not answer
in time is reported as ``timeout after N ms``, never waited for.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from actors._health import summarize
from actors.console._format import duration, plain, show, table
from actors.console._reply import Env, Reply, error
from messages import ActorHealth, ActorState, HedgeClosed, PositionClosed, decode

__all__ = [
    "health_reply",
    "inspect_reply",
    "metrics_reply",
    "orders_reply",
    "pnl_reply",
    "positions_reply",
    "ps_reply",
    "trades_reply",
    "tree_reply",
    "where_reply",
]

_DYNAMIC = ("position:", "hedge:")


def ps_reply(env: Env, _: list[str]) -> Reply:
    """One row per actor from the runtime's health report (no actor is asked)."""
    report = env.view.health()
    rows = [
        (
            a.actor_id,
            a.actor_class or "-",
            a.state.value,
            a.restarts,
            a.inbox_size,
            duration(a.uptime_ns),
        )
        for a in report.actors
    ]
    lines = table(("ID", "CLASS", "STATE", "RESTARTS", "INBOX", "UPTIME"), rows)
    lines.append(f"{len(rows)} actors, overall {report.overall.value}")
    return Reply(True, lines, plain(report.actors))


def tree_reply(env: Env, _: list[str]) -> Reply:
    """The supervision tree, indented, with each actor's class and state."""
    report = env.view.health()
    by_id: dict[str, ActorHealth] = {a.actor_id: a for a in report.actors}
    kids: dict[str | None, list[str]] = {}
    for a in report.actors:
        kids.setdefault(a.parent, []).append(a.actor_id)
    lines: list[str] = []

    def walk(actor_id: str, prefix: str, last: bool, top: bool) -> dict[str, Any]:
        a = by_id[actor_id]
        branch = "" if top else ("`- " if last else "|- ")
        lines.append(f"{prefix}{branch}{actor_id}  {a.actor_class or '-'} {a.state.value}")
        below = prefix if top else prefix + ("   " if last else "|  ")
        children = kids.get(actor_id, [])
        nested = [walk(c, below, i == len(children) - 1, False) for i, c in enumerate(children)]
        return {"id": actor_id, "class": a.actor_class, "state": a.state.value, "children": nested}

    roots = [walk(r, "", True, True) for r in kids.get(None, [])]
    return Reply(True, lines, roots)


def inspect_reply(env: Env, args: list[str]) -> Reply:
    """The runtime's view of one actor plus its own ``describe()`` (secrets hidden)."""
    actor_id = args[0]
    health = next((a for a in env.view.health().actors if a.actor_id == actor_id), None)
    if health is None:
        return env.unknown(actor_id)
    (answer,) = env.view.describe([actor_id], env.timeout_s)
    if answer.error == "timeout":
        return env.timeout(f"inspect {actor_id}")
    if answer.error is not None:
        return error(f"inspect {actor_id}: {answer.error}")
    described = plain(answer.value or {})
    runtime = {
        "class": health.actor_class,
        "state": health.state.value,
        "restarts": health.restarts,
        "inbox": health.inbox_size,
        "uptime": duration(health.uptime_ns),
        "last_message_age": duration(health.last_message_age_ns),
        "parent": health.parent,
        "children": list(env.view.children_of(actor_id)),
    }
    lines = [f"{actor_id}"] + [f"  {k}: {show(v)}" for k, v in runtime.items()]
    lines += ["  describe:"] + [f"    {k}: {show(v)}" for k, v in described.items()]
    if not described:
        lines.append("    (nothing)")
    return Reply(True, lines, {"id": actor_id, **runtime, "describe": described})


def where_reply(env: Env, args: list[str]) -> Reply:
    """The stack of the actor's thread right now (where a stuck handler is stuck)."""
    actor_id = args[0]
    if not env.known(actor_id):
        return env.unknown(actor_id)
    stack = env.view.stack(actor_id)
    if stack is None:
        state = next(
            (a.state for a in env.view.health().actors if a.actor_id == actor_id),
            ActorState.STOPPED,
        )
        return error(f"{actor_id} has no running thread (state {state.value})")
    lines = [f"{actor_id} thread stack, innermost last:"]
    for frame in stack:
        lines += frame.splitlines()
    return Reply(True, lines, {"id": actor_id, "stack": stack})


def health_reply(env: Env, _: list[str]) -> Reply:
    """The overall verdict, actors that need attention and supervisor intensity use."""
    report = env.view.health()
    lines = [summarize(report)]
    for s in report.supervisors:
        lines.append(
            f"  {s.actor_id}: {s.strategy}, {s.restarts_in_window}/{s.max_restarts} restarts "
            f"in {s.window_ns / 1e9:g} s, {len(s.children)} children"
        )
    return Reply(True, lines, plain(report))


def positions_reply(env: Env, _: list[str]) -> Reply:
    """Every position and hedge actor's ``describe()`` and risk's counts, asked at once."""
    ids = [i for i in env.view.actor_ids() if i.startswith(_DYNAMIC)]
    asked = ids + (["risk"] if env.known("risk") else [])
    answers = {a.actor_id: a for a in env.view.describe(asked, env.timeout_s)}
    rows, data, late = [], [], []
    for actor_id in ids:
        answer = answers[actor_id]
        if answer.error is not None:
            late.append(f"{actor_id}: {answer.error}")
            data.append({"id": actor_id, "error": answer.error})
            continue
        d = plain(answer.value or {})
        data.append({"id": actor_id, **d})
        rows.append(
            (
                actor_id,
                d.get("symbol"),
                d.get("size"),
                d.get("entry", "-"),
                d.get("realised", "-"),
                d.get("fees", "-"),
                d.get("hedges", "-"),
            )
        )
    lines = table(("ID", "SYMBOL", "SIZE", "ENTRY", "REALISED", "FEES", "HEDGES"), rows)
    if not ids:
        lines = ["no open positions or hedges"]
    risk = answers.get("risk")
    risk_data = None
    if risk is not None and risk.error is None:
        risk_data = plain(risk.value or {})
        lines.append("risk: " + ", ".join(f"{k} {show(v)}" for k, v in risk_data.items()))
    elif risk is not None:
        late.append(f"risk: {risk.error}")
    lines += [_late(env, x) for x in late]
    return Reply(True, lines, {"positions": data, "risk": risk_data})


def orders_reply(env: Env, _: list[str]) -> Reply:
    """The gateway's open orders and execution's entries in flight."""
    ids = [i for i in ("gateway", "execution") if env.known(i)]
    if not ids:
        return error("no gateway or execution actor runs")
    lines, data = [], {}
    for answer in env.view.describe(ids, env.timeout_s):
        if answer.error is not None:
            lines.append(_late(env, f"{answer.actor_id}: {answer.error}"))
            data[answer.actor_id] = {"error": answer.error}
            continue
        d = plain(answer.value or {})
        data[answer.actor_id] = d
        lines.append(f"{answer.actor_id}:")
        lines += [f"  {k}: {show(v)}" for k, v in d.items()] or ["  (nothing)"]
    return Reply(True, lines, data)


def trades_reply(env: Env, args: list[str]) -> Reply:
    """The last N closed trades from the store (read directly: LMDB readers never block)."""
    try:
        count = int(args[0]) if args else 20
    except ValueError:
        return error(f"trades: N must be a whole number, was {args[0][:20]!r}")
    if count < 1:
        return error("trades: N must be at least 1")
    trades = _closed(env)
    if trades is None:
        return error("trades: the bot runs without a state store")
    last = trades[-count:]
    rows = [
        (
            t["closed"],
            t["id"],
            t["kind"],
            t["symbol"],
            t["realised"],
            t["fees"],
            t["funding"],
            t["net"],
            t["reason"],
        )
        for t in last
    ]
    header = ("CLOSED_NS", "ID", "KIND", "SYMBOL", "REALISED", "FEES", "FUNDING", "NET", "REASON")
    lines = table(header, rows) if rows else ["no closed trades"]
    lines.append(f"{len(last)} of {len(trades)} closed trades")
    return Reply(True, lines, {"trades": last, "total": len(trades)})


def pnl_reply(env: Env, _: list[str]) -> Reply:
    """Closed trades' realised - fees + funding, plus risk's equity, peak and drawdown."""
    trades = _closed(env)
    data: dict[str, Any] = {}
    lines = []
    if trades is None:
        lines.append("closed: no state store")
    else:
        sums = {
            k: sum((Decimal(t[k]) for t in trades), Decimal(0))
            for k in ("realised", "fees", "funding", "net")
        }
        data["closed"] = {"trades": len(trades), **{k: str(v) for k, v in sums.items()}}
        lines.append(
            f"closed: {len(trades)} trades, realised {sums['realised']}, fees {sums['fees']}, "
            f"funding {sums['funding']}, net {sums['net']}"
        )
    if env.known("risk"):
        (risk,) = env.view.describe(["risk"], env.timeout_s)
        if risk.error is None:
            d = plain(risk.value or {})
            data["equity"], data["peak"] = d.get("equity"), d.get("peak")
            data["drawdown_pct"] = _drawdown(d.get("equity"), d.get("peak"))
            lines.append(
                f"equity {show(data['equity'])}, peak {show(data['peak'])}, "
                f"drawdown {show(data['drawdown_pct'])} %"
            )
        else:
            lines.append(_late(env, f"risk: {risk.error}"))
            data["risk_error"] = risk.error
    return Reply(True, lines, data)


def metrics_reply(env: Env, _: list[str]) -> Reply:
    """A short counters view: actors by state, restarts, inbox total, console counters."""
    report = env.view.health()
    states: dict[str, int] = {}
    for a in report.actors:
        states[a.state.value] = states.get(a.state.value, 0) + 1
    data: dict[str, Any] = {
        "overall": report.overall.value,
        "actors": len(report.actors),
        "states": states,
        "restarts_total": sum(a.restarts for a in report.actors),
        "inbox_total": sum(a.inbox_size for a in report.actors),
        "inbox_max": max((a.inbox_size for a in report.actors), default=0),
        "dead_letters": env.view.dead_letters(),
        "console": env.stats(),
    }
    lines = [f"{k}: {show(v)}" for k, v in data.items()]
    return Reply(True, lines, data)


# --- helpers ---------------------------------------------------------------------------------


def _late(env: Env, text: str) -> str:
    """``actor: timeout`` as the operator reads it."""
    if text.endswith(": timeout"):
        return f"{text.removesuffix(': timeout')}: timeout after {env.timeout_ms} ms"
    return text


def _closed(env: Env) -> list[dict[str, Any]] | None:
    if env.store is None:
        return None
    out = []
    for record in env.store.iter_trades():
        event = decode(record.record)
        if isinstance(event, PositionClosed):
            kind, symbol = "position", event.symbol
        elif isinstance(event, HedgeClosed):
            kind, symbol = "hedge", event.symbol
        else:
            continue
        net = event.realised_pnl - event.fees + event.funding
        out.append(
            {
                "closed": record.closed_ns,
                "id": record.trade_id,
                "kind": kind,
                "symbol": symbol,
                "realised": str(event.realised_pnl),
                "fees": str(event.fees),
                "funding": str(event.funding),
                "net": str(net),
                "reason": event.reason,
            }
        )
    return out


def _drawdown(equity: object, peak: object) -> str | None:
    try:
        e, p = Decimal(str(equity)), Decimal(str(peak))
    except (InvalidOperation, ValueError):
        return None
    if p <= 0:
        return None
    return str(((p - e) / p * 100).quantize(Decimal("0.01")))
