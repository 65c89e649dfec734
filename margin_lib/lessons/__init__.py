"""One module per lesson: the pure functions behind its widget, its plots and its exercises.

Each module follows the same pattern, so a lesson notebook only calls into it:

- ``view(**controls) -> str``: the text the widget shows (raises a ``MarginError`` on bad input;
  the widget turns that into a short message).
- ``plot(**controls) -> Figure``: the figure the widget shows.
- ``widget() -> ipywidgets.Widget``: controls wired to ``view`` and ``plot``.
- ``EXERCISES``: :class:`~margin_lib.exercises.Exercise` objects whose answers margin_lib computes.
"""
