"""Short multiple-choice quizzes on the misconceptions a lesson dispels.

Every choice carries its reason: the right one says why it is right, each wrong one says why it
is wrong. :meth:`Quiz.check` answers in a running kernel; :meth:`Quiz.show` prints the questions
(so they read on a page without a kernel too); :meth:`Quiz.widget` offers them as buttons. No
public attribute or method hands out the right letter: a student learns it by choosing.

>>> quiz = Quiz([Question("q1", "Initial margin of 1,000 USDT at 10x?", {
...     "a": ("10 USDT", "That divides by 100: the leverage is 10."),
...     "b": ("100 USDT", "Size over leverage: 1,000 / 10."),
... }, answer="b")])
>>> quiz.check("q1", None)
Quiz q1: replace None with your choice, one of a, b.
>>> quiz.check("q1", "a")
Quiz q1: not a. That divides by 100: the leverage is 10.
>>> quiz.check("q1", "B")
Quiz q1: b is right. Size over leverage: 1,000 / 10.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import InvalidInputError
from .exercises import Feedback

__all__ = ["Question", "Quiz"]


class Question:
    """One question: ``choices`` maps a letter to ``(text, reason)``; ``answer`` is the right
    letter (kept private)."""

    __slots__ = ("key", "prompt", "choices", "_answer")

    def __init__(self, key: str, prompt: str, choices: Mapping[str, tuple[str, str]], *, answer: str) -> None:
        if len(choices) < 2:
            raise InvalidInputError(f"question {key!r} needs at least two choices; got {len(choices)}")
        for letter, pair in choices.items():
            if not (
                isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(t, str) and t for t in pair)
            ):
                raise InvalidInputError(
                    f"question {key!r}, choice {letter!r} must be (text, reason), both non-empty; "
                    f"got {pair!r}"
                )
        if answer not in choices:
            raise InvalidInputError(
                f"question {key!r}: answer must be one of {', '.join(choices)}; got {answer!r}"
            )
        self.key = key
        self.prompt = prompt
        self.choices = dict(choices)
        self._answer = answer

    def letters(self) -> str:
        return ", ".join(self.choices)

    def feedback(self, choice: Any) -> str:
        if choice is None:
            return f"Quiz {self.key}: replace None with your choice, one of {self.letters()}."
        letter = choice.strip().lower() if isinstance(choice, str) else None
        if letter not in self.choices:
            return f"Quiz {self.key}: choose one of {self.letters()}; got {choice!r}."
        reason = self.choices[letter][1]
        if letter == self._answer:
            return f"Quiz {self.key}: {letter} is right. {reason}"
        return f"Quiz {self.key}: not {letter}. {reason}"

    def text(self) -> str:
        lines = [f"{self.key}. {self.prompt}"]
        lines += [f"   {letter}) {text}" for letter, (text, _) in self.choices.items()]
        return "\n".join(lines)


class Quiz:
    """A lesson's quiz: a few :class:`Question` objects, checked one at a time."""

    def __init__(self, questions: Sequence[Question]) -> None:
        keys = [q.key for q in questions]
        if len(set(keys)) != len(keys):
            raise InvalidInputError(f"quiz question keys must be distinct; got {keys}")
        self._questions = {q.key: q for q in questions}

    @property
    def questions(self) -> list[Question]:
        return list(self._questions.values())

    def check(self, key: str, choice: Any) -> Feedback:
        """``"right"`` with the reason, or ``"not x"`` with the reason that choice is wrong."""
        if key not in self._questions:
            raise InvalidInputError(f"key must be one of {', '.join(self._questions)}; got {key!r}")
        return Feedback(self._questions[key].feedback(choice))

    def show(self) -> Feedback:
        """The questions and their choices, as text."""
        return Feedback("\n\n".join(q.text() for q in self._questions.values()))

    def widget(self) -> Any:
        """The quiz as buttons: pick a choice and its reason appears under the question."""
        import ipywidgets as ipw

        rows = []
        for q in self._questions.values():
            buttons = ipw.RadioButtons(
                options=[(f"{letter}) {text}", letter) for letter, (text, _) in q.choices.items()],
                value=None,
                layout=ipw.Layout(width="auto"),
            )
            answer = ipw.HTML("<i>Choose an answer.</i>")

            def show(change: dict, q: Question = q, answer: ipw.HTML = answer) -> None:
                answer.value = html.escape(q.feedback(change["new"]))

            buttons.observe(show, names="value")
            rows.append(
                ipw.VBox([ipw.HTML(f"<b>{html.escape(q.key)}.</b> {html.escape(q.prompt)}"), buttons, answer])
            )
        return ipw.VBox(rows)
