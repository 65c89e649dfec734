"""Student copies: solutions gone, self-checks kept, and the committed copies in step with the
lessons (regenerate with `make student` after changing a lesson)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.classroom import student_copy, write_student_copies

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _code(nb):
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_student_copy_drops_solutions_and_keeps_checks(path):
    lesson = json.loads(path.read_text())
    copy = student_copy(lesson)
    code = _code(copy)
    assert not any("solution_" in c for c in code), "solution cells must be removed"
    prompts = [c for c in _code(lesson) if ".check(" in c and "= None" in c]
    assert prompts and all(p in code for p in prompts), "every self-check prompt must stay"
    assert all(not c.get("outputs") for c in copy["cells"] if c["cell_type"] == "code")
    text = " ".join("".join(c["source"]) for c in copy["cells"] if c["cell_type"] == "markdown")
    assert "teacher's copy" in text and "## Summary" in text and "not trading advice" in text.lower()


def test_committed_student_copies_match_the_lessons(tmp_path):
    fresh = write_student_copies(ROOT / "notebooks", tmp_path)
    committed = sorted((ROOT / "student").glob("*.ipynb"))
    assert [p.name for p in committed] == [p.name for p in fresh], "run `make student`"
    for new in fresh:
        assert (ROOT / "student" / new.name).read_text() == new.read_text(), (
            f"student/{new.name} is out of date: run `make student`"
        )


def test_a_lesson_without_solutions_is_refused():
    with pytest.raises(ValueError, match="needs a '## Solutions' heading"):
        student_copy({"cells": [{"cell_type": "markdown", "source": "# x", "metadata": {}}], "metadata": {}})


@pytest.mark.parametrize("path", sorted((ROOT / "student").glob("*.ipynb")), ids=lambda p: p.name)
def test_a_student_copy_runs_top_to_bottom_without_an_error(path, tmp_path):
    """What a learner does first with a handed-out copy: Run All, answers still blank. Every
    cell must run (the self-checks ask for an answer instead of failing), from student/ itself."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    checks = [o for c in nb.cells if c.cell_type == "code" and ".check(" in c.source for o in c.outputs]
    texts = [o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in checks]
    assert texts and all("replace None with your" in t for t in texts)  # an answer, or a quiz choice
