"""Lesson 2, maintenance margin: the floor under a position, and where it sits.

Pure functions behind the lesson's tables, plots, widget and exercises. Money is USDT, rates
are fractions (``0.005`` is 0.5 %). The rules (course reference, sections 2 to 4):

- maintenance margin ``MM = N × MMR − cum``, with ``N`` the notional at the mark price and
  ``(MMR, cum)`` from the tier that holds ``N``; it does not depend on the leverage;
- margin balance ``MB = wallet + UPNL``; a position is liquidated when ``MB`` falls to ``MM``
  (the exchange's margin ratio ``MM / MB`` reaches 100 %);
- the article's "error tolerance" ``IMR − MMR`` approximates the adverse move that liquidates a
  fresh isolated position; the exact move is ``(IMR − MMR) / (1 − s × MMR)`` when ``cum = 0``.

The widget takes a side, a position size and a leverage and sets the article's simplified
table beside the exchange's real tier for that size.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

from .. import _validate as v
from ..account import Account
from ..brackets import Bracket, BracketTable
from ..examples import CASE_B, ILLUSTRATIVE_PRICES, ISOLATED_EXAMPLE, LEVERAGE_TABLE, article_mmr
from ..exercises import Exercise
from ..format import pct, price, table, usdt
from ..liquidation import liquidation_price
from ..margin import (
    adverse_move_to_liquidation,
    error_tolerance,
    initial_margin,
    maintenance_margin,
    margin_ratio,
    unrealized_pnl,
)
from ..plots import COLORS, legend_below, new_figure, plot_margin_balance, stable_limits
from ..widgets import build_widget, choice_buttons, leverage_slider, money_box

__all__ = [
    "SYMBOL",
    "OLD_SYMBOL",
    "ENTRY_PRICE",
    "liquidation_walk",
    "leverage_table",
    "exact_moves_table",
    "liquidation_check",
    "tier_table",
    "same_size_different_leverage",
    "cum_derivation",
    "edge_table",
    "plot_maintenance_curve",
    "check_size_and_leverage",
    "exact_move",
    "view",
    "plot",
    "widget",
    "EXERCISES",
]

#: The symbol whose shipped tier snapshot the lesson uses.
SYMBOL = "BTCUSDT"
#: The older table (2021-22) behind the exchange FAQ's worked ``cum`` figure.
OLD_SYMBOL = "BTCUSDT-2021"
#: Entry price for the examples (the article names none; no percentage depends on it).
ENTRY_PRICE = ILLUSTRATIVE_PRICES[SYMBOL]
#: The article's isolated example: a 1,000 USDT long at 10x.
EXAMPLE = ISOLATED_EXAMPLE.positions[0]
_SIGN = {"long": 1, "short": -1}


def _tiers(symbol: str = SYMBOL) -> BracketTable:
    return BracketTable.load(symbol)


def _side(side: str) -> str:
    return "long" if v.side_scalar("side", side) == 1 else "short"


def _stated_tolerance(leverage: float) -> float:
    """The article's tolerance for a leverage of its table, else ``1/L − MMR`` by its rule."""
    stated = [r.stated_tolerance for r in LEVERAGE_TABLE if r.leverage == leverage]
    return stated[0] if stated else float(error_tolerance(leverage, article_mmr(leverage)))


