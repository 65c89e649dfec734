"""Lesson 1, initial margin: the widget, the plot of margin against leverage, the exercises and
the quiz.

The formulas themselves (``IM = N / L``, ``IMR = 1 / L``, ``ROE = move × L``, the cost of
opening) are computed in the lesson's own cells with the engine; this module holds only what a
learner need not read. The widget takes a position size and a leverage and shows the margin,
the share of the size it is, and whether the BTCUSDT tier table allows that leverage.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from .. import _validate as v
from ..brackets import BracketTable
from ..exercises import Exercise
from ..format import money, percent
from ..margin import initial_margin, return_on_equity
from ..plots import COLORS, legend_below, new_figure, usdt_ticks
from ..quiz import Question, Quiz
from ..widgets import build_widget, leverage_slider, money_box

__all__ = [
    "SYMBOL", "NEW_ACCOUNT_CAP",
    "view", "plot", "widget", "EXERCISES", "QUIZ",
]  # fmt: skip

#: The symbol whose tier table decides the maximum leverage in this lesson.
SYMBOL = "BTCUSDT"
#: The exchange's FAQ "Leverage and Margin of USDⓈ-M Futures": an account registered less than
#: 60 days ago cannot open above 20x, and 20x is the default leverage.
NEW_ACCOUNT_CAP = 20
#: Leverages labelled on the plot's axis (the tier's maximum is added).
_LEVERAGE_TICKS = (1, 2, 5, 10, 20, 50, 100, 150)


def _tiers() -> BracketTable:
    return BracketTable.load(SYMBOL)


def check_leverage(notional: float, leverage: float) -> float:
    """Refuse a size outside the BTCUSDT table or a leverage its tier does not allow; return the
    tier's maximum leverage. A position needs a size: ``notional`` must be > 0."""
    v.positive("notional", notional)
    return float(_tiers().check_leverage(notional, leverage).max_leverage)


def view(notional: float, leverage: float) -> str:
    """What the widget prints: the margin for ``notional`` USDT at ``leverage``.

    >>> print(view(1_000, 10))
    A 1,000.00 USDT position at 10x needs 100.00 USDT of initial margin.
    That is 10 % of the position (the initial margin rate, 1 / leverage).
    Each 1 % price move against it costs 10 % of that margin; a 10 % move costs all of it.
    BTCUSDT allows up to 150x at this size (an account younger than 60 days: up to 20x).
    """
    most = check_leverage(notional, leverage)
    n, lev = float(notional), float(leverage)
    im = initial_margin(n, lev)
    young = f" (an account younger than 60 days: up to {NEW_ACCOUNT_CAP}x)" if most > NEW_ACCOUNT_CAP else ""
    lines = [
        f"A {money(n)} position at {lev:g}x needs {money(im)} of initial margin.",
        f"That is {percent(im / n)} of the position (the initial margin rate, 1 / leverage).",
        f"Each 1 % price move against it costs {lev:g} % of that margin; a {percent(1 / lev)} move "
        "costs all of it.",
        f"{SYMBOL} allows up to {most:g}x at this size{young}.",
    ]
    if lev > NEW_ACCOUNT_CAP:
        lines.append(f"Above {NEW_ACCOUNT_CAP}x: an account registered less than 60 days ago could not "
                     "open this.")  # fmt: skip
    return "\n".join(lines)


def _log_frame(low: float, high: float) -> tuple[float, float, list[float]]:
    """Limits of a log axis just outside ``[low, high]`` (1, 1.5, 2, 3, 5 or 7 times a power of
    ten, so they move only when the data cross one), and ticks at 1, 2 and 5 times the powers
    of ten between them.

    >>> _log_frame(3, 600)
    (3.0, 700.0, [5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0])
    """
    powers = range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
    edges = [m * 10.0**p for p in powers for m in (1, 1.5, 2, 3, 5, 7)]
    lo = max(x for x in edges if x <= low * (1 + 1e-9))
    hi = min(x for x in edges if x >= high * (1 - 1e-9))
    return lo, hi, [m * 10.0**p for p in powers for m in (1, 2, 5) if lo <= m * 10.0**p <= hi]


def plot(notional: float, leverage: float) -> Figure:
    """Initial margin against leverage on log–log axes for a position of ``notional`` USDT: a
    straight line of slope −1, so doubling the leverage halves the margin. Solid up to the
    maximum the size's tier allows, dashed beyond; the chosen leverage, the tier's maximum and
    the new-account cap marked. The leverage axis is the same for every size (1x to 150x)."""
    most = check_leverage(notional, leverage)
    n, lev = float(notional), float(leverage)
    top = float(_tiers().brackets[0].max_leverage)
    fig, ax = new_figure()
    allowed = np.geomspace(1.0, most, 100)
    ax.plot(allowed, initial_margin(n, allowed), color=COLORS["balance"], linewidth=2,
            label="initial margin = size / leverage")  # fmt: skip
    if most < top:
        beyond = np.geomspace(most, top, 100)
        ax.plot(beyond, initial_margin(n, beyond), color=COLORS["grey"], linewidth=1.5,
                linestyle=(0, (4, 3)), label="leverage this size may not use")  # fmt: skip
    ax.axvline(most, color="#555555", linestyle="-.", linewidth=1.3,
               label=f"{SYMBOL} maximum at this size: {most:g}x")  # fmt: skip
    if most > NEW_ACCOUNT_CAP:
        ax.axvline(NEW_ACCOUNT_CAP, color="#555555", linestyle=":", linewidth=1.5,
                   label=f"accounts younger than 60 days: {NEW_ACCOUNT_CAP}x")  # fmt: skip
    im = initial_margin(n, lev)
    ax.scatter([lev], [im], color=COLORS["maintenance"], zorder=5, marker="D", s=45,
               label=f"your choice: {lev:g}x needs {money(im)}")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(0.8, top * 1.35)
    low, high, yticks = _log_frame(n / top / 1.15, n * 1.15)
    ax.set_ylim(low, high)
    ax.xaxis.set_major_locator(FixedLocator(sorted({*_LEVERAGE_TICKS, most})))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g}"))
    ax.yaxis.set_major_locator(FixedLocator(yticks))
    usdt_ticks(ax.yaxis)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_minor_locator(NullLocator())
    ax.set_xlabel("leverage (x, log scale)")
    ax.set_ylabel("initial margin (USDT, log scale)")
    size = f"{n:,.0f} USDT" if n == round(n) else money(n)
    ax.set_title(f"Margin for a {size} position: doubling the leverage halves it")
    legend_below(fig, ax, ncols=2)
    return fig


