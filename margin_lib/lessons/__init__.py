"""One module per lesson: the pure functions behind its widget, its plots and its exercises.

Each module follows the same pattern, so a lesson notebook only calls into it:

- ``view(**controls) -> str``: the text the widget shows (raises a ``MarginError`` on bad input;
  the widget turns that into a short message).
- ``plot(**controls) -> Figure``: the figure the widget shows.
- ``widget() -> ipywidgets.Widget``: controls wired to ``view`` and ``plot``.
- ``EXERCISES``: :class:`~margin_lib.exercises.Exercise` objects whose answers margin_lib computes.
"""

#: Every module with an interactive widget, in course order (the calculator app last); the
#: responsiveness benchmark and the fast-redraw tests walk this list.
WIDGET_MODULES = (
    "margin_lib.lessons.initial_margin",
    "margin_lib.lessons.maintenance_margin",
    "margin_lib.lessons.isolated_margin",
    "margin_lib.lessons.cross_margin",
    "margin_lib.lessons.comparison",
    "margin_lib.lessons.liquidation_price",
    "margin_lib.lessons.fees_and_funding",
    "margin_lib.lessons.hedge_mode",
    "margin_lib.lessons.stress_lab",
    "margin_lib.app",
)