# -- 1. what maintenance margin is -----------------------------------------------------------
def liquidation_walk(
    side: str = EXAMPLE.side,
    notional: float = EXAMPLE.notional,
    leverage: float = EXAMPLE.leverage,
    moves: tuple[float, ...] | None = None,
) -> str:
    """A fresh isolated position valued at several marks, with the article's MMR for its
    leverage: unrealized PnL, margin balance ``MB = IM + UPNL``, ``MM = Q × mark × MMR`` and the
    margin ratio ``MM / MB``; the last row is the liquidation price, where the ratio reaches 100 %.

    ``moves`` are price moves as fractions (−0.08 is an 8 % fall). By default: none, a 5 % move
    against the position, the article's 8 % fall of Case B and the article's 9.5 % "tolerance".

    >>> last = liquidation_walk(moves=(0.0,)).splitlines()[-1]
    >>> [cell.strip() for cell in last.split("|")]
    ['90,452.26', '-9.548 %', '-95.48 USDT', '4.52 USDT', '4.52 USDT', '100.000 %', 'liquidation']
    """
    side = _side(side)
    s = _SIGN[side]
    rate = article_mmr(leverage)
    q = float(notional) / ENTRY_PRICE
    wallet = initial_margin(notional, leverage)
    if moves is None:
        moves = (0.0, -s * 0.05, CASE_B.moves[SYMBOL] * s, -s * _stated_tolerance(leverage))
    lp = liquidation_price(side, q, ENTRY_PRICE, wallet, mmr=rate)
    marks = [ENTRY_PRICE * (1 + m) for m in moves] + ([] if math.isnan(lp) else [lp])
    marks.sort(key=lambda m: s * (ENTRY_PRICE - m))
    rows = []
    for mark in marks:
        pnl = unrealized_pnl(side, q, ENTRY_PRICE, mark) + 0.0  # + 0.0 turns -0.0 into 0.0
        mb = wallet + pnl
        mm = maintenance_margin(q * mark, rate)
        if mark == lp:  # at the root MM / MB is 1 up to rounding
            ratio, state = 1.0, "liquidation"
        elif mb <= 0:  # the ratio is infinite: the margin is gone
            ratio, state = float("nan"), "past bankruptcy"
        else:
            ratio = margin_ratio(mm, mb)
            state = "past liquidation" if ratio >= 1 else "open"
        rows.append(
            [price(mark), pct(mark / ENTRY_PRICE - 1), usdt(pnl), usdt(mb), usdt(mm), pct(ratio), state]
        )
    head = (
        f"{side.capitalize()} {usdt(notional)} at {leverage:g}x, entry {price(ENTRY_PRICE)}, isolated "
        f"margin {usdt(wallet)}, MMR {pct(rate)} (the article's rate for {leverage:g}x)"
    )
    body = table(
        rows, ["mark", "move", "PnL", "margin balance", "maintenance margin", "margin ratio", "state"]
    )
    return f"{head}\n{body}"


# -- 2. the article's table ------------------------------------------------------------------
def leverage_table() -> str:
    """The article's leverage table, each rate computed by the engine beside the article's own:
    ``IMR = IM / N = 1 / L`` and tolerance ``= IMR − MMR``.

    >>> [cell.strip() for cell in leverage_table().splitlines()[2].split("|")]
    ['5x', '20.0 %', '20.0 %', '0.5 %', '19.5 %', '19.5 %']
    """
    rows = []
    for r in LEVERAGE_TABLE:
        imr = initial_margin(1.0, r.leverage)  # margin per 1 USDT of size
        rows.append(
            [
                f"{r.leverage:g}x",
                pct(imr, 1),
                pct(r.stated_imr, 1),
                pct(r.stated_mmr, 1),
                pct(error_tolerance(r.leverage, r.stated_mmr), 1),
                pct(r.stated_tolerance, 1),
            ]
        )
    return table(
        rows,
        [
            "lev.",
            "IMR (engine)",
            "IMR (article)",
            "MMR (article)",
            "tolerance (engine)",
            "tolerance (article)",
        ],
    )


def exact_moves_table() -> str:
    """For each row of the article's table: its tolerance and the exact adverse move that
    liquidates a fresh isolated position, ``(IMR − MMR) / (1 − MMR)`` for a long (a fall) and
    ``(IMR − MMR) / (1 + MMR)`` for a short (a rise).

    >>> [cell.strip() for cell in exact_moves_table().splitlines()[3].split("|")]
    ['10x', '0.500 %', '9.500 %', '9.548 %', '9.453 %']
    """
    rows = [
        [
            f"{r.leverage:g}x",
            pct(r.stated_mmr),
            pct(r.stated_tolerance),
            pct(adverse_move_to_liquidation("long", r.leverage, r.stated_mmr)),
            pct(adverse_move_to_liquidation("short", r.leverage, r.stated_mmr)),
        ]
        for r in LEVERAGE_TABLE
    ]
    return table(rows, ["lev.", "MMR", "tolerance (article)", "long falls", "short rises"])