def widget():
    """Position size and leverage → margin, with the plot of margin against leverage."""
    controls = {"notional": money_box(1_000, "position size (USDT)"), "leverage": leverage_slider(10)}
    return build_widget(controls, view, plot, title="Initial margin = size / leverage")


EXERCISES = {
    "1a": Exercise(
        "1a",
        "Change the quantity in the cell of section 1 to 0.05 BTC and the leverage to 25x: initial "
        "margin in USDT?",
        lambda: initial_margin(0.05 * 100_000, 25),
        unit="USDT",
        hint="First the size in USDT (coins times price), then divide it by the leverage.",
    ),
    "1b": Exercise(
        "1b",
        "An account older than 60 days, 40 USDT available, a 1,000 USDT position, a 0.05 % "
        "opening fee: the lowest whole leverage the exchange accepts?",
        lambda: math.ceil(1_000 / (40 - 1_000 * 0.0005)),
        unit="x",
        hint="The balance must pay the margin and the fee, and the fee does not shrink with "
        "leverage; leverage comes in whole steps, so round the way that still fits.",
    ),
    "1c": Exercise(
        "1c",
        "A long at 20x; the price falls 3 %. What share of the margin is lost, in per cent?",
        lambda: -return_on_equity("long", 1.0, 100.0, 97.0, 20) * 100,
        unit="%",
        hint="The loss follows the full size; measure it against the margin, which is the size "
        "divided by the leverage.",
    ),
    "1d": Exercise(
        "1d",
        "An account older than 60 days, 5,000 USDT of margin, no fees: the largest BTCUSDT "
        "position (USDT) the tier table lets you open, at any leverage it allows?",
        lambda: max(
            min(b.notional_cap, 5_000 * b.max_leverage)
            for b in _tiers()
            if 5_000 * b.max_leverage >= b.notional_floor
        ),
        unit="USDT",
        hint="The maximum leverage depends on the size: for each tier, the margin times that "
        "tier's maximum leverage must still land inside the tier.",
    ),
}

QUIZ = Quiz(
    [
        Question(
            "q1",
            "A friend trades with 100 USDT of margin. What else must you know to judge the risk?",
            {
                "a": (
                    "Nothing: 100 USDT is the risk",
                    "The loss follows the position's size, and "
                    "100 USDT can back 500 USDT or 10,000 USDT: a 1 % move costs 5 or 100.",
                ),
                "b": (
                    "The position's size (or the leverage)",
                    "Margin is money and leverage a "
                    "ratio; the size links them and sets how fast a move eats the margin.",
                ),
                "c": (
                    "Only the fee rate",
                    "The fee is small and known; the size decides how much each price move costs.",
                ),
            },
            answer="b",
        ),
        Question(
            "q2",
            "The same 1,000 USDT position at 50x instead of 5x needs less margin. Is it safer?",
            {
                "a": (
                    "Yes: less money is at stake",
                    "Less money, but a 2 % move against the position takes all of it, "
                    "where at 5x it would take a 20 % move; the loss per move is the same.",
                ),
                "b": (
                    "No: a ten times smaller move takes the whole margin",
                    "The loss follows the size, and the deposit that absorbs it is ten times thinner.",
                ),
                "c": (
                    "It makes no difference",
                    "The size is the same, but the deposit that "
                    "absorbs its losses is not: at 50x each 1 % move takes half of it.",
                ),
            },
            answer="b",
        ),
        Question(
            "q3",
            "You open 1,000 USDT at 20x instead of 10x. The taker fee on opening ...",
            {
                "a": (
                    "halves, like the margin",
                    "The fee is charged on the size, not on the margin, and the size has not changed.",
                ),
                "b": (
                    "stays the same",
                    "0.05 % of 1,000 USDT is 0.50 USDT at any leverage; "
                    "only as a share of the margin does it double.",
                ),
                "c": (
                    "doubles, like the leverage",
                    "Leverage does not enlarge the position; the size, and so the fee, is unchanged.",
                ),
            },
            answer="b",
        ),
        Question(
            "q4",
            "Your account was opened last week. The highest leverage it may use on BTCUSDT is ...",
            {
                "a": (
                    "150x, the tier's maximum",
                    "The tier allows it, but the exchange caps accounts younger than 60 days lower.",
                ),
                "b": (
                    "125x, the article's last row",
                    "That row is the article's simplified table, not a rule for new accounts.",
                ),
                "c": (
                    "20x",
                    "Accounts registered less than 60 days ago cannot open above 20x "
                    "(the exchange's FAQ), and 20x is also the default leverage.",
                ),
            },
            answer="c",
        ),
    ]
)
