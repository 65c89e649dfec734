"""The calculator's page (no maths here): its controls, its layout on a wide screen and on a
phone, the table as HTML, and the wiring that redraws the table and the plot after a change.

* Controls take the full width of their column up to 440 px; the two columns (BTC, ETH) stand
  side by side where there is room and one above the other on a phone.
* The table is an HTML table whose cells never break inside a number; below 640 px of width it
  turns into one card per row, each figure on its own line beside its column's name.
* Amounts are typed as text (``1,000.50``), so a typo such as ``abc`` reaches the page's checks
  and is refused by name rather than turned into 0 by the browser.
* Refused input replaces the table with one sentence ("⚠ ...") and hides the plot; warnings are
  caught, so none reaches the page.

The table and the plot are two :class:`ipywidgets.HTML` whose values are replaced at each change
(no output area to clear); the plot is an ``<img>`` with its PNG inline (:func:`plot_html`).
"""

from __future__ import annotations

import base64
import html as _html
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as ipw
import matplotlib.pyplot as plt
import numpy as np
from ipywidgets.widgets.widget_string import HTMLStyle, TextStyle

from .errors import MarginError
from .plots import steady_axes
from .rendering import FigureRenderer
from .widgets import error_message

__all__ = ["CSS", "build_widget", "controls_for", "plot_html", "table_html"]

#: Below this width (CSS pixels) the table turns into cards.
NARROW = 640
#: The plot's width in pixels (app_plot's figure): at most this wide on the page.
PLOT_WIDTH = 660
CSS = f"""<style>
.calc-page {{ max-width: 1000px; }}
.calc-columns {{ column-gap: 32px; row-gap: 4px; }}
.calc-column {{ flex: 1 1 300px; max-width: 440px; min-width: 0; }}
.calc-page .widget-toggle-buttons > .widget-label {{ text-align: right; margin-right: 8px; }}
.calc-page .widget-toggle-buttons .widget-toggle-button {{ flex: 1 1 0; min-width: 0; }}
.calc-summary {{ font-size: 14px; line-height: 1.45; }}
.calc-table {{ width: auto; border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 6px 0; }}
.calc-table th, .calc-table td {{ padding: 3px 10px; white-space: nowrap; border-bottom: 1px solid #ddd; }}
.calc-table td, .calc-table thead th {{ text-align: right; }}
.calc-table th[scope=row] {{ text-align: left; }}
.calc-table thead th {{ font-weight: 600; vertical-align: bottom; }}
.calc-error {{ font-size: 15px; color: #a00; max-width: 40em; }}
.calc-plot {{ display: block; width: 100%; max-width: {PLOT_WIDTH}px; height: auto; margin-top: 8px; }}
@media (max-width: {NARROW}px) {{
  .calc-table, .calc-table tbody, .calc-table tr {{ display: block; width: 100%; }}
  .calc-table thead {{ display: none; }}
  .calc-table tr {{ margin: 0 0 10px; border: 1px solid #ccc; border-radius: 4px; }}
  .calc-table th[scope=row] {{ display: block; background: #f2f2f2; }}
  .calc-table td {{ display: flex; justify-content: space-between; gap: 12px; }}
  .calc-table td::before {{ content: attr(data-label); text-align: left; white-space: normal; color: #555; }}
}}
</style>"""
LABEL_WIDTH = "128px"


def controls_for(defaults: Mapping[str, Any], labels: Mapping[str, str], *, fees: list[str], modes: list[str],
                 sides: list[str]) -> dict[str, ipw.Widget]:  # fmt: skip
    """The page's controls, keyed like ``defaults``, described by ``labels``.

    Controls of a kind share one layout and one style (a page with half as many widget models
    to send and build shows sooner); each control stretches to its column, less its margins.
    """
    wide = ipw.Layout(width="auto", max_width="440px")
    row = ipw.Layout(width="auto", max_width="440px", height="32px", display="flex", align_items="center")
    text_style = TextStyle(description_width=LABEL_WIDTH)
    slider_style = ipw.SliderStyle(description_width=LABEL_WIDTH)
    buttons_style = ipw.ToggleButtonsStyle(description_width=LABEL_WIDTH, button_width="auto")

    def text(key: str) -> ipw.Widget:
        return ipw.Text(value=f"{defaults[key]:,.0f}", description=labels[key], continuous_update=False,
                        style=text_style, layout=wide)  # fmt: skip

    def leverage(key: str) -> ipw.Widget:
        return ipw.IntSlider(value=int(defaults[key]), min=1, max=150, step=1, description=labels[key],
                             continuous_update=False, style=slider_style, layout=wide)  # fmt: skip

    def move(key: str) -> ipw.Widget:
        return ipw.FloatSlider(value=defaults[key], min=-60, max=60, step=0.5, description=labels[key],
                               continuous_update=False, readout_format=".1f", style=slider_style,
                               layout=wide)  # fmt: skip

    def buttons(key: str, options: list[str]) -> ipw.Widget:
        return ipw.ToggleButtons(options=options, value=defaults[key], description=labels[key],
                                 style=buttons_style, layout=row)  # fmt: skip

    controls = {"wallet": text("wallet"), "fees": buttons("fees", fees)}
    for coin in ("btc", "eth"):
        controls |= {f"{coin}_size": text(f"{coin}_size"), f"{coin}_leverage": leverage(f"{coin}_leverage"),
                     f"{coin}_side": buttons(f"{coin}_side", sides),
                     f"{coin}_mode": buttons(f"{coin}_mode", modes),
                     f"{coin}_move": move(f"{coin}_move")}  # fmt: skip
    return controls