def liquidation_check(notional: float = EXAMPLE.notional, leverage: float = EXAMPLE.leverage) -> str:
    """The exact move cross-checked with the liquidation price: for a long and a short of
    ``notional`` USDT at ``leverage`` (the article's MMR), the liquidation price, the move it
    means, the closed formula's move, and margin balance against maintenance margin there.

    >>> print(liquidation_check().splitlines()[0])
    long : liquidation at 90,452.26, a 9.548 % fall (formula 9.548 %); there MB 4.52 USDT = MM 4.52 USDT
    """
    rate = article_mmr(leverage)
    q = float(notional) / ENTRY_PRICE
    wallet = initial_margin(notional, leverage)
    lines = []
    for side, word in (("long", "fall"), ("short", "rise")):
        lp = liquidation_price(side, q, ENTRY_PRICE, wallet, mmr=rate)
        move = abs(lp / ENTRY_PRICE - 1)
        formula = adverse_move_to_liquidation(side, leverage, rate)
        mb = wallet + unrealized_pnl(side, q, ENTRY_PRICE, lp)
        mm = maintenance_margin(q * lp, rate)
        lines.append(
            f"{side:<5}: liquidation at {price(lp)}, a {pct(move)} {word} (formula {pct(formula)}); "
            f"there MB {usdt(mb)} = MM {usdt(mm)}"
        )
    return "\n".join(lines)


# -- 3. the exchange's tiers -----------------------------------------------------------------
def tier_table(symbol: str = SYMBOL) -> str:
    """A shipped tier snapshot with its date, plus, per tier, the initial margin rate at the
    tier's maximum leverage and what is left of it above the MMR (``1/max_leverage − MMR``).

    >>> print(tier_table(OLD_SYMBOL).splitlines()[0])
    BTCUSDT tiers, snapshot as of 2021 (4 tiers)
    """
    t = _tiers(symbol)
    rows = []
    for b in t:
        cap = "and above" if math.isinf(b.notional_cap) else f"{b.notional_cap:,.0f}"
        rows.append(
            [
                str(b.bracket),
                f"{b.notional_floor:,.0f}",
                cap,
                f"{b.max_leverage:g}x",
                pct(b.mmr, 2),
                f"{b.maintenance_amount:,.0f}",
                pct(error_tolerance(b.max_leverage, b.mmr), 2),
            ]
        )
    head = f"{t.symbol} tiers, snapshot as of {t.as_of} ({len(t)} tiers)"
    body = table(
        rows,
        [
            "tier",
            "size from (USDT)",
            "size below (USDT)",
            "max lev.",
            "MMR",
            "cum (USDT)",
            "IMR − MMR at max lev.",
        ],
    )
    return f"{head}\n{body}"


def same_size_different_leverage(
    sizes: tuple[float, ...] = (EXAMPLE.notional, 1_000_000), leverages: tuple[float, ...] = (5, 50)
) -> str:
    """Open each size at each leverage in a fresh isolated account (shipped BTCUSDT tiers, no
    fees) and report what the engine says: initial margin, MMR, maintenance margin and the
    liquidation price. The MM column changes with the size only.

    >>> [c.strip() for c in same_size_different_leverage((1_000,), (5,)).splitlines()[2].split("|")]
    ['1,000 USDT', '5x', '200.00 USDT', '0.400 %', '4.00 USDT', '80,321.29']
    """
    rows = []
    for size in sizes:
        for lev in leverages:
            acct = Account(size, fee_rate=0.0)
            acct.open_position(SYMBOL, "long", notional=size, price=ENTRY_PRICE, leverage=lev)
            p = acct.report().position(SYMBOL)
            rows.append(
                [
                    usdt(size, 0),
                    f"{lev:g}x",
                    usdt(p.initial_margin),
                    pct(p.mmr),
                    usdt(p.maintenance_margin),
                    price(p.liquidation_price),
                ]
            )
    return table(rows, ["size", "lev.", "initial margin", "MMR", "maint. margin", "liquidation price"])


def cum_derivation(symbol: str = OLD_SYMBOL) -> str:
    """Rebuild each tier's ``cum`` from the recurrence
    ``cum_i = cum_(i−1) + floor_i × (MMR_i − MMR_(i−1))`` and set the table's value beside it.

    >>> print(cum_derivation().splitlines()[1])
    tier 3: 250,000 × (1.00 % − 0.50 %) + 50 = 1,300 (table: 1,300)
    """
    t = list(_tiers(symbol))
    lines = []
    for prev, b in zip(t[:-1], t[1:], strict=True):
        cum = prev.maintenance_amount + b.notional_floor * (b.mmr - prev.mmr)
        lines.append(
            f"tier {b.bracket}: {b.notional_floor:,.0f} × ({pct(b.mmr, 2)} − {pct(prev.mmr, 2)}) + "
            f"{prev.maintenance_amount:,.0f} = {cum:,.0f} (table: {b.maintenance_amount:,.0f})"
        )
    return "\n".join(lines)


