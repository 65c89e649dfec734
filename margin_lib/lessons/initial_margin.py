"""Lesson 1, initial margin: ``IM = position size / leverage``.

Pure functions behind the lesson's tables, widget, plot and exercises. The widget takes a
position size and a leverage and shows the margin, the share of the size it represents, and
whether the exchange's tier table for BTCUSDT allows that leverage at that size.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from .. import _validate as v
from ..account import Account
from ..brackets import BracketTable
from ..errors import OrderRefusedError
from ..examples import INITIAL_MARGIN_EXAMPLES
from ..exercises import Exercise
from ..format import pct, table, usdt
from ..margin import initial_margin, return_on_equity
from ..plots import COLORS, mark_price_line, new_figure
from ..widgets import build_widget, leverage_slider, money_box

__all__ = ["examples_table", "view", "plot", "widget", "try_to_open", "EXERCISES", "SYMBOL"]

#: The symbol whose tier table decides the maximum leverage in this lesson.
SYMBOL = "BTCUSDT"


def _tiers() -> BracketTable:
    return BracketTable.load(SYMBOL)


def examples_table() -> str:
    """The article's three examples: size, leverage, the margin the engine computes, and the
    margin the article states."""
    rows = [
        [
            usdt(e.notional, 0),
            f"{e.leverage:g}x",
            usdt(initial_margin(e.notional, e.leverage)),
            usdt(e.stated_margin),
        ]
        for e in INITIAL_MARGIN_EXAMPLES
    ]
    return table(rows, ["position size", "leverage", "margin (engine)", "margin (article)"])


def check_leverage(notional: float, leverage: float) -> float:
    """Refuse a leverage the BTCUSDT tier of ``notional`` does not allow; return the maximum.

    A position needs a size: ``notional`` must be > 0 here (the table itself also answers 0)."""
    v.positive("notional", notional)
    return float(_tiers().check_leverage(notional, leverage).max_leverage)


def view(notional: float, leverage: float) -> str:
    """What the widget prints: the margin for ``notional`` USDT at ``leverage``.

    >>> print(view(1_000, 10))
    A 1,000.00 USDT position at 10x needs 100.00 USDT of initial margin.
    That is 10.000 % of the position (the initial margin rate, 1 / leverage).
    The position moves 10x as much money as the margin: a 1 % price move is 10.000 % of the margin.
    BTCUSDT allows up to 150x at this size.
    """
    most = check_leverage(notional, leverage)
    im = initial_margin(notional, leverage)
    return "\n".join(
        [
            f"A {usdt(notional)} position at {leverage:g}x needs {usdt(im)} of initial margin.",
            f"That is {pct(im / notional)} of the position (the initial margin rate, 1 / leverage).",
            f"The position moves {leverage:g}x as much money as the margin: a 1 % price move is "
            f"{pct(0.01 * leverage)} of the margin.",
            f"{SYMBOL} allows up to {most:g}x at this size.",
        ]
    )


def plot(notional: float, leverage: float) -> Figure:
    """Margin against leverage (1x to the tier's maximum) for a position of ``notional`` USDT,
    the chosen leverage marked."""
    most = check_leverage(notional, leverage)
    levs = np.arange(1, int(most) + 1, dtype=float)
    fig, ax = new_figure()
    ax.plot(
        levs,
        initial_margin(notional, levs),
        color=COLORS["balance"],
        linewidth=2,
        label="initial margin = size / leverage",
    )
    im = initial_margin(notional, leverage)
    ax.scatter(
        [leverage],
        [im],
        color=COLORS["maintenance"],
        zorder=5,
        marker="D",
        label=f"{leverage:g}x: {usdt(im)}",
    )
    mark_price_line(ax, float(most), f"tier maximum {most:g}x", kind="liquidation")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_xlim(0, most * 1.08)
    ax.set_xlabel("leverage (x)")
    ax.set_ylabel("initial margin (USDT, log scale)")
    ax.set_title(f"Margin for a {usdt(notional, 0)} position: doubling leverage halves it")
    ax.legend(loc="upper center")
    return fig


def widget():
    """Position size and leverage → margin, with the plot of margin against leverage."""
    controls = {"notional": money_box(1_000, "position size (USDT)"), "leverage": leverage_slider(10)}
    return build_widget(controls, view, plot, title="Initial margin = size / leverage")


def try_to_open(wallet: float, notional: float, leverage: float, fee_rate: float = 0.0005) -> str:
    """Ask the engine to open a BTC long in an isolated account; return what it says.

    >>> print(try_to_open(5_000, 1_000, 10))
    Opened: 100.00 USDT of margin locked, fee 0.50 USDT, 4,899.50 USDT still available.
    """
    acct = Account(wallet, fee_rate=fee_rate)
    try:
        acct.open_position(SYMBOL, "long", notional=notional, price=100_000, leverage=leverage)
    except OrderRefusedError as exc:
        return f"Refused: {exc}"
    r = acct.report()
    fee = notional * fee_rate
    return (
        f"Opened: {usdt(r.position(SYMBOL).isolated_wallet)} of margin locked, fee {usdt(fee)}, "
        f"{usdt(r.available_balance)} still available."
    )


EXERCISES = {
    "1a": Exercise(
        "1a",
        "A 2,500 USDT position at 25x: how much initial margin (USDT)?",
        lambda: initial_margin(2_500, 25),
        unit="USDT",
        hint="Margin is the position size divided by the leverage.",
    ),
    "1b": Exercise(
        "1b",
        "You have 40 USDT free and want a 1,000 USDT position. What is the lowest leverage "
        "that fits, ignoring fees?",
        lambda: 1_000 / 40,
        unit="x",
        hint="Solve size / leverage = 40 for the leverage.",
    ),
    "1c": Exercise(
        "1c",
        "At 20x, what share of your margin does a 2 % move against you take (in per cent, e.g. 12.5)?",
        lambda: -return_on_equity("long", 1.0, 100.0, 98.0, 20) * 100,
        unit="%",
        hint="A move of x % on the position is leverage × x % on the margin.",
    ),
}
