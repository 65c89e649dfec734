"""The calculator's plot: BTC's margin balance against its price, sized to read on a phone.

The figure is 4.4 × 3.9 inches drawn at 150 dpi (660 × 585 pixels): on a wide screen it shows
at that size, and on a phone, scaled to the screen's ~370 CSS pixels, its smallest text (the
price labels, 8.5 pt) is still about 10 pixels high. The legend sits below the axes, so it
covers no data, and the title takes two short lines, so it is never clipped.

Where BTC stands *now* (after the moves) is drawn as what happened: a dot on the balance line
while the position stands; once it has been liquidated, a cross at the mark with nothing left
(balance 0), and the title says what the liquidation took, as the table does. The balance line
beyond the liquidation price stays as what the position would have been worth had it stayed
open (hatched: the liquidated zone).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath
from matplotlib.ticker import MaxNLocator

from .account_records import PositionReport
from .brackets import BracketTable
from .format import usdt
from .liquidation import liquidation_price
from .plots import COLORS, plot_margin_balance, use_course_style

__all__ = ["FIGSIZE", "DPI", "balance_figure"]

#: Inches, and dots per inch: 660 × 585 pixels.
FIGSIZE, DPI = (4.4, 3.9), 150
TITLE_PT = 10.5
_KINDS = {COLORS[k].lower(): k for k in ("entry", "liquidation", "bankruptcy")}
#: The legend's entries in this order (by their first word), down the first column, then the second.
_ORDER = ("margin", "maintenance", "liquidated", "entry", "liquidation", "bankruptcy", "now")
_MEASURE = TextToPath()


def _width_pt(text: str) -> float:
    """How wide ``text`` is in the title's font, in points."""
    return float(_MEASURE.get_text_width_height_descent(text, FontProperties(size=TITLE_PT), ismath=False)[0])


def balance_figure(
    btc: PositionReport,
    wallet: float,
    other_mm: float,
    other_upnl: float,
    brackets: BracketTable,
    *,
    mark: float,
    moves: tuple[float, float],
    lost: float | None,
) -> Figure:
    """BTC's margin balance and maintenance margin against its price (the other coin at its moved
    price through ``other_mm`` and ``other_upnl``, as in
    :func:`~margin_lib.liquidation.liquidation_price`), and BTC *now*, at ``mark``: standing, or
    liquidated with ``lost`` USDT taken (``None``: not liquidated)."""
    use_course_style()
    plt.rcParams["savefig.dpi"] = "figure"  # saved as shown: at the figure's own dpi
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    entry = btc.entry_price
    lp = float(liquidation_price(btc.side, btc.quantity, entry, wallet, brackets=brackets,
                                 other_maintenance_margin=other_mm,
                                 other_unrealized_pnl=other_upnl))  # fmt: skip
    shown = [mark, lp] if math.isfinite(lp) else [mark]  # the table's liquidation price is on the chart
    lo, hi = min(0.6 * entry, *(0.95 * x for x in shown)), max(1.4 * entry, *(1.05 * x for x in shown))
    b, e = (f"{m * 100:+.1f} %" for m in moves)
    if lost is None:
        s = 1 if btc.side == "long" else -1
        balance = wallet + other_upnl + s * btc.quantity * (mark - entry)
        now = f"now (BTC {b}): balance {usdt(balance)}"
    else:
        balance = 0.0
        now = f"now (BTC {b}): liquidated, {usdt(lost)} lost"
    if _width_pt(now) > 0.92 * FIGSIZE[0] * 72:  # a long amount: break after the colon, inside the figure
        now = now.replace(": ", ":\n", 1)
    title = f"BTC {btc.side} {btc.leverage:g}x {btc.margin_mode}, ETH {e}\n{now}"
    plot_margin_balance(btc.side, btc.quantity, entry, wallet, brackets=brackets,
                        other_maintenance_margin=other_mm, other_unrealized_pnl=other_upnl,
                        price_range=(lo, hi), title=title, ax=ax, legend=None, zoom=False)  # fmt: skip
    _prices_to_legend(ax)
    ax.axvline(mark, color=COLORS["grey"], linestyle=(0, (1, 2)), linewidth=1.0)
    if lost is None:
        ax.scatter([mark], [balance], color=COLORS["balance"], zorder=5, marker="o", s=36,
                   label=f"now {mark:,.0f}")  # fmt: skip
    else:
        ax.scatter([mark], [balance], color=COLORS["liquidation"], zorder=5, marker="X", s=60,
                   label=f"now {mark:,.0f}: liquidated")  # fmt: skip
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))  # prices of 6 digits need the room
    ax.set_title("")
    fig.suptitle(title, fontsize=TITLE_PT)  # centred on the figure: the whole width for its lines
    ax.set_ylabel(f"{btc.margin_mode} margin balance (USDT)")
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: _ORDER.index(labels[i].split(" ")[0]))
    fig.legend([handles[i] for i in order], [labels[i] for i in order], loc="outside lower center", ncols=2)
    return fig


def _prices_to_legend(ax: Axes) -> None:
    """The entry, liquidation and bankruptcy prices named in the legend, not beside their lines:
    at 150x the three lines stand a pixel apart, and on a phone there is no room for labels
    beside or across them, while the legend below the axes always has room."""
    for text in list(ax.texts):  # the price labels and their arrows
        text.remove()
    for line in ax.lines:
        x = line.get_xdata()
        kind = _KINDS.get(str(line.get_color()).lower())
        if kind and len(x) == 2 and x[0] == x[1] and line.get_label().startswith("_"):
            line.set_label(f"{kind} {float(x[0]):,.0f}")
