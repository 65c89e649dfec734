"""The calculator's parts (private to :mod:`margin_lib.calculator`): the page's labels, reading
and checking what was typed, the working's building blocks, and the liquidation-price tab's
cases written out. Every price comes from the engine (:mod:`margin_lib.liquidation`); the
working puts the learner's numbers, and the tier used at the liquidation price, into the
formula that derives it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _validate as v
from .brackets import BracketTable
from .errors import InvalidInputError
from .format import percent, price
from .liquidation import hedge_liquidation_price, hedge_liquidation_prices, liquidation_price
from .margin import maintenance_margin, unrealized_pnl

#: Every field's label on the page (the refusals name the field by it).
LABELS = {
    "side": "Side", "quantity": "Quantity (coins)", "entry_price": "Entry price (USDT)",
    "exit_price": "Exit price (USDT)", "leverage": "Leverage (x)", "roe_pct": "Wanted ROE (%)",
    "pnl": "Wanted PnL (USDT)", "aim": "Aim for", "position_mode": "Position mode",
    "margin_mode": "Margin mode", "tiers": "Tiers", "mmr_pct": "Maintenance rate (%)",
    "maintenance_amount": "Maintenance amount cum (USDT)", "wallet_balance": "Wallet balance (USDT)",
    "isolated_margin": "Isolated margin (USDT)",
    "other_maintenance_margin": "Other positions' maintenance margin (USDT)",
    "other_unrealized_pnl": "Other positions' unrealised PnL (USDT)",
    "long_quantity": "Long quantity (coins)", "long_entry_price": "Long entry price (USDT)",
    "short_quantity": "Short quantity (coins)", "short_entry_price": "Short entry price (USDT)",
    "long_margin": "Long leg's margin (USDT)", "short_margin": "Short leg's margin (USDT)",
    "symbol": "Symbol", "balance": "Available balance (USDT)", "fee_pct": "Opening fee (%)",
}  # fmt: skip
#: The tier tables a learner may pick: the shipped snapshots, or "flat" (a rate and cum typed in).
TIERS = ("BTCUSDT", "ETHUSDT", "BTCUSDT-2021", "flat")
#: The open-price tab takes up to this many fills.
FILLS = 5
SIDES = {"long": 1, "short": -1}


@dataclass(frozen=True)
class Lesson:
    """Where a formula is derived: ``notebook`` is relative to the ``notebooks/`` folder."""

    title: str
    notebook: str
    section: str


_L1 = "Lesson 1 — Initial margin", "01_initial_margin.ipynb"
#: The lesson that derives each tab's formula.
LESSONS = {
    "pnl": Lesson(*_L1, "section 4, What leverage changes"),
    "max_open": Lesson(*_L1, "sections 6 and 7, How much leverage you may choose; When the balance "
                             "cannot pay"),
    "one-way": Lesson("Lesson 6 — The exact liquidation price", "06_liquidation_price.ipynb",
                      "sections 1 to 3, and 7 for the tier at the liquidation price"),
    "cross": Lesson("Lesson 4 — Cross margin", "04_cross_margin.ipynb", "section 4, The cross liquidation "
                    "price"),
    "hedge": Lesson("Lesson 8 — Hedge mode", "08_hedge_mode.ipynb", "sections 3 and 4, One liquidation "
                    "price for two legs; The sign of the denominator"),
    "tiers": Lesson("Lesson 2 — Maintenance margin", "02_maintenance_margin.ipynb", "sections 7 and 9, "
                    "Tiers by size; The maintenance amount cum"),
    "entry": Lesson(*_L1, "section 9, Several fills, one entry price"),
}  # fmt: skip


@dataclass(frozen=True)
class Step:
    """One line of working: ``formula`` in symbols, then each ``= ...`` line, the last the result."""

    formula: str
    lines: tuple[str, ...]

    def text(self) -> str:
        return "\n".join([self.formula, *(f"  = {line}" for line in self.lines)])


@dataclass(frozen=True)
class Working:
    """The working under a result: its steps, the tier used (in words), notes and the lessons."""

    steps: tuple[Step, ...]
    tier: str
    lessons: tuple[Lesson, ...]
    notes: tuple[str, ...] = ()

    def text(self) -> str:
        parts = [s.text() for s in self.steps] + ([f"Tier used: {self.tier}"] if self.tier else [])
        parts += list(self.notes)
        parts += [f"Derived in {x.title}, {x.section} ({x.notebook})" for x in self.lessons]
        return "\n".join(parts)


# -- reading and checking ---------------------------------------------------------------------
_NUMBER = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d*)?([eE][+-]?\d+)?")


def parse_number(label: str, text: Any) -> float:
    """What was typed into the box labelled ``label``, as a float (``1,234.5``, ``-3``, ``1e6``,
    ``50 %`` in a per-cent box); anything else refused with a sentence naming the box.

    >>> parse_number("Entry price (USDT)", " 1,234.5 ")
    1234.5
    >>> parse_number("Entry price (USDT)", "abc")
    Traceback (most recent call last):
    ...
    margin_lib.errors.InvalidInputError: Entry price (USDT) must be a number such as 1,234.5; got 'abc'
    """
    if not isinstance(text, str):
        raise InvalidInputError(f"{label} must be typed text; got {v._fmt(text)}")
    clean = text.strip().replace("\u2212", "-").replace("_", "").replace(" ", "").replace("\u202f", "")
    if label.endswith("(%)"):
        clean = clean.removesuffix("%")
    if not clean:
        raise InvalidInputError(f"{label} is empty: type a number")
    if "," in clean and "." not in clean.split(",")[-1] and len(clean.split(",")[-1]) != 3:
        raise InvalidInputError(f"{label} must use a point for decimals (1,234.5); got {text.strip()!r}")
    if not _NUMBER.fullmatch(clean) or not any(ch.isdigit() for ch in clean):
        raise InvalidInputError(f"{label} must be a number such as 1,234.5; got {text.strip()!r}")
    value = float(clean.replace(",", ""))
    if not math.isfinite(value):
        raise InvalidInputError(f"{label} must be a number a float can hold; got {text.strip()!r}")
    return value


def check(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    label: str | None = None,
) -> float:
    """One finite number within the bounds, refused in plain words naming the field's label."""
    label = label or LABELS[name]
    arr = v.as_float_array(label, value)
    if arr.size != 1:
        raise InvalidInputError(f"{label} must be a single number; got an array of shape {arr.shape}")
    x = float(arr.reshape(()))
    if not math.isfinite(x):
        raise InvalidInputError(f"{label} must be a finite number; got {x!r}")
    if low is not None and (x <= low if low_open else x < low):
        raise InvalidInputError(
            f"{label} must be {'more than' if low_open else 'at least'} {low:,g}; got {x:,.10g}"
        )
    if high is not None and (x >= high if high_open else x > high):
        raise InvalidInputError(
            f"{label} must be {'below' if high_open else 'at most'} {high:,g}; got {x:,.10g}"
        )
    return x


