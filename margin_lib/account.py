"""A futures account: a wallet, positions in isolated or cross mode, orders, liquidation, fees,
funding. The ledger's rules, as the exchange applies them in single-asset USDⓈ-M mode:

**Where money sits.** The **wallet balance** is the **cross wallet** (everything not locked in
an isolated position) plus one **isolated wallet** per isolated position. It changes only by
transfers (:meth:`Account.deposit`, :meth:`Account.withdraw`), realised PnL, fees, funding and
liquidations; every change is an :class:`Event` in ``Account.events``.

**What can pay for what.**

- A **cross** order's initial margin ``N / L`` and fee come from the **available balance**
  ``max(0, cross wallet + cross UPNL − cross IM)``: unrealised cross profit may back new cross
  positions. The margin stays in the cross wallet; only the fee leaves it.
- Money that **leaves the cross wallet** (an isolated order's margin and fee,
  :meth:`~Account.add_margin`, :meth:`~Account.withdraw`) may not come from unrealised profit.
  The most that can leave is the exchange's rule for the maximum addable margin and the maximum
  transfer out::

      max_transferable = max(0, min(cross wallet − cross MM, available balance))

  Were unrealised profit allowed out, a later cross liquidation would close positions whose
  profit had already been spent, and the account would end with more than the prices justify.

**Orders** (:meth:`~Account.place_order`, a market order filled at the given price, which
becomes the mark). In one-way mode an order against the open position reduces it (the PnL of
the part closed is realised; an isolated position releases that share of its wallet), an order
of the same size closes it, and a larger one flips it: the rest opens on the other side with its
own margin and tier checks. ``reduce_only=True`` refuses anything that would grow or flip the
position. In hedge mode an order opens or adds to the leg of its own side.
:meth:`~Account.open_position` and :meth:`~Account.close_position` are shorthands. A position is
never left smaller than the exchange's minimum quantity (:data:`MIN_QUANTITY`), and a close
within rounding of the whole position closes all of it.

**What a liquidation takes.** After every change the account is checked: an isolated position
whose margin balance (isolated wallet + UPNL) is at or below its maintenance margin is
liquidated alone; when the cross margin balance (cross wallet + cross UPNL) is at or below the
cross maintenance margin, **every** cross position is liquidated at once. A liquidated position
is closed at the mark (its PnL realised: a ``liquidation`` event), and the margin balance left
behind it is taken (``clearance``): the isolated wallet, or the whole cross wallet, is gone,
while the other isolated positions, and the spot wallet, are untouched. If the margin balance
was negative (the price jumped past the bankruptcy price), the exchange's insurance fund
absorbs the shortfall (an ``insurance`` event) and the wallet ends at 0. The liquidation fee
and the exact closing fill are not modelled: the whole backing margin is lost, as the course's
rule book prescribes (``docs/margin-rules.md``, section 6, which states these rules in full).

Every refused operation raises :class:`~margin_lib.errors.OrderRefusedError` (or
:class:`~margin_lib.errors.InvalidInputError` for a malformed value) and leaves the account
exactly as it was: each operation runs on a copy that replaces the account only when it succeeds.

>>> acct = Account(1_000, fee_rate=0)
>>> acct.open_position("BTCUSDT", "long", notional=1_000, price=100_000, leverage=10)
>>> acct.report().available_balance
900.0
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any, TypeVar

import numpy as np

from . import _validate as v
from .account_records import (
    SIDE_NAME,
    AccountReport,
    Event,
    Position,
    PositionReport,
    liquidation_losses,
)
from .brackets import BracketTable
from .errors import InvalidInputError, OrderRefusedError
from .fees import MAX_FEE_RATE, MAX_FUNDING_RATE, TAKER_FEE_RATE
from .liquidation import bankruptcy_price, hedge_liquidation_price, liquidation_price
from .margin import account_margin_level, margin_ratio

__all__ = [
    "Account", "Position", "PositionReport", "AccountReport", "Event", "MIN_QUANTITY", "liquidation_losses",
]  # fmt: skip

MARGIN_MODES = ("isolated", "cross")
POSITION_MODES = ("one-way", "hedge")
_SIDE_NAME = SIDE_NAME

#: The leverage a symbol starts with on the exchange until it is changed.
DEFAULT_LEVERAGE = 20.0

#: The exchange's smallest order quantity (and quantity step) for the shipped symbols, in coins
#: (the LOT_SIZE filter of its exchange information, September 2026). No position may be left
#: smaller; other symbols have no such floor here.
MIN_QUANTITY = {"BTCUSDT": 0.001, "ETHUSDT": 0.001}

# Relative rounding below which two quantities count as equal (a close of 0.3 BTC after
# 0.1 + 0.2 closes the whole position rather than leaving 5.55e-17 BTC).
_ROUNDING = 1e-9

T = TypeVar("T")


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

    Sides are ``"long"``/``"short"``, or the exchange's order words ``"buy"``/``"sell"``, or +1/−1.
    Leverage is any number from 1 to the tier's maximum. The exchange itself only takes whole
    numbers (1x, 2x, ...); the account also accepts fractions such as 2.5x, which the formulas
    handle the same way, for what-if questions.
    """

    def __init__(
        self,
        wallet_balance: float,
        *,
        brackets: Mapping[str, BracketTable] | None = None,
        fee_rate: float = TAKER_FEE_RATE,
        position_mode: str = "one-way",
    ) -> None:
        self._cross_wallet = v.scalar(v.positive, "wallet_balance", wallet_balance)
        self.fee_rate = v.scalar(v.number, "fee_rate", fee_rate, low=0.0, high=MAX_FEE_RATE)
        self._position_mode = v.choice("position_mode", position_mode, POSITION_MODES)
        if brackets is not None and not isinstance(brackets, Mapping):
            raise InvalidInputError(
                f"brackets must be a dict of symbol -> BracketTable; got {brackets!r:.60}"
            )
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

    def _transaction(self, change: Callable[[Account], T]) -> T:
        """Run ``change`` on a copy and keep the copy only if it succeeds: a refusal raised
        anywhere inside leaves this account exactly as it was."""
        trial = self.copy()
        out = change(trial)
        self.__dict__.update(trial.__dict__)
        return out

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
        """The leverage set for ``symbol`` (``None`` until set or used by an order)."""
        return self._leverage.get(_symbol(symbol))

    def set_leverage(self, symbol: str, leverage: float) -> None:
        """Change ``symbol``'s leverage, with or without a position open.

        Refused for a symbol without a tier table, and above the tier's maximum for the open
        notional (for no position, the first tier's maximum); for an open isolated position it
        may be raised but not lowered; for cross positions, refused if the available balance
        cannot pay the larger initial margin.
        """
        sym = _symbol(symbol)
        lev = v.scalar(v.leverage, "leverage", leverage)
        table = self.brackets(sym)
        legs = [p for p in self._positions.values() if p.symbol == sym]
        self._check_max_leverage(sym, sum(p.notional for p in legs), lev, table)
        if legs:
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
        amt = v.scalar(v.positive, "amount", amount)
        self._cross_wallet += amt
        self.events.append(Event("deposit", None, None, None, None, amt))

    def max_transferable(self) -> float:
        """The most USDT that may leave the cross wallet, for an isolated wallet or the spot
        wallet: ``max(0, min(cross wallet − cross MM, available balance))``. Unrealised profit
        never counts."""
        return self.report().max_transferable

    def withdraw(self, amount: float) -> None:
        """Transfer USDT out of the futures wallet (to the spot wallet), up to
        :meth:`max_transferable`."""
        amt = v.scalar(v.positive, "amount", amount)

        def change(acct: Account) -> None:
            acct._take_from_cross(amt, "amount")
            acct._cross_wallet -= amt
            acct.events.append(Event("withdraw", None, None, None, None, -amt))

        self._transaction(change)

    def _take_from_cross(self, amount: float, what: str) -> None:
        r = self.report()
        if amount <= r.max_transferable:
            return
        if r.max_transferable >= r.available_balance:
            raise OrderRefusedError(
                f"{what} must not exceed the available balance {r.available_balance:,.2f} USDT; "
                f"got {amount:,.2f}"
            )
        raise OrderRefusedError(
            f"{what} must not exceed {r.max_transferable:,.2f} USDT, what may leave the cross wallet "
            f"(cross wallet {r.cross_wallet_balance:,.2f} − cross maintenance margin "
            f"{r.cross_maintenance_margin:,.2f}; unrealised profit cannot be moved out); got {amount:,.2f}"
        )

    # ---------------------------------------------------------------- trading
    def place_order(
        self,
        symbol: str,
        side: str | int,
        *,
        price: float,
        quantity: float | None = None,
        notional: float | None = None,
        leverage: float | None = None,
        reduce_only: bool = False,
        fee_rate: float | None = None,
    ) -> list[Event]:
        """A market order filled at ``price``, sized by ``quantity`` (coins) **or** ``notional``
        (USDT); returns the events it caused (fills, fees and any liquidation that follows).

        The fill price becomes the symbol's mark. ``leverage`` defaults to the symbol's setting
        (:data:`DEFAULT_LEVERAGE` until set); while a position is open it must match that
        setting (change it with :meth:`set_leverage`).

        One-way mode: an order against the open position reduces, closes or flips it (see the
        module's rules); ``reduce_only=True`` refuses an order that would grow or flip it.
        Hedge mode: the order opens or adds to the leg of its own side; ``reduce_only`` does
        not apply (close a leg with :meth:`close_position`).

        >>> acct = Account(10_000, fee_rate=0)
        >>> _ = acct.place_order("BTCUSDT", "buy", quantity=1, price=100_000, leverage=10)
        >>> _ = acct.place_order("BTCUSDT", "sell", quantity=0.4, price=110_000)
        >>> acct.positions[0].quantity, acct.report().wallet_balance
        (0.6, 14000.0)
        """
        sym = _symbol(symbol)
        s = v.side_scalar("side", side)
        p = v.scalar(v.positive, "price", price)
        rate = self._fee_rate(fee_rate)
        q, sized_notional = _order_size(quantity, notional, p)
        lev = None if leverage is None else v.scalar(v.leverage, "leverage", leverage)
        if not isinstance(reduce_only, (bool, np.bool_)):
            raise InvalidInputError(f"reduce_only must be True or False; got {reduce_only!r}")
        if reduce_only and self._position_mode == "hedge":
            raise OrderRefusedError(
                "reduce_only applies in one-way mode; in hedge mode each side is its own leg: "
                "close a leg with close_position(symbol, price, side=...)"
            )
        self.brackets(sym)  # refuses a symbol without a tier table

        def change(acct: Account) -> list[Event]:
            if acct._mark({sym: p}):
                raise OrderRefusedError(
                    f"a mark of {p:g} for {sym} liquidates open positions first; call mark() to "
                    "apply it, then place the order"
                )
            start = len(acct.events)
            acct._fill(sym, s, q, p, lev, rate, bool(reduce_only), sized_notional)
            acct._settle()
            return acct.events[start:]

        return self._transaction(change)

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
        ``notional`` (USDT), at ``leverage``: :meth:`place_order` for an order that only opens.

        Refused when the leverage is above the tier's maximum for the resulting notional, when it
        differs from the leverage already set for an open position on the symbol, when one-way
        mode holds the opposite side (use :meth:`place_order` to reduce, close or flip it), or
        when the balance cannot pay initial margin + fee.
        """
        sym = _symbol(symbol)
        s = v.side_scalar("side", side)
        if self._position_mode == "one-way" and (sym, -s) in self._positions:
            raise OrderRefusedError(
                f"one-way mode holds a {_SIDE_NAME[-s]} {sym} position, so a {_SIDE_NAME[s]} order "
                f"reduces, closes or flips it rather than opening: use place_order({sym!r}, "
                f"{_SIDE_NAME[s]!r}, ...) for that, or close_position"
            )
        self.place_order(
            sym, s, price=price, quantity=quantity, notional=notional, leverage=leverage, fee_rate=fee_rate
        )

    def close_position(
        self,
        symbol: str,
        price: float,
        *,
        side: str | int | None = None,
        quantity: float | None = None,
        fee_rate: float | None = None,
    ) -> float:
        """Close all (or ``quantity`` coins) of a position at ``price``; returns the realised PnL.

        The PnL and the released isolated margin go to the cross wallet, less the closing fee; a
        liquidation that the fee causes follows at once. Refused if the position does not exist,
        if ``quantity`` exceeds its size, if it would leave less than the exchange's minimum
        quantity open, or if the position would already have been liquidated at ``price``
        (call :meth:`mark` first).
        """
        pos = self._find(symbol, side)
        p = v.scalar(v.positive, "price", price)
        rate = self._fee_rate(fee_rate)
        q = pos.quantity if quantity is None else v.scalar(v.positive, "quantity", quantity)
        if q > pos.quantity * (1 + _ROUNDING):
            raise OrderRefusedError(
                f"quantity must not exceed the open {pos.quantity:g} {pos.symbol}; got {q:g}"
            )
        key = (pos.symbol, pos.side)

        def change(acct: Account) -> float:
            if any(e.symbol == pos.symbol and e.side == pos.side_name for e in acct._mark({pos.symbol: p})):
                raise OrderRefusedError(
                    f"the {pos.side_name} {pos.symbol} position would already be liquidated at a "
                    f"mark of {p:g}; call mark() to apply the liquidation"
                )
            pnl = acct._reduce(acct._positions[key], q, p, rate)
            acct._settle()
            return pnl

        return self._transaction(change)

    def _fill(
        self, sym: str, s: int, q: float, p: float, lev: float | None, rate: float, reduce_only: bool,
        sized_notional: float | None,
    ) -> None:  # fmt: skip
        """Apply one market order to this account (a trial copy): reduce, close, flip or open."""
        setting = self._leverage.get(sym, DEFAULT_LEVERAGE)
        if lev is not None and self.has_position(sym) and lev != setting:
            same = self._positions.get((sym, s))
            held = same.quantity * p if same else 0.0
            self._check_max_leverage(sym, held + q * p, lev)  # the tier's limit is the first news
            raise OrderRefusedError(
                f"leverage must match the {setting:g}x set for the open {sym} position; got "
                f"{lev:g}x (use set_leverage to change it)"
            )
        opposite = self._positions.get((sym, -s)) if self._position_mode == "one-way" else None
        if opposite is not None:
            closing = opposite.quantity if q >= opposite.quantity * (1 - _ROUNDING) else q
            rest = q - closing
            if rest <= opposite.quantity * _ROUNDING:
                rest = 0.0
            if reduce_only and rest > 0:
                raise OrderRefusedError(
                    f"reduce_only: this {_SIDE_NAME[s]} order of {q:g} {sym} is larger than the open "
                    f"{opposite.side_name} of {opposite.quantity:g}, so it would flip the position; "
                    f"order at most {opposite.quantity:g}, or drop reduce_only"
                )
            least = MIN_QUANTITY.get(sym, 0.0)
            if 0 < rest < least * (1 - _ROUNDING):
                raise OrderRefusedError(
                    f"quantity {q:g} would flip the {opposite.side_name} of {opposite.quantity:g} into a "
                    f"{_SIDE_NAME[s]} of {rest:.6g} {sym[:-4]}, less than the exchange's minimum {least:g}: "
                    f"order {opposite.quantity:g} to close it, or at least {opposite.quantity + least:g} "
                    "to flip it"
                )
            self._reduce(opposite, closing, p, rate)
            if rest > 0:
                self._open(sym, s, rest, p, lev if lev is not None else setting, rate, None)
            return
        if reduce_only:
            held = self._positions.get((sym, s))
            what = f"would add to the {held.side_name}" if held else "would open a new position"
            raise OrderRefusedError(
                f"reduce_only: there is no {_SIDE_NAME[-s]} {sym} position for this {_SIDE_NAME[s]} "
                f"order to reduce; it {what}"
            )
        self._open(sym, s, q, p, lev if lev is not None else setting, rate, sized_notional)

    def _open(
        self, sym: str, s: int, q: float, p: float, lev: float, rate: float, sized_notional: float | None
    ) -> None:
        """Open or add to the ``s`` side of ``sym`` (checks tiers and balance, then pays)."""
        table = self.brackets(sym)
        mode = self.margin_mode(sym)
        existing = self._positions.get((sym, s))
        _check_min_quantity(sym, q + (existing.quantity if existing else 0.0), "open")
        # sized by notional: use it as given (q × p can round across a tier floor)
        order_notional = q * p if sized_notional is None else sized_notional
        held = existing.quantity * p if existing else 0.0  # the tier of this side's position
        self._check_max_leverage(sym, order_notional + held, lev, table)
        im, fee = q * p / lev, q * p * rate
        report = self.report()
        budget, rule = report.available_balance, "is available"
        if mode == "isolated" and report.max_transferable < budget:
            budget = report.max_transferable
            rule = "is available to move into an isolated wallet (unrealised profit cannot move)"
        if im + fee > budget:
            max_lev = float(table.max_leverage(order_notional + held))
            raise OrderRefusedError(
                f"insufficient available balance: initial margin {im:,.2f} + opening fee "
                f"{fee:,.2f} = {im + fee:,.2f} USDT, but only {budget:,.2f} USDT {rule}. "
                "Ways out: transfer funds into the futures wallet, reduce the position size, or "
                f"raise the leverage (up to {max_lev:g}x for this size)"
            )
        self._leverage[sym] = lev
        self._modes.setdefault(sym, mode)
        self._cross_wallet -= fee + (im if mode == "isolated" else 0.0)
        if existing:
            total_q = existing.quantity + q
            existing.entry_price = (existing.quantity * existing.entry_price + q * p) / total_q
            existing.quantity = total_q
            existing.isolated_wallet += im if mode == "isolated" else 0.0
        else:
            wallet = im if mode == "isolated" else 0.0
            self._positions[(sym, s)] = Position(sym, s, q, p, lev, mode, p, wallet)
        self.events.append(Event("open", sym, _SIDE_NAME[s], mode, p, 0.0, f"{q:g} @ {p:g}"))
        if fee:
            self.events.append(Event("fee", sym, _SIDE_NAME[s], mode, p, -fee, "opening fee"))

    def _reduce(self, pos: Position, q: float, p: float, rate: float) -> float:
        """Close ``q`` coins of ``pos`` at ``p`` (the mark is already ``p``); return the PnL."""
        if q >= pos.quantity * (1 - _ROUNDING):
            q = pos.quantity
        else:
            _check_min_quantity(pos.symbol, pos.quantity - q, "close")
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
        where = (pos.symbol, pos.side_name, pos.margin_mode, p)
        self.events.append(Event("close", *where, pnl, f"{q:g} @ {p:g}"))
        if fee:
            self.events.append(Event("fee", *where, -fee, "closing fee"))
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
        """Move ``amount`` USDT from the cross wallet into an isolated position's wallet, up to
        :meth:`max_transferable` (unrealised profit cannot be moved).

        Moves its liquidation price away from the mark; the leverage setting, the MMR and the
        maintenance margin stay as they were.
        """
        pos = self._find(symbol, side)
        self._require_isolated(pos, "add margin to")
        amt = v.scalar(v.positive, "amount", amount)
        key = (pos.symbol, pos.side)

        def change(acct: Account) -> None:
            acct._take_from_cross(amt, "amount")
            acct._cross_wallet -= amt
            acct._positions[key].isolated_wallet += amt
            acct.events.append(Event("add_margin", pos.symbol, pos.side_name, "isolated", None, -amt))

        self._transaction(change)

    def remove_margin(self, symbol: str, amount: float, side: str | int | None = None) -> None:
        """Move ``amount`` USDT from an isolated position back to the cross wallet, up to
        :meth:`max_removable_margin`."""
        pos = self._find(symbol, side)
        self._require_isolated(pos, "remove margin from")
        amt = v.scalar(v.positive, "amount", amount)
        most = self.max_removable_margin(symbol, side)
        if amt > most:
            raise OrderRefusedError(
                f"amount must not exceed the removable margin {most:,.2f} USDT "
                f"(min(wallet − MM, wallet + UPNL − notional / leverage)); got {amt:,.2f}"
            )
        key = (pos.symbol, pos.side)

        def change(acct: Account) -> None:
            acct._cross_wallet += amt
            acct._positions[key].isolated_wallet -= amt
            acct.events.append(Event("remove_margin", pos.symbol, pos.side_name, "isolated", None, amt))
            acct._settle()

        self._transaction(change)

    # ---------------------------------------------------------------- marking and liquidation
    def mark(self, prices: Mapping[str, float]) -> list[Event]:
        """Value positions at new mark prices and liquidate what must be; returns the
        liquidation events (empty if none).

        Isolated positions are liquidated one by one (each loses its isolated wallet); if the
        cross margin balance falls to the cross maintenance margin, every cross position is
        liquidated together and the cross wallet is lost.
        """
        clean = _prices("prices", prices)
        return self._transaction(lambda acct: acct._mark(clean))

    def _mark(self, clean: Mapping[str, float]) -> list[Event]:
        self._marks.update(clean)
        for pos in self._positions.values():
            if pos.symbol in clean:
                pos.mark_price = clean[pos.symbol]
        return self._settle()

    def _settle(self) -> list[Event]:
        """Liquidate what is at or below maintenance (isolated positions one by one, then the
        cross positions together); a cross wallet left negative with no cross position to hold
        it up is absorbed by the insurance fund. Returns the events."""
        events: list[Event] = []
        for key, pos in list(self._positions.items()):
            if pos.margin_mode == "isolated" and pos.isolated_wallet + pos.unrealized_pnl <= self._mm(pos):
                del self._positions[key]
                events += _liquidation_events([pos], pos.isolated_wallet, "isolated wallet")
        cross = [p for p in self._positions.values() if p.margin_mode == "cross"]
        balance = self._cross_wallet + sum(p.unrealized_pnl for p in cross)
        if (cross and balance <= sum(self._mm(p) for p in cross)) or (not cross and self._cross_wallet < 0):
            for pos in cross:
                del self._positions[(pos.symbol, pos.side)]
            events += _liquidation_events(cross, self._cross_wallet, "cross wallet")
            self._cross_wallet = 0.0
        self.events.extend(events)
        return events

    def settle_funding(self, rates: Mapping[str, float]) -> list[Event]:
        """Settle one funding interval at the current marks: ``−s × Q × P × rate`` per position.

        Cross positions settle into the cross wallet, isolated ones into their own wallet (an
        isolated wallet cannot pay more than it holds). Liquidations that follow are applied and
        returned with the funding events.
        """
        clean = _prices("rates", rates, rule=("rate", -MAX_FUNDING_RATE, MAX_FUNDING_RATE))

        def change(acct: Account) -> list[Event]:
            events = []
            for pos in acct._positions.values():
                if pos.symbol not in clean:
                    continue
                cash = -pos.side * pos.quantity * pos.mark_price * clean[pos.symbol]
                if pos.margin_mode == "isolated":
                    cash = max(cash, -pos.isolated_wallet)
                    pos.isolated_wallet += cash
                else:
                    acct._cross_wallet += cash
                events.append(
                    Event("funding", pos.symbol, pos.side_name, pos.margin_mode, pos.mark_price, cash,
                          f"rate {clean[pos.symbol]:+.4%}")
                )  # fmt: skip
            acct.events.extend(events)
            return events + acct._settle()

        return self._transaction(change)

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
        available = max(0.0, self._cross_wallet + cross_upnl - cross_im)
        return AccountReport(
            wallet_balance=wallet,
            cross_wallet_balance=self._cross_wallet,
            equity=wallet + upnl,
            unrealized_pnl=upnl,
            available_balance=available,
            max_transferable=max(0.0, min(self._cross_wallet - cross_mm, available)),
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
        wallet = self._cross_wallet  # may be negative: other positions' profit then holds it up
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

    def _fee_rate(self, fee_rate: Any) -> float:
        if fee_rate is None:
            return self.fee_rate
        return v.scalar(v.number, "fee_rate", fee_rate, low=0.0, high=MAX_FEE_RATE)

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


def _liquidation_events(closed: list[Position], wallet: float, whose: str) -> list[Event]:
    """Events of a liquidation: each position closed at its mark (PnL realised), then the margin
    balance left, ``wallet + Σ PnL``, taken (``clearance``) or, if negative, absorbed by the
    insurance fund (``insurance``). Together they bring ``wallet`` to exactly 0."""
    mode = closed[0].margin_mode if closed else "cross"
    events = [
        Event("liquidation", p.symbol, p.side_name, p.margin_mode, p.mark_price, p.unrealized_pnl,
              "closed by liquidation; PnL realised at the mark")
        for p in closed
    ]  # fmt: skip
    left = wallet + sum(p.unrealized_pnl for p in closed)
    alone = len(closed) == 1 and mode == "isolated"
    sym, side = (closed[0].symbol, closed[0].side_name) if alone else (None, None)
    if left >= 0:
        note = f"margin balance left in the {whose}, taken"
        events.append(Event("clearance", sym, side, mode, None, 0.0 - left, note))  # 0.0, not -0.0
    else:
        events.append(
            Event("insurance", sym, side, mode, None, -left,
                  f"the insurance fund absorbs the {whose}'s negative balance of {left:,.2f} USDT")
        )  # fmt: skip
    return events


def _order_size(quantity: Any, notional: Any, price: float) -> tuple[float, float | None]:
    """The order's quantity in coins, and its notional when it was sized by notional."""
    if (quantity is None) == (notional is None):
        raise InvalidInputError(
            f"give exactly one of quantity= (coins) or notional= (USDT); got "
            f"quantity={quantity!r}, notional={notional!r}"
        )
    if quantity is not None:
        return v.scalar(v.positive, "quantity", quantity), None
    n = v.scalar(v.positive, "notional", notional)
    return n / price, n


