"""Exercises with a self-check that says "right" or gives a hint, never the answer.

The expected answer is computed by margin_lib when the check runs, never typed in, and no public
attribute or method hands it out: a student copy of a lesson exposes the check, not the answer.
A hint points to the method, never to the numbers.

>>> ex = Exercise("im", "Margin for 2,000 USDT at 4x?", lambda: 2_000 / 4, unit="USDT",
...               hint="Divide the position size by the leverage.")
>>> ex.check(None)
Exercise im: replace None with your answer (a number in USDT).
>>> ex.check(600)
Exercise im: not yet: your answer is too high. Hint: Divide the position size by the leverage.
>>> ex.check(500)
Exercise im: right!
"""

from __future__ import annotations

import math
from collections.abc import Callable

from . import _validate as v
from .errors import InvalidInputError

__all__ = ["Exercise", "Feedback"]


class Feedback(str):
    """Text that a notebook shows without quotes."""

    def __repr__(self) -> str:
        return str(self)


class Exercise:
    """A numeric question with a self-check.

    ``solve`` computes the answer with margin_lib when :meth:`check` runs (it is kept private);
    an answer within ``rel_tol`` (relative) or ``abs_tol`` of it is right. ``hint`` is shown with
    "too high"/"too low" when it is not. For percentages, ask for the number of per cent (``9.5``
    for 9.5 %) and say so in the text.
    """

    __slots__ = ("key", "question", "unit", "hint", "rel_tol", "abs_tol", "_solve")

    def __init__(
        self,
        key: str,
        question: str,
        solve: Callable[[], float],
        *,
        unit: str = "",
        hint: str = "",
        rel_tol: float = 0.005,
        abs_tol: float = 0.0,
    ) -> None:
        self.key = key
        self.question = question
        self.unit = unit
        self.hint = hint
        self.rel_tol = rel_tol
        self.abs_tol = abs_tol
        self._solve = solve

    def __repr__(self) -> str:
        return f"Exercise({self.key!r}: {self.question})"

    def check(self, answer: object) -> Feedback:
        """Return "right!" or a hint (as text); never the expected value."""
        return Feedback(self._feedback(answer))

    def _feedback(self, answer: object) -> str:
        unit = f" in {self.unit}" if self.unit else ""
        if answer is None:
            return f"Exercise {self.key}: replace None with your answer (a number{unit})."
        try:
            value = v.scalar(v.number, "answer", answer)
        except InvalidInputError:
            shown = repr(answer) if len(repr(answer)) <= 40 else repr(answer)[:37] + "..."
            return f"Exercise {self.key}: the answer must be one finite number{unit}; got {shown}."
        expected = float(self._solve())
        if math.isclose(value, expected, rel_tol=self.rel_tol, abs_tol=self.abs_tol):
            return f"Exercise {self.key}: right!"
        direction = "too high" if value > expected else "too low"
        hint = f" Hint: {self.hint}" if self.hint else ""
        return f"Exercise {self.key}: not yet: your answer is {direction}.{hint}"
