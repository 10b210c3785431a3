"""Console commands: parse a line, run it against a :class:`RuntimeView`, format the reply.

No sockets here, no eval: a line is split into words, the first names a command from a
fixed table, the rest are its arguments. Read-only commands ask actors (bounded by
``command_timeout_ms``); control commands, refused unless ``console.allow_control``, only
send a command message and report its ``command_id``. The session thread runs this code,
so a slow actor delays only that session.
"""

from __future__ import annotations

import difflib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from actors._specs import RestartChild
from actors._storage_writer import BackupNow
from actors.console._format import clean_line, to_json
from actors.console._queries import (
    health_reply,
    inspect_reply,
    metrics_reply,
    orders_reply,
    pnl_reply,
    positions_reply,
    ps_reply,
    trades_reply,
    tree_reply,
    where_reply,
)
from actors.console._reply import Env, Reply, error
from messages import (
    ActorId,
    Flatten,
    KillActor,
    PauseEntries,
    ResetKillSwitch,
    ResumeEntries,
    UnixNanos,
)

__all__ = ["COMMANDS", "CommandDef", "Env", "Reply", "render", "run_line"]

_log = logging.getLogger(__name__)
RISK_ID = "risk"
STORAGE_ID = "storage"
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True, slots=True)
class CommandDef:
    """One console command: its handler, arity, whether it changes state, and its help."""

    run: Callable[[Env, list[str]], Reply]
    usage: str
    help: str
    min_args: int = 0
    max_args: int | None = 0
    control: bool = False
    words: tuple[str, ...] = field(default=())


# --- control ---------------------------------------------------------------------------------


def _command_id() -> str:
    return f"console-{uuid.uuid4().hex[:12]}"


def _sent(env: Env, target: str, message: Any, what: str) -> Reply:
    if not env.view.send(target, message):
        return error(f"no actor {target!r} to send {type(message).__name__} to")
    command_id = getattr(message, "command_id", None)
    _log.info("console: %s -> %s (%s)", what, target, command_id or type(message).__name__)
    data = {"sent": type(message).__name__, "to": target, "command_id": command_id}
    suffix = f" (command_id {command_id})" if command_id else ""
    return Reply(True, [f"ok: sent {type(message).__name__} to {target}{suffix}"], data)


def _reason(args: list[str], default: str) -> str:
    return " ".join(args) or default


def _pause(env: Env, args: list[str]) -> Reply:
    reason = _reason(args, "operator pause from the console")
    now = UnixNanos(env.view.now_ns())
    cmd = PauseEntries(reason=reason, command_id=_command_id(), ts_init=now)
    return _sent(env, RISK_ID, cmd, "pause entries")


def _resume(env: Env, args: list[str]) -> Reply:
    reason = _reason(args, "operator resume from the console")
    now = UnixNanos(env.view.now_ns())
    cmd = ResumeEntries(reason=reason, command_id=_command_id(), ts_init=now)
    return _sent(env, RISK_ID, cmd, "resume entries")


def _flatten(env: Env, args: list[str]) -> Reply:
    symbol = args[0].upper() if args else None
    now = UnixNanos(env.view.now_ns())
    cmd = Flatten(
        symbol=symbol,
        reason="operator flatten from the console",
        command_id=_command_id(),
        ts_init=now,
    )
    return _sent(env, RISK_ID, cmd, f"flatten {symbol or 'all'}")


def _kill_switch(env: Env, args: list[str]) -> Reply:
    if args[0].lower() != "reset":
        return error("usage: kill-switch reset [REASON...]")
    reason = _reason(args[1:], "operator reset from the console")
    now = UnixNanos(env.view.now_ns())
    cmd = ResetKillSwitch(reason=reason, command_id=_command_id(), ts_init=now)
    return _sent(env, RISK_ID, cmd, "reset kill switch")


def _restart(env: Env, args: list[str]) -> Reply:
    actor_id = args[0]
    if not env.known(actor_id):
        return env.unknown(actor_id)
    parent = env.view.parent_of(actor_id)
    if parent is None:
        return error(f"{actor_id} is the root: restart the process instead")
    return _sent(env, parent, RestartChild(actor_id), f"restart {actor_id}")


def _kill(env: Env, args: list[str]) -> Reply:
    actor_id = args[0]
    if not env.known(actor_id):
        return env.unknown(actor_id)
    if env.view.parent_of(actor_id) is None:
        return error(f"{actor_id} is the root: killing it would stop the bot; refused")
    now = UnixNanos(env.view.now_ns())
    cmd = KillActor(actor_id=ActorId(actor_id), command_id=_command_id(), ts_init=now)
    return _sent(env, actor_id, cmd, f"kill {actor_id}")


def _snapshot(env: Env, _: list[str]) -> Reply:
    return _sent(env, STORAGE_ID, BackupNow(), "backup now")


