"""nbgrader assignments from the lessons: one source notebook per lesson, autograded by the
lessons' own self-checks.

For each ``NN_*.ipynb`` lesson this writes an nbgrader course layout::

    <out>/nbgrader_config.py
    <out>/source/NN_name/NN_name.ipynb

Each source notebook is the lesson as its student copy has it (``tools.classroom``: outputs
cleared, the ``## Solutions`` section replaced by a note, so the quiz's answers never reach a
student), with every exercise turned into nbgrader cells:

- the exercise's statement (the markdown cell just above it) becomes a read-only cell;
- its answer cell keeps the ``answer_1a = None`` stub and the self-check line, and between them,
  inside ``### BEGIN SOLUTION`` / ``### END SOLUTION``, the worked solution taken from the
  lesson's Solutions section, ending with ``answer_1a = solution_1a``. ``nbgrader
  generate_assignment`` removes that region, so the students' copy reads as the lesson does;
- a locked test cell (1 point) follows it and calls the very self-check the answer cell calls
  (``lesson.EXERCISES["1a"].check(answer_1a)``): it passes when that check says right, and fails,
  with the check's hint, on a wrong or blank answer.

Run ``make assignments`` (or ``python -m tools.assignments notebooks assignments``), then, in the
output folder, ``nbgrader generate_assignment NN_name`` and, after collecting submissions,
``nbgrader autograde NN_name``. nbgrader itself is in the ``teach`` extra.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tools.classroom import lesson_main, solutions_span, student_copy, write_lessons

__all__ = ["BEGIN", "END", "CODE_STUB", "CONFIG", "assignment_source", "write_assignments"]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
SCHEMA_VERSION = 3  # nbgrader's cell metadata format
POINTS = 1  # per exercise

NOTE = (
    "## Solutions\n\n"
    "This lesson is a graded assignment: the worked solutions and the quiz's answers are in the "
    "teacher's copy. Use the self-checks above: they tell you when an answer is right, or give a hint."
)
GRADED = (
    "*Graded assignment.* After each answer cell comes a locked test cell that runs the same "
    "self-check: it scores {points} point when the check says right, and 0 for a wrong or blank "
    "answer (it then fails with the check's hint). Leave the test cells as they are."
)

#: What ``nbgrader generate_assignment`` leaves of a solution region: between the answer's
#: ``= None`` stub and its self-check, the released cell keeps only this line.
CODE_STUB = "# Your working (optional); then set the answer above or here."

#: The course's nbgrader configuration, written beside the source folder.
CONFIG = f"""\
# nbgrader configuration for the margin course (written by `make assignments`; run nbgrader here).
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "margin-course"
c.ClearSolutions.code_stub = {{"python": {CODE_STUB!r}}}
# Seconds a cell may run when autograding (the stress lab simulates thousands of paths).
c.Execute.timeout = 300
"""

_STUB = re.compile(r"^(?P<var>answer_\w+) = None[ \t]*$", re.M)
_CHECK = re.compile(
    r"^(?P<call>[\w.]+\.EXERCISES\[(?P<quote>[\"'])(?P<key>[^\"']+)(?P=quote)\]\.check)"
    r"\((?P<arg>\w+)\)[ \t]*$",
    re.M,
)
_SOLUTION_HEADING = re.compile(r"^###\s+Solution\s+(?P<key>\S+)\s*$", re.M)


def _text(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _nbgrader(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution}  # fmt: skip
    if grade:
        meta["points"] = POINTS
    return meta


def exercise_cell(source: str) -> tuple[str, str, str] | None:
    """``(key, answer variable, check call)`` if ``source`` is an exercise's answer cell (an
    ``answer_... = None`` stub and a self-check of that variable), else ``None``."""
    stub = _STUB.search(source)
    check = _CHECK.search(source)
    if not stub or not check or check["arg"] != stub["var"]:
        return None
    return check["key"], stub["var"], check["call"]


def _is_check_of(line: str, key: str) -> bool:
    match = _CHECK.fullmatch(line.strip())
    return bool(match) and match["key"] == key


def worked_solutions(notebook: dict[str, Any]) -> dict[str, str]:
    """The code of each ``### Solution <key>`` in a lesson's Solutions section, ending with the
    line that copies the solution's value, ``answer_<key> = solution_<key>``, in place of its own
    self-check. Raises ``ValueError`` for a solution without that self-check."""
    cells = notebook["cells"]
    start, end = solutions_span(cells)
    found: dict[str, list[str]] = {}
    key = None
    for cell in cells[start + 1 : end]:
        text = _text(cell)
        if cell.get("cell_type") == "markdown":
            heading = _SOLUTION_HEADING.match(text.lstrip())
            if heading:
                key = heading["key"]
                found[key] = []
            elif text.lstrip().startswith("#"):
                key = None  # another heading (the quiz's answers): not an exercise's solution
        elif cell.get("cell_type") == "code" and key is not None:
            found[key].append(text.rstrip("\n"))
    solutions = {}
    for key, parts in found.items():
        code = "\n".join(parts)
        checks = [m for m in _CHECK.finditer(code) if m["key"] == key]
        if len(checks) != 1:
            raise ValueError(f"solution {key} must end its work with one self-check of its value")
        value = checks[0]["arg"]
        lines = [line for line in code.splitlines() if not _is_check_of(line, key)]
        lines.append(f"answer_{key} = {value}")
        if any("BEGIN SOLUTION" in line or "END SOLUTION" in line for line in lines):  # nbgrader's markers
            raise ValueError(f"solution {key} may not contain nbgrader's solution markers")
        solutions[key] = "\n".join(lines)
    return solutions


def assignment_source(notebook: dict[str, Any]) -> dict[str, Any]:
    """The nbgrader source version of a lesson (nbformat 4 JSON as a dict).

    Raises ``ValueError`` when an exercise has no worked solution, a solution no exercise, or
    the lesson has no exercise at all.
    """
    solutions = worked_solutions(notebook)
    copy = student_copy(notebook, note=NOTE)
    cells: list[dict[str, Any]] = []
    done: list[str] = []
    for cell in copy["cells"]:
        text = _text(cell)
        found = exercise_cell(text) if cell["cell_type"] == "code" else None
        if found is None:
            cells.append(cell)
            continue
        key, var, call = found
        if key not in solutions:
            raise ValueError(f"exercise {key} has no '### Solution {key}' in the Solutions section")
        if cells and cells[-1]["cell_type"] == "markdown" and "nbgrader" not in cells[-1]["metadata"]:
            statement = cells[-1]
            if statement["source"].startswith("## Exercises"):
                heading, _, rest = statement["source"].partition("\n")
                statement["source"] = f"{heading}\n\n{GRADED.format(points=POINTS)}\n{rest}"
            locked = _nbgrader(f"exercise_{key}", locked=True)
            statement["metadata"] = {**statement["metadata"], "nbgrader": locked}
        stub = _STUB.search(text)
        answer = text[: stub.end()] + f"\n{BEGIN}\n{solutions[key]}\n{END}" + text[stub.end() :]
        metadata = {**cell["metadata"], "nbgrader": _nbgrader(f"answer_{key}", solution=True)}
        cells.append({**cell, "source": answer, "metadata": metadata})
        test = (
            f"# Autograded test for exercise {key} ({POINTS} point): the lesson's own self-check.\n"
            f"feedback_{key} = {call}({var})\n"
            f'assert feedback_{key}.endswith(": right!"), feedback_{key}\n'
            f"print(feedback_{key})"
        )
        cells.append({
            "cell_type": "code", "execution_count": None, "id": f"test-{key}",
            "metadata": {"nbgrader": _nbgrader(f"test_{key}", grade=True, locked=True)},
            "outputs": [], "source": test,
        })  # fmt: skip
        done.append(key)
    if not done:
        raise ValueError("a lesson needs an exercise: an answer_... = None cell with its self-check")
    unused = sorted(set(solutions) - set(done))
    if unused:
        raise ValueError(f"solutions without an exercise cell: {', '.join(unused)}")
    return {**copy, "cells": cells}


def write_assignments(source: Path, target: Path) -> list[Path]:
    """Write an nbgrader source notebook for every ``NN_*.ipynb`` lesson in ``source`` into
    ``target/source/NN_name/``, and ``target/nbgrader_config.py``."""
    target.mkdir(parents=True, exist_ok=True)
    (target / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")
    return write_lessons(source, assignment_source, lambda path: target / "source" / path.stem / path.name)


def main(argv: list[str] | None = None) -> None:
    args = lesson_main(
        argv, __doc__.splitlines()[0], write_assignments, "nbgrader course folder to write (assignments/)"
    )
    print(f"next: cd {args.target} && nbgrader generate_assignment <lesson>   (nbgrader is in '.[teach]')")


if __name__ == "__main__":
    main()
