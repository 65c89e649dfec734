"""What an :class:`~margin_lib.account.Account` holds and reports: positions, events, reports.

Plain data, no rules: the rules live in :mod:`margin_lib.account`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from . import _validate as v
from .errors import InvalidInputError

__all__ = [
    "Position", "Event", "PositionReport", "AccountReport", "SIDE_NAME", "WALLET_KINDS",
    "LIQUIDATION_KINDS", "liquidation_losses",
]  # fmt: skip

SIDE_NAME = {1: "long", -1: "short"}

#: Event kinds whose ``amount`` changes the account's total wallet balance (cross wallet plus
#: isolated wallets). ``open`` carries no amount; ``add_margin`` and ``remove_margin`` only move
#: money between the cross wallet and an isolated wallet (their amount is the cross wallet's side).
WALLET_KINDS = (
    "deposit", "withdraw", "close", "fee", "funding", "liquidation", "clearance", "insurance",
)  # fmt: skip


#: The event kinds one liquidation writes (see :class:`Event`).
LIQUIDATION_KINDS = ("liquidation", "clearance", "insurance")


@dataclass
class Position:
    """An open position (state held by :class:`~margin_lib.account.Account`). ``side`` is +1
    long / −1 short, ``isolated_wallet`` is 0 for a cross position, prices and money in USDT."""

    symbol: str
    side: int
    quantity: float
    entry_price: float
    leverage: float
    margin_mode: str
    mark_price: float
    isolated_wallet: float = 0.0

    @property
    def side_name(self) -> str:
        return SIDE_NAME[self.side]

    @property
    def notional(self) -> float:
        """Notional at the mark price, ``Q × P``."""
        return self.quantity * self.mark_price

    @property
    def unrealized_pnl(self) -> float:
        """``s × Q × (P − EP)``."""
        return self.side * self.quantity * (self.mark_price - self.entry_price)


@dataclass(frozen=True)
class Event:
    """Something that happened to the account; ``amount`` is the cash flow into the wallet in
    USDT (negative = paid or lost).

    Kinds: ``deposit`` and ``withdraw`` (transfers with the spot wallet); ``open`` (no amount:
    the margin stays the trader's); ``close`` (the PnL realised); ``fee``; ``funding``;
    ``add_margin`` / ``remove_margin`` (cross wallet ↔ isolated wallet; amount seen from the
    cross wallet); and for a liquidation, one ``liquidation`` event per position closed (its PnL
    realised at the mark), then ``clearance`` (the margin balance left, which the liquidation
    takes) or, when that balance was negative, ``insurance`` (the exchange's insurance fund
    absorbs the shortfall, so the wallet ends at 0 rather than below it).
    """

    kind: str
    symbol: str | None
    side: str | None
    margin_mode: str | None
    price: float | None
    amount: float
    note: str = ""


@dataclass(frozen=True)
class PositionReport:
    """One position, valued at its mark (all money in USDT, rates as fractions).

    ``margin_balance`` and ``margin_ratio`` are the position's own for an isolated position and
    the whole cross account's for a cross position. ``liquidation_price`` and
    ``bankruptcy_price`` are ``nan`` where none exists (the exchange shows "--").
    """

    symbol: str
    side: str
    margin_mode: str
    quantity: float
    entry_price: float
    mark_price: float
    notional: float
    leverage: float
    initial_margin: float
    isolated_wallet: float
    unrealized_pnl: float
    roe: float
    mmr: float
    maintenance_margin: float
    margin_balance: float
    margin_ratio: float
    liquidation_price: float
    bankruptcy_price: float


@dataclass(frozen=True)
class AccountReport:
    """A snapshot of the account.

    - ``wallet_balance`` = cross wallet + all isolated wallets;
      ``equity`` = wallet balance + all UPNL.
    - ``available_balance`` = ``max(0, cross wallet + cross UPNL − cross IM at mark)``: what a
      new cross order can use (cross profit counts).
    - ``max_transferable`` = ``max(0, min(cross wallet − cross MM, available balance))``: what
      may leave the cross wallet for an isolated wallet (an isolated order, ``add_margin``) or
      for the spot wallet (``withdraw``). Unrealised profit does not count.
    - ``margin_ratio`` is the exchange's cross figure ``cross MM / cross margin balance``
      (liquidation at >= 1); ``account_margin_level`` is the article's ``equity / MM`` for the
      cross part (safe while >= 1). They are reciprocals. With no cross position they are 0 and
      ``inf``.
    """

    wallet_balance: float
    cross_wallet_balance: float
    equity: float
    unrealized_pnl: float
    available_balance: float
    max_transferable: float
    cross_margin_balance: float
    cross_maintenance_margin: float
    margin_ratio: float
    account_margin_level: float
    positions: tuple[PositionReport, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def position(self, symbol: str, side: str | int | None = None) -> PositionReport:
        """The report of the position on ``symbol`` (give ``side`` in hedge mode)."""
        sym = symbol.strip().upper() if isinstance(symbol, str) else symbol
        wanted = None if side is None else SIDE_NAME[v.side_scalar("side", side)]
        found = [p for p in self.positions if p.symbol == sym and (wanted is None or p.side == wanted)]
        if len(found) != 1:
            raise InvalidInputError(
                f"symbol {symbol!r} (side {side!r}) must name exactly one open position; found {len(found)}"
            )
        return found[0]


def liquidation_losses(events: Iterable[Event]) -> dict[str, float]:
    """What the liquidations among ``events`` took from the wallet, in USDT: under
    ``"BTCUSDT long"`` (symbol and side, as :func:`~margin_lib.replay.replay` labels positions)
    for an isolated position, which loses its isolated wallet, and under ``"cross"`` for a cross
    liquidation, which loses the cross wallet. Each is the sum of the liquidation's events: PnL
    realised at the mark, then the margin balance taken (or the insurance fund's cover).

    >>> losses = [Event("liquidation", "BTCUSDT", "long", "isolated", 90_350.0, -96.5),
    ...           Event("clearance", "BTCUSDT", "long", "isolated", None, -3.5)]
    >>> liquidation_losses(losses)
    {'BTCUSDT long': 100.0}
    """
    out: dict[str, float] = {}
    for e in events:
        if e.kind in LIQUIDATION_KINDS:
            key = f"{e.symbol} {e.side}" if e.margin_mode == "isolated" and e.symbol else "cross"
            out[key] = out.get(key, 0.0) - e.amount
    return out
