"""Wiring pure lesson functions to ipywidgets controls (no maths here).

A lesson's widget is built from a dict of controls and a *view*: a pure function of the
controls' values that returns text (and, optionally, a *plot* function that returns a
``Figure``). :func:`build_widget` wires them with ``interactive_output`` into an output area of
fixed height, so the page does not jump. Each widget keeps a
:class:`~margin_lib.rendering.FigureRenderer`, which redraws only the parts of the figure that
moved, so a change shows in a few tens of milliseconds; to help it, autoscaled axes are rounded
outward (:func:`~margin_lib.plots.steady_axes`), so a small change keeps the same frame.

Bad input never shows a traceback: a :class:`~margin_lib.errors.MarginError` raised by the
view or the plot becomes a one-line message in the output area, and the previous controls
stay usable.

>>> from margin_lib import initial_margin
>>> safe_text(lambda leverage: f"margin {initial_margin(1_000, leverage):g}", leverage=10)
'margin 100'
>>> safe_text(lambda leverage: f"margin {initial_margin(1_000, leverage):g}", leverage=0)
'⚠ leverage must be >= 1; got 0.0'
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as ipw
import matplotlib.pyplot as plt
from IPython.display import display
from matplotlib.figure import Figure

from .errors import MarginError
from .plots import steady_axes
from .rendering import FigureRenderer

__all__ = [
    "build_widget",
    "figure_bundle",
    "error_message",
    "safe_text",
    "leverage_slider",
    "money_box",
    "move_slider",
    "choice_buttons",
]

_STYLE = {"description_width": "170px"}
_LAYOUT = ipw.Layout(width="520px")
#: Toggle buttons' descriptions aligned like the other controls' (right, next to the control).
_CSS = "<style>.widget-toggle-buttons > .widget-label { text-align: right; margin-right: 8px; }</style>"


def error_message(exc: Exception) -> str:
    """The one-line message a widget shows for refused input."""
    return f"⚠ {exc}"


def safe_text(view: Callable[..., str], **values: Any) -> str:
    """Call ``view(**values)``; a refused input becomes :func:`error_message` instead of raising."""
    try:
        return view(**values)
    except MarginError as exc:
        return error_message(exc)


def build_widget(
    controls: Mapping[str, ipw.Widget],
    view: Callable[..., str],
    plot: Callable[..., Any] | None = None,
    *,
    height: str = "520px",
    title: str | None = None,
    columns: Sequence[Sequence[str]] | None = None,
) -> ipw.VBox:
    """Controls on top, an output area below showing ``view(**values)`` and ``plot(**values)``.

    ``view`` and ``plot`` get the controls' current values as keyword arguments (the dict's
    keys). A :class:`~margin_lib.errors.MarginError` from either is shown as a short message.
    ``columns`` (lists of the controls' keys, each key once) sets the controls side by side in
    columns that wrap on a narrow screen; by default they stack. The returned box keeps its
    :class:`~margin_lib.rendering.FigureRenderer` as ``figure_renderer`` (its ``hits`` and
    ``misses`` count fast and full redraws) and the controls as ``controls`` (the dict given).
    """
    arranged = list(controls.values())
    if columns is not None:
        placed = [key for column in columns for key in column]
        if sorted(placed) != sorted(controls):
            raise ValueError(f"columns must hold each of the controls {sorted(controls)} once; got {placed}")
        gap = ipw.Layout(margin="0 24px 0 0")
        row = [ipw.VBox([controls[key] for key in column], layout=gap) for column in columns]
        arranged = [ipw.HBox(row, layout=ipw.Layout(flex_flow="row wrap"))]

    renderer = FigureRenderer()

    def update(**values: Any) -> None:
        text = safe_text(view, **values)
        print(text)
        if plot is None or text.startswith("⚠"):
            return
        try:
            fig = plot(**values)
        except MarginError as exc:
            print(error_message(exc))
            return
        try:
            steady_axes(fig)  # autoscaled limits rounded, so small changes keep the frame
            display(figure_bundle(fig, renderer), raw=True)
        finally:
            plt.close(fig)

    out = ipw.interactive_output(update, dict(controls))
    out.layout = ipw.Layout(height=height, overflow="auto")
    header = [ipw.HTML(f"<b>{title}</b>")] if title else []
    # the style sheet last before the output, so the box's text form starts with the controls
    box = ipw.VBox([*header, *arranged, ipw.HTML(_CSS), out])
    box.figure_renderer = renderer
    box.controls = dict(controls)
    return box


def figure_bundle(fig: Figure, renderer: FigureRenderer) -> dict[str, str]:
    """What Jupyter shows for ``fig``: the PNG drawn by ``renderer`` and the figure's usual
    text form (``<Figure size 800x420 with 1 Axes>``)."""
    png = renderer.render(fig)
    return {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": repr(fig)}


def leverage_slider(value: float = 10, *, max: float = 150, description: str = "leverage (x)") -> ipw.Widget:
    """An integer leverage slider from 1x to ``max`` with an editable readout."""
    return ipw.IntSlider(
        value=int(value),
        min=1,
        max=int(max),
        step=1,
        description=description,
        continuous_update=False,
        style=_STYLE,
        layout=_LAYOUT,
    )


def money_box(value: float, description: str) -> ipw.Widget:
    """A free-typed amount in USDT (a typed negative or zero is refused by the view, with a
    message, so learners see the rule)."""
    return ipw.FloatText(value=float(value), description=description, style=_STYLE, layout=_LAYOUT)


def move_slider(
    value: float = 0.0,
    *,
    low: float = -30.0,
    high: float = 30.0,
    step: float = 0.5,
    description: str = "price move (%)",
) -> ipw.Widget:
    """A price move in per cent (``-8`` is an 8 % fall)."""
    return ipw.FloatSlider(
        value=value,
        min=low,
        max=high,
        step=step,
        description=description,
        continuous_update=False,
        readout_format=".1f",
        style=_STYLE,
        layout=_LAYOUT,
    )


def choice_buttons(options: list[str], value: str, description: str) -> ipw.Widget:
    """A row of toggle buttons (side, margin mode, ...)."""
    return ipw.ToggleButtons(
        options=options,
        value=value,
        description=description,
        style={**_STYLE, "button_width": "110px"},
        # a flex row puts the description beside the buttons, in line with the other controls
        layout=ipw.Layout(width=_LAYOUT.width, height="32px", display="flex", align_items="center"),
    )
