"""The quiz and exercise machinery every lesson uses, and effective leverage."""

from __future__ import annotations

import math

import pytest

from margin_lib import InvalidInputError, effective_leverage
from margin_lib.exercises import Exercise
from margin_lib.quiz import Question, Quiz

QUIZ = Quiz(
    [
        Question(
            "q1",
            "What does adding isolated margin change?",
            {
                "a": ("The maintenance margin rate", "No: the rate depends on the size, not the wallet."),
                "b": ("The liquidation price", "Yes: more wallet behind the same position."),
                "c": ("The leverage setting", "No: the setting stays; the effective leverage falls."),
            },
            answer="b",
        ),
        Question("q2", "Two choices", {"a": ("x", "right"), "b": ("y", "wrong")}, answer="a"),
    ]
)


def test_every_choice_gets_its_reason():
    assert QUIZ.check("q1", "b") == "Quiz q1: b is right. Yes: more wallet behind the same position."
    assert QUIZ.check("q1", "a") == "Quiz q1: not a. No: the rate depends on the size, not the wallet."
    assert QUIZ.check("q1", " C ") == "Quiz q1: not c. No: the setting stays; the effective leverage falls."
    assert QUIZ.check("q1", None) == "Quiz q1: replace None with your choice, one of a, b, c."
    assert QUIZ.check("q1", "z") == "Quiz q1: choose one of a, b, c; got 'z'."
    assert QUIZ.check("q1", 2) == "Quiz q1: choose one of a, b, c; got 2."
    with pytest.raises(InvalidInputError, match="key must be one of q1, q2; got 'q9'"):
        QUIZ.check("q9", "a")


def test_the_quiz_reads_without_a_kernel_and_hides_its_answers():
    text = QUIZ.show()
    assert text.splitlines()[:4] == [
        "q1. What does adding isolated margin change?",
        "   a) The maintenance margin rate",
        "   b) The liquidation price",
        "   c) The leverage setting",
    ]
    assert "Yes:" not in text  # the reasons are not printed with the questions
    public = [name for q in QUIZ.questions for name in dir(q) if not name.startswith("_")]
    assert "answer" not in public


def test_the_quiz_widget_answers_a_choice():
    box = QUIZ.widget()
    first = box.children[0]
    buttons, answer = first.children[1], first.children[2]
    buttons.value = "a"
    assert "not a" in answer.value
    buttons.value = "b"
    assert "b is right" in answer.value


@pytest.mark.parametrize(
    "build, words",
    [
        (lambda: Question("q", "?", {"a": ("x", "y")}, answer="a"), "needs at least two choices"),
        (lambda: Question("q", "?", {"a": ("x", "y"), "b": ("z", "")}, answer="a"), "both non-empty"),
        (lambda: Question("q", "?", {"a": ("x", "y"), "b": ("z", "w")}, answer="c"), "answer must be one of"),
        (lambda: Quiz([QUIZ.questions[0], QUIZ.questions[0]]), "keys must be distinct"),
    ],
)
def test_malformed_quizzes_are_refused(build, words):
    with pytest.raises(InvalidInputError, match=words):
        build()


def test_an_exercise_exposes_no_answer():
    ex = Exercise("x", "Margin of 2,000 at 4x?", lambda: 500.0, unit="USDT", hint="Divide by the leverage.")
    assert [name for name in dir(ex) if not name.startswith("_")] == [
        "abs_tol", "check", "hint", "key", "question", "rel_tol", "unit",
    ]  # fmt: skip
    assert "500" not in repr(ex) and "500" not in ex.check(400) and "500" not in ex.check(600)
    assert ex.check(500) == "Exercise x: right!"


def test_effective_leverage_is_notional_over_margin_balance():
    # lesson 3's example: 1,000 USDT at 10x after an 8 % fall is 920 of notional behind 20 USDT
    assert effective_leverage(920, 20) == 46.0
    assert effective_leverage(920, 120) == pytest.approx(7.667, abs=1e-3)  # after adding 100
    assert math.isinf(effective_leverage(920, 0)) and math.isinf(effective_leverage(920, -5))
    assert effective_leverage([1_000, 2_000], 100).tolist() == [10.0, 20.0]
    with pytest.raises(InvalidInputError, match="notional must be >= 0; got -1.0"):
        effective_leverage(-1, 100)
