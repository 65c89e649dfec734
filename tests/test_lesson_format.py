"""The format every lesson follows, beyond what strict nbval checks (see tests/test_notebooks.py):
the maths shown and run, sections in order, exercises and a quiz, references and limitations.

These are the checks a reviewer would otherwise make by reading: display formulas each followed
by a cell that computes them, no more than a third of the code cells a bare call into the
lesson's module, short markdown cells that open with their heading, collapsed solutions, a quiz
whose every choice has a reason, the exchange's documentation cited by title and link, and a
lesson module small enough to read.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

from margin_lib.sources import EXCHANGE_PAGES, GUIDE, RULE_BOOK

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MODULES = sorted((ROOT / "margin_lib" / "lessons").glob("*.py"))

#: The section headings of a lesson, in this order (other "## " sections may sit between them).
SECTIONS = ("## Exercises", "## Quiz", "## Solutions", "## Limitations", "## Summary", "## References")

SNAPSHOTS = ("2026-09",)

# the same rule as the hook that reviews a change: a cell made only of these is a bare call
BARE = re.compile(r"^(print\()?\s*lesson\.[\w.]+\(.*\)\)?$|^plt\.show\(\)$|^fig\s*=\s*lesson\.\w+\(.*\)$")
MAX_WORDS = 160  # "no markdown cell runs past ~150 words"
MAX_MODULE_LINES = 400


def _src(cell) -> str:
    return "".join(cell["source"])


def _code_lines(cell) -> list[str]:
    lines = (ln.strip() for ln in _src(cell).splitlines())
    return [ln for ln in lines if ln and not ln.startswith(("#", "%"))]


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def nb(request):
    return json.loads(request.param.read_text())


def _sections(nb) -> list[tuple[str, list[dict]]]:
    """(heading, cells up to the next "## " heading) for every level-2 heading."""
    out: list[tuple[str, list[dict]]] = []
    for cell in nb["cells"]:
        head = _src(cell).lstrip()
        if cell["cell_type"] == "markdown" and head.startswith("## "):
            out.append((head.splitlines()[0].strip(), [cell]))
        elif out:
            out[-1][1].append(cell)
    return out


def _section(nb, title: str) -> list[dict]:
    found = [cells for head, cells in _sections(nb) if head.startswith(title)]
    assert found, f"no {title!r} section"
    return found[0]


def test_the_first_cell_states_the_aim_and_the_disclaimer(nb):
    first = _src(nb["cells"][0])
    assert first.startswith("# Lesson ")
    assert "\n**Aim.** After this lesson you can " in first, "an aim paragraph (the site's index shows it)"
    assert "not trading advice" in first.lower()


def test_sections_in_order_and_the_disclaimer_last(nb):
    heads = [head for head, _ in _sections(nb)]
    at = [next((i for i, h in enumerate(heads) if h.startswith(s)), None) for s in SECTIONS]
    missing = [s for s, i in zip(SECTIONS, at, strict=True) if i is None]
    assert not missing, f"missing sections: {missing}"
    assert at == sorted(at), f"sections out of order: {heads}"
    assert "not trading advice" in _src(nb["cells"][-1]).lower()


def test_formulas_are_typeset_and_each_is_followed_by_a_cell_that_computes_it(nb):
    cells = nb["cells"]
    formulas = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and "$$" in _src(c)]
    assert formulas, "state the lesson's formulas in $$ ... $$"
    for i in formulas:
        if any(_src(cells[i]).lstrip().startswith(s) for s in SECTIONS):
            continue  # a formula quoted in the summary or the references needs no cell of its own
        follow = next((c for c in cells[i + 1 : i + 3] if c["cell_type"] == "code"), None)
        assert follow is not None, f"no code cell right after the formula in: {_src(cells[i])[:80]!r}"
        lines = _code_lines(follow)
        assert lines and not all(BARE.match(ln) for ln in lines), (
            f"the cell after a formula must compute it in the open: {_src(follow)[:80]!r}"
        )


def test_at_most_a_third_of_the_code_cells_are_bare_lesson_calls(nb):
    code = [_code_lines(c) for c in nb["cells"] if c["cell_type"] == "code"]
    code = [c for c in code if c]
    bare = [c for c in code if all(BARE.match(ln) for ln in c)]
    assert len(bare) * 3 <= len(code), f"{len(bare)} of {len(code)} code cells are bare lesson.* calls"


def test_markdown_cells_are_short_and_open_with_their_heading(nb):
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = _src(cell)
        words = len(re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S).split())
        assert words <= MAX_WORDS, f"{words} words in: {text[:80]!r}"
        lines = text.splitlines()
        inner = [ln for ln in lines[1:] if ln.startswith("#")]
        assert not inner, f"a heading inside a cell (start a new cell): {inner[0]!r}"


def test_exercises_make_the_learner_work(nb):
    exercises = _section(nb, "## Exercises")
    code = [_src(c) for c in exercises if c["cell_type"] == "code"]
    prompts = [c for c in code if ".check(" in c and "= None" in c]
    assert len(prompts) >= 3, "at least three exercises with a self-check"
    text = " ".join(_src(c) for c in exercises if c["cell_type"] == "markdown").lower()
    assert "cell" in text, "one exercise asks the learner to change a code cell above"


def test_solutions_are_collapsed_and_interpreted(nb):
    solutions = _section(nb, "## Solutions")
    code = [c for c in solutions if c["cell_type"] == "code"]
    assert code, "worked solutions"
    for cell in code:
        assert cell.get("metadata", {}).get("jupyter", {}).get("source_hidden") is True, (
            f"collapse the solution's code: {_src(cell)[:60]!r}"
        )
    quiz_answers = [c for c in code if "QUIZ.check(" in _src(c)]
    assert quiz_answers, "the quiz's answers, with their reasons, in the teacher's copy"


def test_the_quiz_asks_about_the_misconceptions(nb):
    quiz = _section(nb, "## Quiz")
    text = " ".join(_src(c) for c in quiz)
    assert "QUIZ" in text
    module = re.search(r"from margin_lib\.lessons import (\w+) as lesson", _src(nb["cells"][1]))
    assert module, "the setup cell imports the lesson's module as `lesson`"
    lesson = importlib.import_module(f"margin_lib.lessons.{module.group(1)}")
    questions = lesson.QUIZ.questions
    assert 3 <= len(questions) <= 5
    for q in questions:
        assert len(q.choices) >= 3, f"{q.key}: at least two wrong choices"
        right = [letter for letter in q.choices if "is right" in q.feedback(letter)]
        assert len(right) == 1, f"{q.key}: exactly one right choice"


def test_limitations_and_references(nb):
    limits = " ".join(_src(c) for c in _section(nb, "## Limitations"))
    assert len(limits.split()) >= 40, "say what the model leaves out and what that does to the numbers"
    refs = " ".join(_src(c) for c in _section(nb, "## References"))
    cited = [title for title, url in EXCHANGE_PAGES.items() if title in refs and url in refs]
    assert cited, "cite the exchange's documentation by title and link"
    assert GUIDE in refs, "name the guide the course follows"
    assert RULE_BOOK in refs, "cite the course's rule book"
    assert all(date in refs for date in SNAPSHOTS), "give the tier snapshots with their dates"


def test_no_lesson_points_outside_the_repository():
    texts = [*NOTEBOOKS, ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    texts += list((ROOT / "margin_lib").rglob("*.py")) + list((ROOT / "margin_lib" / "data").rglob("*.json"))
    for path in texts:
        text = path.read_text(encoding="utf-8")
        for words in ("shared/reference", "course's reference", "course reference", "margin-maths.md"):
            assert words not in text, f"{path.relative_to(ROOT)} cites {words!r}: cite {RULE_BOOK}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_lesson_modules_stay_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines: move the maths into the notebook"
