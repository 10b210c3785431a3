"""PositionLedger: one position's (or hedge's) fills, entry price, fees, funding and PnL.

Exact ``Decimal`` arithmetic with the product's contract value, the same rules the exchange
books (vanilla contracts): adding moves the entry to the size-weighted average; reducing
realises ``closed x contract_value x (exit - entry)`` (sign by side) and keeps the entry;
crossing zero reopens the rest at the fill price. Fees are positive when paid; funding is
positive when received (``-size x contract_value x mark x rate``, rate a fraction). The net
change of the wallet this ledger caused is ``realised_pnl - fees + funding``.
"""

from __future__ import annotations

from decimal import Decimal

from messages import OrderFilled, Side

__all__ = ["PositionLedger"]


class PositionLedger:
    """Accounting of one position; fills are applied once each (duplicates by fill_id ignored)."""

    __state__ = (
        "contract_value",
        "size",
        "entry_price",
        "realised_pnl",
        "fees",
        "funding",
        "exit_value",
        "exit_size",
        "entry_value",
        "entry_size",
        "_seen",
    )
    """What a snapshot keeps (all of it: a ledger is state)."""

    def __init__(self, contract_value: Decimal) -> None:
        self.contract_value = contract_value
        self.size = 0
        self.entry_price: Decimal | None = None
        self.realised_pnl = Decimal(0)
        self.fees = Decimal(0)
        self.funding = Decimal(0)
        self.exit_value = Decimal(0)
        self.exit_size = 0
        self.entry_value = Decimal(0)
        self.entry_size = 0
        self._seen: set[str] = set()

    def apply_fill(self, fill: OrderFilled) -> bool:
        """Apply one fill; return False (and change nothing) for a fill already applied."""
        if fill.fill_id in self._seen:
            return False
        self._seen.add(fill.fill_id)
        self.apply(fill.side, fill.size, fill.price, fill.fee)
        return True

    def apply(self, side: Side, size: int, price: Decimal, fee: Decimal) -> Decimal:
        """Apply one execution of ``size`` contracts at ``price``; return the PnL it realised."""
        signed = size if side is Side.BUY else -size
        realised = Decimal(0)
        if self.size == 0 or (self.size > 0) == (signed > 0):
            entry = self.entry_price or Decimal(0)
            self.entry_price = (abs(self.size) * entry + size * price) / (abs(self.size) + size)
            self.entry_value += size * price
            self.entry_size += size
        else:
            assert self.entry_price is not None
            closed = min(abs(self.size), size)
            direction = 1 if self.size > 0 else -1
            realised = closed * self.contract_value * (price - self.entry_price) * direction
            self.exit_value += closed * price
            self.exit_size += closed
            if size > abs(self.size):
                self.entry_price = price
                self.entry_value += (size - closed) * price
                self.entry_size += size - closed
            elif size == abs(self.size):
                self.entry_price = None
        self.size += signed
        self.realised_pnl += realised
        self.fees += fee
        return realised

    def apply_funding(self, mark: Decimal, rate: Decimal) -> Decimal:
        """Exchange one funding payment at ``mark``; ``rate`` a fraction, longs pay when > 0.

        Returns the amount received (negative when paid).
        """
        amount = -self.size * self.contract_value * mark * rate
        self.funding += amount
        return amount

    def unrealised(self, price: Decimal) -> Decimal:
        """Unrealised PnL of the open size at ``price``, settlement asset."""
        if self.size == 0 or self.entry_price is None:
            return Decimal(0)
        return self.size * self.contract_value * (price - self.entry_price)

    def notional(self) -> Decimal:
        """Entry notional of the open size, settlement asset (0 when flat)."""
        if self.entry_price is None:
            return Decimal(0)
        return abs(self.size) * self.contract_value * self.entry_price

    def net(self) -> Decimal:
        """Realised PnL less fees plus funding: what this ledger changed the wallet by."""
        return self.realised_pnl - self.fees + self.funding

    def average_entry(self) -> Decimal:
        """Average price of every opening execution over the ledger's life (0 if none)."""
        return self.entry_value / self.entry_size if self.entry_size else Decimal(0)

    def average_exit(self) -> Decimal:
        """Average price of every closing execution over the ledger's life (0 if none)."""
        return self.exit_value / self.exit_size if self.exit_size else Decimal(0)
