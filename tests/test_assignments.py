"""nbgrader assignments (`make assignments`, tools/assignments.py): every lesson becomes an nbgrader
source notebook whose autograded test cells call the lesson's own self-checks; nbgrader itself
releases it without the solutions and grades a made-up submission as the self-checks would."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools.assignments import CODE_STUB, assignment_source, write_assignments

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NO_NBGRADER = "nbgrader is not installed: `pip install -e '.[teach]'` (make installs it)"


def _load(path: Path) -> dict:
    return json.loads(path.read_text("utf-8"))


def _meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _exercise_keys(lesson: dict) -> list[str]:
    """The keys of the lesson module's EXERCISES, read from the module the notebook imports."""
    import importlib

    code = "".join("".join(c["source"]) for c in lesson["cells"] if c["cell_type"] == "code")
    module = re.search(r"from margin_lib\.lessons import (\w+) as lesson", code)
    assert module, "a lesson imports its module as `lesson`"
    return list(importlib.import_module(f"margin_lib.lessons.{module[1]}").EXERCISES)


# Seconds a cell may take. A lesson's slowest cell takes a few seconds; ipykernel 7 now and then
# drops an execute request (the kernel idles and never replies: ipython/ipykernel#1554), and a
# notebook that hits that is run again on a fresh kernel rather than waiting for ever.
CELL_TIMEOUT = 120


def _timed_out(nb) -> bool:
    return any(o.get("ename") == "CellTimeoutError" for c in nb.cells for o in c.get("outputs", []))


