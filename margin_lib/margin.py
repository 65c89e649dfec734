"""Margin arithmetic: initial and maintenance margin, profit, the two ratio figures, tolerances.

Every function accepts floats or NumPy arrays (they broadcast against each other) and returns
a float when all inputs are scalars, otherwise an array of the broadcast shape. Money is USDT;
rates are fractions (0.005 means 0.5 %). The rules are those of Binance USDⓈ-M perpetual
futures in single-asset mode, as the course's rule book ``docs/margin-rules.md`` states them
(sections 2 to 4).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import _validate as v

__all__ = [
    "notional",
    "initial_margin",
    "unrealized_pnl",
    "return_on_equity",
    "maintenance_margin",
    "margin_ratio",
    "account_margin_level",
    "error_tolerance",
    "adverse_move_to_liquidation",
    "effective_leverage",
]


@v.broadcasting()
def notional(quantity: ArrayLike, price: ArrayLike) -> ArrayLike:
    """Position value ``N = Q × price`` in USDT.

    >>> notional(0.01, 100_000)
    1000.0
    """
    q = v.positive("quantity", quantity)
    p = v.positive("price", price)
    with np.errstate(over="ignore"):
        out = q * p
    v.overflow("the notional quantity × price", out, quantity=q, price=p)
    return v.result(out, quantity, price)


@v.broadcasting()
def initial_margin(notional: ArrayLike, leverage: ArrayLike) -> ArrayLike:
    """Initial margin ``IM = N / L``: the money a position of notional ``N`` locks at leverage ``L``.

    ``notional`` in USDT (> 0), ``leverage`` >= 1. The tier table's maximum leverage is checked
    by :class:`~margin_lib.brackets.BracketTable` and the account, not here. The exchange sets
    leverage in whole steps (1x, 2x, ...); the formula also takes a fraction such as 2.5, which
    is how an *effective* leverage can come out.

    >>> initial_margin(1_000, 10)
    100.0
    """
    n = v.positive("notional", notional)
    lev = v.leverage("leverage", leverage)
    return v.result(n / lev, notional, leverage)


@v.broadcasting()
def unrealized_pnl(
    side: ArrayLike, quantity: ArrayLike, entry_price: ArrayLike, mark_price: ArrayLike
) -> ArrayLike:
    """Unrealized profit ``UPNL = s × Q × (P − EP)`` in USDT (``s`` = +1 long, −1 short).

    >>> unrealized_pnl("long", 0.05, 100_000, 92_000)
    -400.0
    """
    s = v.side("side", side)
    q = v.positive("quantity", quantity)
    ep = v.positive("entry_price", entry_price)
    p = v.positive("mark_price", mark_price)
    with np.errstate(over="ignore"):
        out = s * q * (p - ep)
    v.overflow("the PnL quantity × (mark_price − entry_price)", out, quantity=q, entry_price=ep, mark_price=p)
    return v.result(out, side, quantity, entry_price, mark_price)


@v.broadcasting()
def return_on_equity(
    side: ArrayLike,
    quantity: ArrayLike,
    entry_price: ArrayLike,
    mark_price: ArrayLike,
    leverage: ArrayLike,
) -> ArrayLike:
    """ROE ``= UPNL / IM``, a fraction, with ``IM = Q × EP / L`` taken at the entry price.

    The quantity cancels: ``ROE = s × (P − EP) × L / EP`` (computed that way, so no size
    overflows). (The exchange's own pages disagree on entry or mark for IM; the course uses
    entry.)

    >>> round(return_on_equity("long", 0.01, 100_000, 92_000, 10), 6)
    -0.8
    """
    s = v.side("side", side)
    v.positive("quantity", quantity)
    ep = v.positive("entry_price", entry_price)
    p = v.positive("mark_price", mark_price)
    lev = v.leverage("leverage", leverage)
    return v.result(s * (p - ep) * lev / ep, side, quantity, entry_price, mark_price, leverage)


@v.broadcasting()
def maintenance_margin(notional: ArrayLike, mmr: ArrayLike, maintenance_amount: ArrayLike = 0.0) -> ArrayLike:
    """Maintenance margin ``MM = N × MMR − cum`` in USDT, with ``N`` valued at the mark price.

    It depends on the notional only, never on the leverage chosen; a notional of 0 (no
    position) has MM 0 when ``cum`` is 0. ``cum``
    (``maintenance_amount``) is the tier's constant that keeps MM continuous across tiers; use
    :meth:`BracketTable.maintenance_margin <margin_lib.brackets.BracketTable.maintenance_margin>`
    to look both up from the notional.

    >>> maintenance_margin(1_000, 0.005)
    5.0
    >>> maintenance_margin(500_000, 0.005, 300)
    2200.0
    """
    n = v.nonnegative("notional", notional)
    r = v.rate("mmr", mmr)
    cum = v.nonnegative("maintenance_amount", maintenance_amount)
    mm = n * r - cum
    bad = mm < 0
    if bad.any():
        raise v.InvalidInputError(
            "maintenance_amount must not exceed notional × mmr (a tier's cum is below its floor "
            f"× mmr); got maintenance_amount {v._first_bad(np.broadcast_to(cum, mm.shape), bad)}"
        )
    return v.result(mm, notional, mmr, maintenance_amount)


@v.broadcasting()
def margin_ratio(maintenance_margin: ArrayLike, margin_balance: ArrayLike) -> ArrayLike:
    """The exchange's **margin ratio** ``MM / MB``: liquidation when it reaches 1 (100 %).

    ``margin_balance`` (``MB = wallet + UPNL``) may be negative; the ratio is ``inf`` when
    ``MB <= 0`` (the position is past bankruptcy) and 0 when ``MM = 0`` with ``MB > 0``.
    The exchange advises staying below 0.8. Compare :func:`account_margin_level`, the
    article's reciprocal figure with the same trigger.

    >>> margin_ratio(25, 850)
    0.029411764705882353
    """
    mm = v.nonnegative("maintenance_margin", maintenance_margin)
    mb = v.number("margin_balance", margin_balance)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.where(mb > 0, mm / np.where(mb > 0, mb, 1.0), np.inf)
    return v.result(out, maintenance_margin, margin_balance)


@v.broadcasting()
def account_margin_level(equity: ArrayLike, maintenance_margin: ArrayLike) -> ArrayLike:
    """The article's **account margin ratio** ``equity / MM``: safe while >= 1 (100 %).

    It is the reciprocal of :func:`margin_ratio` (``equity`` is the margin balance), so the two
    cross the line together: ``equity / MM < 1`` exactly when ``MM / equity > 1``. With no
    maintenance margin (no positions) it is ``inf``.

    >>> account_margin_level(850, 50)
    17.0
    """
    eq = v.number("equity", equity)
    mm = v.nonnegative("maintenance_margin", maintenance_margin)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.where(mm > 0, eq / np.where(mm > 0, mm, 1.0), np.inf)
    return v.result(out, equity, maintenance_margin)


@v.broadcasting()
def error_tolerance(leverage: ArrayLike, mmr: ArrayLike) -> ArrayLike:
    """The article's "error tolerance" ``IMR − MMR = 1/L − MMR``, a fraction of the entry price.

    A first-order estimate of the adverse move that liquidates a fresh isolated position; the
    exact figure is :func:`adverse_move_to_liquidation`.

    >>> round(error_tolerance(10, 0.005), 10)
    0.095
    """
    lev = v.leverage("leverage", leverage)
    r = v.rate("mmr", mmr)
    return v.result(1.0 / lev - r, leverage, mmr)


@v.broadcasting()
def adverse_move_to_liquidation(side: ArrayLike, leverage: ArrayLike, mmr: ArrayLike) -> ArrayLike:
    """Exact fraction the mark must move against a fresh isolated position to liquidate it.

    ``(IMR − MMR) / (1 − s × MMR)`` with ``IMR = 1/L``, ``s`` = +1 long, −1 short and
    ``cum = 0``: a long falls by ``(IMR − MMR)/(1 − MMR)``, a short rises by
    ``(IMR − MMR)/(1 + MMR)``. Negative when MMR exceeds IMR (liquidated at once).

    >>> round(adverse_move_to_liquidation("long", 10, 0.005), 6)
    0.095477
    """
    s = v.side("side", side)
    lev = v.leverage("leverage", leverage)
    r = v.rate("mmr", mmr)
    return v.result((1.0 / lev - r) / (1.0 - s * r), side, leverage, mmr)


@v.broadcasting()
def effective_leverage(notional: ArrayLike, margin_balance: ArrayLike) -> ArrayLike:
    """Effective leverage ``N / MB``: the notional (at the mark, USDT) over the margin balance
    that stands behind it (wallet + unrealized PnL, USDT); a multiple.

    It is what the position really is, whatever leverage was set when it was opened: adding
    margin lowers it, losses raise it. For an isolated position ``MB`` is its isolated wallet plus
    its PnL; for a cross position, the cross margin balance. ``inf`` when ``MB <= 0`` (nothing
    stands behind the position any more).

    >>> effective_leverage(920, 20)      # 1,000 USDT at 10x after an 8 % fall: 920 / (100 − 80)
    46.0
    >>> round(effective_leverage(920, 120), 2)   # the same after adding 100 USDT of margin
    7.67
    """
    n = v.nonnegative("notional", notional)
    mb = v.number("margin_balance", margin_balance)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.where(mb > 0, n / np.where(mb > 0, mb, 1.0), np.inf)
    return v.result(out, notional, margin_balance)
