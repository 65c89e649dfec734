"""Student copies of the lessons: the same notebooks without the worked solutions.

Each lesson's cells from its ``## Solutions`` heading up to (not including) the next ``## ``
heading are replaced by one short note: the worked solutions and the quiz's answers go, the
exercises, their self-checks and the quiz stay. Outputs are
cleared so students run the notebook themselves. The copies are deterministic, so a test can
regenerate them and compare with the committed ones.

Run ``make student`` (or ``python -m tools.classroom notebooks student``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "LESSONS",
    "NOTE",
    "lesson_main",
    "solutions_span",
    "student_copy",
    "write_lessons",
    "write_student_copies",
]

#: The lessons in a folder of notebooks: ``NN_name.ipynb``.
LESSONS = "[0-9][0-9]_*.ipynb"

NOTE = (
    "## Solutions\n\n"
    "The worked solutions and the quiz's answers are in the teacher's copy of this lesson. Use the "
    "self-checks above: they tell you when an answer is right, or give a hint."
)


def _text(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _is_heading(cell: dict[str, Any], title: str) -> bool:
    return cell.get("cell_type") == "markdown" and _text(cell).lstrip().startswith(title)


def solutions_span(cells: list[dict[str, Any]]) -> tuple[int, int]:
    """Where a lesson's ``## Solutions`` section lies: the index of its heading cell and of the
    next ``## `` heading (the section is ``cells[start:end]``).

    Raises ``ValueError`` if the lesson has no ``## Solutions`` heading, or no ``## `` section
    after it.
    """
    start = next((i for i, c in enumerate(cells) if _is_heading(c, "## Solutions")), None)
    end = None
    if start is not None:
        end = next((i for i in range(start + 1, len(cells)) if _is_heading(cells[i], "## ")), None)
    if start is None or end is None:
        raise ValueError("a lesson needs a '## Solutions' heading followed by another '## ' section")
    return start, end


def student_copy(notebook: dict[str, Any], note: str = NOTE) -> dict[str, Any]:
    """A student version of a lesson (nbformat 4 JSON as a dict): solutions out, outputs cleared.

    The ``## Solutions`` section becomes one markdown cell, ``note``. Raises ``ValueError`` if
    the lesson has no ``## Solutions`` heading, or no ``## `` section after it.
    """
    cells = notebook["cells"]
    start, end = solutions_span(cells)
    kept = cells[:start] + [{"cell_type": "markdown", "metadata": {}, "source": note}] + cells[end:]
    out_cells = []
    for i, cell in enumerate(kept):
        new = {k: v for k, v in cell.items() if k not in ("outputs", "execution_count", "id")}
        new["id"] = f"cell-{i}"
        # run timestamps would make every re-execution of a lesson look like a change
        new["metadata"] = {k: v for k, v in cell.get("metadata", {}).items() if k != "execution"}
        if new["cell_type"] == "code":
            new["outputs"] = []
            new["execution_count"] = None
        new["source"] = _text(cell)
        out_cells.append(new)
    metadata = {k: v for k, v in notebook.get("metadata", {}).items() if k != "widgets"}
    return {"cells": out_cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def write_lessons(
    source: Path, transform: Callable[[dict[str, Any]], dict[str, Any]], out_path: Callable[[Path], Path]
) -> list[Path]:
    """Write ``transform`` of every ``NN_*.ipynb`` lesson in ``source``, in the lessons' order, to
    ``out_path(lesson's path)`` (its folder made if need be), as JSON indented by one space, UTF-8
    as it is, with a final newline; return the paths written. A lesson ``transform`` refuses
    (raises) is written nowhere, nor its folder made."""
    written = []
    for path in sorted(source.glob(LESSONS)):
        notebook = transform(json.loads(path.read_text("utf-8")))
        out = out_path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(out)
    return written


def write_student_copies(source: Path, target: Path) -> list[Path]:
    """Write a student copy of every ``NN_*.ipynb`` lesson in ``source`` into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    return write_lessons(source, student_copy, lambda path: target / path.name)


def lesson_main(
    argv: list[str] | None, description: str, write: Callable[[Path, Path], list[Path]], target_help: str
) -> argparse.Namespace:
    """The command line of a tool that writes from the lessons: read ``source target`` from
    ``argv`` (``sys.argv`` when None), run ``write(source, target)``, print each path written, and
    return the arguments read."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("source", type=Path, help="folder of the lessons (notebooks/)")
    parser.add_argument("target", type=Path, help=target_help)
    args = parser.parse_args(argv)
    for path in write(args.source, args.target):
        print(f"wrote {path}")
    return args


def main(argv: list[str] | None = None) -> None:
    lesson_main(
        argv, __doc__.splitlines()[0], write_student_copies, "folder for the student copies (student/)"
    )


if __name__ == "__main__":
    main()
