"""A futures account: a wallet, positions in isolated or cross mode, liquidation, fees, funding.

The model follows the exchange's single-asset USDⓈ-M rules (the course's reference, sections 3,
5, 6 and 7):

- The **wallet balance** is split into the **cross wallet** (everything not locked in an isolated
  position) and one **isolated wallet** per isolated position.
- Opening a position costs its initial margin ``N / L`` plus the opening fee ``N × fee_rate``,
  paid from the **available balance** ``max(0, cross wallet + cross UPNL − cross IM)``, where
  cross IM is valued at the mark. In isolated mode the initial margin moves into the position's
  isolated wallet; in cross mode it stays in the cross wallet and only the fee leaves it.
- :meth:`Account.mark` values positions at new mark prices. An isolated position whose margin
  balance (isolated wallet + UPNL) falls to its maintenance margin is liquidated alone and
  loses its isolated wallet, nothing more. When the cross margin balance (cross wallet + cross
  UPNL) falls to the cross maintenance margin, **every** cross position is liquidated at once and
  the cross wallet is lost.
- The liquidation fee and the exact closing fill are not modelled: a liquidated position loses
  the whole margin that backed it, as the course's reference prescribes.

Every refused operation raises :class:`~margin_lib.errors.OrderRefusedError` (or
:class:`~margin_lib.errors.InvalidInputError` for a malformed value) **before** anything
changes, so the account is left exactly as it was.

>>> acct = Account(1_000, fee_rate=0)
>>> acct.open_position("BTCUSDT", "long", notional=1_000, price=100_000, leverage=10)
>>> acct.report().available_balance
900.0
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from . import _validate as v
from .brackets import BracketTable
from .errors import InvalidInputError, OrderRefusedError
from .fees import MAX_FEE_RATE, MAX_FUNDING_RATE, TAKER_FEE_RATE
from .liquidation import bankruptcy_price, hedge_liquidation_price, liquidation_price
from .margin import account_margin_level, margin_ratio

__all__ = ["Account", "Position", "PositionReport", "AccountReport", "Event"]

MARGIN_MODES = ("isolated", "cross")
POSITION_MODES = ("one-way", "hedge")
_SIDE_NAME = {1: "long", -1: "short"}


@dataclass
class Position:
    """An open position (state held by :class:`Account`). ``side`` is +1 long / −1 short,
    ``isolated_wallet`` is 0 for a cross position, prices and money in USDT."""

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
        return _SIDE_NAME[self.side]

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
    """Something that changed the wallet: ``kind`` is ``open``, ``close``, ``fee``, ``funding``,
    ``liquidation``, ``deposit``, ``add_margin`` or ``remove_margin``; ``amount`` is the cash
    flow into the wallet (negative = paid or lost), in USDT."""

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
      new order, a transfer out or an ``add_margin`` can use.
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
    cross_margin_balance: float
    cross_maintenance_margin: float
    margin_ratio: float
    account_margin_level: float
    positions: tuple[PositionReport, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def position(self, symbol: str, side: str | int | None = None) -> PositionReport:
        """The report of the position on ``symbol`` (give ``side`` in hedge mode)."""
        found = [
            p
            for p in self.positions
            if p.symbol == symbol and (side is None or p.side == _SIDE_NAME[v.side_scalar("side", side)])
        ]
        if len(found) != 1:
            raise InvalidInputError(
                f"symbol {symbol!r} (side {side!r}) must name exactly one open position; found {len(found)}"
            )
        return found[0]


class Account:
    """A USDⓈ-M futures wallet with per-symbol margin mode and leverage, one-way or hedge mode.

    Parameters
    ----------
    wallet_balance:
        USDT in the futures wallet (> 0).
    brackets:
        Tier tables by symbol. Symbols not given use the package's snapshots
        (:meth:`BracketTable.load`); other symbols need a table here.
    fee_rate:
        Default trading-fee rate for opening and closing (0.0005 = the regular taker rate). The
        article's examples ignore fees: pass ``fee_rate=0`` to reproduce them.
    position_mode:
        ``"one-way"`` (default: one net position per symbol) or ``"hedge"`` (a long and a short
        leg per symbol).
    """

    def __init__(
        self,
        wallet_balance: float,
        *,
        brackets: Mapping[str, BracketTable] | None = None,
        fee_rate: float = TAKER_FEE_RATE,
        position_mode: str = "one-way",
    ) -> None:
        self._cross_wallet = float(v.positive("wallet_balance", wallet_balance))
        self.fee_rate = float(v.number("fee_rate", fee_rate, low=0.0, high=MAX_FEE_RATE))
        self._position_mode = v.choice("position_mode", position_mode, POSITION_MODES)
        self._tables: dict[str, BracketTable] = {}
        for sym, table in (brackets or {}).items():
            if not isinstance(table, BracketTable):
                raise InvalidInputError(f"brackets[{sym!r}] must be a BracketTable; got {table!r:.60}")
            self._tables[_symbol(sym)] = table
        self._modes: dict[str, str] = {}
        self._leverage: dict[str, float] = {}
        self._marks: dict[str, float] = {}
        self._positions: dict[tuple[str, int], Position] = {}
        self.events: list[Event] = []

    # ---------------------------------------------------------------- settings and look-ups
    @property
    def position_mode(self) -> str:
        return self._position_mode

    def margin_mode(self, symbol: str) -> str:
        """The margin mode of ``symbol`` (``"isolated"`` unless set to cross)."""
        return self._modes.get(_symbol(symbol), "isolated")

    def brackets(self, symbol: str) -> BracketTable:
        """The tier table used for ``symbol``."""
        sym = _symbol(symbol)
        if sym not in self._tables:
            if sym not in BracketTable.available():
                raise OrderRefusedError(
                    f"symbol {symbol!r} has no bracket table: pass brackets={{{sym!r}: table}} to "
                    f"Account, or use one of {', '.join(BracketTable.available())}"
                )
            self._tables[sym] = BracketTable.load(sym)
        return self._tables[sym]

    @property
    def positions(self) -> list[Position]:
        """Copies of the open positions (changing them does not change the account)."""
        return [copy.copy(p) for p in self._positions.values()]

    def has_position(self, symbol: str, side: str | int | None = None) -> bool:
        sym = _symbol(symbol)
        if side is None:
            return any(k[0] == sym for k in self._positions)
        return (sym, v.side_scalar("side", side)) in self._positions

    def state(self) -> dict[str, Any]:
        """Everything the account holds, as plain data (two equal states are the same account)."""
        return {
            "cross_wallet": self._cross_wallet,
            "fee_rate": self.fee_rate,
            "position_mode": self._position_mode,
            "modes": dict(self._modes),
            "leverage": dict(self._leverage),
            "marks": dict(self._marks),
            "positions": {f"{k[0]} {_SIDE_NAME[k[1]]}": asdict(p) for k, p in self._positions.items()},
            "events": [asdict(e) for e in self.events],
        }

    def copy(self) -> Account:
        """An independent copy (bracket tables are shared; they are immutable)."""
        new = copy.copy(self)
        new._modes = dict(self._modes)
        new._leverage = dict(self._leverage)
        new._marks = dict(self._marks)
        new._tables = dict(self._tables)
        new._positions = {k: copy.copy(p) for k, p in self._positions.items()}
        new.events = list(self.events)
        return new

    # ---------------------------------------------------------------- modes
    def set_margin_mode(self, symbol: str, mode: str) -> None:
        """Set ``symbol``'s margin mode; refused while that symbol has an open position.

        Other symbols keep their own mode.
        """
        sym = _symbol(symbol)
        mode_ = v.choice("mode", mode, MARGIN_MODES)
        if self.has_position(sym) and mode_ != self.margin_mode(sym):
            raise OrderRefusedError(
                f"cannot switch {sym} to {mode_} margin while it has an open position in "
                f"{self.margin_mode(sym)} mode: close the position first"
            )
        self._modes[sym] = mode_

    def set_position_mode(self, mode: str) -> None:
        """Switch between one-way and hedge mode; refused while any position is open."""
        mode_ = v.choice("mode", mode, POSITION_MODES)
        if self._positions and mode_ != self._position_mode:
            raise OrderRefusedError(
                f"cannot switch to {mode_} mode while positions are open "
                f"({', '.join(self._labels())}): close them first"
            )
        self._position_mode = mode_

    def leverage(self, symbol: str) -> float | None:
        """The leverage set for ``symbol`` (``None`` before the first position)."""
        return self._leverage.get(_symbol(symbol))

    def set_leverage(self, symbol: str, leverage: float) -> None:
        """Change ``symbol``'s leverage.

        Refused above the tier's maximum for the open notional; for an open isolated position it
        may be raised but not lowered; for cross positions, refused if the available balance
        cannot pay the larger initial margin.
        """
        sym = _symbol(symbol)
        lev = float(v.leverage("leverage", leverage))
        legs = [p for p in self._positions.values() if p.symbol == sym]
        if legs:
            total = sum(p.quantity * p.mark_price for p in legs)
            self._check_max_leverage(sym, total, lev)
            old = self._leverage[sym]
            if legs[0].margin_mode == "isolated" and lev < old:
                raise OrderRefusedError(
                    f"leverage must not be lowered below {old:g}x while an isolated {sym} "
                    f"position is open; got {lev:g}x (add margin instead, or close the position)"
                )
            if legs[0].margin_mode == "cross" and lev < old:
                extra = sum(p.notional for p in legs) * (1 / lev - 1 / old)
                available = self.report().available_balance
                if extra > available:
                    raise OrderRefusedError(
                        f"lowering {sym} to {lev:g}x needs {extra:,.2f} USDT more initial margin "
                        f"but the available balance is {available:,.2f} USDT"
                    )
        self._leverage[sym] = lev
        for pos in legs:
            pos.leverage = lev

    # ---------------------------------------------------------------- money in and out
    def deposit(self, amount: float) -> None:
        """Transfer USDT into the futures (cross) wallet, e.g. from the spot wallet."""
        amt = float(v.positive("amount", amount))
        self._cross_wallet += amt
        self.events.append(Event("deposit", None, None, None, None, amt))

    # ---------------------------------------------------------------- trading
    def open_position(
        self,
        symbol: str,
        side: str | int,
        *,
        leverage: float,
        price: float,
        quantity: float | None = None,
        notional: float | None = None,
        fee_rate: float | None = None,
    ) -> None:
        """Open (or add to) a position at ``price``, sized by ``quantity`` (coins) **or**
        ``notional`` (USDT), at ``leverage``.

        The fill is at ``price``, which also becomes the symbol's mark. Refused when the leverage
        is above the tier's maximum for the resulting notional, when it differs from the
        leverage already set for an open position on the symbol, when one-way mode already holds
        the opposite side, or when the available balance cannot pay initial margin + fee.
        """
        sym = _symbol(symbol)
        s = v.side_scalar("side", side)
        p = float(v.positive("price", price))
        lev = float(v.leverage("leverage", leverage))
        rate = (
            self.fee_rate
            if fee_rate is None
            else float(v.number("fee_rate", fee_rate, low=0.0, high=MAX_FEE_RATE))
        )
        if (quantity is None) == (notional is None):
            raise InvalidInputError(
                f"give exactly one of quantity= (coins) or notional= (USDT); got "
                f"quantity={quantity!r}, notional={notional!r}"
            )
        if quantity is not None:
            q = float(v.positive("quantity", quantity))
        else:
            q = float(v.positive("notional", notional)) / p
        table = self.brackets(sym)
        mode = self.margin_mode(sym)
        key = (sym, s)
        existing = self._positions.get(key)
        if self._position_mode == "one-way" and (sym, -s) in self._positions:
            raise OrderRefusedError(
                f"one-way mode holds a {_SIDE_NAME[-s]} {sym} position; opening a "
                f"{_SIDE_NAME[s]} would reduce it: use close_position, or switch to hedge mode "
                "(with no position open) to hold both sides"
            )
        # sized by notional: use it as given (q × p can round across a tier floor)
        order_notional = q * p if notional is None else float(notional)  # for the tier check only
        total_q = q + (existing.quantity if existing else 0.0)
        total_notional = order_notional + (existing.quantity * p if existing else 0.0)
        self._check_max_leverage(sym, total_notional, lev, table)
        if self.has_position(sym) and lev != self._leverage[sym]:
            raise OrderRefusedError(
                f"leverage must match the {self._leverage[sym]:g}x set for the open {sym} "
                f"position; got {lev:g}x (use set_leverage to change it)"
            )
        im = q * p / lev
        fee = q * p * rate
        trial = self.copy()
        if trial.mark({sym: p}):
            raise OrderRefusedError(
                f"a mark of {p:g} for {sym} liquidates open positions first; call mark() to apply "
                "it, then open"
            )
        available = trial.report().available_balance
        if im + fee > available + 1e-9:
            max_lev = float(table.max_leverage(total_notional))
            raise OrderRefusedError(
                f"insufficient available balance: initial margin {im:,.2f} + opening fee "
                f"{fee:,.2f} = {im + fee:,.2f} USDT, but only {available:,.2f} USDT is available. "
                "Ways out: transfer funds into the futures wallet, reduce the position size, or "
                f"raise the leverage (up to {max_lev:g}x for this size)"
            )
        # -- all checks passed: change the account
        self.mark({sym: p})
        self._leverage[sym] = lev
        self._modes.setdefault(sym, mode)
        self._cross_wallet -= fee
        if mode == "isolated":
            self._cross_wallet -= im
        if existing:
            existing.entry_price = (existing.quantity * existing.entry_price + q * p) / total_q
            existing.quantity = total_q
            existing.isolated_wallet += im if mode == "isolated" else 0.0
        else:
            self._positions[key] = Position(sym, s, q, p, lev, mode, p, im if mode == "isolated" else 0.0)
        self.events.append(Event("open", sym, _SIDE_NAME[s], mode, p, 0.0, f"{q:g} @ {p:g}"))
        if fee:
            self.events.append(Event("fee", sym, _SIDE_NAME[s], mode, p, -fee, "opening fee"))

    def close_position(
        self,
        symbol: str,
        price: float,
        *,
        side: str | int | None = None,
        quantity: float | None = None,
        fee_rate: float | None = None,
    ) -> float:
        """Close all (or ``quantity`` coins) of a position at ``price``; returns the realized PnL.

        The PnL and the released isolated margin go to the cross wallet, less the closing fee.
        Refused if the position does not exist, if ``quantity`` exceeds its size, or if the
        position would already have been liquidated at ``price`` (call :meth:`mark` first).
        """
        pos = self._find(symbol, side)
        p = float(v.positive("price", price))
        rate = (
            self.fee_rate
            if fee_rate is None
            else float(v.number("fee_rate", fee_rate, low=0.0, high=MAX_FEE_RATE))
        )
        q = pos.quantity if quantity is None else float(v.positive("quantity", quantity))
        if q > pos.quantity * (1 + 1e-12):
            raise OrderRefusedError(
                f"quantity must not exceed the open {pos.quantity:g} {pos.symbol}; got {q:g}"
            )
        q = min(q, pos.quantity)
        trial = self.copy()
        if any(e.symbol == pos.symbol and e.side == pos.side_name for e in trial.mark({pos.symbol: p})):
            raise OrderRefusedError(
                f"the {pos.side_name} {pos.symbol} position would already be liquidated at a mark "
                f"of {p:g}; call mark() to apply the liquidation"
            )
        # -- all checks passed
        self.mark({pos.symbol: p})
        pnl = pos.side * q * (p - pos.entry_price)
        fee = q * p * rate
        share = q / pos.quantity
        released = pos.isolated_wallet * share
        self._cross_wallet += released + pnl - fee
        if share >= 1.0:
            del self._positions[(pos.symbol, pos.side)]
        else:
            pos.quantity -= q
            pos.isolated_wallet -= released
        self.events.append(Event("close", pos.symbol, pos.side_name, pos.margin_mode, p, pnl))
        if fee:
            self.events.append(
                Event("fee", pos.symbol, pos.side_name, pos.margin_mode, p, -fee, "closing fee")
            )
        return pnl

    # ---------------------------------------------------------------- isolated margin
    def max_removable_margin(self, symbol: str, side: str | int | None = None) -> float:
        """Most margin that can leave an isolated position:
        ``max(0, min(WB − MM, WB + UPNL − P × Q / L))`` (USDT)."""
        pos = self._find(symbol, side)
        self._require_isolated(pos, "remove margin from")
        mm = self._mm(pos)
        wb = pos.isolated_wallet
        return max(0.0, min(wb - mm, wb + pos.unrealized_pnl - pos.notional / pos.leverage))

    def add_margin(self, symbol: str, amount: float, side: str | int | None = None) -> None:
        """Move ``amount`` USDT from the available balance into an isolated position's wallet.

        Moves its liquidation price away from the mark; the leverage setting, the MMR and the
        maintenance margin stay as they were.
        """
        pos = self._find(symbol, side)
        self._require_isolated(pos, "add margin to")
        amt = float(v.positive("amount", amount))
        available = self.report().available_balance
        if amt > available + 1e-9:
            raise OrderRefusedError(
                f"amount must not exceed the available balance {available:,.2f} USDT; got {amt:,.2f}"
            )
        self._cross_wallet -= amt
        pos.isolated_wallet += amt
        self.events.append(Event("add_margin", pos.symbol, pos.side_name, "isolated", None, -amt))

    def remove_margin(self, symbol: str, amount: float, side: str | int | None = None) -> None:
        """Move ``amount`` USDT from an isolated position back to the cross wallet, up to
        :meth:`max_removable_margin`."""
        pos = self._find(symbol, side)
        self._require_isolated(pos, "remove margin from")
        amt = float(v.positive("amount", amount))
        most = self.max_removable_margin(symbol, side)
        if amt > most + 1e-9:
            raise OrderRefusedError(
                f"amount must not exceed the removable margin {most:,.2f} USDT "
                f"(min(wallet − MM, wallet + UPNL − notional / leverage)); got {amt:,.2f}"
            )
        self._cross_wallet += amt
        pos.isolated_wallet -= amt
        self.events.append(Event("remove_margin", pos.symbol, pos.side_name, "isolated", None, amt))

    # ---------------------------------------------------------------- marking and liquidation
    def mark(self, prices: Mapping[str, float]) -> list[Event]:
        """Value positions at new mark prices and liquidate what must be; returns the
        liquidation events (empty if none).

        Isolated positions are liquidated one by one (each loses its isolated wallet); if the
        cross margin balance falls to the cross maintenance margin, every cross position is
        liquidated together and the cross wallet is lost.
        """
        if not isinstance(prices, Mapping):
            raise InvalidInputError(f"prices must be a dict of symbol -> mark price; got {prices!r:.60}")
        clean = {_symbol(k): float(v.positive(f"prices[{k!r}]", p)) for k, p in prices.items()}
        self._marks.update(clean)
        for pos in self._positions.values():
            if pos.symbol in clean:
                pos.mark_price = clean[pos.symbol]
        return self._liquidate()

    def _liquidate(self) -> list[Event]:
        events = []
        for key, pos in list(self._positions.items()):
            if pos.margin_mode == "isolated" and pos.isolated_wallet + pos.unrealized_pnl <= self._mm(pos):
                del self._positions[key]
                events.append(
                    Event(
                        "liquidation",
                        pos.symbol,
                        pos.side_name,
                        "isolated",
                        pos.mark_price,
                        -pos.isolated_wallet,
                        "isolated wallet lost",
                    )
                )
        cross = [p for p in self._positions.values() if p.margin_mode == "cross"]
        if cross:
            balance = self._cross_wallet + sum(p.unrealized_pnl for p in cross)
            if balance <= sum(self._mm(p) for p in cross):
                lost = self._cross_wallet
                for pos in cross:
                    del self._positions[(pos.symbol, pos.side)]
                    events.append(
                        Event(
                            "liquidation",
                            pos.symbol,
                            pos.side_name,
                            "cross",
                            pos.mark_price,
                            0.0,
                            "closed with every cross position",
                        )
                    )
                events.append(Event("liquidation", None, None, "cross", None, -lost, "cross wallet lost"))
                self._cross_wallet = 0.0
        self.events.extend(events)
        return events

    def settle_funding(self, rates: Mapping[str, float]) -> list[Event]:
        """Settle one funding interval at the current marks: ``−s × Q × P × rate`` per position.

        Cross positions settle into the cross wallet, isolated ones into their own wallet (an
        isolated wallet cannot pay more than it holds). Liquidations that follow are applied and
        returned with the funding events.
        """
        if not isinstance(rates, Mapping):
            raise InvalidInputError(f"rates must be a dict of symbol -> funding rate; got {rates!r:.60}")
        clean = {
            _symbol(k): float(v.number(f"rates[{k!r}]", r, low=-MAX_FUNDING_RATE, high=MAX_FUNDING_RATE))
            for k, r in rates.items()
        }
        events = []
        for pos in self._positions.values():
            if pos.symbol not in clean:
                continue
            cash = -pos.side * pos.quantity * pos.mark_price * clean[pos.symbol]
            if pos.margin_mode == "isolated":
                cash = max(cash, -pos.isolated_wallet)
                pos.isolated_wallet += cash
            else:
                self._cross_wallet += cash
            events.append(
                Event(
                    "funding",
                    pos.symbol,
                    pos.side_name,
                    pos.margin_mode,
                    pos.mark_price,
                    cash,
                    f"rate {clean[pos.symbol]:+.4%}",
                )
            )
        self.events.extend(events)
        return events + self._liquidate()

    def replay(self, paths: Mapping[str, Any], *, chunk_size: int | None = None):
        """Replay price paths without changing the account; see :func:`margin_lib.replay.replay`."""
        from .replay import replay

        return replay(self, paths, chunk_size=chunk_size)

    # ---------------------------------------------------------------- reporting
    def report(self) -> AccountReport:
        """A snapshot: wallet, equity, available balance, both ratio figures and every position."""
        positions = list(self._positions.values())
        cross = [p for p in positions if p.margin_mode == "cross"]
        mms = {(p.symbol, p.side): self._mm(p) for p in positions}
        cross_upnl = sum((p.unrealized_pnl for p in cross), 0.0)
        cross_mm = sum((mms[(p.symbol, p.side)] for p in cross), 0.0)
        cross_mb = self._cross_wallet + cross_upnl
        cross_im = sum((p.notional / p.leverage for p in cross), 0.0)
        upnl = sum((p.unrealized_pnl for p in positions), 0.0)
        wallet = self._cross_wallet + sum((p.isolated_wallet for p in positions), 0.0)
        if cross:
            ratio = float(margin_ratio(cross_mm, cross_mb))
            level = float(account_margin_level(cross_mb, cross_mm))
        else:
            ratio, level = 0.0, float("inf")
        reports = tuple(self._position_report(p, mms, cross, cross_mb, ratio) for p in positions)
        return AccountReport(
            wallet_balance=wallet,
            cross_wallet_balance=self._cross_wallet,
            equity=wallet + upnl,
            unrealized_pnl=upnl,
            available_balance=max(0.0, self._cross_wallet + cross_upnl - cross_im),
            cross_margin_balance=cross_mb if cross else 0.0,
            cross_maintenance_margin=cross_mm,
            margin_ratio=ratio,
            account_margin_level=level,
            positions=reports,
        )

    def _position_report(self, pos, mms, cross, cross_mb, cross_ratio) -> PositionReport:
        table = self.brackets(pos.symbol)
        mm = mms[(pos.symbol, pos.side)]
        im = pos.quantity * pos.entry_price / pos.leverage
        if pos.margin_mode == "isolated":
            mb = pos.isolated_wallet + pos.unrealized_pnl
            ratio = float(margin_ratio(mm, mb))
            lp = liquidation_price(
                pos.side, pos.quantity, pos.entry_price, pos.isolated_wallet, brackets=table
            )
            bp = bankruptcy_price(pos.side, pos.quantity, pos.entry_price, pos.isolated_wallet)
        else:
            mb, ratio = cross_mb, cross_ratio
            lp, bp = self._cross_prices(pos, mms, cross)
        return PositionReport(
            symbol=pos.symbol,
            side=pos.side_name,
            margin_mode=pos.margin_mode,
            quantity=pos.quantity,
            entry_price=pos.entry_price,
            mark_price=pos.mark_price,
            notional=pos.notional,
            leverage=pos.leverage,
            initial_margin=im,
            isolated_wallet=pos.isolated_wallet,
            unrealized_pnl=pos.unrealized_pnl,
            roe=pos.unrealized_pnl / im,
            mmr=table.tier_at(pos.notional).mmr,
            maintenance_margin=mm,
            margin_balance=mb,
            margin_ratio=ratio,
            liquidation_price=float(lp),
            bankruptcy_price=float(bp),
        )

    def _cross_prices(self, pos, mms, cross) -> tuple[float, float]:
        """Liquidation and bankruptcy price of a cross position, the other marks held fixed."""
        table = self.brackets(pos.symbol)
        wallet = max(self._cross_wallet, 0.0)
        twin = self._positions.get((pos.symbol, -pos.side))
        hedged = twin is not None and twin.margin_mode == "cross"
        legs = (pos, twin) if hedged else (pos,)
        others = [p for p in cross if p not in legs]
        other_mm = sum(mms[(p.symbol, p.side)] for p in others)
        other_upnl = sum(p.unrealized_pnl for p in others)
        wb_eff = wallet - other_mm + other_upnl
        if hedged:
            long_, short = (pos, twin) if pos.side == 1 else (twin, pos)
            lp = _hedge_price_with_tiers(long_, short, table, wallet, other_mm, other_upnl)
            return lp, float("nan")
        lp = liquidation_price(
            pos.side,
            pos.quantity,
            pos.entry_price,
            wallet,
            brackets=table,
            other_maintenance_margin=other_mm,
            other_unrealized_pnl=other_upnl,
        )
        bp = pos.entry_price - pos.side * wb_eff / pos.quantity
        return lp, bp if bp > 0 else float("nan")

    # ---------------------------------------------------------------- helpers
    def _mm(self, pos: Position) -> float:
        """Maintenance margin at the mark (the top tier extended past its cap)."""
        return float(self.brackets(pos.symbol).maintenance_margin_curve(np.float64(pos.notional)))

    def _check_max_leverage(
        self, sym: str, total_notional: float, lev: float, table: BracketTable | None = None
    ) -> None:
        try:
            (table or self.brackets(sym)).check_leverage(total_notional, lev)
        except InvalidInputError as exc:
            raise OrderRefusedError(str(exc)) from None

    def _find(self, symbol: str, side: str | int | None) -> Position:
        sym = _symbol(symbol)
        legs = [p for p in self._positions.values() if p.symbol == sym]
        if side is not None:
            s = v.side_scalar("side", side)
            legs = [p for p in legs if p.side == s]
        if not legs:
            what = f"{_SIDE_NAME[v.side_scalar('side', side)]} " if side is not None else ""
            raise OrderRefusedError(f"symbol {sym!r} has no open {what}position (size 0)")
        if len(legs) > 1:
            raise InvalidInputError(
                f"side must be given ('long' or 'short'): {sym} holds both legs in hedge mode"
            )
        return legs[0]

    @staticmethod
    def _require_isolated(pos: Position, what: str) -> None:
        if pos.margin_mode != "isolated":
            raise OrderRefusedError(
                f"cannot {what} the cross {pos.symbol} position: margin can only be added or "
                "removed on isolated positions (a cross position uses the whole cross wallet)"
            )

    def _labels(self) -> list[str]:
        return [f"{p.side_name} {p.symbol}" for p in self._positions.values()]

    def __repr__(self) -> str:
        r = self.report()
        return (
            f"<Account wallet={r.wallet_balance:,.2f} equity={r.equity:,.2f} "
            f"positions=[{', '.join(self._labels())}]>"
        )


def _hedge_price_with_tiers(
    long_: Position, short: Position, table: BracketTable, wallet: float, other_mm: float, other_upnl: float
) -> float:
    """The shared liquidation price of a cross hedge pair, each leg's tier taken at that price.

    Every pair of tiers gives a candidate from the closed formula; a candidate counts when both
    legs' notionals at it fall in the tiers that produced it. Because maintenance margin is convex
    in the notional, a pair can have two such prices (one on each side of the mark); the one
    nearest the mark is the one that triggers first.
    """
    t = table.tier_arrays()
    cap = t["cap"].copy()
    cap[-1] = np.inf
    i, j = np.meshgrid(np.arange(len(cap)), np.arange(len(cap)), indexing="ij")
    lp = np.asarray(
        hedge_liquidation_price(
            long_.quantity, long_.entry_price, short.quantity, short.entry_price, wallet,
            long_mmr=t["mmr"][i], short_mmr=t["mmr"][j], long_maintenance_amount=t["cum"][i],
            short_maintenance_amount=t["cum"][j], other_maintenance_margin=other_mm,
            other_unrealized_pnl=other_upnl,
        )
    )  # fmt: skip
    nl, ns = long_.quantity * lp, short.quantity * lp
    edge = 1e-12
    ok = (
        np.isfinite(lp)
        & (nl >= t["floor"][i] * (1 - edge)) & (nl < cap[i] * (1 + edge))
        & (ns >= t["floor"][j] * (1 - edge)) & (ns < cap[j] * (1 + edge))
    )  # fmt: skip
    if not ok.any():
        return float("nan")
    found = lp[ok]
    return float(found[np.argmin(np.abs(found - long_.mark_price))])


def _symbol(symbol: Any) -> str:
    if not isinstance(symbol, str) or not symbol.strip():
        raise InvalidInputError(f"symbol must be a non-empty string such as 'BTCUSDT'; got {symbol!r}")
    return symbol.strip().upper()