def edge_table(symbol: str = OLD_SYMBOL) -> str:
    """At each tier edge: MM by the lower tier's rule, by the upper tier's rule, and by the upper
    tier's rate with no ``cum`` (the jump that ``cum`` removes).

    >>> [cell.strip() for cell in edge_table().splitlines()[3].split("|")]
    ['250,000', '1,200.00 USDT', '1,200.00 USDT', '2,500.00 USDT', '1,300.00 USDT']
    """
    t = list(_tiers(symbol))
    rows = []
    for prev, b in zip(t[:-1], t[1:], strict=True):
        n = b.notional_floor
        below = maintenance_margin(n, prev.mmr, prev.maintenance_amount)
        above = maintenance_margin(n, b.mmr, b.maintenance_amount)
        no_cum = maintenance_margin(n, b.mmr)
        rows.append([f"{n:,.0f}", usdt(below), usdt(above), usdt(no_cum), usdt(no_cum - above)])
    return table(rows, ["edge", "lower tier's MM", "upper tier's MM", "upper rate, no cum", "jump avoided"])


def plot_maintenance_curve(symbol: str = OLD_SYMBOL, top: float = 1_200_000) -> Figure:
    """MM against the size of the position, 0 to ``top`` USDT: the table's ``N × MMR − cum``
    (continuous) and the same rates without ``cum`` (jumps at every edge), edges marked."""
    t = _tiers(symbol)
    n = np.linspace(1.0, float(top), 1201)
    mm = t.maintenance_margin(n)
    tier = t.bracket_for(n)
    fig, ax = new_figure()
    ax.plot(
        n,
        n * tier.mmr,
        color=COLORS["maintenance"],
        linewidth=1.6,
        linestyle=":",
        label="size × MMR, no cum: jumps at each edge",
    )
    ax.plot(n, mm, color=COLORS["balance"], linewidth=2.2, label="size × MMR − cum: the table's MM")
    for b in t.brackets[1:]:
        if b.notional_floor <= top:
            ax.axvline(b.notional_floor, color=COLORS["grey"], linestyle="-.", linewidth=1)
            ax.annotate(
                f"tier {b.bracket} starts ({pct(b.mmr, 1)})",
                xy=(b.notional_floor, 0.97),
                xycoords=("data", "axes fraction"),
                xytext=(4, 0),
                textcoords="offset points",
                rotation=90,
                va="top",
                fontsize=8.5,
                color=COLORS["grey"],
            )
    ax.set_xlim(0, top)
    ax.set_ylim(0, None)
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_xlabel("position size, notional at the mark (USDT)")
    ax.set_ylabel("maintenance margin (USDT)")
    ax.set_title(f"{t.symbol} ({t.as_of}): cum keeps the maintenance margin continuous at tier edges")
    ax.legend(loc="lower right")
    return fig


# -- 4. the widget ---------------------------------------------------------------------------
def check_size_and_leverage(notional: float, leverage: float) -> Bracket:
    """Refuse a size outside the BTCUSDT table or a leverage above its tier's maximum; return
    the tier that holds ``notional``.

    >>> check_size_and_leverage(500_000, 50).bracket
    2
    """
    v.positive("notional", notional)  # a position needs a size (the table also answers 0)
    return _tiers().check_leverage(notional, leverage)


def exact_move(side: str, notional: float, leverage: float, *, mmr: float | None = None) -> float:
    """Exact adverse move (a fraction of the entry price) that liquidates a fresh isolated
    position of ``notional`` USDT at ``leverage``: with a flat ``mmr`` if given, else with the
    BTCUSDT tiers (the tier holding the notional at the liquidation price, ``cum`` included).
    ``nan`` when there is no liquidation price (a long whose margin covers the whole size).

    >>> round(exact_move("long", 1_000, 10, mmr=0.005), 6)
    0.095477
    >>> round(exact_move("short", 1_000, 10), 6)    # BTCUSDT tier 1: MMR 0.4 %
    0.095618
    """
    side = _side(side)
    q = v.scalar(v.positive, "notional", notional) / ENTRY_PRICE
    wallet = initial_margin(notional, leverage)
    if mmr is None:
        lp = liquidation_price(side, q, ENTRY_PRICE, wallet, brackets=_tiers())
    else:
        lp = liquidation_price(side, q, ENTRY_PRICE, wallet, mmr=mmr)
    return _SIGN[side] * (1 - lp / ENTRY_PRICE)


