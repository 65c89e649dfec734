"""The futures calculator's five tabs as pure functions, each with its working shown.

A learner who leaves the course meets the exchange's own calculator: PnL and ROE, target price,
liquidation price, max open, open price. These functions give the same numbers **with the
working**: the formula in symbols, the same with the learner's numbers in it, the tier used and
the lesson that derives it. Every number comes from the engine (:mod:`margin_lib.margin`,
:mod:`~margin_lib.liquidation`, :class:`~margin_lib.brackets.BracketTable`); this module only
checks the inputs, calls it and writes the working.

Inputs are in the page's units (prices and money in USDT, quantities in coins, leverage as a
multiple, ROE, rates and fees **in per cent**). A refused input raises
:class:`~margin_lib.errors.InvalidInputError` whose message names the field as the page labels
it (:data:`LABELS`); :func:`parse_number` reads what was typed into a box.

>>> r = calc_pnl(side="long", quantity=0.01, entry_price=100_000, exit_price=92_000, leverage=10)
>>> r.pnl, r.roe_pct
(-80.0, -80.0)
>>> print(r.working.steps[2].text())
ROE = PnL / IM
  = -80.00 / 100.00
  = -80.00 %
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _calculator_parts as liq
from . import _validate as v
from ._calculator_parts import (
    FILLS,
    LABELS,
    LESSONS,
    SIDES,
    TABLES,
    TIERS,
    Lesson,
    Step,
    Working,
    check,
    choice,
    parse_number,
    positive,
)
from ._calculator_parts import amount as _m
from ._calculator_parts import number as _n
from .account import MIN_QUANTITY
from .errors import InvalidInputError
from .format import price
from .margin import (
    average_entry_price,
    initial_margin,
    max_open_quantity,
    notional,
    return_on_equity,
    target_price,
    target_price_for_pnl,
    unrealized_pnl,
)

__all__ = [
    "LABELS", "TIERS", "FILLS", "Lesson", "Step", "Working", "PnlRoe", "TargetPrice", "LiquidationPrice",
    "MaxOpenAnswer", "OpenPrice", "parse_number", "calc_pnl", "calc_target_price", "calc_liquidation_price",
    "calc_max_open", "calc_open_price",
]


@dataclass(frozen=True)
class PnlRoe:
    """The PnL tab: the inputs as checked, IM and PnL in USDT, ROE in per cent, the working."""

    side: str
    quantity: float
    entry_price: float
    exit_price: float
    leverage: float
    initial_margin: float
    pnl: float
    roe_pct: float
    working: Working


@dataclass(frozen=True)
class TargetPrice:
    """The target-price tab: ``aim`` is "ROE" (``roe_pct`` given) or "PnL" (``quantity`` and
    ``pnl`` given); ``price`` is ``nan`` where no positive price gives it."""

    side: str
    entry_price: float
    leverage: float
    aim: str
    roe_pct: float | None
    quantity: float | None
    pnl: float | None
    price: float
    working: Working


@dataclass(frozen=True)
class LiquidationPrice:
    """The liquidation tab: ``inputs`` as checked (only the fields the modes read); ``prices`` as
    (what, price) pairs, ``nan`` for none: one for a one-way position, one per isolated hedge
    leg ("long leg", "short leg"), and "on a fall" and "on a rise" for a cross hedge pair."""

    position_mode: str
    margin_mode: str
    tiers: str
    inputs: dict[str, float | str]
    prices: tuple[tuple[str, float], ...]
    working: Working


@dataclass(frozen=True)
class MaxOpenAnswer:
    """The max-open tab: ``quantity`` (coins) and what limits it (``binding``: "balance", "tier"
    or "both"), with the initial margin and fee it costs (USDT) and the tier cap (USDT)."""

    symbol: str
    balance: float
    entry_price: float
    leverage: float
    fee_pct: float
    step: float
    quantity: float
    notional: float
    initial_margin: float
    fee: float
    balance_quantity: float
    tier_quantity: float
    notional_limit: float
    tier: int
    binding: str
    working: Working


@dataclass(frozen=True)
class OpenPrice:
    """The open-price tab: the fills kept as (fill number, price, quantity), their total
    quantity and average entry price."""

    fills: tuple[tuple[int, float, float], ...]
    quantity: float
    price: float
    working: Working


SIGNS = "s is +1 for a long, −1 for a short. Fees are not counted."


def calc_pnl(*, side: str, quantity: Any, entry_price: Any, exit_price: Any, leverage: Any) -> PnlRoe:
    """PnL and ROE of a position closed at ``exit_price``; the ROE on the initial margin at the
    entry price, as the exchange reports it (fees not counted)."""
    s = choice("side", side, tuple(SIDES))
    q, ep = positive("quantity", quantity), positive("entry_price", entry_price)
    xp, lev = positive("exit_price", exit_price), check("leverage", leverage, low=1.0)
    im = initial_margin(notional(q, ep), lev)
    pnl = unrealized_pnl(s, q, ep, xp)
    roe = return_on_equity(s, q, ep, xp, lev) * 100
    steps = (
        Step("IM = Q × EP / L", (f"{_n(q)} × {_n(ep)} / {_n(lev)}", f"{im:,.2f} USDT")),
        Step("PnL = s × Q × (exit − EP)",
             (f"{_n(SIDES[s])} × {_n(q)} × ({_n(xp)} − {_n(ep)})", f"{pnl:,.2f} USDT")),
        Step("ROE = PnL / IM", (f"{pnl:,.2f} / {im:,.2f}", f"{roe:,.2f} %")),
    )
    return PnlRoe(s, q, ep, xp, lev, im, pnl, roe, Working(steps, "", (LESSONS["pnl"],), (SIGNS,)))


def calc_target_price(*, side: str, entry_price: Any, leverage: Any, aim: str = "ROE", roe_pct: Any = None,
                      quantity: Any = None, pnl: Any = None) -> TargetPrice:
    """The exit price that gives the wanted ROE (``aim="ROE"``, ``roe_pct`` in per cent, on the
    initial margin at entry) or the wanted PnL (``aim="PnL"``, ``quantity`` coins and ``pnl``
    USDT); fees not counted."""
    s = choice("side", side, tuple(SIDES))
    which = choice("aim", aim, ("ROE", "PnL"))
    ep, lev = positive("entry_price", entry_price), check("leverage", leverage, low=1.0)
    sign, r, q, gain = _n(SIDES[s]), None, None, None
    if which == "ROE":
        r = check("roe_pct", roe_pct)
        tp = target_price(s, ep, lev, r / 100)
        step = Step("target = EP × (1 + s × ROE / L)", (f"{_n(ep)} × (1 + {sign} × {_n(r)} % / {_n(lev)})",))
        reach, lost = f"an ROE {'above −' if s == 'long' else 'below '}{lev * 100:,.0f} %", r <= -100
    else:
        q, gain = positive("quantity", quantity), check("pnl", pnl)
        tp = target_price_for_pnl(s, q, ep, gain)
        step = Step("target = EP + s × PnL / Q", (f"{_n(ep)} + {sign} × {_n(gain)} / {_n(q)}",))
        reach = f"a PnL {'above −' if s == 'long' else 'below '}{q * ep:,.2f} USDT"
        lost = gain <= -q * ep / lev
    step = Step(step.formula, (*step.lines, price(tp) if tp == tp else "no positive price, so none"))
    notes = [SIGNS]
    if math.isnan(tp):
        notes.append(f"No price gives this: a {s} can only reach {reach} (at a price of 0).")
    elif lost:
        notes.append("A loss of the whole initial margin or more: the position is liquidated before that.")
    working = Working((step,), "", (LESSONS["pnl"],), tuple(notes))
    return TargetPrice(s, ep, lev, which, r, q, gain, tp, working)


def calc_liquidation_price(
    *, position_mode: str = "one-way", margin_mode: str = "isolated", tiers: str = "BTCUSDT",
    mmr_pct: Any = None, maintenance_amount: Any = None, side: str = "long", quantity: Any = None,
    entry_price: Any = None, wallet_balance: Any = None, other_maintenance_margin: Any = 0.0,
    other_unrealized_pnl: Any = 0.0, long_quantity: Any = None, long_entry_price: Any = None,
    short_quantity: Any = None, short_entry_price: Any = None, long_margin: Any = None,
    short_margin: Any = None,
) -> LiquidationPrice:
    """The liquidation price in one-way or hedge mode, isolated or cross, with a shipped tier
    table (``tiers``, one of :data:`TIERS`) or a flat rate typed in (``tiers="flat"``, with
    ``mmr_pct`` in per cent and ``maintenance_amount``, the cum, in USDT).

    One-way: ``side``, ``quantity``, ``entry_price`` and ``wallet_balance``, the isolated margin
    in isolated mode, the cross wallet in cross mode. Hedge: both legs' quantities and entry
    prices; in isolated mode each leg's margin, in cross mode the ``wallet_balance``. In cross
    mode the other positions' maintenance margin and unrealised PnL count too. Only the fields
    of the chosen modes are read."""
    pm = choice("position_mode", position_mode, ("one-way", "hedge"))
    mm = choice("margin_mode", margin_mode, ("isolated", "cross"))
    tiers = choice("tiers", tiers, TIERS)
    inputs: dict[str, float | str] = {"position_mode": pm, "margin_mode": mm, "tiers": tiers}
    flat, wb, omm, oupnl, steps = None, 0.0, 0.0, 0.0, []
    if tiers == "flat":
        rate = check("mmr_pct", mmr_pct, low=0.0, high=100.0, high_open=True)
        flat = (rate / 100, check("maintenance_amount", maintenance_amount, low=0.0))
        inputs |= {"mmr_pct": rate, "maintenance_amount": flat[1]}
    if mm == "cross" or pm == "one-way":
        label = LABELS["wallet_balance" if mm == "cross" else "isolated_margin"]
        inputs["wallet_balance"] = wb = check("wallet_balance", wallet_balance, label=label,
                                              low=None if mm == "cross" else 0.0)
    if mm == "cross":
        omm = check("other_maintenance_margin", other_maintenance_margin, low=0.0)
        oupnl = check("other_unrealized_pnl", other_unrealized_pnl)
        inputs |= {"other_maintenance_margin": omm, "other_unrealized_pnl": oupnl}
        steps.append(Step("WB' = WB − TMM₁ + UPNL₁ (the wallet less the other positions' MM, plus their PnL)",
                          (f"{_n(wb)} − {_n(omm)} + {_n(oupnl)}", f"{wb - omm + oupnl:,.2f} USDT")))
    table = TABLES.get(tiers)
    if pm == "one-way":
        s = choice("side", side, tuple(SIDES))
        q, ep = positive("quantity", quantity), positive("entry_price", entry_price)
        inputs |= {"side": s, "quantity": q, "entry_price": ep}
        prices, more, tier, notes = liq.one_way(s, q, ep, wb, omm, oupnl, flat, table, mm == "cross")
        notes = [*notes, liq.SYMBOLS]
    else:
        given = {"long_quantity": long_quantity, "long_entry_price": long_entry_price,
                 "short_quantity": short_quantity, "short_entry_price": short_entry_price}
        legs = {k: positive(k, x) for k, x in given.items()}
        inputs |= legs
        ql, epl, qs, eps = legs.values()
        if mm == "isolated":
            ml, ms = check("long_margin", long_margin, low=0.0), check("short_margin", short_margin, low=0.0)
            inputs |= {"long_margin": ml, "short_margin": ms}
            prices, more, tier, notes = liq.hedge_isolated(ql, epl, ml, qs, eps, ms, flat, table)
        else:
            prices, more, tier, notes = liq.hedge_cross(ql, epl, qs, eps, wb, omm, oupnl, flat, table)
    if mm == "cross":
        notes = [*notes, "A cross price holds while the other positions' marks stay where they are."]
    lessons = (LESSONS[pm], *([LESSONS["cross"]] if mm == "cross" else []), LESSONS["tiers"])
    working = Working((*steps, *more), tier, lessons, tuple(notes))
    return LiquidationPrice(pm, mm, tiers, inputs, prices, working)


def calc_max_open(
    *, symbol: str, balance: Any, entry_price: Any, leverage: Any, fee_pct: Any
) -> MaxOpenAnswer:
    """The largest quantity an available ``balance`` (USDT) opens at ``entry_price`` and
    ``leverage``: the initial margin and the opening fee (``fee_pct``, per cent) must fit in the
    balance, and the notional must stay below the cap of the last tier that allows the leverage.
    Rounded down to the symbol's quantity step; says which limit binds."""
    sym = choice("symbol", symbol, TIERS[:-1])
    table = TABLES[sym]
    a, ep = check("balance", balance, low=0.0), positive("entry_price", entry_price)
    lev = check("leverage", leverage, low=1.0, high=float(table.brackets[0].max_leverage))
    f = check("fee_pct", fee_pct, low=0.0, high=1.0)
    step = MIN_QUANTITY[sym.split("-")[0]]
    m = max_open_quantity(a, ep, lev, brackets=table, fee_rate=f / 100, step=step)
    q, coin, cap, b = m.quantity, sym[:3], m.notional_limit, table.brackets[m.tier - 1]
    im, fee = q * ep / lev, q * ep * f / 100
    steps = (
        Step("Q_balance = A / (EP × (1/L + f)), rounded down to the step",
             (f"{_n(a)} / ({_n(ep)} × (1/{_n(lev)} + {_n(f / 100)}))",
              f"{a / (ep * (1 / lev + f / 100)):,.6f} → {m.balance_quantity:,.3f} {coin}")),
        Step("Q_tier < C / EP (the notional must stay below the cap C), on the step",
             (f"{cap:,.0f} / {_n(ep)}", f"{cap / ep:,.6f} → {m.tier_quantity:,.3f} {coin}")),
        Step("Q = min(Q_balance, Q_tier)",
             (f"min({m.balance_quantity:,.3f}, {m.tier_quantity:,.3f})", f"{q:,.3f} {coin}")),
        Step("cost = Q × EP / L + Q × EP × f",
             (f"{im:,.2f} + {fee:,.2f}", f"{im + fee:,.2f} USDT of {a:,.2f}")),
    )
    up = table.brackets[m.tier] if m.tier < len(table) else None
    above = f"; tier {up.bracket} allows at most {up.max_leverage:g}x" if up else ""
    tier = (f"{table.symbol} tier {b.bracket} of the {table.as_of} table is the last that allows {lev:g}x: "
            f"notional below C = {cap:,.0f} USDT{above}")
    words = {"balance": "The balance binds: it pays for no more.", "both": "Both limits bind at once.",
             "tier": "The tier binds: a larger position needs a lower leverage."}
    notes = (words[m.binding], f"A is the available balance, f the fee rate; quantity step {step:g} {coin}. "
             "Left out: an order price worse than the mark, open orders and an existing position.")
    working = Working(steps, tier, (LESSONS["max_open"], LESSONS["tiers"]), notes)
    return MaxOpenAnswer(sym, a, ep, lev, f, step, q, m.notional, im, fee, m.balance_quantity,
                         m.tier_quantity, cap, m.tier, m.binding, working)


