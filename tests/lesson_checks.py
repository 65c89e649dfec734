"""Checks the lesson tests (tests/test_lesson_0N.py) share: a lesson's exercises and their hints,
and a lesson notebook's prose against its own outputs.

A lesson test imports them as ``from lesson_checks import check_exercise`` (tests/ is on the path,
as for ``conftest``) and calls them from its own tests, which keep their names and parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

#: The sections whose markdown asks rather than states: the exercises', the quiz's, the references.
QUESTION_SECTIONS = ("## Exercises", "## Quiz", "## References")


# -- exercises -------------------------------------------------------------------------------------
def check_exercise(
    lesson: ModuleType,
    key: str,
    answer: float,
    wrong: Iterable[float] | Mapping[str, float],
    *,
    also_right: Sequence[float] = (),
    hidden: Sequence[str] = (),
) -> None:
    """Assert that exercise ``key`` of ``lesson.EXERCISES`` says ``Exercise {key}: right!`` to
    ``answer`` (and to each of ``also_right``, e.g. the answer as the lesson rounds it); says
    "not yet" with a "Hint:" to every value in ``wrong`` (the usual mistakes; a mapping names each
    one's method for the failure message) and shows the answer in none of those hints in any of
    the ``hidden`` formats (format specs such as ``",.2f"``); asks to replace a ``None`` left in
    the cell; and refuses a word ("ten") as not a finite number."""
    ex = lesson.EXERCISES[key]
    for right in (answer, *also_right):
        assert ex.check(right) == f"Exercise {key}: right!", (key, right)
    named = wrong.items() if isinstance(wrong, Mapping) else ((None, bad) for bad in wrong)
    for method, bad in named:
        feedback = ex.check(bad)
        assert "not yet" in feedback and "Hint:" in feedback, (key, method, bad)
        for spec in hidden:
            assert format(answer, spec) not in feedback, (key, method, bad, spec)
    assert "replace None" in ex.check(None), key
    assert "finite number" in ex.check("ten"), key


def check_hint(lesson: ModuleType, key: str) -> None:
    """Assert that exercise ``key`` of ``lesson.EXERCISES`` has a hint, and that the hint names
    the method, never a number: not one digit in it."""
    hint = lesson.EXERCISES[key].hint
    assert hint and not any(ch.isdigit() for ch in hint), f"{key}: a hint points to the method: {hint!r}"


# -- the quiz --------------------------------------------------------------------------------------
def check_quiz(lesson: ModuleType, key: str, right: str) -> None:
    """Assert that question ``key`` of ``lesson.QUIZ`` (there is one, and only one) offers a, b and
    c at least, says ``Quiz {key}: {right} is right.`` to its right letter, and
    ``Quiz {key}: not {letter}.`` followed by a reason to every other letter it offers."""
    (question,) = [q for q in lesson.QUIZ.questions if q.key == key]
    assert set("abc") <= set(question.choices), (key, list(question.choices))
    assert lesson.QUIZ.check(key, right).startswith(f"Quiz {key}: {right} is right."), key
    for letter in question.choices:
        if letter != right:
            feedback = lesson.QUIZ.check(key, letter)
            assert feedback.startswith(f"Quiz {key}: not {letter}. ") and len(feedback) > 40, (key, letter)


# -- the notebook's prose --------------------------------------------------------------------------
def notebook(path: Path) -> dict[str, Any]:
    """A lesson notebook (nbformat 4 JSON) as a dict."""
    return json.loads(path.read_text())


def cell_text(cell: dict[str, Any]) -> str:
    """A cell's source as one string."""
    return "".join(cell["source"])


def section(nb: dict[str, Any], heading: str) -> str:
    """The text of the first cell that starts with ``heading`` (e.g. ``"## Summary"``)."""
    return next(cell_text(c) for c in nb["cells"] if cell_text(c).startswith(heading))


def outputs(nb: dict[str, Any]) -> str:
    """Everything the notebook printed: each output's text and plain-text data, one a line."""
    parts = []
    for c in nb["cells"]:
        for o in c.get("outputs", []):
            parts.append("".join(o.get("text", "")))
            parts.append("".join(o.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def prose(nb: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The markdown that states results: everything but the exercises' and the quiz's questions and
    the references (the cells of the ``QUESTION_SECTIONS``)."""
    heading = ""
    for cell in nb["cells"]:
        text = cell_text(cell)
        if cell["cell_type"] == "markdown" and text.startswith("## "):
            heading = text.splitlines()[0]
        if cell["cell_type"] == "markdown" and heading not in QUESTION_SECTIONS:
            yield cell


def check_cited_figures_are_printed(nb: dict[str, Any]) -> None:
    """Assert that every figure with decimals the prose cites (outside its ``$…$`` formulas) is
    printed somewhere in the notebook's outputs."""
    printed = outputs(nb)
    for cell in prose(nb):
        text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", cell_text(cell), flags=re.S)
        for figure in re.findall(r"\d[\d,]*\.\d+", text):
            assert figure in printed, f"{figure} is cited but printed nowhere: {text[:60]!r}"
