"""The rules every lesson notebook follows (strict nbval itself runs the cells: see the Makefile)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IGNORE = "nbval-ignore-output"
ARTICLE = "article-numbers"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _text(cell):
    return "".join(cell["source"])


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def nb(request):
    return json.loads(request.param.read_text())


def test_there_are_lessons():
    assert len(NOTEBOOKS) >= 1


def test_stored_executed_top_to_bottom(nb):
    counts = [c.get("execution_count") for c in _code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1))
    assert all(o.get("output_type") != "error" for c in _code_cells(nb) for o in c.get("outputs", []))


def test_at_most_a_third_of_code_cells_ignore_output(nb):
    code = _code_cells(nb)
    ignored = [c for c in code if IGNORE in _tags(c)]
    assert len(ignored) * 3 <= len(code)


def test_only_widget_cells_ignore_output(nb):
    for cell in _code_cells(nb):
        if IGNORE in _tags(cell):
            views = [o for o in cell.get("outputs", []) if WIDGET_VIEW in o.get("data", {})]
            assert views, f"ignored cell without a widget: {_text(cell)[:80]!r}"


def test_article_numbers_are_printed_by_checked_cells(nb):
    if _index(nb) > 5:  # lessons beyond the article have no article numbers of their own
        return
    cells = [c for c in _code_cells(nb) if ARTICLE in _tags(c)]
    assert cells, "tag the cells that print the article's numbers with 'article-numbers'"
    for cell in cells:
        assert IGNORE not in _tags(cell)
        assert any(o.get("output_type") in ("stream", "execute_result") for o in cell["outputs"])


def test_has_a_widget_with_saved_state_and_a_plot(nb):
    outputs = [o for c in _code_cells(nb) for o in c.get("outputs", [])]
    assert any(WIDGET_VIEW in o.get("data", {}) for o in outputs), "no widget displayed"
    assert nb["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json"), (
        "widget state not saved"
    )
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert figures, "no plot"
    for fig in figures:
        assert "".join(fig["data"]["text/plain"]).startswith("<Figure size"), "figures need an explicit size"


def test_exercises_with_self_checks_and_solutions(nb):
    code = [_text(c) for c in _code_cells(nb)]
    prompts = [t for t in code if ".check(" in t and "= None" in t]
    assert len(prompts) >= 2, "at least two exercises with a self-check"
    markdown = " ".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "## Solutions" in markdown
    assert "## Summary" in markdown


def test_setup_and_disclaimer(nb):
    first_code = _text(_code_cells(nb)[0])
    assert "use_course_style()" in first_code
    last = "".join(nb["cells"][-1]["source"])
    assert "not trading advice" in last.lower()


def _index(nb) -> int:
    title = "".join(nb["cells"][0]["source"])
    return int(title.split("Lesson", 1)[1].split()[0])
