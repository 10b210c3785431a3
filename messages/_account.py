"""Account and venue state the exchange layer reports: products, positions, wallets, fills.

Values (nested, not messages): :class:`Product` (one tradable contract, loaded from the
venue at start; never hard-coded), :class:`PositionSnapshot`, :class:`WalletBalance` and
:class:`Fill`. Events published by the private and public streams of ``exchange/delta/``
where ``_market`` and ``_orders`` have no fitting type: :class:`OrdersSnapshot`,
:class:`OrderUpdated`, :class:`PositionsSnapshot`, :class:`PositionUpdated`,
:class:`WalletUpdated`, :class:`FillReported`, :class:`CandleUpdated` and
:class:`BookFeedFailed`.

Venue spellings are mapped to the enums here (``StreamAction``, ``ProductState``,
``NotionalType``) in ``exchange/delta/``, never here. Prices and money are ``Decimal``;
sizes are integer contracts; times are integer ns since the UNIX epoch.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from messages._base import Event
from messages._enums import Side
from messages._market import Candle
from messages._orders import OpenOrder
from messages._schema import Value
from messages._types import Contracts, UnixNanos


class NotionalType(enum.StrEnum):
    """How a contract's notional is computed: ``VANILLA`` = size x contract_value x price."""

    VANILLA = "VANILLA"
    INVERSE = "INVERSE"


class ProductState(enum.StrEnum):
    """Whether a product trades now (``LIVE``), has ended or has not started yet."""

    LIVE = "LIVE"
    EXPIRED = "EXPIRED"
    UPCOMING = "UPCOMING"


class StreamAction(enum.StrEnum):
    """What a private-stream record says happened to the object it carries.

    ``SNAPSHOT`` is the full state sent on subscribe; ``CREATE``, ``UPDATE`` and ``DELETE``
    are changes (a ``DELETE`` order is closed: filled or cancelled).
    """

    SNAPSHOT = "SNAPSHOT"
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


@dataclass(frozen=True, slots=True, kw_only=True)
class Product(Value):
    """One tradable contract as the venue lists it (a value; loaded at start).

    Attributes:
        product_id: The venue's numeric id (differs between environments).
        symbol: Venue symbol, for example ``"BTCUSD"``.
        contract_type: The venue's contract type, for example ``"perpetual_futures"``.
        state: Live, expired or upcoming.
        notional_type: Vanilla or inverse.
        contract_value: Underlying units per contract (``0.001`` BTC for BTCUSD).
        tick_size: Smallest price increment, quote currency.
        maker_fee_rate: Maker commission as a fraction of notional (``0.0002``).
        taker_fee_rate: Taker commission as a fraction of notional (``0.0005``).
        funding_interval_s: Seconds between funding exchanges, or None when the venue did
            not say.
        settling_asset: Symbol of the asset margin and PnL settle in.
        quoting_asset: Symbol of the asset prices are quoted in.
    """

    product_id: int
    symbol: str
    contract_type: str
    state: ProductState
    notional_type: NotionalType
    contract_value: Decimal
    tick_size: Decimal
    maker_fee_rate: Decimal
    taker_fee_rate: Decimal
    funding_interval_s: int | None
    settling_asset: str
    quoting_asset: str

    def to_ticks(self, price: Decimal) -> int:
        """Return ``price`` as an integer number of ticks.

        Raises:
            ValueError: ``price`` is not a multiple of ``tick_size``.
        """
        ticks, rest = divmod(price, self.tick_size)
        if rest != 0:
            msg = f"{self.symbol}: price {price} is not a multiple of tick {self.tick_size}"
            raise ValueError(msg)
        return int(ticks)

    def from_ticks(self, ticks: int) -> Decimal:
        """Return the price of ``ticks`` ticks, quote currency, at the tick's exponent."""
        return (self.tick_size * ticks).quantize(self.tick_size)

    def round_price(self, price: Decimal, *, up: bool) -> Decimal:
        """Return ``price`` rounded to a tick: up (asks) or down (bids) when off the grid."""
        ticks = (price / self.tick_size).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR)
        return self.from_ticks(int(ticks))


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionSnapshot(Value):
    """One position as the venue reports it (a value; REST and the private stream).

    Attributes:
        symbol: Venue symbol.
        product_id: The venue's product id, or None when the record omitted it.
        size: Signed contracts, long > 0, short < 0, flat 0.
        entry_price: Average entry price, quote currency, or None when flat or omitted.
        margin: Margin held by the position, settlement asset, or None when omitted.
        liquidation_price: Liquidation price, quote currency, or None.
        realised_pnl: Realised PnL, settlement asset, or None when omitted.
        updated_ns: When the venue last changed it, ns since the epoch, or None.
    """

    symbol: str
    product_id: int | None
    size: Contracts
    entry_price: Decimal | None
    margin: Decimal | None
    liquidation_price: Decimal | None
    realised_pnl: Decimal | None
    updated_ns: UnixNanos | None