def choice(name: str, value: Any, options: Sequence[str]) -> str:
    if isinstance(value, str) and value.strip() in options:
        return value.strip()
    listed = ", ".join(repr(o) for o in options)
    raise InvalidInputError(f"{LABELS[name]} must be one of {listed}; got {v._fmt(value)}")


def positive(name: str, value: Any, label: str | None = None) -> float:
    return check(name, value, low=0.0, low_open=True, label=label)


#: The shipped tier tables, read once.
TABLES = {name: BracketTable.load(name) for name in TIERS if name != "flat"}


Flat = tuple[float, float] | None  # (MMR as a fraction, cum in USDT), or None for a tier table
NONE = "none (the exchange shows --)"
HEDGE = "LP = (WB' + cum_L + cum_S − Q_L × EP_L + Q_S × EP_S) / (Q_L × MMR_L + Q_S × MMR_S − Q_L + Q_S)"
SYMBOLS = "Q, quantity; EP, entry price; MMR and cum, the maintenance rate and amount of the tier used."


def number(x: float) -> str:
    """A number as typed (up to 8 decimals, no trailing zeros), negatives in brackets."""
    text = f"{x:,.8f}".rstrip("0").rstrip(".")
    return f"({text})" if x < 0 else text


def amount(x: float) -> str:
    """An intermediate result: at least seven significant digits, and cents from 1 up.

    >>> amount(-3_823_715.344), amount(-4.975), amount(-0.00996), amount(900)
    ('-3,823,715.34', '-4.975', '-0.00996', '900.00')
    """
    if x == 0 or not math.isfinite(x):
        return f"{x:,.2f}" if x else "0.00"
    digits = min(12, max(0, 6 - math.floor(math.log10(abs(x)))))
    text = f"{x:,.{max(digits, 2 if abs(x) >= 1 else 0)}f}"
    whole, _, part = text.partition(".")
    part = part.rstrip("0").ljust(2 if abs(x) >= 1 else 1, "0")
    return f"{whole}.{part}"