def view(side: str, notional: float, leverage: float) -> str:
    """What the widget prints: for a fresh isolated position, the article's simplified table
    (MMR tied to the leverage) beside the exchange's tier for that size (MMR tied to the size).

    >>> text = view("long", 1_000, 10)
    >>> print(text.splitlines()[0])
    Long 1,000.00 USDT of BTCUSDT at 10x, isolated, entry 100,000.00: 100.00 USDT of margin.
    >>> [cell.strip() for cell in text.splitlines()[9].split("|")]
    ['exact adverse move (a fall)', '9.548 %', '9.639 %']
    """
    side = _side(side)
    tier = check_size_and_leverage(notional, leverage)
    n, lev = float(notional), float(leverage)
    t = _tiers()
    word = "fall" if side == "long" else "rise"
    imr = initial_margin(1.0, lev)

    def column(rate: float, cum: float, move: float) -> list[str]:
        lp = ENTRY_PRICE * (1 - _SIGN[side] * move)
        return [
            pct(imr),
            pct(rate),
            usdt(cum),
            usdt(maintenance_margin(n, rate, cum)),
            pct(error_tolerance(lev, rate)),
            pct(move),
            price(lp),
        ]

    labels = [
        "initial margin rate (IMR)",
        "maintenance margin rate",
        "maintenance amount (cum)",
        "maintenance margin at entry",
        "error tolerance (IMR − MMR)",
        f"exact adverse move (a {word})",
        "liquidation price",
    ]
    if lev <= 125:
        rate = article_mmr(lev)
        article = column(rate, 0.0, exact_move(side, n, lev, mmr=rate))
    else:
        article = ["--"] * len(labels)
    exchange = column(tier.mmr, tier.maintenance_amount, exact_move(side, n, lev))
    width = max(len(lab) for lab in labels)
    rows = [[lab.ljust(width), a, e] for lab, a, e in zip(labels, article, exchange, strict=True)]
    lines = [
        f"{side.capitalize()} {usdt(n)} of {SYMBOL} at {lev:g}x, isolated, entry {price(ENTRY_PRICE)}: "
        f"{usdt(initial_margin(n, lev))} of margin.",
        "",
        table(rows, ["", "article's table", f"exchange, tier {tier.bracket}"]),
        "",
        f"{SYMBOL} tier {tier.bracket} holds sizes from {tier.notional_floor:,.0f} to "
        f"{tier.notional_cap:,.0f} USDT and allows up to {tier.max_leverage:g}x.",
    ]
    if lev > 125:
        lines.append("The article's table stops at 125x; the exchange's first tier goes higher.")
    if tier.maintenance_amount > 0:
        mm = maintenance_margin(n, tier.mmr, tier.maintenance_amount)
        lines.append(
            f"cum lowers the maintenance margin to {pct(mm / n)} of the size, so the exact move is "
            "larger than IMR − MMR alone suggests."
        )
    move = exact_move(side, n, lev)
    if math.isnan(move):
        lines.append("No liquidation price: the long's margin covers a fall all the way to zero.")
    else:
        lp = ENTRY_PRICE * (1 - _SIGN[side] * move)
        at_lp = t.tier_at(n / ENTRY_PRICE * lp)
        if at_lp.bracket != tier.bracket:
            lines.append(
                f"At the liquidation price the size is {n / ENTRY_PRICE * lp:,.0f} USDT, in tier "
                f"{at_lp.bracket}; the engine uses that tier's rate there."
            )
    return "\n".join(lines)


#: Half-widths of the price axis around the entry, as fractions of the entry price: the plot
#: takes the narrowest that holds :data:`_ROOM` times the move to liquidation, so the axis
#: changes only in these steps (each twice the one before) as the leverage moves.
_HALF_WIDTHS = (0.0125, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.2)
_ROOM = 1.85


