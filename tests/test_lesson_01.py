"""Lesson 1 (initial margin): every figure the lesson prints, held against the article's stated
figures or arithmetic done here by hand; the widget's functions at their extremes and with bad
values; the exercises against the usual wrong methods; the quiz; the plot as a picture."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from lesson_checks import cell_text, check_exercise, check_hint, check_quiz, notebook, outputs

from margin_lib import (
    BracketTable,
    OrderRefusedError,
    average_entry_price,
    initial_margin,
    notional,
    return_on_equity,
    trading_fee,
    unrealized_pnl,
)
from margin_lib.account import Account
from margin_lib.examples import INITIAL_MARGIN_EXAMPLES
from margin_lib.lessons import initial_margin as lesson
from margin_lib.widgets import safe_text

TIERS = BracketTable.load("BTCUSDT")


# -- the figures of sections 1 to 8, by hand ------------------------------------------------------
def test_section_1_size_and_margin():
    assert notional(0.01, 100_000) == pytest.approx(1_000)  # 0.01 BTC × 100,000
    assert initial_margin(1_000, 10) == pytest.approx(100)  # 1,000 / 10


@pytest.mark.parametrize("lev, shown", [(5, "20 %"), (10, "10 %"), (20, "5 %"), (125, "0.8 %")])
def test_section_2_the_rate_is_one_over_the_leverage(lev, shown):
    assert lesson.percent(initial_margin(1_000, lev) / 1_000) == lesson.percent(1 / lev) == shown
    for size in (100, 1_000, 1_000_000):
        assert initial_margin(size, 10) / size == pytest.approx(0.1)


@pytest.mark.parametrize("ex", INITIAL_MARGIN_EXAMPLES, ids=lambda e: f"{e.notional:g}@{e.leverage:g}x")
def test_section_3_the_articles_examples(ex):
    assert initial_margin(ex.notional, ex.leverage) == pytest.approx(ex.stated_margin)


@pytest.mark.parametrize("lev, roe", [(5, -0.05), (10, -0.10), (20, -0.20)])
def test_section_4_a_one_per_cent_fall_costs_leverage_per_cent(lev, roe):
    assert unrealized_pnl("long", 0.01, 100_000, 99_000) == pytest.approx(-10)  # 0.01 × −1,000
    assert return_on_equity("long", 0.01, 100_000, 99_000, lev) == pytest.approx(roe)
    assert lesson.percent(roe) == f"{roe * 100:g} %"
    # a fall of 1 / L takes the whole margin
    assert return_on_equity("long", 0.01, 100_000, 100_000 * (1 - 1 / lev), lev) == pytest.approx(-1)


def test_section_5_one_margin_three_positions():
    for size, lev in [(500, 5), (1_000, 10), (10_000, 100)]:
        assert initial_margin(size, lev) == pytest.approx(100)


def test_section_6_the_tiers_cap_the_leverage_by_size():
    assert [TIERS.max_leverage(n) for n in (1_000, 500_000, 5_000_000, 150_000_000)] == [150, 100, 50, 10]
    # a new account: the lower of the tier's maximum and 20x
    assert [min(TIERS.max_leverage(n), lesson.NEW_ACCOUNT_CAP) for n in (1_000, 500_000, 150_000_000)] == [
        20, 20, 10,
    ]  # fmt: skip
    with pytest.raises(ValueError, match=r"at most 100x for a 500,000 USDT BTCUSDT position .* got 120x"):
        TIERS.check_leverage(500_000, 120)


def test_section_7_the_fee_is_on_the_size_and_the_three_ways_out():
    assert trading_fee(1_000, 0.0005) == pytest.approx(0.5)  # 0.05 % of 1,000
    for lev, share in [(5, "0.25 %"), (10, "0.5 %"), (20, "1 %")]:
        assert lesson.percent(0.5 / initial_margin(1_000, lev)) == share
    acct = Account(50, fee_rate=0.0005)
    with pytest.raises(OrderRefusedError) as refused:
        acct.open_position("BTCUSDT", "long", notional=1_000, price=100_000, leverage=10)
    assert "initial margin 100.00 + opening fee 0.50 = 100.50 USDT, but only 50.00 USDT" in str(refused.value)
    for way in ("transfer funds", "reduce the position size", "raise the leverage (up to 150x"):
        assert way in str(refused.value)
    # wallet, size, leverage -> what is left: 150 − 100 − 0.5; 50 − 40 − 0.2; 50 − 40 − 0.5
    for wallet, size, lev, left in [(150, 1_000, 10, 49.5), (50, 400, 10, 9.8), (50, 1_000, 25, 9.5)]:
        acct = Account(wallet, fee_rate=0.0005)
        acct.open_position("BTCUSDT", "long", notional=size, price=100_000, leverage=lev)
        assert acct.report().available_balance == pytest.approx(left)


def test_section_8_doubling_the_leverage_halves_the_margin():
    assert [initial_margin(1_000, lev) for lev in (10, 20, 40, 80)] == pytest.approx([100, 50, 25, 12.5])


# -- the widget's text -----------------------------------------------------------------------------
@pytest.mark.parametrize("ex", INITIAL_MARGIN_EXAMPLES, ids=lambda e: f"{e.notional:g}@{e.leverage:g}x")
def test_view_prints_the_articles_margin(ex):
    text = lesson.view(ex.notional, ex.leverage)
    assert f"needs {ex.stated_margin:,.2f} USDT of initial margin" in text
    assert f"That is {100 / ex.leverage:g} % of the position" in text
    assert f"costs {ex.leverage:g} % of that margin; a {100 / ex.leverage:g} % move costs all of it" in text


def test_view_at_the_slider_ends_and_for_tiny_and_huge_sizes():
    low = lesson.view(1_000, 1)
    assert "needs 1,000.00 USDT" in low and "That is 100 %" in low and "Above 20x" not in low
    high = lesson.view(1_000, 150)
    assert "needs 6.67 USDT" in high  # 1,000 / 150
    assert "a 0.667 % move costs all of it" in high
    assert "Above 20x: an account registered less than 60 days ago could not open this." in high
    tiny = lesson.view(0.01, 150)
    assert "A 0.01 USDT position" in tiny and "needs 0.00006667 USDT" in tiny  # 0.01 / 150
    huge = lesson.view(1_700_000_000, 1)
    assert "allows up to 1x at this size." in huge and "younger" not in huge


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(notional=1_000, leverage=0), "⚠ leverage must be >= 1; got 0.0"),
        (
            dict(notional=500_000, leverage=120),
            "⚠ leverage must be at most 100x for a 500,000 USDT BTCUSDT position (tier 2's maximum); "
            "got 120x",
        ),
        (
            dict(notional=1_000, leverage=151),  # one above the slider's end: the tier's limit is quoted
            "⚠ leverage must be at most 150x for a 1,000 USDT BTCUSDT position (tier 1's maximum); got 151x",
        ),
        (dict(notional=-1_000, leverage=10), "⚠ notional must be > 0; got -1000.0"),
        (dict(notional=0, leverage=10), "⚠ notional must be > 0; got 0.0"),
        (dict(notional=float("nan"), leverage=10), "⚠ notional must be a finite number > 0; got nan"),
        (dict(notional=2e9, leverage=1), "⚠ notional must be below 1,800,000,000 USDT"),
    ],
)
def test_bad_widget_input_gives_one_line_naming_the_limit(values, message):
    text = safe_text(lesson.view, **values)
    assert text.startswith(message) and "\n" not in text


def test_percent_and_money_carry_only_the_decimals_they_need():
    assert [lesson.percent(x) for x in (0.1, 0.095, 0.095477, -0.08, 0.0, 1 / 7)] == [
        "10 %", "9.5 %", "9.548 %", "-8 %", "0 %", "14.286 %",
    ]  # fmt: skip
    assert [lesson.money(x) for x in (1_000, 0.5, 0.01, 6.6667e-5)] == [
        "1,000.00 USDT", "0.50 USDT", "0.01 USDT", "0.00006667 USDT",
    ]  # fmt: skip


# -- exercises and quiz ----------------------------------------------------------------------------
ANSWERS = {
    "1a": 0.05 * 100_000 / 25,  # 200
    "1b": 26,  # 1,000 / L + 0.50 <= 40  ->  L >= 25.3  ->  26
    "1c": 3 * 20,  # 60 %
    "1d": 500_000,  # 5,000 × 100 in tier 2 (5,000 × 150 = 750,000 is not tier 1)
}
WRONG = {
    "1a": [0.05 / 25, 5_000 * 25, 0.01 * 100_000 / 25],  # coins not USDT; times L; the cell not changed
    "1b": [25, 1_000 / 39.5],  # the fee forgotten; not a whole step
    "1c": [3, 3 / 20, 20],  # the move itself; divided; a 1 % move
    "1d": [750_000, 300_000, 5_000 * 75],  # 150x at any size; tier 1 only; tier 3's leverage
}


@pytest.mark.parametrize("key", sorted(ANSWERS))
def test_exercises_accept_the_answer_and_reject_the_usual_mistakes(key):
    check_exercise(lesson, key, ANSWERS[key], WRONG[key])


@pytest.mark.parametrize("key", sorted(ANSWERS))
def test_hints_name_the_method_not_a_number(key):
    check_hint(lesson, key)


def test_exercise_1a_is_the_cell_of_section_1_changed():
    assert initial_margin(notional(0.05, 100_000), 25) == pytest.approx(ANSWERS["1a"])


@pytest.mark.parametrize("key, right", [("q1", "b"), ("q2", "b"), ("q3", "b"), ("q4", "c")])
def test_quiz_right_letters_say_right_and_every_other_gives_its_reason(key, right):
    check_quiz(lesson, key, right)


# -- the plot --------------------------------------------------------------------------------------
def _texts_overlap(fig) -> list[tuple[str, str]]:
    fig.canvas.draw()
    boxes = [
        (t.get_text(), t.get_window_extent())
        for ax in fig.axes
        for t in [*ax.texts, ax.title, *ax.get_xticklabels(), *ax.get_yticklabels()]
        if t.get_text() and t.get_visible()
    ]
    return [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1 :] if ba.overlaps(bb)]


def test_plot_is_log_log_with_readable_ticks():
    fig = lesson.plot(1_000, 10)
    (ax,) = fig.axes
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert ax.get_xlabel() == "leverage (x, log scale)" and "USDT" in ax.get_ylabel()
    fig.canvas.draw()
    xt = [t.get_text() for t in ax.get_xticklabels()]
    assert xt == ["1", "2", "5", "10", "20", "50", "100", "150"]
    yt = [t.get_text() for t in ax.get_yticklabels()]
    assert {"5", "10", "100", "1,000"} <= set(yt)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "BTCUSDT maximum at this size: 150x" in labels
    assert "accounts younger than 60 days: 20x" in labels
    assert "your choice: 10x needs 100.00 USDT" in labels
    assert tuple(fig.get_size_inches()) == (8.0, 4.2)
    assert not _texts_overlap(fig)
    plt.close(fig)


def test_the_line_has_slope_minus_one_on_the_log_axes():
    fig = lesson.plot(1_000, 10)
    x, y = fig.axes[0].lines[0].get_data()
    slope = (math.log(y[-1]) - math.log(y[0])) / (math.log(x[-1]) - math.log(x[0]))
    assert slope == pytest.approx(-1)
    plt.close(fig)


@pytest.mark.parametrize(
    "size, lev", [(1_000, 1), (1_000, 150), (0.01, 150), (1_700_000_000, 1), (20_000_000, 25), (1e6, 75)]
)
def test_plot_at_the_controls_extremes(size, lev):
    fig = lesson.plot(size, lev)
    (ax,) = fig.axes
    fig.canvas.draw()
    yt = [t.get_text() for t in ax.get_yticklabels()]
    assert len(yt) >= 3 and len(set(yt)) == len(yt) and set(yt) != {"0"}
    low, high = ax.get_ylim()
    assert low < size / 150 and size < high < size * 2  # the data fit, with little to spare
    most = TIERS.max_leverage(size)
    assert f"{most:g}" in [t.get_text() for t in ax.get_xticklabels()]
    assert not _texts_overlap(fig)
    plt.close(fig)


def test_widget_builds_with_the_slider_the_tiers_allow(capsys):
    w = lesson.widget()
    assert type(w).__name__ == "VBox"
    size, lev = w.controls["notional"], w.controls["leverage"]
    assert (size.value, lev.value, lev.min, lev.max) == (1_000, 10, 1, 150)
    capsys.readouterr()
    size.value = 500_000
    lev.value = 120
    assert "⚠ leverage must be at most 100x" in capsys.readouterr().out
    plt.close("all")


def test_section_9s_entry_is_the_quantity_weighted_average_and_keeps_the_fills_pnl():
    """0.01 BTC at 100,000 and 0.02 at 95,000, worked by hand: 2,900 / 0.03 = 96,666.67; at 98,000
    the fills make -20 + 60 = 40 USDT, and so does the averaged position."""
    entry = average_entry_price([100_000, 95_000], [0.01, 0.02])
    assert entry == pytest.approx(2_900 / 0.03)
    assert unrealized_pnl("long", 0.03, entry, 98_000) == pytest.approx(-20 + 60)
    nb = notebook(Path(__file__).resolve().parents[1] / "notebooks" / "01_initial_margin.ipynb")
    start = next(i for i, c in enumerate(nb["cells"]) if cell_text(c).startswith("## 9. Several fills"))
    printed = outputs({"cells": nb["cells"][start : start + 3]})
    assert "96,666.67 USDT entry (engine)" in printed and "97,500.00 USDT plain average" in printed
    assert "40.00 USDT PnL of the position; 40.00 USDT the fills' PnLs added" in printed