@dataclass(frozen=True, slots=True, kw_only=True)
class WalletBalance(Value):
    """One asset's wallet as the venue reports it (a value). A field it omits is None.

    Attributes:
        asset: Asset symbol, for example ``"USD"``.
        balance: Wallet balance, in the asset.
        available_balance: Balance free for new orders and withdrawals, in the asset.
        order_margin: Margin blocked by open orders, in the asset, or None.
        position_margin: Margin held by positions, in the asset, or None.
    """

    asset: str
    balance: Decimal
    available_balance: Decimal
    order_margin: Decimal | None
    position_margin: Decimal | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill(Value):
    """One execution of one of our orders (a value; ``/v2/fills`` and the private stream).

    Attributes:
        fill_id: The venue's id of the fill (unique; used to drop duplicates).
        order_id: The venue's order id.
        client_order_id: Our id for the order, or None when the venue did not echo one.
        symbol: Venue symbol.
        side: The order's side.
        price: Fill price, quote currency.
        size: Contracts filled, > 0.
        is_maker: True when the order provided liquidity.
        fee: Commission in ``fee_asset``, positive paid, negative rebate; None when the
            record has none (the ``v2/user_trades`` channel omits it).
        fee_asset: Asset the fee is charged in, or None when unknown.
        fill_type: The venue's fill type, lower case (``"normal"``, ``"adl"``, ...).
        ts_event_ns: Exchange time of the fill, ns since the epoch.
    """

    fill_id: str
    order_id: str
    client_order_id: str | None
    symbol: str
    side: Side
    price: Decimal
    size: Contracts
    is_maker: bool
    fee: Decimal | None
    fee_asset: str | None
    fill_type: str
    ts_event_ns: UnixNanos


@dataclass(frozen=True, slots=True, kw_only=True)
class OrdersSnapshot(Event):
    """Every open order of one symbol (or all) as the private stream sent on subscribe.

    Attributes:
        symbol: Venue symbol the snapshot covers, or None for all symbols.
        orders: The open orders; empty means there are none.
        seq: The venue's per-symbol sequence number, or None; the next update has seq + 1.
        ts_event: Exchange time, ns. ts_init: creation time, ns.
    """

    symbol: str | None
    orders: tuple[OpenOrder, ...]
    seq: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderUpdated(Event):
    """One of our orders changed on the venue (private ``orders`` channel).

    Attributes:
        order: The order after the change.
        action: Created, updated or deleted (closed).
        reason: The venue's reason (``"fill"``, ``"stop_trigger"``), or None.
        average_fill_price: Average price of the fills so far, quote currency, or None.
        seq: The venue's per-symbol sequence number, or None.
        ts_event: Exchange time, ns. ts_init: creation time, ns.
    """

    order: OpenOrder
    action: StreamAction
    reason: str | None
    average_fill_price: Decimal | None
    seq: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionsSnapshot(Event):
    """Every open position as the private stream sent on subscribe.

    Attributes:
        positions: The positions; empty means flat everywhere.
        ts_event: Exchange time, ns. ts_init: creation time, ns.
    """

    positions: tuple[PositionSnapshot, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionUpdated(Event):
    """A position changed on the venue (private ``positions`` channel).

    Attributes:
        position: The position after the change (size 0 when closed).
        action: Created, updated or deleted.
        reason: The venue's reason (``"auto_topup"``), or None.
        ts_event: Exchange time, ns. ts_init: creation time, ns.
    """

    position: PositionSnapshot
    action: StreamAction
    reason: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class WalletUpdated(Event):
    """An asset's wallet changed (private ``margins`` channel).

    Attributes:
        balance: The wallet after the change.
        ts_event: Exchange time, ns. ts_init: creation time, ns.
    """

    balance: WalletBalance


@dataclass(frozen=True, slots=True, kw_only=True)
class FillReported(Event):
    """The venue reported one execution of our order (private trades channel).

    Attributes:
        fill: The execution.
        seq: The venue's per-symbol trade sequence number, or None (it restarts at 1
            after a venue restart).
        position_size_after: Signed position after the fill, contracts, or None.
        ts_event: Exchange time of the fill, ns. ts_init: creation time, ns.
    """

    fill: Fill
    seq: int | None
    position_size_after: Contracts | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CandleUpdated(Event):
    """The venue's current, still-open candle of one symbol (public candlestick channel).

    Attributes:
        candle: The candle so far; its values change until its interval ends.
        resolution: The venue's resolution name, for example ``"15m"``.
        ts_event: Exchange publish time, ns. ts_init: creation time, ns.
    """

    candle: Candle
    resolution: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BookFeedFailed(Event):
    """The venue said it cannot serve one symbol's book updates; the book is invalid.

    The stream resubscribes by itself; the book keeper must drop its book and wait for
    the next snapshot.

    Attributes:
        symbol: Venue symbol.
        reason: The venue's message.
        ts_event: When it was received, ns. ts_init: creation time, ns.
    """

    symbol: str
    reason: str