def _half_width(move: float) -> float:
    """The half-width of the price axis for an adverse ``move`` to liquidation (nan: none).

    >>> _half_width(0.0964), _half_width(0.055), _half_width(float("nan"))
    (0.2, 0.2, 0.8)
    """
    if math.isnan(move):
        return 0.8
    return next((h for h in _HALF_WIDTHS if h >= _ROOM * move), _HALF_WIDTHS[-1])


def _price_range(move: float) -> tuple[float, float]:
    """The entry plus or minus :func:`_half_width` of the move (at least 1 % of the entry), so
    the widget's frame stays put while the leverage changes within a step."""
    half = _half_width(move)
    return max(ENTRY_PRICE * (1 - half), ENTRY_PRICE * 0.01), ENTRY_PRICE * (1 + half)


def _usdt_limits(side: str, notional: float, leverage: float, move: float) -> tuple[float, float]:
    """Round y limits for the single panel: the balance and maintenance lines over
    :func:`_price_range`, widened to what any leverage of the same price step would need, so
    they move only with that step and with the size (rounded, :func:`stable_limits`)."""
    n, half = float(notional), _half_width(move)
    low, high = _price_range(move)
    wallet = initial_margin(n, leverage)
    s = _SIGN[side]
    balance = [wallet + s * n * (p / ENTRY_PRICE - 1) for p in (low, high)]
    mm = _tiers().maintenance_margin_curve(np.array([low, high]) * n / ENTRY_PRICE)
    data_low, data_high = min(*balance, float(mm.min())), max(*balance, float(mm.max()))
    if math.isnan(move):  # the balance stays above the maintenance line: just keep it off the edge
        return stable_limits(min(data_low, 0.0) - 0.05 * (data_high - data_low), data_high)
    # The widest lines any leverage of this price step could draw: within a step the move lies
    # between the half-width below / room and this half-width / room, and 1 / leverage is about
    # move × (1 ∓ rate) + rate (and at least 1 / the tier's maximum leverage). They are taken
    # for a size rounded up to a tenth of a decade (this size in the middle of its step), so
    # typing a slightly different size keeps the frame too.
    rate = float(_tiers().maintenance_margin(n)) / n  # cum included
    below = max((h for h in _HALF_WIDTHS if h < half), default=0.0)
    most = 1 / _tiers().tier_at(n).max_leverage
    size = 10 ** ((math.ceil(10 * math.log10(n) - 0.5) + 0.5) / 10)
    low_bound = size * (max(below / _ROOM * (1 - rate) + rate, most) - half)
    high_bound = size * (half / _ROOM * (1 + rate) + rate + half)
    return stable_limits(min(data_low, low_bound), max(data_high, high_bound), parts=8)


def _whole_move(side: str, notional: float, leverage: float, move: float) -> Figure:
    """The single panel: the whole move from the entry, a fixed title per side, the size, the
    leverage and the move in a box where the lines never go (below zero beyond the entry, or
    top left when there is no liquidation price), the legend below the axes."""
    n, lev = float(notional), float(leverage)
    q, wallet = n / ENTRY_PRICE, initial_margin(n, lev)
    word = "fall" if side == "long" else "rise"
    fig, ax = new_figure()
    plot_margin_balance(
        side,
        q,
        ENTRY_PRICE,
        wallet,
        brackets=_tiers(),
        symbol="BTC",
        price_range=_price_range(move),
        ax=ax,
        legend=None,
        title=f"{side.capitalize()}: the balance never meets the maintenance line"
        if math.isnan(move)
        else f"{side.capitalize()}: liquidated where the margin balance meets the maintenance line",
    )
    ax.set_ylim(*_usdt_limits(side, n, lev, move))
    legend_below(fig, ax)
    head = f"{side.capitalize()} {n:,.0f} USDT of BTC at {lev:g}x"
    if math.isnan(move):
        note, where = f"{head}\nno liquidation price: the margin\ncovers a fall to zero", (0.02, 0.95)
        align = {"ha": "left", "va": "top"}
    else:
        note = f"{head}\nliquidated after a {pct(move, 2)} {word}"
        where = (0.98, 0.04) if side == "long" else (0.02, 0.04)
        align = {"ha": "right" if side == "long" else "left", "va": "bottom", "multialignment": "left"}
    ax.text(
        *where,
        note,
        transform=ax.transAxes,
        fontsize=9,
        bbox={"facecolor": "white", "edgecolor": COLORS["grey"], "boxstyle": "round,pad=0.4"},
        **align,
    )
    return fig


