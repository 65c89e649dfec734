"""The course's plot style, set once, and the plots several lessons share.

Colours come from the Okabe–Ito palette (readable with the common forms of colour blindness),
and nothing is told by colour alone: the liquidation price is a dashed line with a text label,
the bankruptcy price a dotted one, the liquidated zone is hatched.

Every function returns a matplotlib ``Figure`` with an explicit size (:data:`FIGSIZE`), so the
stored notebooks show the same ``<Figure size 800x420 with 1 Axes>`` that nbval checks.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure

from .brackets import BracketTable
from .format import price as fmt_price
from .liquidation import liquidation_price

__all__ = [
    "COLORS",
    "FIGSIZE",
    "use_course_style",
    "new_figure",
    "mark_price_line",
    "plot_margin_balance",
    "stable_limits",
    "steady_axes",
    "usdt_ticks",
    "legend_below",
]

#: Okabe–Ito colours by role.
COLORS = {
    "balance": "#0072B2",  # blue
    "maintenance": "#D55E00",  # vermillion
    "liquidation": "#000000",  # black, dashed
    "bankruptcy": "#CC79A7",  # reddish purple, dotted
    "entry": "#009E73",  # bluish green, dash-dot
    "other": "#E69F00",  # orange
    "neutral": "#56B4E9",  # sky blue
    "grey": "#999999",
}
_CYCLE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
#: Default figure size in inches (800 × 420 pixels at 100 dpi).
FIGSIZE = (8.0, 4.2)

_STYLE = {
    "axes.prop_cycle": cycler(color=_CYCLE),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "figure.dpi": 100,
    "figure.figsize": FIGSIZE,
    "savefig.dpi": 100,
    "axes.formatter.use_locale": False,
}


def use_course_style() -> None:
    """Apply the course's matplotlib style (call once, in a lesson's setup cell)."""
    mpl.rcParams.update(_STYLE)


def new_figure(ncols: int = 1, *, figsize: tuple[float, float] = FIGSIZE) -> tuple[Figure, Any]:
    """A figure with ``ncols`` axes side by side, in the course style."""
    use_course_style()
    fig, axes = plt.subplots(1, ncols, figsize=figsize, layout="constrained")
    return fig, axes


def mark_price_line(
    ax: Axes,
    x: float,
    label: str,
    *,
    kind: str = "liquidation",
    y_text: float = 0.95,
    text_side: str = "right",
) -> None:
    """A vertical line at price ``x`` with a text label; ``kind`` picks colour and line style
    (``liquidation`` dashed, ``bankruptcy`` dotted, ``entry`` dash-dot), ``text_side`` which
    side of the line the label sits. Does nothing for nan."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return
    style = {"liquidation": "--", "bankruptcy": ":", "entry": "-."}.get(kind, "--")
    color = COLORS.get(kind, COLORS["grey"])
    ax.axvline(x, color=color, linestyle=style, linewidth=1.4)
    ax.annotate(
        label,
        xy=(x, y_text),
        xycoords=("data", "axes fraction"),
        xytext=(4 if text_side == "right" else -4, 0),
        textcoords="offset points",
        rotation=90,
        va="top",
        ha="left" if text_side == "right" else "right",
        fontsize=8.5,
        color=color,
        annotation_clip=True,  # no label outside the axes when the line is off-range
    )


def stable_limits(low: float, high: float, *, parts: int = 5) -> tuple[float, float]:
    """Axis limits covering ``[low, high]``, rounded outward to a round step (1, 2, 2.5 or 5
    times a power of ten, about a ``parts``-th of the span).

    Small changes of the data keep the same limits, so a widget's frame stays put and
    :class:`~margin_lib.rendering.FigureRenderer` can redraw only what moved; the axis jumps
    only when the data crosses a step.

    >>> stable_limits(912.0, 1_087.0)
    (900.0, 1100.0)
    >>> stable_limits(905.0, 1_093.0)
    (900.0, 1100.0)
    >>> stable_limits(-3.2, 41.0)
    (-10.0, 50.0)
    """
    if not (math.isfinite(low) and math.isfinite(high)) or high < low:
        raise ValueError(f"stable_limits needs finite low <= high; got low={low}, high={high}")
    span = high - low or abs(high) or 1.0
    raw = span / parts
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)
    lo, hi = math.floor(low / step) * step, math.ceil(high / step) * step
    if hi == lo:
        lo, hi = lo - step, hi + step
    return float(lo), float(hi)


def steady_axes(fig: Figure, *, parts: int = 5) -> Figure:
    """Round every *autoscaled* axis of ``fig`` outward — linear ones with :func:`stable_limits`,
    logarithmic ones to whole decades — so a small change of the data keeps the same frame
    (limits set explicitly are left alone).

    >>> fig, ax = new_figure()
    >>> _ = ax.plot([0, 1], [912, 1_087])
    >>> _ = ax.set_xlim(0, 1)
    >>> [float(v) for v in steady_axes(fig).axes[0].get_ylim() + ax.get_xlim()]
    [900.0, 1100.0, 0.0, 1.0]
    >>> plt.close(fig)
    """
    for ax in fig.axes:
        for auto, scale, get, put in (
            (ax.get_autoscalex_on, ax.get_xscale, ax.get_xlim, ax.set_xlim),
            (ax.get_autoscaley_on, ax.get_yscale, ax.get_ylim, ax.set_ylim),
        ):
            if not auto():
                continue
            low, high = sorted(get())
            if scale() == "linear":
                put(*stable_limits(low, high, parts=parts))
            elif scale() == "log" and low > 0:  # whole decades
                put(10.0 ** math.floor(math.log10(low)), 10.0 ** math.ceil(math.log10(high)))
    return fig


