"""Margin arithmetic: initial and maintenance margin, profit, the two ratio figures, tolerances.

Every function accepts floats or NumPy arrays (they broadcast against each other) and returns
a float when all inputs are scalars, otherwise an array of the broadcast shape. Money is USDT;
rates are fractions (0.005 means 0.5 %). The rules are those of Binance USDⓈ-M perpetual
futures in single-asset mode, as the course's rule book ``docs/margin-rules.md`` states them
(sections 2 to 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _validate as v
from .brackets import BracketTable
from .errors import InvalidInputError
from .fees import MAX_FEE_RATE

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
    "target_price",
    "target_price_for_pnl",
    "average_entry_price",
    "MaxOpen",
    "max_open_quantity",
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


@v.broadcasting()
def target_price(side: ArrayLike, entry_price: ArrayLike, leverage: ArrayLike, roe: ArrayLike) -> ArrayLike:
    """The exit price (USDT) at which a position shows the return on equity ``roe``.

    ``P = EP × (1 + s × ROE / L)``, the inverse of :func:`return_on_equity` (ROE a fraction, on
    the initial margin at the entry price; the quantity cancels). ``nan`` where that price would
    not be positive: at a price of 0 a long's ROE is ``−L`` (−1,000 % at 10x) and a short's
    ``+L``, so a long cannot ask for less and a short cannot ask for more. Fees are not counted.

    >>> target_price("long", 100_000, 10, 0.5), target_price("short", 100_000, 10, 0.5)
    (105000.0, 95000.0)
    """
    s = v.side("side", side)
    ep = v.positive("entry_price", entry_price)
    lev = v.leverage("leverage", leverage)
    r = v.number("roe", roe)
    with np.errstate(over="ignore", invalid="ignore"):
        out = ep + s * (ep * r) / lev
    v.overflow("the target price entry_price × (1 + roe / leverage)", out, entry_price=ep, roe=r)
    return v.result(np.where(out > 0, out, np.nan), side, entry_price, leverage, roe)


@v.broadcasting()
def target_price_for_pnl(
    side: ArrayLike, quantity: ArrayLike, entry_price: ArrayLike, pnl: ArrayLike
) -> ArrayLike:
    """The exit price (USDT) at which ``quantity`` coins show the profit ``pnl`` (USDT, a loss
    negative): ``P = EP + s × PnL / Q``, the inverse of :func:`unrealized_pnl`. ``nan`` where
    that price would not be positive (a long cannot lose more than ``Q × EP``). Fees are not
    counted.

    >>> target_price_for_pnl("long", 0.01, 100_000, 500), target_price_for_pnl("short", 0.01, 100_000, 500)
    (150000.0, 50000.0)
    """
    s = v.side("side", side)
    q = v.positive("quantity", quantity)
    ep = v.positive("entry_price", entry_price)
    gain = v.number("pnl", pnl)
    with np.errstate(over="ignore", invalid="ignore"):
        out = ep + s * gain / q
    v.overflow("the target price entry_price + pnl / quantity", out, quantity=q, entry_price=ep, pnl=gain)
    return v.result(np.where(out > 0, out, np.nan), side, quantity, entry_price, pnl)


@v.broadcasting()
def average_entry_price(prices: ArrayLike, quantities: ArrayLike) -> ArrayLike:
    """The entry price (USDT per coin) of a position built from several fills on one side:
    ``EP = Σ pᵢ × qᵢ / Σ qᵢ``, each fill's price weighted by its quantity (coins), as the
    exchange (and :class:`~margin_lib.account.Account`) averages an added position.

    The fills run along the last axis: ``prices`` and ``quantities`` of shape ``(..., n)`` give
    shape ``(...)``, and one list of fills gives a float. At least one fill; every price and
    quantity ``> 0``.

    >>> average_entry_price([100_000, 110_000], [0.5, 0.5])
    105000.0
    >>> round(average_entry_price([100_000, 95_000], [0.01, 0.02]), 2)
    96666.67
    """
    p = v.positive("prices", prices)
    q = v.positive("quantities", quantities)
    p, q = np.broadcast_arrays(p, q)
    if p.ndim == 0:
        raise InvalidInputError(
            f"prices and quantities must be lists of fills (one price and one quantity each); got "
            f"the single numbers {v._fmt(prices)} and {v._fmt(quantities)}"
        )
    if p.shape[-1] == 0:
        raise InvalidInputError("prices and quantities must hold at least one fill; got empty lists")
    weight = q / q.max(axis=-1, keepdims=True)  # relative weights, so no size overflows
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.sum(p * weight, axis=-1) / np.sum(weight, axis=-1)
    v.overflow("the average entry price", out, prices=p.max(axis=-1))
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class MaxOpen:
    """What :func:`max_open_quantity` finds (floats, or arrays of the inputs' shape).

    ``quantity`` (coins) is the smaller of ``balance_quantity``, the most the balance pays for,
    and ``tier_quantity``, the most that keeps the notional below ``notional_limit`` (USDT), the
    cap of ``tier``, the last tier allowing the leverage. ``notional`` is ``quantity × price``.
    ``binding`` says which limit sets it: ``"balance"``, ``"tier"`` or ``"both"`` (equal).
    """

    quantity: Any
    notional: Any
    balance_quantity: Any
    tier_quantity: Any
    notional_limit: Any
    tier: Any
    binding: Any


@v.broadcasting("brackets")
def max_open_quantity(
    balance: ArrayLike,
    price: ArrayLike,
    leverage: ArrayLike,
    *,
    brackets: BracketTable,
    fee_rate: ArrayLike = 0.0,
    step: ArrayLike = 0.0,
) -> MaxOpen:
    """The largest position (coins) that an available ``balance`` (USDT, ``>= 0``) may open at
    ``price`` (USDT) and ``leverage``, with the opening fee at ``fee_rate`` (a fraction, 0 to
    0.01) and the tiers of ``brackets``. Two limits, the smaller wins:

    - the balance pays the initial margin and the opening fee,
      ``Q × P / L + Q × P × f <= balance``, so ``Q <= balance / (P × (1/L + f))``;
    - the tier allows the leverage: ``Q × P < C``, with ``C`` the cap of the last tier whose
      maximum leverage is at least ``L`` (:meth:`BracketTable.notional_limit`; the maximum
      leverage falls as the notional grows). A leverage above tier 1's maximum is refused.

    Each is rounded down to a whole number of ``step`` (coins; the exchange's quantity step,
    ``MIN_QUANTITY`` in :mod:`margin_lib.account`, 0.001 for BTCUSDT and ETHUSDT; 0 for no
    rounding), then checked exactly as the account checks an order, so the quantity found can be
    opened and one step more cannot. A result of 0 means not even one step fits.

    What the exchange's own "Max open" adds, and this leaves out: an order price worse than the
    mark (the open loss, charged on top of the margin), open orders and an existing position on
    the symbol (they share the tier and the balance), the lower caps of new accounts, and in
    cross mode a balance that moves with the other positions' PnL. Here the order fills at
    ``price``, which is the mark.

    >>> t = BracketTable.load("BTCUSDT")
    >>> m = max_open_quantity(1_000, 100_000, 10, brackets=t, fee_rate=0.0005, step=0.001)
    >>> m.quantity, m.binding           # 1,000 / (100,000 × (0.1 + 0.0005)) = 0.0995 -> 0.099
    (0.099, 'balance')
    >>> m = max_open_quantity(10_000_000, 100_000, 100, brackets=t, step=0.001)
    >>> m.quantity, m.notional_limit, m.binding     # below 800,000 USDT at 100x: tier 2
    (7.999, 800000.0, 'tier')
    """
    if not isinstance(brackets, BracketTable):
        raise InvalidInputError(f"brackets must be a BracketTable; got {brackets!r:.80}")
    a = v.nonnegative("balance", balance)
    p = v.positive("price", price)
    lev = v.leverage("leverage", leverage)
    f = v.number("fee_rate", fee_rate, low=0.0, high=MAX_FEE_RATE)
    st = v.nonnegative("step", step)
    tiny = (st > 0) & (st < 1e-9)
    if tiny.any():
        raise InvalidInputError(
            f"step must be 0 (no rounding) or at least 1e-9 coins; got {v._first_bad(st, tiny)}"
        )
    cap = np.asarray(brackets.notional_limit(lev), dtype=float)
    a, p, lev, f, st, cap = np.broadcast_arrays(a, p, lev, f, st, cap)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        q_bal = _largest(a / (p * (1.0 / lev + f)), st, lambda q: q * p / lev + q * p * f <= a)
        q_tier = _largest(cap / p, st, lambda q: q * p < cap)
    v.overflow("the quantity balance / (price × (1/leverage + fee_rate))", q_bal, balance=a, price=p)
    qty = np.minimum(q_bal, q_tier)
    tier = np.asarray(brackets.bracket_for(np.nextafter(cap, 0.0)).bracket)
    binding = np.where(q_tier < q_bal, "tier", np.where(q_bal < q_tier, "balance", "both"))
    inputs = (balance, price, leverage, fee_rate, step)
    return MaxOpen(
        quantity=v.result(qty, *inputs),
        notional=v.result(qty * p, *inputs),
        balance_quantity=v.result(q_bal, *inputs),
        tier_quantity=v.result(q_tier, *inputs),
        notional_limit=v.result(cap, *inputs),
        tier=int(tier) if tier.ndim == 0 else tier,
        binding=str(binding) if binding.ndim == 0 else binding,
    )


def _largest(estimate: np.ndarray, step: np.ndarray, fits) -> np.ndarray:
    """The largest quantity ``<= estimate`` on the grid of ``step`` (where ``step > 0``) for which
    ``fits`` holds, found from the estimate by moving a step at a time either way (rounding in
    ``estimate`` is at most a step off). Where ``step == 0`` the estimate itself, nudged down
    by the last bits until it fits."""
    gridded = step > 0
    safe = np.where(gridded, step, 1.0)
    k = np.floor(np.where(gridded, estimate / safe, 0.0) + 1e-9)

    def on_grid(k: np.ndarray) -> np.ndarray:
        return np.where(gridded, np.round(k * safe, 12), estimate)

    for _ in range(3):  # down while the candidate does not fit
        k = np.where(gridded & (k > 0) & ~fits(on_grid(k)), k - 1, k)
    for _ in range(3):  # up while one step more still fits
        k = np.where(gridded & fits(on_grid(k + 1)), k + 1, k)
    q = np.where(gridded, np.maximum(on_grid(k), 0.0), estimate)
    for _ in range(4):  # no grid: the last bits of the estimate
        q = np.where(~gridded & (q > 0) & ~fits(q), np.nextafter(q, 0.0), q)
    return q