def plot(side: str, notional: float, leverage: float, close_up: bool = True) -> Figure:
    """Margin balance and maintenance margin (BTCUSDT tiers) against the mark price for a fresh
    isolated position: on the left the whole move from the entry, on the right a close-up of the
    point where the balance meets the maintenance line (the liquidation price, dashed) just
    before the bankruptcy price (dotted). One panel when there is no liquidation price or
    ``close_up`` is false (the widget's figure: its axes' limits change only in steps, so a
    small change of the controls redraws only the lines and labels)."""
    side = _side(side)
    check_size_and_leverage(notional, leverage)
    n, lev = float(notional), float(leverage)
    q, wallet = n / ENTRY_PRICE, initial_margin(n, lev)
    move = exact_move(side, n, lev)
    word = "fall" if side == "long" else "rise"
    head = f"{side.capitalize()} {n:,.0f} USDT of BTC at {lev:g}x"
    common = dict(brackets=_tiers(), symbol="BTC")
    if math.isnan(move) or not close_up:
        return _whole_move(side, n, lev, move)
    fig, (whole, close) = new_figure(2, figsize=(11.0, 4.6))
    plot_margin_balance(
        side,
        q,
        ENTRY_PRICE,
        wallet,
        price_range=_price_range(move),
        ax=whole,
        legend=None,
        title="the whole move from the entry",
        **common,
    )
    lp = ENTRY_PRICE * (1 - _SIGN[side] * move)
    bp = ENTRY_PRICE - _SIGN[side] * wallet / q
    half = 2.5 * abs(lp - bp)
    # coarse round limits: the close-up keeps its frame while the liquidation price moves a little
    plot_margin_balance(
        side,
        q,
        ENTRY_PRICE,
        wallet,
        price_range=stable_limits(lp - half, lp + half, parts=1),
        ax=close,
        legend=None,
        title="close-up: the balance meets the maintenance line",
        **common,
    )
    lo, hi = close.get_xlim()
    for text in list(close.texts):  # the entry's label lies far outside the close-up
        if not lo <= text.xy[0] <= hi:
            text.remove()
    for ax in (whole, close):
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ylo, yhi = ax.get_ylim()
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.1f}" if yhi - ylo < 50 else "{x:,.0f}"))
    legend_below(fig, whole)
    fig.suptitle(f"{head}: liquidated after a {pct(move, 2)} {word}, where the two lines meet")
    return fig


def widget():
    """Side, position size and leverage → the two columns of :func:`view` and :func:`plot`."""
    controls = {
        "side": choice_buttons(["long", "short"], EXAMPLE.side, "side"),
        "notional": money_box(EXAMPLE.notional, "position size (USDT)"),
        "leverage": leverage_slider(EXAMPLE.leverage, max=_tiers().brackets[0].max_leverage),
    }
    return build_widget(
        controls, view, widget_plot, height="820px", title="Maintenance margin and liquidation"
    )


def widget_plot(side: str, notional: float, leverage: float) -> Figure:
    """The widget's figure: the whole move only (the close-up of :func:`plot` follows the
    liquidation price, so its frame would change with every leverage step)."""
    return plot(side, notional, leverage, close_up=False)


# -- exercises -------------------------------------------------------------------------------
EXERCISES = {
    "2a": Exercise(
        "2a",
        "Exact adverse move that liquidates a fresh isolated long at 20x with MMR 0.5 %, in per "
        "cent with two decimals (e.g. 3.21)?",
        lambda: adverse_move_to_liquidation("long", 20, 0.005) * 100,
        unit="%",
        hint="IMR − MMR is only the first-order figure; for a long, divide it by (1 − MMR).",
        rel_tol=0.001,
    ),
    "2b": Exercise(
        "2b",
        "Maintenance margin of a 500,000 USDT BTCUSDT position under the shipped tier table (USDT)?",
        lambda: _tiers().maintenance_margin(500_000),
        unit="USDT",
        hint="Find the tier that holds 500,000 USDT, then size × MMR − cum (do not forget cum).",
    ),
    "2c": Exercise(
        "2c",
        "Which tier of the shipped BTCUSDT table holds a position of exactly 3,000,000 USDT?",
        lambda: _tiers().bracket_for(3_000_000).bracket,
        hint="A size exactly on a tier's floor belongs to the tier that starts there.",
    ),
}