def _usdt_tick(x: float, _pos: object = None) -> str:
    """Tick labels with thousands separators, and decimals only where the values need them."""
    if abs(x) >= 100 or x == int(x):
        return f"{x:,.0f}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def usdt_ticks(*axes: Axis) -> None:
    """Label the ticks of each of ``axes`` (``ax.xaxis``, ``ax.yaxis``) as amounts: thousands
    separators, decimals only where needed.

    >>> fig, ax = new_figure()
    >>> usdt_ticks(ax.yaxis)
    >>> ax.yaxis.get_major_formatter().format_ticks([-500, 0, 2500, 0.5])
    ['-500', '0', '2,500', '0.5']
    >>> plt.close(fig)
    """
    for axis in axes:
        axis.set_major_formatter(mpl.ticker.FuncFormatter(_usdt_tick))


def legend_below(fig: Figure, *axes: Axes, ncols: int | None = None) -> None:
    """One legend for the figure, below its axes (off the lines): the entries of ``axes`` in
    order, each label once; ``ncols`` defaults to one row.

    >>> fig, (a, b) = new_figure(2)
    >>> _ = a.plot([0, 1], label="balance"), b.plot([0, 1], label="balance"), b.plot([1, 0], label="MM")
    >>> legend_below(fig, a, b)
    >>> [t.get_text() for t in fig.legends[0].get_texts()]
    ['balance', 'MM']
    >>> plt.close(fig)
    """
    entries: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    fig.legend(entries.values(), entries.keys(), loc="outside lower center", ncols=ncols or len(entries))


def _axis_usdt(ax: Axes) -> None:
    usdt_ticks(ax.xaxis, ax.yaxis)


def plot_margin_balance(
    side: str,
    quantity: float,
    entry_price: float,
    wallet_balance: float,
    *,
    brackets: BracketTable | None = None,
    mmr: float | None = None,
    other_maintenance_margin: float = 0.0,
    other_unrealized_pnl: float = 0.0,
    price_range: tuple[float, float] | None = None,
    mark: float | None = None,
    symbol: str = "BTC",
    title: str | None = None,
    ax: Axes | None = None,
    legend: str | None = "best",
) -> Figure:
    """Margin balance and maintenance margin against the mark price, the liquidation price where
    they meet (dashed, labelled), the bankruptcy price (dotted) and the liquidated zone (hatched).

    ``wallet_balance`` backs the position (its isolated wallet, or the cross wallet with the
    ``other_*`` terms as in :func:`~margin_lib.liquidation.liquidation_price`). Give ``brackets``
    or ``mmr``. ``price_range`` defaults to ±25 % around the entry. ``legend`` places the axes'
    legend (a matplotlib ``loc``); ``None`` leaves it out, for a caller that draws one legend for
    the whole figure.
    """
    s = 1 if str(side).lower() == "long" or side == 1 else -1
    wb = wallet_balance - other_maintenance_margin + other_unrealized_pnl
    if price_range is None:
        price_range = (entry_price * 0.75, entry_price * 1.25)
    prices = np.linspace(price_range[0], price_range[1], 400)
    balance = wb + other_maintenance_margin + s * quantity * (prices - entry_price)
    if brackets is not None:
        mm = brackets.maintenance_margin_curve(quantity * prices) + other_maintenance_margin
        lp = liquidation_price(
            side,
            quantity,
            entry_price,
            wallet_balance,
            brackets=brackets,
            other_maintenance_margin=other_maintenance_margin,
            other_unrealized_pnl=other_unrealized_pnl,
        )
    else:
        mm = quantity * prices * mmr + other_maintenance_margin
        lp = liquidation_price(
            side,
            quantity,
            entry_price,
            wallet_balance,
            mmr=mmr,
            other_maintenance_margin=other_maintenance_margin,
            other_unrealized_pnl=other_unrealized_pnl,
        )
    bp = entry_price - s * wb / quantity
    bp = bp if bp > 0 else float("nan")
    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    ax.plot(prices, balance, color=COLORS["balance"], linewidth=2, label="margin balance")
    ax.plot(
        prices,
        mm,
        color=COLORS["maintenance"],
        linewidth=2,
        linestyle=(0, (6, 2)),
        label="maintenance margin",
    )
    ax.fill_between(
        prices,
        balance,
        mm,
        where=balance <= mm,
        facecolor="none",
        edgecolor=COLORS["maintenance"],
        hatch="///",
        linewidth=0,
        label="liquidated zone" if np.any(balance <= mm) else None,
    )
    mark_price_line(ax, entry_price, f"entry {fmt_price(entry_price, 0)}", kind="entry")
    # labels point away from each other: the bankruptcy price lies beyond the liquidation price
    outward, inward = ("left", "right") if s == 1 else ("right", "left")
    mark_price_line(
        ax, float(lp), f"liquidation {fmt_price(float(lp), 0)}", kind="liquidation", text_side=inward
    )
    if price_range[0] <= bp <= price_range[1]:
        mark_price_line(ax, bp, f"bankruptcy {fmt_price(bp, 0)}", kind="bankruptcy", text_side=outward)
    if mark is not None:
        ax.scatter(
            [mark],
            [wb + other_maintenance_margin + s * quantity * (mark - entry_price)],
            color=COLORS["balance"],
            zorder=5,
            marker="o",
            label="now",
        )
    ax.set_xlabel(f"{symbol} mark price (USDT)")
    ax.set_ylabel("USDT")
    ax.set_xlim(*price_range)
    ax.set_title(
        title or f"{'Long' if s == 1 else 'Short'}: liquidation where the balance meets the maintenance line"
    )
    if legend is not None:
        ax.legend(loc=legend)
    _axis_usdt(ax)
    return fig