def calc_open_price(fills: Sequence[tuple[Any, Any] | None]) -> OpenPrice:
    """The average entry price of up to :data:`FILLS` fills on one side, each a
    ``(price, quantity)`` pair or ``None`` for an empty row; at least one fill."""
    if isinstance(fills, (str, bytes)) or not isinstance(fills, Sequence):
        raise InvalidInputError(f"Fills must be a list of (price, quantity) pairs; got {v._fmt(fills)}")
    if len(fills) > FILLS:
        raise InvalidInputError(f"Fills must be at most {FILLS}; got {len(fills)}")
    rows = []
    for i, fill in enumerate(fills, start=1):
        if fill is None:
            continue
        if isinstance(fill, (str, bytes)) or not isinstance(fill, Sequence) or len(fill) != 2:
            raise InvalidInputError(f"Fill {i} must be a (price, quantity) pair; got {v._fmt(fill)}")
        p = positive("entry_price", fill[0], label=f"Fill {i} price (USDT)")
        rows.append((i, p, positive("quantity", fill[1], label=f"Fill {i} quantity (coins)")))
    if not rows:
        raise InvalidInputError("Fills are empty: type at least one fill's price and quantity")
    ps, qs = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
    ep, total, cost = average_entry_price(ps, qs), float(qs.sum()), float(ps @ qs)
    terms, sizes = " + ".join(f"{_n(p)} × {_n(q)}" for _, p, q in rows), " + ".join(_n(q) for q in qs)
    step = Step("EP = Σ pᵢ × qᵢ / Σ qᵢ", (f"({terms}) / ({sizes})", f"{_m(cost)} / {_n(total)}", price(ep)))
    notes = (f"In all {_n(total)} coins for {_m(cost)} USDT. The fills are on one side: a fill on the "
             "other side reduces the position and leaves its entry price as it was.",)
    return OpenPrice(tuple(rows), total, ep, Working((step,), "", (LESSONS["entry"],), notes))
