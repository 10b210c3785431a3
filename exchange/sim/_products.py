"""The simulated products: contract specs, and exact price <-> tick <-> wire-string conversion.

Prices live as integer ticks inside the engine; the wire carries them as strings with the
tick's number of decimals (``"72154.5"``). Conversions here are pure and exact: a wire price
that is not a whole number of ticks is refused, never rounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

__all__ = ["SimProduct", "default_products"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SimProduct:
    """One perpetual future the simulator lists.

    Attributes:
        symbol: e.g. ``"BTCUSD"``.
        product_id: Delta's product id (India production ids by default).
        underlying: underlying asset symbol, e.g. ``"BTC"``.
        contract_value: underlying per contract (BTCUSD: 0.001 BTC).
        tick_size: price increment in USD.
        maker_rate, taker_rate: commission as a fraction of notional (0.0002 = 0.02 %).
        initial_margin_pct, maintenance_margin_pct: margin in % of notional at 1x scaling.
        default_leverage: leverage an account starts with on this product.
        start_price: the generator's first price, in USD.
        annual_vol: the generator's annualised volatility (0.5 = 50 %).
        level_step_ticks: spacing of the synthetic book's levels, in ticks.
        level_size: mean size of one synthetic book level, in contracts.
        funding_interval_s: seconds between funding payments (Delta: 8 h).
        position_size_limit: largest absolute position, in contracts.
    """

    symbol: str
    product_id: int
    underlying: str
    contract_value: Decimal
    tick_size: Decimal
    maker_rate: Decimal = Decimal("0.0002")
    taker_rate: Decimal = Decimal("0.0005")
    initial_margin_pct: Decimal = Decimal("0.5")
    maintenance_margin_pct: Decimal = Decimal("0.25")
    default_leverage: int = 100
    start_price: Decimal = Decimal(100)
    annual_vol: float = 0.6
    level_step_ticks: int = 1
    level_size: int = 500
    funding_interval_s: int = 28800
    position_size_limit: int = 229167
    decimals: int = field(init=False, repr=False, compare=False)
    _units: int = field(init=False, repr=False, compare=False)
    _cache: dict[int, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        exponent = int(self.tick_size.normalize().as_tuple().exponent)  # type: ignore[arg-type]
        decimals = max(0, -exponent)
        object.__setattr__(self, "decimals", decimals)
        object.__setattr__(self, "_units", int(self.tick_size * 10**decimals))
        object.__setattr__(self, "_cache", {})

    def format_ticks(self, ticks: int) -> str:
        """Return the wire string of a price given in ticks (exact integer arithmetic).

        ``decimals`` is the digits after the point (tick 0.5 -> 1, tick 0.05 -> 2).
        """
        text = self._cache.get(ticks)
        if text is not None:
            return text
        units = ticks * self._units
        sign = "-" if units < 0 else ""
        units = abs(units)
        if self.decimals == 0:
            text = f"{sign}{units}"
        else:
            scale = 10**self.decimals
            text = f"{sign}{units // scale}.{units % scale:0{self.decimals}d}"
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[ticks] = text
        return text

    def price_of(self, ticks: int) -> Decimal:
        """Return the exact USD price of ``ticks``."""
        return ticks * self.tick_size

    def ticks_of(self, price: Decimal | str) -> int:
        """Return the ticks of an exact price.

        Raises:
            ValueError: if ``price`` is not a number or not a whole number of ticks.
        """
        try:
            value = Decimal(price)
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise ValueError(f"not a price: {price!r}") from exc
        if not value.is_finite():
            raise ValueError(f"not a finite price: {price!r}")
        ticks, rest = divmod(value, self.tick_size)
        if rest != 0:
            raise ValueError(f"{price} is not a multiple of tick_size {self.tick_size}")
        return int(ticks)

    def round_ticks(self, price: float) -> int:
        """Return the nearest tick of a float price (market generator only, never orders)."""
        return round(price / float(self.tick_size))

    def notional(self, size: int, price: Decimal) -> Decimal:
        """Return the USD notional of ``size`` contracts at ``price`` (vanilla contracts)."""
        return abs(size) * self.contract_value * price


def default_products() -> tuple[SimProduct, ...]:
    """Return BTCUSD, ETHUSD and SOLUSD with Delta India's published or community values.

    Ids, contract values and BTCUSD's tick, fees and leverage follow the protocol reference
    (section 6); ETHUSD and SOLUSD ticks are unconfirmed there and chosen to match their
    price scale. Start prices and volatilities only seed the generator.
    """
    return (
        SimProduct(
            symbol="BTCUSD",
            product_id=27,
            underlying="BTC",
            contract_value=Decimal("0.001"),
            tick_size=Decimal("0.5"),
            default_leverage=200,
            start_price=Decimal(70000),
            annual_vol=0.5,
            level_step_ticks=2,
            level_size=800,
        ),
        SimProduct(
            symbol="ETHUSD",
            product_id=3136,
            underlying="ETH",
            contract_value=Decimal("0.01"),
            tick_size=Decimal("0.05"),
            default_leverage=200,
            start_price=Decimal(3500),
            annual_vol=0.65,
            level_step_ticks=2,
            level_size=900,
        ),
        SimProduct(
            symbol="SOLUSD",
            product_id=14823,
            underlying="SOL",
            contract_value=Decimal(1),
            tick_size=Decimal("0.01"),
            default_leverage=100,
            start_price=Decimal(150),
            annual_vol=0.85,
            initial_margin_pct=Decimal(1),
            maintenance_margin_pct=Decimal("0.5"),
            level_step_ticks=1,
            level_size=300,
        ),
    )