def _check_min_quantity(sym: str, left: float, action: str) -> None:
    """Refuse leaving a position smaller than the exchange's minimum quantity."""
    least = MIN_QUANTITY.get(sym, 0.0)
    if 0 < left < least * (1 - _ROUNDING):
        if action == "open":
            raise OrderRefusedError(
                f"quantity must be at least {least:g} {sym[:-4]}, the exchange's minimum for a "
                f"{sym} position; got {left:.6g}"
            )
        raise OrderRefusedError(
            f"quantity would leave {left:g} {sym[:-4]} open, less than the exchange's minimum "
            f"{least:g}: close the whole position, or leave at least {least:g}"
        )


def _prices(name: str, values: Any, *, rule: tuple[str, float, float] | None = None) -> dict[str, float]:
    """A dict of symbol -> number, each checked (prices > 0, or a rate within bounds)."""
    if not isinstance(values, Mapping):
        what = "mark price" if rule is None else "funding rate"
        raise InvalidInputError(f"{name} must be a dict of symbol -> {what}; got {values!r:.60}")
    out = {}
    for k, x in values.items():
        label = f"{name}[{k!r}]"
        if rule is None:
            out[_symbol(k)] = v.scalar(v.positive, label, x)
        else:
            out[_symbol(k)] = v.scalar(v.number, label, x, low=rule[1], high=rule[2])
    return out


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