def beyond_table(table: BracketTable | None, at: float, legs: Sequence[tuple[str, float]]) -> list[str]:
    """A sentence for each leg whose notional at the price ``at`` lies past the table's last tier
    (no tier holds it: the engine extends the last one, the exchange would not let the position
    grow that large); ``legs`` are (name, quantity) pairs.

    >>> from margin_lib import BracketTable
    >>> beyond_table(BracketTable.load("ETHUSDT"), 44_875_520.0, [("the long leg", 50)])[0][:60]
    "At 44,875,520.00 the long leg's notional, 2,243,776,000 USDT"
    """
    if table is None or not math.isfinite(at):
        return []
    top = table.brackets[-1].notional_cap
    return [
        f"At {price(at)} {name}'s notional, {q * at:,.0f} USDT, is past the table's last tier (up to "
        f"{top:,.0f} USDT): the exchange does not hold a position that large, so this price is where "
        "the formula leads, not one a real account would reach."
        for name, q in legs
        if q * at >= top
    ]


def _rates(table: BracketTable | None, flat: Flat, notional_at: float) -> tuple[float, float, str]:
    """(MMR, cum, words) of the tier holding ``notional_at`` USDT (or of the flat rate)."""
    if table is None:
        rate, cum = flat  # type: ignore[misc]
        return rate, cum, f"a flat rate typed in, MMR {percent(rate)} and cum {cum:,.2f} USDT (no tier table)"
    b = table.tier_at(notional_at)
    words = (
        f"{table.symbol} tier {b.bracket} of the {table.as_of} table ({b.notional_floor:,.0f} to "
        f"{b.notional_cap:,.0f} USDT): MMR {percent(b.mmr)}, cum {b.maintenance_amount:,.0f}"
    )
    return float(b.mmr), float(b.maintenance_amount), words


def _mm(table: BracketTable | None, flat: Flat, notional: float) -> float:
    """The maintenance margin of a notional (USDT), by the table's tiers or the flat rate."""
    if table is None:
        rate, cum = flat  # type: ignore[misc]
        return maintenance_margin(notional, rate, cum) if notional * rate >= cum else 0.0
    return float(table.maintenance_margin_curve(np.float64(notional)))


def _lp(s: str, q: float, ep: float, wb: float, omm: float, oupnl: float, flat: Flat,
        table: BracketTable | None) -> float:
    """The engine's one-way liquidation price, with the table or the flat rate."""  # fmt: skip
    rates = {"brackets": table} if table is not None else {"mmr": flat[0], "maintenance_amount": flat[1]}  # type: ignore[index]
    return liquidation_price(s, q, ep, wb, other_maintenance_margin=omm, other_unrealized_pnl=oupnl, **rates)