def _execute(nb, attempts: int = 2):
    """``nb`` run top to bottom on a fresh kernel (errors kept as outputs), as nbgrader runs it."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError

    for attempt in range(attempts):
        ran = copy.deepcopy(nb)
        try:
            NotebookClient(ran, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True).execute()
        except CellTimeoutError:
            if attempt == attempts - 1:
                raise
            continue
        return ran


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("course")
    return {p.parent.name: _load(p) for p in write_assignments(ROOT / "notebooks", out)}


def test_the_course_layout_is_nbgraders(tmp_path):
    written = write_assignments(ROOT / "notebooks", tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        f"source/{p.stem}/{p.name}" for p in LESSONS
    ]
    config = (tmp_path / "nbgrader_config.py").read_text()
    assert "c.ClearSolutions.code_stub" in config and "c.Execute.timeout" in config
    compile(config, "nbgrader_config.py", "exec")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_every_exercise_has_a_solution_cell_and_a_locked_test_cell(path, sources):
    lesson = _load(path)
    cells = sources[path.stem]["cells"]
    ids = [_meta(c)["grade_id"] for c in cells if _meta(c)]
    assert len(ids) == len(set(ids)), "grade_ids must be unique"
    for cell in cells:
        meta = _meta(cell)
        if meta:
            assert meta["schema_version"] == 3 and re.fullmatch(r"[A-Za-z0-9_\-]+", meta["grade_id"])
            assert set(meta) <= {"schema_version", "grade", "solution", "locked", "grade_id", "points"}
    keys = _exercise_keys(lesson)
    assert len(keys) >= 3
    for key in keys:
        i = next(i for i, c in enumerate(cells) if _meta(c).get("grade_id") == f"answer_{key}")
        answer, test = cells[i], cells[i + 1]
        assert _meta(answer) == {
            "grade": False, "grade_id": f"answer_{key}", "locked": False, "schema_version": 3,
            "solution": True,
        }  # fmt: skip
        src = answer["source"]
        assert src.startswith(f"answer_{key} = None\n### BEGIN SOLUTION\n")
        assert src.endswith(f'### END SOLUTION\nlesson.EXERCISES["{key}"].check(answer_{key})')
        assert f"answer_{key} = solution_{key}\n### END SOLUTION" in src
        assert _meta(test) == {
            "grade": True, "grade_id": f"test_{key}", "locked": True, "points": 1, "schema_version": 3,
            "solution": False,
        }  # fmt: skip
        assert f'lesson.EXERCISES["{key}"].check(answer_{key})' in test["source"]
        assert _meta(cells[i - 1]) == {
            "grade": False, "grade_id": f"exercise_{key}", "locked": True, "schema_version": 3,
            "solution": False,
        }  # fmt: skip
        assert f"**{key}.**" in cells[i - 1]["source"]
    graded = [_meta(c)["grade_id"] for c in cells if _meta(c).get("grade")]
    assert graded == [f"test_{k}" for k in keys], "exactly one test cell per exercise, in order"
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_the_released_copy_keeps_the_stubs_and_holds_no_solution(path, sources):
    """nbgrader's own ClearSolutions, as `generate_assignment` runs it with the course's stub."""
    pytest.importorskip("nbgrader", reason=NO_NBGRADER)
    import nbformat
    from nbgrader.nbgraderformat import MetadataValidator
    from nbgrader.preprocessors import ClearSolutions

    source = nbformat.reads(json.dumps(sources[path.stem]), as_version=4)
    MetadataValidator().validate_nb(source)
    released, _ = ClearSolutions(code_stub={"python": CODE_STUB}).preprocess(copy.deepcopy(source), {})
    text = "\n".join(c.source for c in released.cells)
    assert "solution_" not in text and "BEGIN SOLUTION" not in text
    assert not re.search(r"QUIZ\.check\(\"q\d\", \"[a-z]\"\)", text), "the quiz's answers stay out"
    for key in _exercise_keys(_load(path)):
        answer = next(c for c in released.cells if _meta(c).get("grade_id") == f"answer_{key}")
        stub, check = f"answer_{key} = None", f'lesson.EXERCISES["{key}"].check(answer_{key})'
        assert answer.source == f"{stub}\n{CODE_STUB}\n{check}"
    kept = [c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("locked")]
    assert kept and all(k in text for k in kept), "locked cells (statements, tests) are released as written"


def test_the_teachers_version_scores_full_marks_in_every_lesson(sources):
    """Each source notebook, run top to bottom like the autograder runs a submission: every test cell
    passes with the worked solutions in place (so every self-check agrees with its solution)."""
    import nbformat

    for name, nb_json in sources.items():
        nb = _execute(nbformat.reads(json.dumps(nb_json), as_version=4))
        errors = {
            c.metadata.get("nbgrader", {}).get("grade_id", f"cell {i}"): o.get("evalue")
            for i, c in enumerate(nb.cells)
            if c.cell_type == "code"
            for o in c.outputs
            if o.output_type == "error"
        }
        assert errors == {}, f"{name}: {errors}"
        passed = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        # a cell's printout may arrive in several stream pieces (the kernel flushes on a timer): join them
        printed = {
            c.metadata["nbgrader"]["grade_id"]: "".join(o.get("text", "") for o in c.outputs) for c in passed
        }
        assert printed and all(text.endswith("right!\n") for text in printed.values()), f"{name}: {printed}"


def test_a_lesson_whose_exercise_has_no_solution_is_refused():
    lesson = _load(LESSONS[0])
    cells = [c for c in lesson["cells"] if "### Solution 1c" not in "".join(c["source"])]
    with pytest.raises(ValueError, match="exercise 1c has no '### Solution 1c'"):
        assignment_source({**lesson, "cells": cells})


def _right_answers() -> dict[str, float]:
    """Lesson 1's 1a and 1d worked out here another way than its solutions: 1a from the account
    ledger (what opening the position locks), 1d by searching sizes against the tier table."""
    from margin_lib import BracketTable
    from margin_lib.account import Account

    acct = Account(10_000, fee_rate=0)
    acct.open_position("BTCUSDT", "long", notional=0.05 * 100_000, price=100_000, leverage=25)
    locked = 10_000 - acct.report().available_balance
    tiers = BracketTable.load("BTCUSDT")
    largest = max(n for n in range(1_000, 2_000_001, 1_000) if n / tiers.max_leverage(n) <= 5_000)
    return {"1a": locked, "1d": largest}


def test_nbgrader_releases_and_autogrades_a_made_up_submission(tmp_path):
    """`nbgrader generate_assignment`, then `nbgrader autograde` on one student's lesson 1: 1a and
    1d right, 1b wrong (the fee forgotten) and its test cell tampered with, 1c left blank."""
    pytest.importorskip("nbgrader", reason=NO_NBGRADER)
    import nbformat
    from nbgrader.api import Gradebook

    name = LESSONS[0].stem
    write_assignments(ROOT / "notebooks", tmp_path)
    bin_dir = Path(sys.executable).parent  # nbgrader's database step runs `alembic` from the PATH
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / ".jupyter")  # no user-level nbgrader config

    def nbgrader(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "nbgrader", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    nbgrader("generate_assignment", name)
    released = nbformat.read(tmp_path / "release" / name / f"{name}.ipynb", as_version=4)
    assert "solution_" not in "\n".join(c.source for c in released.cells)

    right = _right_answers()
    assert right == pytest.approx({"1a": 200, "1d": 500_000})
    fills = {"1a": repr(right["1a"]), "1b": "25", "1d": repr(right["1d"])}  # 1c: the blank stub
    for cell in released.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        key = grade_id.partition("_")[2]
        if grade_id.startswith("answer_") and key in fills:
            assert cell.source.startswith(f"answer_{key} = None\n")
            cell.source = cell.source.replace(f"answer_{key} = None", f"answer_{key} = {fills[key]}", 1)
        if grade_id == "test_1b":
            cell.source = "pass  # a student's attempt to skip the test"
    folder = tmp_path / "submitted" / "student1" / name
    folder.mkdir(parents=True)
    nbformat.write(released, folder / f"{name}.ipynb")

    nbgrader("autograde", name, f"--Execute.timeout={CELL_TIMEOUT}")
    graded_path = tmp_path / "autograded" / "student1" / name / f"{name}.ipynb"
    if _timed_out(nbformat.read(graded_path, as_version=4)):  # a dropped request (see _execute): again
        nbgrader("autograde", name, f"--Execute.timeout={CELL_TIMEOUT}", "--force")
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        notebook = gb.find_submission_notebook(name, name, "student1")
        scores = {g.name: g.score for g in notebook.grades}
        total, out_of = notebook.score, notebook.max_score
    assert scores == {"test_1a": 1, "test_1b": 0, "test_1c": 0, "test_1d": 1}
    assert (total, out_of) == (2, 4)
    graded = nbformat.read(graded_path, as_version=4)
    assert not _timed_out(graded)
    test_1b = next(c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_1b")
    assert "check(answer_1b)" in test_1b.source, "the locked test cell is restored from the source"
    hints = [o.get("evalue", "") for o in test_1b.outputs if o.output_type == "error"]
    assert hints and "too low" in hints[0], "the failing test shows the self-check's hint"


def test_make_assignments_is_wired_and_its_output_never_committed():
    from tools import tasks

    makefile = (ROOT / "Makefile").read_text()
    assert "assignments:\n\t$(PYTHON) -m tools.tasks assignments\n" in makefile
    assert re.search(r"^\.PHONY:.*\bassignments\b", makefile, re.M)
    assert tasks.plan("assignments")[0][1:] == ["-m", "tools.assignments", "notebooks", "assignments"]
    assert "assignments/" in (ROOT / ".gitignore").read_text().splitlines()
    assert '"assignments"' in re.search(r"extend-exclude = \[.*\]", (ROOT / "pyproject.toml").read_text())[0]
