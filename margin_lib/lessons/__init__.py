"""One module per lesson: what a learner need not read to follow it.

A lesson's maths lives in its notebook, in visible cells that call the public engine
(``margin_lib.margin``, ``.liquidation``, ``.fees``, ``Account``). Its module holds only the
wiring around it, in the same pattern for every lesson:

- ``view(**controls) -> str``: the text the widget shows (raises a ``MarginError`` on bad input;
  the widget turns that into a short message).
- ``plot(**controls) -> Figure``: the figure the widget shows, and the lesson's other plots.
- ``widget() -> ipywidgets.Widget``: controls wired to ``view`` and ``plot``.
- the layout of long comparison tables.
- ``EXERCISES``: :class:`~margin_lib.exercises.Exercise` objects whose answers margin_lib computes
  (and keeps private), and ``QUIZ``: the lesson's :class:`~margin_lib.quiz.Quiz`.
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