def one_way(s: str, q: float, ep: float, wb: float, omm: float, oupnl: float, flat: Flat,
            table: BracketTable | None, cross: bool, leg: str = "") -> tuple:
    """``((what, LP),)``, steps, tier words and notes for a one-way position (or one isolated
    leg, named by ``leg``)."""  # fmt: skip
    lp = _lp(s, q, ep, wb, omm, oupnl, flat, table)
    found = math.isfinite(lp)
    rate, cum, words = _rates(table, flat, q * lp if found else 0.0)
    wb_eff, long, name = wb - omm + oupnl, s == "long", f"{leg}: " if leg else ""
    sign = "−" if long else "+"
    num, den = wb_eff + cum - (q * ep if long else -q * ep), q * (rate - 1 if long else rate + 1)
    wb_name, wb_text = ("WB'", amount(wb_eff)) if cross else ("WB", number(wb))
    n = number
    step = Step(f"{name}LP = ({wb_name} + cum {sign} Q × EP) / (Q × (MMR {sign} 1))", (
        f"({wb_text} + {n(cum)} {sign} {n(q)} × {n(ep)}) / ({n(q)} × ({n(rate)} {sign} 1))",
        f"{amount(num)} / {amount(den)}",
        price(lp) if found else f"{amount(num / den)}: not a positive price, so {NONE}"))  # fmt: skip
    if table is not None:
        words += (
            f"; at the liquidation price the notional Q × LP = {q * lp:,.2f} USDT lies in it"
            if found
            else "; no liquidation price, and near a price of 0 the notional lies in tier 1"
        )
    notes = []
    if found and (lp >= ep if long else lp <= ep):
        notes.append(f"{name}the price is on the wrong side of the entry: liquidated as soon as it opens.")
    if found:
        notes += beyond_table(table, lp, [(f"the {leg}" if leg else "the position", q)])
    if found and table is None and q * lp * rate < cum:
        notes.append(f"{name}at that price cum exceeds Q × LP × MMR, which no tier has: check the figures.")
    if not found:
        at_once = wb_eff <= _mm(table, flat, q * ep)
        notes.append(
            name + "already at or past liquidation at the entry price: liquidated at any price."
            if at_once
            else name + "at every positive price the margin balance stays above the maintenance margin."
        )
    r0, c0, _ = _rates(table, flat, q * ep)
    steps = (step,)
    if q * ep * r0 >= c0:  # the maintenance margin at the entry price, by the tier that holds it there
        tier0 = f" (tier {table.tier_at(q * ep).bracket})" if table is not None else ""
        mm0 = maintenance_margin(q * ep, r0, c0)
        steps += (Step(f"{name}at the entry price, MM = Q × EP × MMR − cum",
                       (f"{n(q)} × {n(ep)} × {n(r0)} − {n(c0)}", f"{mm0:,.2f} USDT{tier0}")),)  # fmt: skip
    return ((leg or "liquidation price", lp),), steps, name + words, notes


def hedge_isolated(ql: float, epl: float, ml: float, qs: float, eps: float, ms: float, flat: Flat,
                   table: BracketTable | None) -> tuple:
    """Each isolated leg is its own one-way position on its own margin."""  # fmt: skip
    a = one_way("long", ql, epl, ml, 0.0, 0.0, flat, table, False, leg="long leg")
    b = one_way("short", qs, eps, ms, 0.0, 0.0, flat, table, False, leg="short leg")
    first = "Isolated legs are liquidated one at a time, each on its own margin (WB)."
    notes = (first, *a[3], *b[3], SYMBOLS)
    return a[0] + b[0], a[1] + b[1], f"{a[2]}; {b[2]}", notes


