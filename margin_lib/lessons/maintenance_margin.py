"""Lesson 2, maintenance margin: the widget, the figures, the tier table's layout, the exercises
and the quiz. The formulas (``MM = N × MMR − cum``, ``MM / MB``, the liquidation price, the exact
move ``(IMR − MMR + cum / N) / (1 ∓ MMR)``, the ``cum`` recurrence) are computed in the lesson's
own cells; this module holds only what a learner need not read.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from .. import _validate as v
from ..brackets import Bracket, BracketTable
from ..examples import ILLUSTRATIVE_PRICES, article_mmr
from ..exercises import Exercise
from ..format import money, pct, percent, price, table, usdt
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
from ..quiz import Question, Quiz
from ..widgets import build_widget, choice_buttons, leverage_slider, money_box

__all__ = [
    "SYMBOL", "ENTRY_PRICE", "tier_table", "check_size_and_leverage",
    "exact_move", "view", "plot", "plot_maintenance_curve", "widget", "EXERCISES", "QUIZ",
]  # fmt: skip

#: The symbol whose shipped tier snapshot the lesson uses.
SYMBOL = "BTCUSDT"
#: Entry price for the examples (the article names none; no percentage depends on it).
ENTRY_PRICE = ILLUSTRATIVE_PRICES[SYMBOL]
_SIGN = {"long": 1, "short": -1}


@functools.cache  # read once: tables are immutable, and a change of the widget uses it a dozen times
def _tiers(symbol: str = SYMBOL) -> BracketTable:
    return BracketTable.load(symbol)


def _side(side: str) -> str:
    return "long" if v.side_scalar("side", side) == 1 else "short"


def tier_table(tiers: BracketTable) -> str:
    """A tier snapshot with its date: each tier's sizes, maximum leverage, MMR and ``cum``.

    >>> print(tier_table(BracketTable.load("BTCUSDT-2021")).splitlines()[0])
    BTCUSDT tiers, snapshot as of 2021 (4 tiers)
    """
    rows = [
        [
            str(b.bracket),
            f"{b.notional_floor:,.0f}",
            "and above" if math.isinf(b.notional_cap) else f"{b.notional_cap:,.0f}",
            f"{b.max_leverage:g}x",
            percent(b.mmr),
            f"{b.maintenance_amount:,.0f}",
        ]
        for b in tiers
    ]
    head = ["tier", "size from (USDT)", "size below (USDT)", "max leverage", "MMR", "cum (USDT)"]
    return f"{tiers.symbol} tiers, snapshot as of {tiers.as_of} ({len(tiers)} tiers)\n{table(rows, head)}"


def check_size_and_leverage(notional: float, leverage: float) -> Bracket:
    """Refuse a size outside the BTCUSDT table or a leverage above its tier's maximum; return
    the tier that holds ``notional`` (which must be > 0: a position needs a size).

    >>> check_size_and_leverage(500_000, 50).bracket
    2
    """
    v.positive("notional", notional)
    return _tiers().check_leverage(notional, leverage)


def exact_move(side: str, notional: float, leverage: float, *, mmr: float | None = None) -> float:
    """The adverse move (a fraction of the entry price) that liquidates a fresh isolated position
    of ``notional`` USDT at ``leverage``: with a flat ``mmr`` if given, else with the BTCUSDT
    tiers (the tier holding the size at the liquidation price, ``cum`` included). ``nan`` when
    there is no liquidation price (a long whose margin covers a fall to zero).

    >>> round(exact_move("long", 1_000, 10, mmr=0.005), 6)
    0.095477
    >>> round(exact_move("short", 1_000, 10), 6)    # BTCUSDT tier 1: MMR 0.4 %
    0.095618
    """
    side = _side(side)
    q = v.scalar(v.positive, "notional", notional) / ENTRY_PRICE
    wallet = initial_margin(notional, leverage)
    rates = {"brackets": _tiers()} if mmr is None else {"mmr": mmr}
    return _SIGN[side] * (1 - liquidation_price(side, q, ENTRY_PRICE, wallet, **rates) / ENTRY_PRICE)


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
    word = "fall" if side == "long" else "rise"

    def column(rate: float, cum: float, move: float) -> list[str]:
        return [
            percent(1 / lev),
            percent(rate),
            usdt(cum),
            money(maintenance_margin(n, rate, cum)),
            percent(error_tolerance(lev, rate)),
            pct(move),
            price(ENTRY_PRICE * (1 - _SIGN[side] * move)),
        ]

    labels = ["initial margin rate (IMR)", "maintenance margin rate", "maintenance amount (cum)",
              "maintenance margin at entry", "error tolerance (IMR − MMR)",
              f"exact adverse move (a {word})", "liquidation price"]  # fmt: skip
    if lev <= 125:
        rate = article_mmr(lev)
        article = column(rate, 0.0, exact_move(side, n, lev, mmr=rate))
    else:
        article = ["--"] * len(labels)
    move = exact_move(side, n, lev)
    exchange = column(tier.mmr, tier.maintenance_amount, move)
    rows = [[lab, a, e] for lab, a, e in zip(labels, article, exchange, strict=True)]
    lines = [
        f"{side.capitalize()} {money(n)} of {SYMBOL} at {lev:g}x, isolated, entry {price(ENTRY_PRICE)}: "
        f"{money(initial_margin(n, lev))} of margin.",
        "",
        table(rows, ["", "article's table", f"exchange, tier {tier.bracket}"], align="lrr"),
        "",
        f"{SYMBOL} tier {tier.bracket} holds sizes from {tier.notional_floor:,.0f} to "
        f"{tier.notional_cap:,.0f} USDT and allows up to {tier.max_leverage:g}x.",
    ]
    if lev > 125:
        lines.append("The article's table stops at 125x; the exchange's first tier goes higher.")
    if tier.maintenance_amount > 0:
        share = maintenance_margin(n, tier.mmr, tier.maintenance_amount) / n
        lines.append(
            f"cum lowers the maintenance margin to {percent(share)} of the size: more room than the "
            "tier's rate alone would leave."
        )
    if math.isnan(move):
        lines.append("No liquidation price: the long's margin covers a fall all the way to zero.")
    else:
        at_lp = _tiers().tier_at(n * (1 - _SIGN[side] * move))
        if at_lp.bracket != tier.bracket:
            lines.append(
                f"At the liquidation price the size is {n * (1 - _SIGN[side] * move):,.0f} USDT, in tier "
                f"{at_lp.bracket}; the engine uses that tier's rate there."
            )
    return "\n".join(lines)


#: Half-widths of the plot's price axis (fractions of the entry): the narrowest that holds
#: 1.85 times the move to liquidation, so the axis changes only in steps as the leverage moves.
_HALF_WIDTHS = (0.0125, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.2)


def _price_range(move: float) -> tuple[float, float]:
    """The plot's prices: the entry ± a step of :data:`_HALF_WIDTHS` (never below 1 % of it).

    >>> [round(x) for x in _price_range(0.0964) + _price_range(float("nan"))]
    [80000, 120000, 20000, 180000]
    """
    half = 0.8 if math.isnan(move) else next((h for h in _HALF_WIDTHS if h >= 1.85 * move), 1.2)
    return max(ENTRY_PRICE * (1 - half), ENTRY_PRICE * 0.01), ENTRY_PRICE * (1 + half)


def _fit_y(ax, side: str, q: float, wallet: float) -> None:
    """Round y limits around the margin balance and the maintenance margin over the axes' price
    range (the maintenance line kept off the bottom edge)."""
    prices = np.linspace(*ax.get_xlim(), 50)
    balance = wallet + _SIGN[side] * q * (prices - ENTRY_PRICE)
    mm = _tiers().maintenance_margin_curve(q * prices)
    low, high = min(balance.min(), mm.min()), max(balance.max(), mm.max())
    ax.set_ylim(*stable_limits(min(low, -0.04 * (high - low)), high, parts=8))


def plot(side: str, notional: float, leverage: float) -> Figure:
    """Margin balance and maintenance margin (BTCUSDT tiers) against the mark price for a fresh
    isolated position: the liquidation price (dashed) where they meet, the bankruptcy price
    (dotted) where the balance is gone, and (drawn by :func:`~margin_lib.plots.plot_margin_balance`)
    a close-up of that band when it is too thin to see. The title names the tier and the rate
    that give its number."""
    side = _side(side)
    check_size_and_leverage(notional, leverage)
    n, lev = float(notional), float(leverage)
    q, wallet = n / ENTRY_PRICE, initial_margin(n, lev)
    move = exact_move(side, n, lev)
    size = f"{n:,.0f} USDT" if n == round(n) else money(n)
    head = f"{side.capitalize()} {size} at {lev:g}x"
    if math.isnan(move):
        title = f"{head}: no liquidation price\nthe margin balance never meets the maintenance line"
    else:
        tier = _tiers().tier_at(q * ENTRY_PRICE * (1 - _SIGN[side] * move))
        cum = f", cum {tier.maintenance_amount:,.0f} USDT" if tier.maintenance_amount else ""
        word = "fall" if side == "long" else "rise"
        title = (
            f"{head}: liquidated after a {pct(move)} {word}\n"
            f"maintenance rate at the liquidation price: {SYMBOL} tier {tier.bracket}, "
            f"MMR {percent(tier.mmr)}{cum}"
        )
    fig, ax = new_figure(figsize=(11.0, 4.6))
    plot_margin_balance(side, q, ENTRY_PRICE, wallet, brackets=_tiers(), symbol="BTC",
                        price_range=_price_range(move), ax=ax, legend=None, title=title)  # fmt: skip
    _fit_y(ax, side, q, wallet)
    if math.isnan(move):  # no close-up then: say what the low line is, where nothing else is
        right = ax.get_xlim()[1]
        ax.annotate(f"maintenance margin ({money(_tiers().maintenance_margin(n))} at the entry)",
                    xy=(right, float(_tiers().maintenance_margin_curve(q * right))), xytext=(-4, 5),
                    textcoords="offset points", ha="right", va="bottom", fontsize=8.5,
                    color=COLORS["maintenance"])  # fmt: skip
    legend_below(fig, ax)
    return fig


def plot_maintenance_curve(tiers: BracketTable, top: float = 1_200_000) -> Figure:
    """MM against the size of the position, 0 to ``top`` USDT: the table's ``N × MMR − cum``
    (continuous) and the same rates without ``cum`` (jumps at every edge), edges marked."""
    n = np.linspace(1.0, float(top), 1201)
    fig, ax = new_figure()
    ax.plot(n, n * tiers.bracket_for(n).mmr, color=COLORS["maintenance"], linewidth=1.6, linestyle=":",
            label="size × MMR, no cum: jumps at each edge")  # fmt: skip
    ax.plot(n, tiers.maintenance_margin(n), color=COLORS["balance"], linewidth=2.2,
            label="size × MMR − cum: the table's MM")  # fmt: skip
    for b in tiers.brackets[1:]:
        if b.notional_floor <= top:
            ax.axvline(b.notional_floor, color=COLORS["grey"], linestyle="-.", linewidth=1)
            ax.annotate(f"tier {b.bracket} starts ({percent(b.mmr)})", xy=(b.notional_floor, 0.97),
                        xycoords=("data", "axes fraction"), xytext=(-4, 0), textcoords="offset points",
                        rotation=90, va="top", ha="right", fontsize=8.5, color="#555555")  # fmt: skip
    ax.set_xlim(0, top)
    ax.set_ylim(0, None)
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_xlabel("position size, notional at the mark (USDT)")
    ax.set_ylabel("maintenance margin (USDT)")
    ax.set_title(f"{tiers.symbol} ({tiers.as_of}): cum keeps the maintenance margin continuous")
    ax.legend(loc="lower right")
    return fig


def widget():
    """Side, position size and leverage → the two columns of :func:`view` and :func:`plot`."""
    controls = {
        "side": choice_buttons(["long", "short"], "long", "side"),
        "notional": money_box(1_000, "position size (USDT)"),
        "leverage": leverage_slider(10, max=_tiers().brackets[0].max_leverage),
    }
    return build_widget(controls, view, plot, height="800px", title="Maintenance margin and liquidation")


EXERCISES = {
    "2a": Exercise(
        "2a",
        "A fresh isolated short at 25x with the article's MMR of 0.5 %: the exact rise that "
        "liquidates it, in per cent with three decimals?",
        lambda: adverse_move_to_liquidation("short", 25, 0.005) * 100,
        unit="%",
        hint="The tolerance IMR − MMR is only the first-order figure; for a short, divide it by "
        "one plus the MMR.",
        rel_tol=0.001,
    ),
    "2b": Exercise(
        "2b",
        "The maintenance margin of a 5,000,000 USDT BTCUSDT position on the 2026-09 table (USDT)?",
        lambda: _tiers().maintenance_margin(5_000_000),
        unit="USDT",
        hint="Find the tier that holds the size, then the size times that tier's rate, minus "
        "that tier's maintenance amount.",
    ),
    "2c": Exercise(
        "2c",
        "A fresh isolated long of 500,000 USDT at 50x on the 2026-09 table: the exact fall that "
        "liquidates it, in per cent with three decimals?",
        lambda: exact_move("long", 500_000, 50) * 100,
        unit="%",
        hint="Use the tier's rate and its maintenance amount: add cum / N to IMR − MMR before "
        "dividing, or ask the engine for the liquidation price with the tier table.",
        rel_tol=0.001,
    ),
    "2d": Exercise(
        "2d",
        "The article's 1,000 USDT long at 10x (MMR 0.5 %) after a 9 % fall: the exchange's margin "
        "ratio, in per cent?",
        lambda: (
            margin_ratio(
                maintenance_margin(0.01 * 91_000, 0.005), 100 + unrealized_pnl("long", 0.01, 100_000, 91_000)
            )
            * 100
        ),
        unit="%",
        hint="Margin balance is the wallet plus the PnL; the maintenance margin is on the size at "
        "the new mark price; the exchange divides the second by the first.",
    ),
}

QUIZ = Quiz(
    [
        Question(
            "q1",
            "When is an isolated position liquidated?",
            {
                "a": (
                    "When its margin balance reaches zero",
                    "That is the bankruptcy price; the "
                    "exchange steps in earlier, while the maintenance margin is still there.",
                ),
                "b": (
                    "When its margin balance falls to its maintenance margin",
                    "The exchange's margin ratio MM / MB reaches 100 % at that moment.",
                ),
                "c": (
                    "When the price has moved by the article's tolerance",
                    "IMR − MMR is a rounding: a long is still open there, a short already liquidated.",
                ),
            },
            answer="b",
        ),
        Question(
            "q2",
            "You open the same 1,000 USDT BTCUSDT position at 5x instead of 50x. Its MMR ...",
            {
                "a": (
                    "falls, because the leverage is lower",
                    "The tier is chosen by the size; "
                    "leverage only sets the cushion above the maintenance margin.",
                ),
                "b": (
                    "stays the same, because the size is the same",
                    "Both sit in tier 1 at "
                    "0.4 %; only the initial margin, and so the liquidation price, differ.",
                ),
                "c": (
                    "rises, because more margin is locked",
                    "The margin put in does not change the rate; the size does.",
                ),
            },
            answer="b",
        ),
        Question(
            "q3",
            "The article gives 9.5 % as the tolerance at 10x. For a fresh isolated short at 10x "
            "with an MMR of 0.5 %, the rise that liquidates it is ...",
            {
                "a": (
                    "exactly 9.5 %",
                    "The tolerance ignores that the size, and so the "
                    "maintenance margin, grows with the price.",
                ),
                "b": (
                    "a little more than 9.5 %",
                    "That is a long's case (a fall of 9.548 %); a "
                    "short's maintenance margin grows as the price rises.",
                ),
                "c": (
                    "a little less than 9.5 %",
                    "9.453 %: the rounding errs on the dangerous side for a short.",
                ),
            },
            answer="c",
        ),
        Question(
            "q4",
            "The exchange shows a margin ratio of 23 % for a position. The article's account "
            "margin ratio for it is ...",
            {
                "a": ("77 %", "The two are not complements; each is the other's reciprocal."),
                "b": (
                    "about 435 %",
                    "Equity / MM is the reciprocal of MM / MB: 1 / 0.23. Both "
                    "reach 100 % at the same moment.",
                ),
                "c": (
                    "23 % as well",
                    "The article divides the other way round, equity by maintenance margin.",
                ),
            },
            answer="b",
        ),
    ]
)