def _heading(text: str) -> str:
    """A column's name as HTML: a part in brackets on a line of its own, never broken inside."""
    name, bracket, rest = text.partition(" (")
    if not bracket:
        return _html.escape(text)
    return f"{_html.escape(name)}<br>({_html.escape(rest).replace(' ', '&nbsp;')}"


def table_html(head: str, headers: Sequence[str], rows: Sequence[Sequence[str]], note: str) -> str:
    """The set-up in words, the table (each cell labelled with its column, for the cards of a
    narrow screen) and the note under it, as HTML."""
    esc = _html.escape
    lines = "<br>".join(esc(line) for line in head.splitlines())
    top = "".join(f"<th scope='col'>{_heading(h)}</th>" for h in headers)
    body = []
    for label, *cells in rows:
        tds = "".join(f"<td data-label='{esc(h)}'><span class='calc-v'>{esc(c)}</span></td>"
                      for h, c in zip(headers[1:], cells, strict=True))  # fmt: skip
        body.append(f"<tr><th scope='row'>{esc(label)}</th>{tds}</tr>")
    words = " ".join(esc(line) for line in note.splitlines())
    return (f"<div class='calc-summary'><p class='calc-head'>{lines}</p><table class='calc-table'>"
            f"<thead><tr>{top}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<p class='calc-note'>{words}</p></div>")  # fmt: skip


def plot_html(png: bytes) -> str:
    """The plot as an ``<img>`` with its PNG inline (text, not a binary buffer: Voilà 0.5 mistakes
    a binary message for its own newer format when a client speaks the older protocol, and then
    spins, so the page sends none)."""
    data = base64.b64encode(png).decode("ascii")
    alt = "BTC's margin balance against its price"
    return f"<img class='calc-plot' alt=\"{alt}\" src='data:image/png;base64,{data}'>"


def build_widget(
    controls: Mapping[str, ipw.Widget],
    view: Callable[..., str],
    plot: Callable[..., Any],
    *,
    html: Callable[..., str],
    title: str,
    columns: Sequence[Sequence[str]],
) -> ipw.VBox:
    """The page: ``title``, the controls in ``columns``, then ``html(**values)`` and the PNG of
    ``plot(**values)``, redrawn after every change (``view`` is the same as text, kept as the
    page's ``text`` attribute for the tests and the benchmark).

    The returned box keeps its :class:`~margin_lib.rendering.FigureRenderer` as
    ``figure_renderer``, the controls as ``controls``, the table as ``summary`` and the plot as
    ``image``.
    """
    placed = [key for column in columns for key in column]
    if sorted(placed) != sorted(controls):
        raise ValueError(f"columns must hold each of the controls {sorted(controls)} once; got {placed}")
    plain, style = ipw.Layout(), HTMLStyle()  # shared by the boxes and the texts
    boxes = []
    for column in columns:
        box = ipw.VBox([controls[key] for key in column], layout=plain)
        box.add_class("calc-column")
        boxes.append(box)
    row = ipw.HBox(boxes, layout=ipw.Layout(flex_flow="row wrap"))
    row.add_class("calc-columns")
    head = ipw.HTML(f"<b>{_html.escape(title)}</b>{CSS}", layout=plain, style=style)
    summary = ipw.HTML(layout=plain, style=style)
    image = ipw.HTML(layout=ipw.Layout(), style=style)  # a layout of its own: hidden after a refusal
    renderer = FigureRenderer()
    page = ipw.VBox([head, row, summary, image], layout=plain)
    page.add_class("calc-page")

    def show(values: dict[str, Any]) -> None:
        try:
            table, text = html(**values), view(**values)
            fig = plot(**values)
        except MarginError as exc:
            page.text = error_message(exc)
            summary.value = f"<p class='calc-error'>{_html.escape(page.text)}</p>"
            image.layout.display = "none"
            return
        try:
            steady_axes(fig)  # autoscaled limits rounded, so small changes keep the frame
            png = renderer.render(fig)
        finally:
            plt.close(fig)
        # both ready: sent one after the other, so the table and the plot change together
        summary.value, page.text, image.value = table, text, plot_html(png)
        image.layout.display = None

    def refresh(_change: object = None) -> None:
        values = {key: control.value for key, control in controls.items()}
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # no warning reaches the page
            show(values)

    for control in controls.values():
        control.observe(refresh, names="value")
    refresh()
    page.figure_renderer, page.controls, page.summary, page.image = renderer, dict(controls), summary, image
    return page
