"""The course's plot style, set once, and the plots several lessons share.

Colours come from the Okabe–Ito palette (readable with the common forms of colour blindness),
and nothing is told by colour alone: the liquidation price is a dashed line with a text label,
the bankruptcy price a dotted one, the liquidated zone is hatched.

Every function returns a matplotlib ``Figure`` with an explicit size (:data:`FIGSIZE`), so the
stored notebooks show the same ``<Figure size 800x420 with 1 Axes>`` that nbval checks.

:func:`plot_margin_balance` keeps the labels of the entry, liquidation and bankruptcy prices
from overprinting (written across, with arrows, where the lines crowd together) and, where the
maintenance margin would hug zero on the full scale, adds a close-up inset of the band where the
balance meets it (a child of the axes: the figure still counts one ``Axes``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon, Rectangle
from matplotlib.transforms import Bbox, BboxTransform, BboxTransformTo

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
    "CLOSE_UP",
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
#: A pale backing for line labels, so grid lines and hatching do not run through their letters.
_LABEL_BACKING = {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.6}
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
        bbox=_LABEL_BACKING,  # readable over grid lines and hatching
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


def _decimals(values: Sequence[float]) -> int:
    """How many decimals tick labels at ``values`` need: the fewest that write every value
    exactly (to a millionth of the step between them), so ticks 0.0002 apart do not all read
    "0" and ticks 0.5 apart do not read "100", "100", "101".

    >>> _decimals([-500, 0, 2_500]), _decimals([0, 0.5, 1]), _decimals([0, 0.0002, 0.0004])
    (0, 1, 4)
    """
    locs = np.unique(np.asarray([v for v in values if math.isfinite(v)], dtype=float))
    if locs.size == 0:
        return 0
    if locs.size == 1:  # one value alone: two decimals at most, or three significant digits if tiny
        x = abs(float(locs[0]))
        return 0 if x >= 100 or x == int(x) else (2 if x >= 0.01 else min(12, 2 - math.floor(math.log10(x))))
    step = float(np.min(np.diff(locs)))
    most = max(0, 2 - math.floor(math.log10(step)))  # three significant digits of the step
    for digits in range(min(most, 12)):
        if np.all(np.abs(np.round(locs, digits) - locs) <= 1e-6 * step):
            return digits
    return min(most, 12)


def _amount(x: float, digits: int) -> str:
    text = f"{x:,.{digits}f}"
    if digits:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _usdt_tick(x: float, _pos: object = None) -> str:
    """One amount alone: thousands separators, decimals only where the value needs them."""
    return _amount(x, _decimals([x]))


class _UsdtFormatter(mpl.ticker.Formatter):
    """Tick labels as amounts: thousands separators and as many decimals as the step between the
    ticks needs (trailing zeros dropped)."""

    def __init__(self) -> None:
        self._digits: int | None = None

    def set_locs(self, locs: Sequence[float]) -> None:
        super().set_locs(locs)
        self._digits = _decimals(locs) if len(locs) else None

    def __call__(self, x: float, pos: object = None) -> str:
        return _amount(x, self._digits if self._digits is not None else _decimals([x]))

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        self.set_locs(values)
        return [self(v, i) for i, v in enumerate(values)]


def usdt_ticks(*axes: Axis) -> None:
    """Label the ticks of each of ``axes`` (``ax.xaxis``, ``ax.yaxis``) as amounts: thousands
    separators, decimals only where the step between the ticks needs them (so a tiny position's
    ticks do not all read "0").

    >>> fig, ax = new_figure()
    >>> usdt_ticks(ax.yaxis)
    >>> ax.yaxis.get_major_formatter().format_ticks([-500, 0, 2500, 0.5])
    ['-500', '0', '2,500', '0.5']
    >>> ax.yaxis.get_major_formatter().format_ticks([0, 0.0002, 0.0004])
    ['0', '0.0002', '0.0004']
    >>> plt.close(fig)
    """
    for axis in axes:
        axis.set_major_formatter(_UsdtFormatter())


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


# ------------------------------------------------------------------ labels of vertical lines
_LINE_STYLE = {"liquidation": "--", "bankruptcy": ":", "entry": "-."}
_LABEL_SIZE = 8.5  # points
_LABEL_THICK = 11.0  # how wide a label written upwards along its line is, in points
_LABEL_GAP = 4.0  # from the line to its label, in points


def _axes_width_pt(ax: Axes) -> float:
    """The axes' width in points, as laid out before the layout engine runs (a slight
    underestimate, so labels are judged crowded a little early rather than late)."""
    return ax.get_position().width * ax.figure.get_figwidth() * 72.0


def _text_width_pt(text: str) -> float:
    return 0.56 * _LABEL_SIZE * len(text)


def _label_price_lines(ax: Axes, lines: Sequence[tuple[float, str, str, str]], outward: str) -> None:
    """Label vertical lines ``(x, label, kind, preferred side)`` so that no two labels, and no
    label and another line, overprint.

    Each label is written upwards beside its line from near the top, on the side that keeps it
    clear (its preferred side when it can). Where lines stand too close for that (a high leverage
    puts entry, liquidation and bankruptcy prices within a few pixels), that group's labels are
    written across instead, one under the other on the side with room (``outward``, ``"left"``
    or ``"right"``, if it has room: the top of the axes is empty there), each with an arrow to
    its line. Every label is an annotation whose ``xy`` is its line's price.
    """
    lo, hi = sorted(ax.get_xlim())
    inside = [line for line in lines if lo <= line[0] <= hi]
    if not inside:
        return
    width = _axes_width_pt(ax)
    at = [(x - lo) / (hi - lo) * width for x, *_ in inside]
    # groups of lines too close for a label between two of them
    clusters: list[list[int]] = []
    for i in sorted(range(len(inside)), key=lambda i: at[i]):
        if clusters and at[i] - at[clusters[-1][-1]] < _LABEL_GAP + _LABEL_THICK + 1.5:
            clusters[-1].append(i)
        else:
            clusters.append([i])

    def span(i: int, side: str) -> tuple[float, float]:
        """The strip a label written upwards beside line ``i`` takes, in points from the left."""
        near, far = at[i] + _LABEL_GAP, at[i] + _LABEL_GAP + _LABEL_THICK
        return (near, far) if side == "right" else (2 * at[i] - far, 2 * at[i] - near)

    def clear(free: list[int], sides: Sequence[str]) -> bool:
        boxes = [span(i, side) for i, side in zip(free, sides, strict=True)]
        for k, (a, b) in enumerate(boxes):
            if a < 0 or b > width or any(a - 1.5 <= p <= b + 1.5 for j, p in enumerate(at) if j != free[k]):
                return False
            if any(a < d + 1 and c < b + 1 for m, (c, d) in enumerate(boxes) if m != k):
                return False
        return True

    stacked: list[list[int]] = []
    while True:
        free = [i for i in range(len(inside)) if not any(i in c for c in stacked)]
        choices = [s for s in itertools.product(("left", "right"), repeat=len(free)) if clear(free, s)]
        if choices or not free:
            break
        stacked.append(max((c for c in clusters if c not in stacked), key=len))
    if free:
        best = max(choices, key=lambda s: sum(a == inside[i][3] for a, i in zip(s, free, strict=True)))
        for i, side in zip(free, best, strict=True):
            x, label, kind, _ = inside[i]
            mark_price_line(ax, x, label, kind=kind, text_side=side)
    for group in stacked:
        _stack_labels(ax, [inside[i] for i in group], [at[i] for i in group], at, width, outward)


def _stack_labels(ax: Axes, group: Sequence[tuple[float, str, str, str]], where: Sequence[float],
                  every: Sequence[float], width: float, outward: str) -> None:  # fmt: skip
    """Labels written across, one under the other, beside a group of close lines (``where``, in
    points from the axes' left), on the ``outward`` side if the text fits before the next line
    or the edge, else on the side with more room; each with an arrow to its line."""
    first, last = min(where), max(where)
    room = {"left": first - max([0.0, *(p for p in every if p < first - 0.5)]),
            "right": min([width, *(p for p in every if p > last + 0.5)]) - last}  # fmt: skip
    longest = max(_text_width_pt(label) for _, label, *_ in group) + 16.0
    side = outward if room[outward] >= longest or room[outward] >= room[_other(outward)] else _other(outward)
    edge = first - 14.0 if side == "left" else last + 14.0
    order = sorted(range(len(group)), key=lambda i: where[i], reverse=side == "right")
    # each arrow runs level from its label's near side (the label's edge is at its anchor) to the
    # line, starting 2 points beyond the label's backing (its pad, in points): an annotation of
    # its own with nothing to clip or shrink, where an arrow of the label itself is clipped to
    # the backing and shrunk by searching along the arrow (~3 ms per label at every draw)
    away = 2.0 + _LABEL_BACKING["pad"]
    for row, i in enumerate(order):
        x, label, kind, _ = group[i]
        color = COLORS.get(kind, COLORS["grey"])
        at = {"xy": (x, 0.95 - 0.085 * row), "xycoords": ("data", "axes fraction"),
              "textcoords": "offset points", "annotation_clip": False}  # fmt: skip
        ax.axvline(x, color=color, linestyle=_LINE_STYLE.get(kind, "--"), linewidth=1.4)
        ax.annotate(label, xytext=(edge - where[i], 0), ha="right" if side == "left" else "left",
                    va="center", fontsize=_LABEL_SIZE, color=color, bbox=_LABEL_BACKING, **at)  # fmt: skip
        ax.annotate("", xytext=(edge - where[i] + (away if side == "left" else -away), 0), **at,
                    arrowprops={"arrowstyle": "-|>", "color": color, "linewidth": 0.8, "shrinkA": 0,
                                "shrinkB": 0, "mutation_scale": 7})  # fmt: skip


def _other(side: str) -> str:
    return "right" if side == "left" else "left"


# ------------------------------------------------------------------ the close-up inset
#: The close-up's artists carry this gid (so callers and tests can find them).
CLOSE_UP = "close-up"


class _InsetPlacer:
    """Where the close-up goes: decided when the figure is drawn (after a caller has set its
    limits, added notes or a legend), as the emptiest of a few spots of the parent axes.

    A spot is scored by what it would hide: stretches of the curves, markers, the liquidated
    zone, the parent's other texts (labels, notes), an explicitly placed legend, and vertical
    lines. It depends only on what is drawn, so every call in one drawing gives the same spot.
    """

    SIZE = (0.36, 0.40)  # of the parent axes
    PAD_PT = (34.0, 16.0, 4.0, 14.0)  # tick labels left and below, a little right, the title above

    def __init__(
        self,
        parent: Axes,
        curves: Sequence[tuple[np.ndarray, float]],
        zone: Callable[[np.ndarray, np.ndarray], np.ndarray],
        vlines: Sequence[float],
        prefer: Sequence[tuple[float, float]],
    ) -> None:
        self.parent, self.curves, self.zone, self.vlines = parent, list(curves), zone, list(vlines)
        self.prefer = list(prefer)

    def footprint(self, fx: float, fy: float) -> tuple[float, float, float, float]:
        """The inset at ``(fx, fy)`` with room for its tick labels and title, in the parent's
        axes fraction: ``(x, y, width, height)``."""
        box, scale = self.parent.bbox, self.parent.figure.dpi / 72.0
        left, below, right, above = (p * scale for p in self.PAD_PT)
        w, h = self.SIZE
        x0, y0 = fx - left / box.width, fy - below / box.height
        return x0, y0, fx + w + right / box.width - x0, fy + h + above / box.height - y0

    def spot(self, renderer: Any) -> tuple[float, float]:
        ax = self.parent
        box = ax.bbox
        scale = ax.figure.dpi / 72.0
        # each curve as the midpoints of its segments, weighed by their length in pixels times
        # the curve's weight (a marker is a curve of one point, weighed like 60 pixels of line)
        mids, lengths = [], []
        for curve, weight in self.curves:
            xy = ax.transData.transform(curve)
            if len(xy) == 1:
                mids.append(xy)
                lengths.append(np.array([60.0 * scale * weight]))
                continue
            mids.append((xy[1:] + xy[:-1]) / 2)
            lengths.append(weight * np.hypot(*(xy[1:] - xy[:-1]).T))
        shown, weights = np.vstack(mids), np.concatenate(lengths)
        others = [t for t in ax.texts if t.get_visible() and t.get_gid() != CLOSE_UP]
        texts = [t.get_window_extent(renderer) for t in others]
        legend = ax.get_legend()
        if legend is not None and legend._loc not in (0, "best"):
            texts.append(legend.get_window_extent(renderer))
        lines = ax.transData.transform(np.column_stack([self.vlines, np.zeros(len(self.vlines))]))[:, 0]
        # every spot at once (one row each): its footprint in pixels
        feet = np.array([self.footprint(fx, fy) for fx, fy in self.prefer])
        x0, y0 = box.x0 + feet[:, 0] * box.width, box.y0 + feet[:, 1] * box.height
        x1, y1 = x0 + feet[:, 2] * box.width, y0 + feet[:, 3] * box.height
        inside = (shown[:, 0] >= x0[:, None]) & (shown[:, 0] <= x1[:, None])
        inside &= (shown[:, 1] >= y0[:, None]) & (shown[:, 1] <= y1[:, None])
        hidden = np.where(inside, weights, 0.0).sum(axis=1)  # pixels of curve hidden
        covered = np.zeros(len(feet))  # texts hidden, each counted by the share of it that is hidden
        for t in texts:
            overlap_x = np.maximum(0.0, np.minimum(x1, t.x1) - np.maximum(x0, t.x0))
            overlap_y = np.maximum(0.0, np.minimum(y1, t.y1) - np.maximum(y0, t.y0))
            covered += overlap_x * overlap_y / max(t.width * t.height, 1.0)
        # the share of a 12 × 8 grid over each footprint that falls in the liquidated zone
        gx = np.broadcast_to(np.linspace(x0, x1, 12, axis=1)[:, None, :], (len(feet), 8, 12))
        gy = np.broadcast_to(np.linspace(y0, y1, 8, axis=1)[:, :, None], (len(feet), 8, 12))
        data = ax.transData.inverted().transform(np.column_stack([gx.ravel(), gy.ravel()]))
        zone = self.zone(data[:, 0], data[:, 1]).reshape(len(feet), -1).mean(axis=1)
        crossed = ((lines > x0[:, None]) & (lines < x1[:, None])).sum(axis=1)
        score = hidden / scale + 250.0 * covered + 300.0 * zone + 20.0 * crossed + 5.0 * np.arange(len(feet))
        return self.prefer[int(np.argmin(score))]


class _Backdrop(Rectangle):
    """The close-up's white card, a rectangle of the parent axes drawn before the close-up's
    other artists: when drawn, it asks the placer for the spot, moves the close-up's box there
    (every close-up artist is drawn through that box) and covers the footprint. A legend placed
    ``"best"`` sees it as a rectangle and the close-up's lines as lines, and keeps off both."""

    def __init__(self, placer: _InsetPlacer, box: Bbox, **kwargs: Any) -> None:
        super().__init__((0.0, 0.0), 0.0, 0.0, **kwargs)
        self.placer, self.box = placer, box
        self.set_bounds(*placer.footprint(box.x0, box.y0))

    def draw(self, renderer: Any) -> None:
        fx, fy = self.placer.spot(renderer)
        self.box.bounds = (fx, fy, *self.placer.SIZE)
        self.set_bounds(*self.placer.footprint(fx, fy))
        super().draw(renderer)


def _close_up(
    ax: Axes,
    s: int,
    lp: float,
    bp: float,
    balance_of: Callable[[np.ndarray], np.ndarray],
    mm_of: Callable[[np.ndarray], np.ndarray],
    base: float,
    curves: Sequence[tuple[np.ndarray, float]],
    vlines: Sequence[float],
) -> None:
    """A close-up of the band where the margin balance meets the maintenance margin: both lines,
    the liquidation (dashed) and bankruptcy (dotted) prices labelled below it, the gap between
    them and the margin balance left at liquidation (the maintenance margin), with a box on the
    parent round the band magnified. ``base`` is where the balance stands at the bankruptcy price
    (0 for an isolated position; the other positions' maintenance margin in cross mode).

    Drawn as plain artists of ``ax`` through a box that moves to the emptiest spot when the figure
    is drawn (:class:`_InsetPlacer`): no second ``Axes``, so it costs little to redraw."""
    gap = abs(lp - bp) if math.isfinite(bp) else 0.02 * lp
    centre = (lp + bp) / 2 if math.isfinite(bp) else lp
    xs = np.linspace(max(centre - 1.6 * gap, 1e-9 * lp), centre + 1.6 * gap, 200)
    balance, mm = balance_of(xs), mm_of(xs)
    low, high = float(min(balance.min(), mm.min())), float(max(balance.max(), mm.max()))
    low, high = low - 0.08 * (high - low), high + 0.08 * (high - low)
    at_lp = float(mm_of(np.array([lp]))[0])  # the balance at liquidation: the maintenance margin
    ax.add_patch(Rectangle((xs[0], low), xs[-1] - xs[0], high - low, fill=False, edgecolor=COLORS["grey"],
                           linewidth=0.9, zorder=4, gid=CLOSE_UP))  # fmt: skip

    def in_zone(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        b, m = balance_of(x), mm_of(x)
        return (y >= np.minimum(b, m)) & (y <= np.maximum(b, m)) & (b <= m)

    # a long's empty spots: low on the right, high on the left (mirrored for a short)
    right, left, middle, low_row, high_row = 0.62, 0.08, 0.35, 0.07, 0.5
    prefer = [(right, low_row), (left, high_row), (right, high_row), (left, low_row)]
    if s == -1:
        prefer = [(left if fx == right else right, fy) for fx, fy in prefer]
    prefer += [(middle, low_row), (middle, high_row)]
    box = Bbox.from_bounds(*prefer[0], *_InsetPlacer.SIZE)  # moved by the backdrop when drawn
    placer = _InsetPlacer(ax, curves, in_zone, vlines, prefer)
    ax.add_patch(_Backdrop(placer, box, transform=ax.transAxes, facecolor="white", edgecolor="none",
                           zorder=4.9, gid=CLOSE_UP))  # fmt: skip
    data = BboxTransform(Bbox.from_extents(xs[0], low, xs[-1], high), box) + ax.transAxes
    frame = BboxTransformTo(box) + ax.transAxes
    common = {"zorder": 5.1, "gid": CLOSE_UP}
    ax.add_artist(Rectangle((0, 0), 1, 1, transform=frame, fill=False, edgecolor=COLORS["grey"],
                            linewidth=0.8, **common))  # fmt: skip
    zone = xs <= lp if s == 1 else xs >= lp  # the liquidated zone, hatched
    outline = np.concatenate([np.column_stack([xs[zone], balance[zone]]),
                              np.column_stack([xs[zone], mm[zone]])[::-1]])  # fmt: skip
    ax.add_artist(Polygon(outline, transform=data, facecolor="none", edgecolor=COLORS["maintenance"],
                          hatch="///", linewidth=0, **common))  # fmt: skip
    ax.add_artist(Line2D(xs, balance, transform=data, color=COLORS["balance"], linewidth=1.8, **common))
    ax.add_artist(Line2D(xs, mm, transform=data, color=COLORS["maintenance"], linewidth=1.8,
                         linestyle=(0, (6, 2)), **common))  # fmt: skip
    text = {"xycoords": data, "textcoords": "offset points", "fontsize": 7.5, "annotation_clip": False}
    text |= common
    marks = [(lp, COLORS["liquidation"], "--")]
    if math.isfinite(bp):
        marks.append((bp, COLORS["bankruptcy"], ":"))
        y = at_lp + 0.45 * (high - at_lp)  # above the maintenance line, between the two prices: empty
        ax.annotate("", xy=(lp, y), xytext=(bp, y), xycoords=data, textcoords=data, annotation_clip=False,
                    arrowprops={"arrowstyle": "<->", "color": COLORS["grey"], "linewidth": 0.9, "shrinkA": 0,
                                "shrinkB": 0}, **common)  # fmt: skip
        ax.annotate(f"gap {_usdt_tick(gap)} USDT", xy=((lp + bp) / 2, y), xytext=(0, 3), ha="center",
                    va="bottom", **text)  # fmt: skip
    for x, color, style in marks:
        ax.add_artist(Line2D([x, x], [low, high], transform=data, color=color, linestyle=style,
                             linewidth=1.3, **common))  # fmt: skip
        ax.annotate(fmt_price(x, 0 if gap >= 20 else 2), xy=(x, low), xytext=(0, -2), ha="center", va="top",
                    **text)  # fmt: skip
    ax.annotate(f"balance = MM\n= {_usdt_tick(at_lp)}", xy=(lp, at_lp), xytext=(5 * s, -6), va="top",
                ha="left" if s == 1 else "right", color=COLORS["maintenance"], **text)  # fmt: skip
    for level in sorted({base, at_lp}):
        ax.annotate(_usdt_tick(level), xy=(xs[0], level), xytext=(-3, 0), ha="right", va="center", **text)
    ax.annotate("close-up: where the lines meet", xy=(centre, high), xytext=(0, 3), ha="center", va="bottom",
                **{**text, "fontsize": 8})  # fmt: skip


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
    zoom: bool | str = "auto",
    marks: Sequence[tuple[float, str, str]] = (),
) -> Figure:
    """Margin balance and maintenance margin against the mark price, the liquidation price where
    they meet (dashed, labelled), the bankruptcy price (dotted) and the liquidated zone (hatched).

    ``wallet_balance`` backs the position (its isolated wallet, or the cross wallet with the
    ``other_*`` terms as in :func:`~margin_lib.liquidation.liquidation_price`). Give ``brackets``
    or ``mmr``. ``price_range`` defaults to ±25 % around the entry. ``legend`` places the axes'
    legend (a matplotlib ``loc``); ``None`` leaves it out, for a caller that draws one legend for
    the whole figure. With the close-up on a figure of its own, ``"best"`` puts the legend below
    the axes (:func:`legend_below`), where it covers nothing.

    ``mark`` adds the current mark: a dot on the balance line ("now"), or, when the mark lies in
    the liquidated zone, a cross ("liquidated: closed at the mark") rather than a position
    still standing at a balance it cannot have. ``marks`` adds more labelled vertical lines,
    ``(price, label, kind)`` with ``kind`` a :data:`COLORS` role; all labels are kept from
    overprinting one another (:func:`_label_price_lines`).

    ``zoom`` adds a close-up of the band where the balance meets the maintenance margin, with the
    gap between the liquidation and bankruptcy prices: ``"auto"`` (the default) when that band
    would be too thin to see (maintenance margin under 6 % of the y range, or the gap under 4 %
    of the price range) and the axes are wide enough (at least 6 inches before layout, so not in
    a two-panel figure); ``True`` whenever the liquidation price is on the chart; ``False``
    never. It is drawn by the axes' own artists (gid :data:`CLOSE_UP`), so the figure still
    counts one ``Axes``, and placed when the figure is drawn, in the emptiest spot.
    """
    s = 1 if str(side).lower() == "long" or side == 1 else -1
    wb = wallet_balance - other_maintenance_margin + other_unrealized_pnl
    if price_range is None:
        price_range = (entry_price * 0.75, entry_price * 1.25)
    prices = np.linspace(price_range[0], price_range[1], 400)

    def balance_of(p: np.ndarray) -> np.ndarray:
        return wb + other_maintenance_margin + s * quantity * (np.asarray(p, dtype=float) - entry_price)

    def mm_of(p: np.ndarray) -> np.ndarray:
        n = quantity * np.asarray(p, dtype=float)
        if brackets is not None:
            return brackets.maintenance_margin_curve(n) + other_maintenance_margin
        return n * mmr + other_maintenance_margin

    balance, mm = balance_of(prices), mm_of(prices)
    rule = {"brackets": brackets} if brackets is not None else {"mmr": mmr}
    lp = float(
        liquidation_price(
            side,
            quantity,
            entry_price,
            wallet_balance,
            other_maintenance_margin=other_maintenance_margin,
            other_unrealized_pnl=other_unrealized_pnl,
            **rule,
        )
    )
    bp = entry_price - s * wb / quantity
    bp = bp if bp > 0 else float("nan")
    own = ax is None
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
    # what the close-up should not hide, with weights: the balance most, the flat maintenance line less
    points = [(np.column_stack([prices, balance]), 1.5), (np.column_stack([prices, mm]), 0.6)]
    if mark is not None:
        at_mark = float(balance_of(np.array([mark]))[0])
        if at_mark <= float(mm_of(np.array([mark]))[0]):
            ax.scatter([mark], [at_mark], color=COLORS["liquidation"], zorder=5, marker="X", s=60,
                       label="liquidated: closed at the mark")  # fmt: skip
        else:
            ax.scatter([mark], [at_mark], color=COLORS["balance"], zorder=5, marker="o", label="now")
        points.append((np.array([[mark, at_mark]]), 1.5))
    ax.set_xlabel(f"{symbol} mark price (USDT)")
    ax.set_ylabel("USDT")
    ax.set_xlim(*price_range)
    ax.set_title(
        title or f"{'Long' if s == 1 else 'Short'}: liquidation where the balance meets the maintenance line"
    )
    # labels point away from each other: the bankruptcy price lies beyond the liquidation price
    outward, inward = ("left", "right") if s == 1 else ("right", "left")
    lines = [(entry_price, f"entry {fmt_price(entry_price, 0)}", "entry", "right")]
    if math.isfinite(lp):
        lines.append((lp, f"liquidation {fmt_price(lp, 0)}", "liquidation", inward))
    if math.isfinite(bp) and price_range[0] <= bp <= price_range[1]:
        lines.append((bp, f"bankruptcy {fmt_price(bp, 0)}", "bankruptcy", outward))
    lines += [(float(x), label, kind, inward) for x, label, kind in marks if math.isfinite(float(x))]
    _label_price_lines(ax, lines, outward)

    on_chart = math.isfinite(lp) and price_range[0] < lp < price_range[1]
    if zoom == "auto" and on_chart:
        ylo = min(float(balance.min()), float(mm.min()))
        yhi = max(float(balance.max()), float(mm.max()))
        mm_lp = float(mm_of(np.array([lp]))[0]) - other_maintenance_margin
        thin = mm_lp < 0.06 * (yhi - ylo) or (math.isfinite(bp) and abs(lp - bp) < 0.04 * np.ptp(price_range))
        zoom = bool(thin and _axes_width_pt(ax) >= 6 * 72)
    inset = zoom is True and on_chart
    if inset:  # the points where the vertical lines meet the curves matter most
        for x, y in ((lp, mm_of(np.array([lp]))[0]), (entry_price, balance_of(np.array([entry_price]))[0])):
            points.append((np.array([[x, float(y)]]), 2.0))
        _close_up(ax, s, lp, bp, balance_of, mm_of, other_maintenance_margin, points,
                  [x for x, *_ in lines])  # fmt: skip
    if legend == "best" and inset and own:  # the close-up leaves "best" little room: below the axes
        legend_below(fig, ax)
    elif legend is not None:
        ax.legend(loc=legend)
    _axis_usdt(ax)
    return fig