def _loglevel(env: Env, args: list[str]) -> Reply:
    del env
    level = args[0].upper()
    if level not in _LEVELS:
        return error(f"unknown level {args[0]!r}: expected one of {', '.join(_LEVELS)}")
    name = args[1] if len(args) > 1 else ""
    logging.getLogger(name).setLevel(level)
    shown = name or "root"
    _log.warning("console: logger %s set to %s", shown, level)
    return Reply(True, [f"ok: logger {shown} set to {level}"], {"logger": shown, "level": level})


# --- session ---------------------------------------------------------------------------------


def _help(env: Env, _: list[str]) -> Reply:
    lines = []
    for cmd in COMMANDS.values():
        note = ""
        if cmd.control:
            note = "  [control]" if env.allow_control else "  [control: disabled]"
        lines.append(f"{cmd.usage:<28} {cmd.help}{note}")
    lines.append("add --json to any command for one JSON document")
    data = [
        {"command": name, "usage": c.usage, "help": c.help, "control": c.control}
        for name, c in COMMANDS.items()
    ]
    return Reply(True, lines, data)


def _quit(_env: Env, _: list[str]) -> Reply:
    return Reply(True, ["bye"], "bye", close=True)


COMMANDS: dict[str, CommandDef] = {
    "help": CommandDef(_help, "help", "this list"),
    "ps": CommandDef(ps_reply, "ps", "every actor: class, state, restarts, inbox, uptime"),
    "tree": CommandDef(tree_reply, "tree", "the supervision tree"),
    "inspect": CommandDef(inspect_reply, "inspect ID", "one actor's own summary", 1, 1),
    "where": CommandDef(where_reply, "where ID", "the stack of the actor's thread", 1, 1),
    "health": CommandDef(health_reply, "health", "overall health, problems, supervisors"),
    "positions": CommandDef(positions_reply, "positions", "open positions and hedges"),
    "orders": CommandDef(orders_reply, "orders", "the gateway's open orders, entries in flight"),
    "trades": CommandDef(trades_reply, "trades [N]", "the last N closed trades (20)", 0, 1),
    "pnl": CommandDef(pnl_reply, "pnl", "closed trades' net PnL, equity and drawdown"),
    "metrics": CommandDef(metrics_reply, "metrics", "counters: actors, restarts, console"),
    "quit": CommandDef(_quit, "quit", "end the session"),
    "pause": CommandDef(_pause, "pause [REASON]", "no new entries", 0, None, True),
    "resume": CommandDef(_resume, "resume [REASON]", "allow entries again", 0, None, True),
    "flatten": CommandDef(
        _flatten, "flatten [SYMBOL]", "cancel all, close all (or one symbol)", 0, 1, True
    ),
    "kill-switch": CommandDef(
        _kill_switch, "kill-switch reset [REASON]", "unlatch the kill switch", 1, None, True
    ),
    "restart": CommandDef(_restart, "restart ID", "its supervisor restarts it", 1, 1, True),
    "kill": CommandDef(_kill, "kill ID", "make it fail (fault drill)", 1, 1, True),
    "snapshot": CommandDef(_snapshot, "snapshot", "take a storage backup now", 0, 0, True),
    "loglevel": CommandDef(
        _loglevel, "loglevel LEVEL [LOGGER]", "set a logger's level (root)", 1, 2, True
    ),
}
"""Every command, in the order ``help`` lists them."""


def run_line(env: Env, line: str) -> tuple[Reply, bool, str]:
    """Run one authenticated line; return the reply, whether JSON was asked, and the command.

    Never raises for bad input: an unknown command, wrong arity or a refused control
    command is an error reply. A failure inside a command is logged and answered as an
    error, so the session survives it.
    """
    words = line.split()
    as_json = "--json" in words
    words = [w for w in words if w != "--json"]
    if not words:
        return Reply(True, [], None), as_json, ""
    name, args = words[0].lower(), words[1:]
    cmd = COMMANDS.get(name)
    if cmd is None:
        close = difflib.get_close_matches(name, COMMANDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else "; `help` lists the commands"
        return error(f"unknown command {clean_line(name)[:40]!r}{hint}"), as_json, name
    if cmd.control and not env.allow_control:
        msg = f"{name} is a control command and console.allow_control is false"
        return error(msg), as_json, name
    if len(args) < cmd.min_args or (cmd.max_args is not None and len(args) > cmd.max_args):
        return error(f"usage: {cmd.usage}"), as_json, name
    try:
        return cmd.run(env, args), as_json, name
    except Exception as exc:
        _log.exception("console: command %s failed", name)
        return error(f"{name} failed: {type(exc).__name__}"), as_json, name


def render(reply: Reply, *, as_json: bool, command: str) -> list[str]:
    """The reply's lines as sent: one JSON document, or the text lines (``error: ...``)."""
    if as_json:
        doc: dict[str, Any] = {"ok": reply.ok, "command": command}
        if reply.ok:
            doc["data"] = reply.data
        else:
            doc["error"] = reply.error_text
        return [to_json(doc)]
    return [clean_line(line) for line in reply.lines]
