"""The application's actor tree: which subtrees run, in what order, under which supervisors.

    root (one_for_one)
    |- ops       health reporter (+ STATE/health.json), trade logger, metrics, HTTP
    |            /healthz and /metrics, systemd notifier, admin console (restart backoff)
    |- storage   the LMDB writer                                           (with a store)
    |- market    books, feeds, indicators, correlation, the public stream  (with a venue)
    `- trading   risk, execution, strategies, the order gateway; positions and hedges
                 as dynamic children                                      (with a venue)

Without a venue (no exchange to talk to) only ``ops`` runs. The market subtree starts before
trading, so books and indicators exist before any strategy or gateway acts on them; the root
stops them in reverse order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from actors._specs import Backoff, ChildSpec, Strategy, SupervisorSpec
from actors._supervisor import Supervisor
from messages import Product
from messages.settings import Secret, Settings
from storage import Store

if TYPE_CHECKING:
    from actors.console import RuntimeView
    from actors.ops import SystemdNotifier

__all__ = ["Venue", "build_tree"]

_NS = 1_000_000_000
_MS = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Venue:
    """Where the exchange is and how to sign in (the simulator's URLs in sim mode).

    Attributes:
        rest_url: REST base URL (paths under /v2 are appended).
        ws_url: WebSocket URL of the private (and legacy public) channels.
        public_ws_url: WebSocket URL of the compact public channels.
        api_key: API key; never logged.
        api_secret: API secret; never logged.
        products: the exchange's products by symbol, loaded at start (never hard-coded).
        freeze: for the embedded simulator: stops its market when the bot starts to stop,
            so nothing fills on it that the stopping bot would not hear of.
    """

    rest_url: str
    ws_url: str
    public_ws_url: str
    api_key: Secret
    api_secret: Secret
    products: Mapping[str, Product]
    freeze: Callable[[], None] | None = None


def build_tree(
    settings: Settings,
    *,
    clock_speed: float = 1.0,
    venue: Venue | None = None,
    store: Store | None = None,
    view: RuntimeView | None = None,
    notifier: SystemdNotifier | None = None,
) -> ChildSpec:
    """Return the root supervisor's spec for these settings.

    Args:
        settings: the bot's settings.
        clock_speed: how many clock seconds pass per real second; operational intervals
            (health reports) are real seconds and are scaled by it.
        venue: the exchange to trade on; ``None`` runs the operations subtree only.
        store: the open state store; its writer starts before the market and trading
            subtrees (which restore from it) and stops after them. ``None``: in memory.
        view: the runtime as the admin console sees it; the console runs (under ops) when
            this is given and ``console.enabled``.
        notifier: systemd notifications (STATUS, WATCHDOG) from the ops subtree, if enabled.
    """

    from actors._health import HealthReporter
    from actors._trade_log import TradeLogger
    from actors.ops import OpsBoard, ops_specs

    sup = settings.supervision
    shutdown_ns = sup.shutdown_timeout_ms * _MS
    health = ChildSpec(
        actor_id="health",
        factory=lambda: HealthReporter(
            interval_ns=int(settings.health.report_interval_s * _NS * clock_speed),
            state_dir=Path(settings.storage.state_dir) if store is not None else None,
        ),
        shutdown_timeout_ns=shutdown_ns,
    )
    board = OpsBoard()
    ops_children: tuple[ChildSpec, ...] = (
        health,
        ChildSpec(
            actor_id="trades",
            factory=lambda: TradeLogger(
                symbols=tuple(settings.bot.symbols),
                summary_ns=int(settings.health.report_interval_s * _NS * clock_speed),
            ),
        ),
        *ops_specs(settings, clock_speed=clock_speed, board=board, notifier=notifier),
    )
    if view is not None and settings.console.enabled:
        from actors.console import console_spec

        state_dir = Path(settings.storage.state_dir)
        ops_children += (console_spec(settings, view=view, store=store, state_dir=state_dir),)
    ops = _supervisor(
        "ops",
        settings,
        ops_children,
        backoff=Backoff(
            initial_ns=sup.backoff_initial_ms * _MS,
            max_ns=sup.backoff_max_ms * _MS,
            reset_after_ns=sup.backoff_reset_after_s * _NS,
        ),
    )
    children = [ops]
    if store is not None:
        from actors._durable import STORAGE_ID
        from actors._journal_trim import JournalPins
        from actors._storage_writer import StorageWriter

        pins = JournalPins()

        children.append(
            ChildSpec(
                actor_id=STORAGE_ID,
                factory=lambda: StorageWriter(
                    store=store, settings=settings.storage, clock_speed=clock_speed, pins=pins
                ),
                shutdown_timeout_ns=shutdown_ns,
            )
        )
    if venue is not None:
        children += _trading_subtrees(settings, venue, clock_speed)
    stop_ns = sum(child.shutdown_timeout_ns for child in children) + shutdown_ns
    root = SupervisorSpec(
        strategy=Strategy.ONE_FOR_ONE,
        max_restarts=sup.max_restarts,
        within_ns=sup.within_s * _NS,
        children=tuple(children),
    )
    return ChildSpec(actor_id="root", factory=lambda: Supervisor(root), shutdown_timeout_ns=stop_ns)


def _trading_subtrees(settings: Settings, venue: Venue, clock_speed: float) -> list[ChildSpec]:
    from actors.market import market_tree
    from actors.trading import rest_gateway_spec, trading_tree

    market = market_tree(
        settings,
        rest_url=venue.rest_url,
        public_ws_url=venue.public_ws_url,
        clock_speed=clock_speed,
    )
    if settings.bot.mode == "paper":  # real market data, orders matched by the local engine
        from actors.trading._paper import paper_gateway_specs

        symbols = tuple(settings.bot.symbols)
        balance = settings.sim.starting_balance
        gateway, bridge = paper_gateway_specs(venue.products, symbols, balance)
        trading = trading_tree(
            settings, products=venue.products, gateway_spec=gateway, clock_speed=clock_speed
        )
        return [market, trading, bridge]
    gateway = rest_gateway_spec(
        settings,
        rest_url=venue.rest_url,
        ws_url=venue.ws_url,
        api_key=venue.api_key,
        api_secret=venue.api_secret,
    )
    trading = trading_tree(
        settings, products=venue.products, gateway_spec=gateway, clock_speed=clock_speed
    )
    return [market, trading]


def _supervisor(
    actor_id: str,
    settings: Settings,
    children: tuple[ChildSpec, ...],
    *,
    backoff: Backoff | None = None,
) -> ChildSpec:
    sup = settings.supervision
    spec = SupervisorSpec(
        strategy=Strategy.ONE_FOR_ONE,
        max_restarts=sup.max_restarts,
        within_ns=sup.within_s * _NS,
        backoff=backoff,
        children=children,
    )
    stop_ns = sum(c.shutdown_timeout_ns for c in children) + sup.shutdown_timeout_ms * _MS
    return ChildSpec(
        actor_id=actor_id, factory=lambda: Supervisor(spec), shutdown_timeout_ns=stop_ns
    )