def hedge_cross(ql: float, epl: float, qs: float, eps: float, wb: float, omm: float, oupnl: float,
                flat: Flat, table: BracketTable | None) -> tuple:
    """A cross hedge pair: its price on a fall and its price on a rise (``nan`` where none)."""  # fmt: skip
    others = {"other_maintenance_margin": omm, "other_unrealized_pnl": oupnl}
    if table is None:
        rate, cum = flat  # type: ignore[misc]
        lp = hedge_liquidation_price(
            ql, epl, qs, eps, wb, long_mmr=rate, short_mmr=rate, long_maintenance_amount=cum,
            short_maintenance_amount=cum, **others,
        )  # fmt: skip
        low, high = (lp, math.nan) if ql * (rate - 1) + qs * (rate + 1) < 0 else (math.nan, lp)
        found = [lp]
    else:
        low, high = hedge_liquidation_prices(ql, epl, qs, eps, wb, brackets=table, **others)
        found = [x for x in (low, high) if math.isfinite(x)] or [math.nan]
    wb_eff = wb - omm + oupnl
    steps, tiers = [], []
    for x in found:
        at = x if math.isfinite(x) else 0.0
        (rl, cl, wl), (rs, cs, ws) = _rates(table, flat, ql * at), _rates(table, flat, qs * at)
        num, den = wb_eff + cl + cs - ql * epl + qs * eps, ql * rl + qs * rs - ql + qs
        if math.isfinite(x):
            last = price(x) + (" (on a fall: the denominator is negative)" if den < 0
                               else " (on a rise: the denominator is positive)")  # fmt: skip
        else:
            last = f"{amount(num / den)}: not a positive price, so {NONE}" if den else f"no price: {NONE}"
        n = number
        steps.append(Step(HEDGE, (
            f"({amount(wb_eff)} + {n(cl)} + {n(cs)} − {n(ql)} × {n(epl)} + {n(qs)} × {n(eps)}) / "
            f"({n(ql)} × {n(rl)} + {n(qs)} × {n(rs)} − {n(ql)} + {n(qs)})",
            f"{amount(num)} / {amount(den)}", last)))  # fmt: skip
        tiers.append(wl if table is None else f"at {price(at)}, long leg in {wl}; short leg in {ws}")
    if math.isfinite(low) and math.isfinite(high):
        note = f"The pair is safe while the mark stays between {price(low)} and {price(high)}."
    elif math.isfinite(low) or math.isfinite(high):
        one = low if math.isfinite(low) else high
        note = (
            f"The pair is liquidated if the mark {'falls' if math.isfinite(low) else 'rises'} to "
            f"{price(one)}; on the other side there is no price."
        )
    else:
        balance = wb_eff + unrealized_pnl("long", ql, epl, epl) + unrealized_pnl("short", qs, eps, epl)
        floor = _mm(table, flat, ql * epl) + _mm(table, flat, qs * epl)
        note = "No price: " + (
            "the pair is liquidated at any price (at the long entry its balance is already at or below "
            "the maintenance margin)."
            if balance <= floor
            else "the balance stays above the maintenance margin at every price."
        )
    past = (math.isfinite(low) and epl <= low) or (math.isfinite(high) and epl >= high)
    if past:  # the mark at the long entry is already beyond a liquidation price
        note += (f" At the long entry price ({price(epl)}) the mark is already past it: the pair is "
                 "liquidated as soon as it opens.")  # fmt: skip
    shared = "Both legs draw on one cross balance, so they share the price; each leg's tier is taken there."
    large = [t for x in found for t in beyond_table(table, x, [("the long leg", ql), ("the short leg", qs)])]
    notes = (note, *large, shared, SYMBOLS)
    smallest = min(ql, qs) * min(epl, eps, *(x for x in found if x == x))  # the smallest leg's notional
    if table is None and smallest * flat[0] < flat[1]:  # type: ignore[index]
        notes += ("A flat rate's cum is taken from each leg's MM, and here it exceeds a leg's notional × "
                  "MMR, which no tier has: check the figures.",)  # fmt: skip
    return (("on a fall", low), ("on a rise", high)), tuple(steps), "; ".join(tiers), notes
