"""Liquidation and bankruptcy prices (the course's rule book, ``docs/margin-rules.md``, section 5).

Liquidation comes when the margin balance falls to the maintenance margin. For one position in
one-way mode, with ``s`` = +1 long / −1 short, solving ``WB' + s·Q·(LP − EP) = Q·LP·MMR − cum``
gives::

    LP = (WB' + cum − s·Q·EP) / (Q·MMR − s·Q)
    long:  LP = (Q·EP − WB' − cum) / (Q·(1 − MMR))
    short: LP = (Q·EP + WB' + cum) / (Q·(1 + MMR))

``WB'`` is the wallet that backs the position: its isolated wallet in isolated mode; in cross
mode the cross wallet minus the maintenance margin of the other cross positions plus their
unrealized PnL (valued at their current marks, so a cross LP holds only while those marks stay
put). A cross wallet can be negative (realised losses paid while other positions' profit holds
the account up), and so can ``WB'``; the formula holds all the same.

The code evaluates the formulas divided through by the quantity,
``LP = (WB'/Q + cum/Q − s·EP) / (MMR − s)``, so that neither a huge nor a tiny quantity
overflows on the way to a representable answer. A result that no float can hold is refused by
name rather than returned as ``inf``.

Where no positive price satisfies the equation the functions return ``nan``: the exchange shows
"--". That happens, for example, to a long whose wallet covers the whole notional (a 1x long
cannot lose more than it has before the price reaches zero).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import _validate as v
from .brackets import BracketTable
from .errors import InvalidInputError

__all__ = [
    "liquidation_price",
    "hedge_liquidation_price",
    "hedge_liquidation_prices",
    "bankruptcy_price",
    "effective_wallet",
]

# Relative slack when deciding which tier holds Q × LP, so a root that lands exactly on a tier
# edge (where both neighbouring tiers give the same price) is not lost to rounding.
_EDGE = 1e-12


@v.broadcasting()
def effective_wallet(
    wallet_balance: ArrayLike,
    other_maintenance_margin: ArrayLike = 0.0,
    other_unrealized_pnl: ArrayLike = 0.0,
) -> np.ndarray:
    """``WB' = WB − MM_other + UPNL_other``: the money that backs one cross position (USDT).

    With both ``other_*`` at 0 it is the isolated wallet itself. ``wallet_balance`` may be
    negative (a cross wallet after realised losses); it must be finite.

    >>> float(effective_wallet(1_000, 25, -400))
    575.0
    """
    return _effective_wallet(wallet_balance, other_maintenance_margin, other_unrealized_pnl)


def _effective_wallet(wallet_balance: ArrayLike, other_mm: ArrayLike, other_upnl: ArrayLike) -> np.ndarray:
    wb = v.number("wallet_balance", wallet_balance)
    omm = v.nonnegative("other_maintenance_margin", other_mm)
    oupnl = v.number("other_unrealized_pnl", other_upnl)
    return wb - omm + oupnl


def _positive_or_nan(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.nan)


def _numerator(*terms: np.ndarray) -> np.ndarray:
    """The sum of ``terms``, set to exactly 0 where it is only rounding left over from terms
    that cancel (a 1x long's wallet ``Q × EP`` against ``Q × EP``; a hedge whose legs' rates
    cancel): otherwise a price of 1e-11 USDT, or 1e27 USDT, would stand where the exchange
    shows "--"."""
    total = sum(terms)
    size = sum(np.abs(t) for t in terms)
    return np.where(np.isfinite(size) & (np.abs(total) <= 1e-12 * size), 0.0, total)


def _per_coin(money: np.ndarray, quantity: np.ndarray) -> np.ndarray:
    """``money / quantity`` (USDT per coin); ±inf where a tiny quantity overflows it."""
    with np.errstate(over="ignore", divide="ignore"):
        return money / quantity


@v.broadcasting("brackets")
def liquidation_price(
    side: ArrayLike,
    quantity: ArrayLike,
    entry_price: ArrayLike,
    wallet_balance: ArrayLike,
    *,
    mmr: ArrayLike | None = None,
    maintenance_amount: ArrayLike = 0.0,
    brackets: BracketTable | None = None,
    other_maintenance_margin: ArrayLike = 0.0,
    other_unrealized_pnl: ArrayLike = 0.0,
) -> ArrayLike:
    """The mark price (USDT) at which a one-way position is liquidated.

    Give either ``mmr`` (with its ``maintenance_amount``, the tier's ``cum``) or ``brackets``
    (a :class:`~margin_lib.brackets.BracketTable`). With ``brackets`` the tier used is the one
    holding the notional **at the liquidation price**: the price is computed with each tier's
    (MMR, cum) and the tier whose range contains ``Q × LP`` is kept (the root is unique because
    margin balance minus maintenance margin is strictly monotone in the price). The last tier is
    extended beyond its cap for this purpose.

    Isolated mode: ``wallet_balance`` is the isolated wallet and ``other_*`` are 0. Cross mode:
    ``wallet_balance`` is the cross wallet and ``other_maintenance_margin`` /
    ``other_unrealized_pnl`` are the sums over the other cross positions.

    Returns ``nan`` where no positive liquidation price exists (the exchange shows "--"). A
    result on the wrong side of the entry (a long's LP above its entry) means the position is
    already past its liquidation point at entry.

    >>> round(liquidation_price("long", 0.01, 100_000, 100, mmr=0.005), 2)    # 10x long
    90452.26
    >>> round(liquidation_price("short", 0.01, 100_000, 100,
    ...       brackets=BracketTable.load("BTCUSDT")), 2)
    109561.75
    """
    s = v.side("side", side)
    q = v.positive("quantity", quantity)
    ep = v.positive("entry_price", entry_price)
    wb = _effective_wallet(wallet_balance, other_maintenance_margin, other_unrealized_pnl)
    named = {"quantity": q, "entry_price": ep, "wallet_balance": wb}
    inputs = (
        side,
        quantity,
        entry_price,
        wallet_balance,
        other_maintenance_margin,
        other_unrealized_pnl,
    )
    if (mmr is None) == (brackets is None):
        raise InvalidInputError(
            "give exactly one of mmr= (with maintenance_amount=) or brackets=; got "
            f"mmr={mmr!r} and brackets={brackets!r}"
        )
    if brackets is not None:
        if not isinstance(brackets, BracketTable):
            raise InvalidInputError(f"brackets must be a BracketTable; got {brackets!r:.80}")
        if np.any(np.asarray(maintenance_amount) != 0):
            raise InvalidInputError(
                "maintenance_amount comes from the bracket table when brackets= is given; "
                f"got maintenance_amount={maintenance_amount!r}"
            )
        lp = _solve_with_brackets(s, q, ep, wb, brackets)
        v.overflow("the liquidation price", lp, **named)
        return v.result(lp, *inputs)
    r = v.rate("mmr", mmr)
    cum = v.nonnegative("maintenance_amount", maintenance_amount)
    with np.errstate(over="ignore", invalid="ignore"):
        lp = _positive_or_nan(_numerator(_per_coin(wb, q), _per_coin(cum, q), -s * ep) / (r - s))
    v.overflow("the liquidation price", lp, **named)
    return v.result(lp, *inputs, mmr, maintenance_amount)


def _solve_with_brackets(
    s: np.ndarray, q: np.ndarray, ep: np.ndarray, wb: np.ndarray, table: BracketTable
) -> np.ndarray:
    """Fixed point over tiers, vectorised over positions (the loop runs over the few tiers).

    Works per coin: tier ``i`` gives ``LP_i = (WB'/Q + cum_i/Q − s·EP) / (MMR_i − s)`` and is kept
    where ``floor_i / Q <= LP_i < cap_i / Q`` (the notional ``Q × LP_i`` lies in the tier).
    """
    t = table.tier_arrays()
    cap = t["cap"].copy()
    cap[-1] = np.inf
    s, q, ep, wb = np.broadcast_arrays(s, q, ep, wb)
    out = np.full(s.shape, np.nan)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        base = _numerator(wb / q, -s * ep)  # WB'/Q − s·EP, the part that can cancel (cum_1 = 0)
        for floor, top, rate, cum in zip(t["floor"], cap, t["mmr"], t["cum"], strict=True):
            lp = (base + cum / q) / (rate - s)
            hit = (lp > 0) & (lp >= floor / q * (1 - _EDGE)) & np.isnan(out)
            if np.isfinite(top):
                hit &= lp < top / q * (1 + _EDGE)
            out = np.where(hit, lp, out)
    return out


@v.broadcasting()
def hedge_liquidation_price(
    long_quantity: ArrayLike,
    long_entry_price: ArrayLike,
    short_quantity: ArrayLike,
    short_entry_price: ArrayLike,
    wallet_balance: ArrayLike,
    *,
    long_mmr: ArrayLike,
    short_mmr: ArrayLike,
    long_maintenance_amount: ArrayLike = 0.0,
    short_maintenance_amount: ArrayLike = 0.0,
    other_maintenance_margin: ArrayLike = 0.0,
    other_unrealized_pnl: ArrayLike = 0.0,
) -> ArrayLike:
    """The one liquidation price (USDT) shared by the LONG and SHORT legs of a cross hedge-mode
    symbol::

        LP = (WB' + cum_L + cum_S − Q_L·EP_L + Q_S·EP_S) / (Q_L·MMR_L + Q_S·MMR_S − Q_L + Q_S)

    Clearly net long (``Q_L·(1 − MMR_L) > Q_S·(1 + MMR_S)``, so the denominator is negative) it
    lies below the mark; net short, perfectly balanced or only slightly net long it lies above,
    where the maintenance margin of both legs outgrows the locked-in balance. Returns ``nan``
    when the denominator is 0 or the price is not positive ("--").

    (An earlier rule book worded the rule as "denominator <= 0 means no price"; that would deny a
    price to every net-long hedge, which brute force shows do have one, so the rule here is
    "denominator = 0": see ``docs/margin-rules.md``, section 11.)

    >>> round(hedge_liquidation_price(2, 100, 1, 100, 10, long_mmr=0.005, short_mmr=0.005), 4)
    91.3706
    """
    ql = v.positive("long_quantity", long_quantity)
    epl = v.positive("long_entry_price", long_entry_price)
    qs = v.positive("short_quantity", short_quantity)
    eps = v.positive("short_entry_price", short_entry_price)
    wb = _effective_wallet(wallet_balance, other_maintenance_margin, other_unrealized_pnl)
    rl = v.rate("long_mmr", long_mmr)
    rs = v.rate("short_mmr", short_mmr)
    cl = v.nonnegative("long_maintenance_amount", long_maintenance_amount)
    cs = v.nonnegative("short_maintenance_amount", short_maintenance_amount)
    # divided through by the larger leg, so that no size overflows on the way
    scale = np.maximum(ql, qs)
    wl, ws = ql / scale, qs / scale
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cover = _per_coin(cl, scale) + _per_coin(cs, scale)
        num = _numerator(_per_coin(wb, scale), cover, -wl * epl, ws * eps)
        den = _numerator(wl * rl, ws * rs, -wl, ws)  # exactly 0 for a covered pair, not a crumb
        lp = _positive_or_nan(np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan))
    v.overflow(
        "the liquidation price", lp, long_quantity=ql, short_quantity=qs, wallet_balance=wb
    )
    return v.result(
        lp,
        long_quantity,
        long_entry_price,
        short_quantity,
        short_entry_price,
        wallet_balance,
        long_mmr,
        short_mmr,
        long_maintenance_amount,
        short_maintenance_amount,
        other_maintenance_margin,
        other_unrealized_pnl,
    )


@v.broadcasting("brackets")
def hedge_liquidation_prices(
    long_quantity: ArrayLike,
    long_entry_price: ArrayLike,
    short_quantity: ArrayLike,
    short_entry_price: ArrayLike,
    wallet_balance: ArrayLike,
    *,
    brackets: BracketTable,
    other_maintenance_margin: ArrayLike = 0.0,
    other_unrealized_pnl: ArrayLike = 0.0,
) -> tuple[ArrayLike, ArrayLike]:
    """The prices (USDT) at which a cross hedge pair is liquidated **on a fall** and **on a
    rise**, each leg's MMR and ``cum`` taken from ``brackets`` at that price: ``(below, above)``,
    ``nan`` where there is none.

    Every pair of tiers gives a candidate from :func:`hedge_liquidation_price`'s formula, kept
    when both legs' notionals at it lie in the tiers that gave it. With tiers the maintenance
    margin is convex in the price, so margin balance minus maintenance margin is concave and
    crosses zero at most twice: rising where the denominator ``Q_L·MMR_L + Q_S·MMR_S − Q_L + Q_S``
    is negative (the pair is liquidated when the mark falls to that price) and falling where it
    is positive (when the mark rises to it). The pair is safe strictly between the two. When
    both are ``nan`` the pair is either never liquidated or liquidated at every price.

    >>> t = BracketTable.load("BTCUSDT")
    >>> [round(x, 2) for x in hedge_liquidation_prices(2, 100_000, 1, 100_000, 10_000, brackets=t)]
    [91093.12, 1685748000.0]
    >>> [round(x, 2) for x in hedge_liquidation_prices(1, 100_000, 1, 100_000, 1_000, brackets=t)]
    [nan, 125000.0]
    """
    if not isinstance(brackets, BracketTable):
        raise InvalidInputError(f"brackets must be a BracketTable; got {brackets!r:.80}")
    ql = v.positive("long_quantity", long_quantity)
    qs = v.positive("short_quantity", short_quantity)
    t = brackets.tier_arrays()
    cap = t["cap"].copy()
    cap[-1] = np.inf
    n = len(cap)
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]

    def grid(x: ArrayLike) -> np.ndarray:  # the positions' shape, then the n × n tier pairs
        return np.asarray(x, dtype=float)[..., None, None]

    other_mm = v.nonnegative("other_maintenance_margin", other_maintenance_margin)
    lp = np.asarray(
        hedge_liquidation_price(
            grid(ql), grid(v.positive("long_entry_price", long_entry_price)), grid(qs),
            grid(v.positive("short_entry_price", short_entry_price)),
            grid(v.number("wallet_balance", wallet_balance)),
            long_mmr=t["mmr"][i], short_mmr=t["mmr"][j], long_maintenance_amount=t["cum"][i],
            short_maintenance_amount=t["cum"][j], other_maintenance_margin=grid(other_mm),
            other_unrealized_pnl=grid(v.number("other_unrealized_pnl", other_unrealized_pnl)),
        )
    )  # fmt: skip
    scale = np.maximum(grid(ql), grid(qs))
    den = (grid(ql) * (t["mmr"][i] - 1) + grid(qs) * (t["mmr"][j] + 1)) / scale
    nl, ns = grid(ql) * lp, grid(qs) * lp
    with np.errstate(invalid="ignore"):
        ok = (
            np.isfinite(lp)
            & (nl >= t["floor"][i] * (1 - _EDGE)) & (nl < cap[i] * (1 + _EDGE))
            & (ns >= t["floor"][j] * (1 - _EDGE)) & (ns < cap[j] * (1 + _EDGE))
        )  # fmt: skip
    below = np.fmax.reduce(np.where(ok & (den < 0), lp, np.nan).reshape(*lp.shape[:-2], -1), axis=-1)
    above = np.fmin.reduce(np.where(ok & (den > 0), lp, np.nan).reshape(*lp.shape[:-2], -1), axis=-1)
    inputs = (long_quantity, long_entry_price, short_quantity, short_entry_price, wallet_balance,
              other_maintenance_margin, other_unrealized_pnl)  # fmt: skip
    return v.result(below, *inputs), v.result(above, *inputs)


@v.broadcasting()
def bankruptcy_price(
    side: ArrayLike, quantity: ArrayLike, entry_price: ArrayLike, wallet_balance: ArrayLike
) -> ArrayLike:
    """The mark price (USDT) at which the margin balance reaches zero: ``BP = EP − s·WB/Q``.

    The liquidation price is the trigger; the bankruptcy price is where the position's margin
    is used up. The gap between them is the maintenance margin, which pays the closing fee and
    the insurance fund. Returns ``nan`` when the price would not be positive (a long whose
    wallet covers the whole notional cannot go bankrupt).

    ``wallet_balance`` is the money behind the position (for a cross position, ``WB'`` of
    :func:`effective_wallet`); it may be negative in cross mode.

    >>> bankruptcy_price("long", 0.01, 100_000, 100)
    90000.0
    """
    s = v.side("side", side)
    q = v.positive("quantity", quantity)
    ep = v.positive("entry_price", entry_price)
    wb = v.number("wallet_balance", wallet_balance)
    with np.errstate(invalid="ignore"):
        bp = _positive_or_nan(_numerator(ep, -s * _per_coin(wb, q)))
    v.overflow("the bankruptcy price", bp, quantity=q, entry_price=ep, wallet_balance=wb)
    return v.result(bp, side, quantity, entry_price, wallet_balance)
