"""Lesson 1 (initial margin): the widget's functions, driven with the article's values and bad ones."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from margin_lib.examples import INITIAL_MARGIN_EXAMPLES
from margin_lib.lessons import initial_margin as lesson
from margin_lib.widgets import safe_text


@pytest.mark.parametrize("ex", INITIAL_MARGIN_EXAMPLES, ids=lambda e: f"{e.notional:g}@{e.leverage:g}x")
def test_view_prints_the_articles_margin(ex):
    text = lesson.view(ex.notional, ex.leverage)
    assert f"needs {ex.stated_margin:,.2f} USDT of initial margin" in text
    assert f"That is {100 / ex.leverage:.3f} %" in text


def test_examples_table_shows_engine_and_article_side_by_side():
    lines = lesson.examples_table().splitlines()
    assert len(lines) == 2 + len(INITIAL_MARGIN_EXAMPLES)
    for line, ex in zip(lines[2:], INITIAL_MARGIN_EXAMPLES, strict=True):
        cells = [c.strip() for c in line.split("|")]
        assert cells[2] == cells[3] == f"{ex.stated_margin:,.2f} USDT"


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(notional=1_000, leverage=0), "⚠ leverage must be >= 1; got 0.0"),
        (
            dict(notional=500_000, leverage=120),
            "⚠ leverage must be at most 100x for a 500,000 USDT BTCUSDT position (tier 2's maximum)",
        ),
        (dict(notional=-1_000, leverage=10), "⚠ notional must be > 0; got -1000.0"),
        (dict(notional=float("nan"), leverage=10), "⚠ notional must be a finite number > 0; got nan"),
        (dict(notional=2e9, leverage=1), "⚠ notional must be below 1,800,000,000 USDT"),
    ],
)
def test_bad_widget_input_gives_a_short_message(values, message):
    assert safe_text(lesson.view, **values).startswith(message)


def test_try_to_open_shows_refusal_and_the_three_ways_out():
    refused = lesson.try_to_open(wallet=50, notional=1_000, leverage=10)
    assert refused.startswith("Refused: insufficient available balance")
    for way in ("transfer funds", "reduce the position size", "raise the leverage"):
        assert way in refused
    assert lesson.try_to_open(wallet=150, notional=1_000, leverage=10).startswith("Opened: 100.00 USDT")
    assert lesson.try_to_open(wallet=50, notional=400, leverage=10).startswith("Opened: 40.00 USDT")
    assert lesson.try_to_open(wallet=50, notional=1_000, leverage=25).startswith("Opened: 40.00 USDT")


def test_exercises_say_right_or_hint_without_the_answer():
    answers = {"1a": 2_500 / 25, "1b": 1_000 / 40, "1c": 2 * 20}
    for key, ex in lesson.EXERCISES.items():
        assert ex.check(answers[key]).endswith("right!")
        wrong = ex.check(answers[key] * 1.5)
        assert "too high" in wrong and "Hint:" in wrong
        assert f"{answers[key]:g}" not in wrong
        assert "replace None" in ex.check(None)
        assert "finite number" in ex.check("ten")


def test_plot_has_labelled_axes_and_marks_the_tier_maximum():
    fig = lesson.plot(1_000, 10)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "leverage (x)"
    assert "USDT" in ax.get_ylabel()
    assert any("tier maximum 150x" in t.get_text() for t in ax.texts)
    assert tuple(fig.get_size_inches()) == (8.0, 4.2)
    plt.close(fig)


def test_widget_builds():
    w = lesson.widget()
    assert type(w).__name__ == "VBox"
