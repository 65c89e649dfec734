"""Lesson 7 (fees and funding): every figure the lesson prints, recomputed here by hand from the
exchange's rules (regular rates: maker 0.02 %, taker 0.05 %, as the article states; funding
−s × Q × P × rate every 8 h; BTCUSDT tier 1 of the 2026-09 snapshot: 0.4 %, cum 0), against the
engine calls the notebook makes and the module's functions; then the widget at its extremes and
with bad input, the plots, the exercises (right answers accepted, the named wrong methods
rejected), the quiz, and the notebook's prose against its own outputs."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from lesson_checks import check_cited_figures_are_printed, check_exercise, check_hint, notebook, section

from margin_lib import funding_payment, liquidation_price, trading_fee
from margin_lib.account import Account
from margin_lib.brackets import BracketTable
from margin_lib.examples import ARTICLE_FEE_RATES
from margin_lib.lessons import fees_and_funding as lesson
from margin_lib.widgets import safe_text

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "07_fees_and_funding.ipynb"
Q, P = 0.1, 100_000.0  # the lesson's position: 0.1 BTC at an illustrative 100,000 USDT
N = Q * P  # 10,000 USDT
MMR = 0.004  # BTCUSDT tier 1
BTC = BracketTable.load("BTCUSDT")


def long_lp(wallet: float) -> float:
    """A long's liquidation price by hand: WB + Q (LP − EP) = Q LP MMR."""
    return (N - wallet) / (Q * (1 - MMR))


def first_liquidating_payment(margin: float, payment: float) -> int:
    """The first k with margin − k × payment <= MM, by hand."""
    return math.ceil((margin - MMR * N) / payment - 1e-12)


# ------------------------------------------------------------------ 1-2: fees
def test_the_lessons_position():
    assert (lesson.QUANTITY, lesson.ENTRY) == (Q, P)


def test_fee_example_and_the_articles_rates():
    assert ARTICLE_FEE_RATES == {"maker": 0.0002, "taker": 0.0005}  # the article's FAQ
    assert f"{trading_fee(10_104, 0.0005):.4f}" == "5.0520"  # 10,104 × 0.05 %
    assert f"{trading_fee(11_104, 0.0002):.4f}" == "2.2208"  # 11,104 × 0.02 %


@pytest.mark.parametrize(
    "lev, taker, maker", [(1, "0.1", "0.04"), (5, "0.5", "0.2"), (20, "2", "0.8"), (125, "12.5", "5")]
)
def test_a_round_trip_is_the_leverage_times_the_rates(lev, taker, maker):
    margin = 1_000
    t = 2 * trading_fee(margin * lev, 0.0005)
    m = 2 * trading_fee(margin * lev, 0.0002)
    assert (f"{100 * t / margin:g}", f"{100 * m / margin:g}") == (taker, maker)  # L × 0.1 %, L × 0.04 %


def test_fees_on_the_margin_would_look_twenty_times_smaller():
    assert 2 * trading_fee(1_000, 0.0005) == pytest.approx(1.0)
    assert 2 * trading_fee(20_000, 0.0005) == pytest.approx(20.0)


@pytest.mark.parametrize("mode", ["isolated", "cross"])
def test_the_same_fees_in_both_modes(mode):
    acct = Account(lesson.WALLET, fee_rate=0.0005)
    acct.set_margin_mode("BTCUSDT", mode)
    acct.open_position("BTCUSDT", "long", notional=20_000, price=P, leverage=20)
    acct.close_position("BTCUSDT", P)
    assert [round(-e.amount, 10) for e in acct.events if e.kind == "fee"] == [10.0, 10.0]  # 20,000 × 0.05 %


# ------------------------------------------------------------------ 3: funding
def test_funding_direction_and_a_week():
    assert funding_payment("long", Q, P, 0.0001) == pytest.approx(-1.0)  # pays 10,000 × 0.01 %
    assert funding_payment("short", Q, P, 0.0001) == pytest.approx(1.0)
    assert funding_payment("long", Q, P, -0.0001) == pytest.approx(1.0)
    assert funding_payment("short", Q, P, -0.0001) == pytest.approx(-1.0)
    assert math.floor(168 / 8) == 21 and 21 * N * 0.0001 == pytest.approx(21.0)


# ------------------------------------------------------------------ 4: the drift
def test_each_payment_moves_the_liquidation_price_by_p_rate_over_1_minus_mmr():
    step = P * 0.0001 / (1 - MMR)
    assert f"{step:.2f}" == "10.04" and f"{21 * step:.2f}" == "210.84"
    assert f"{long_lp(1_000):,.2f}" == "90,361.45" and f"{long_lp(1_000 - 21):,.2f}" == "90,572.29"
    lp_0, lp_21 = (liquidation_price("long", Q, P, wb, brackets=BTC) for wb in (1_000, 979))
    moved = lp_21 - lp_0
    assert moved == pytest.approx(21 * step)
    assert f"{P - long_lp(1_000):,.2f}" == "9,638.55"
    extreme = P * 0.003 / (1 - MMR)
    assert f"{extreme:,.2f}" == "301.20" and f"{21 * extreme:,.2f}" == "6,325.30"
    assert f"{long_lp(1_000 - 21 * 30):,.2f}" == "96,686.75"


@pytest.mark.parametrize("lev, rate", [(10, 0.0001), (10, 0.003), (20, 0.0001)])
def test_the_engine_run_follows_the_formula(lev, rate):
    run = lesson.run_funding(lev, rate)
    margin = N / lev
    assert run.liquidated_at is None and len(run.steps) == 22
    for k, s in enumerate(run.steps):
        assert s.hour == 8 * k
        assert s.wallet == pytest.approx(margin - k * N * rate)
        assert s.liquidation_price == pytest.approx(long_lp(margin - k * N * rate))
    assert run.funding_paid == pytest.approx(21 * N * rate)


def test_funding_gives_a_1x_long_a_liquidation_price():
    year = lesson.run_funding(1, 0.0001, 3 * 365)
    assert year.steps[0].liquidation_price == 0  # none ("--") at opening
    assert year.steps[-1].wallet == pytest.approx(10_000 - 1_095)
    assert f"{year.steps[-1].liquidation_price:,.2f}" == f"{long_lp(10_000 - 1_095):,.2f}" == "10,993.98"


# ------------------------------------------------------------------ 5: funding alone liquidates
@pytest.mark.parametrize("lev, k", [(5, 66), (10, 32), (20, 16), (50, 6)])
def test_the_payment_that_liquidates(lev, k):
    assert first_liquidating_payment(N / lev, N * 0.003) == k  # ⌈(N/L − 40) / 30⌉
    run = lesson.run_funding(lev, 0.003, 100)
    assert run.liquidated_at == k and run.steps[k].mark == P and run.steps[k - 1].state == "open"


def test_the_events_of_a_liquidation_by_funding():
    acct = lesson.open_position(20)
    for _ in range(15):
        assert acct.settle_funding({"BTCUSDT": 0.003})[0].kind == "funding"
    events = acct.settle_funding({"BTCUSDT": 0.003})
    # 500 − 16 × 30 = 20 <= MM 40: closed with no PnL, the 20 USDT left taken
    assert [(e.kind, round(e.amount, 6)) for e in events] == [("funding", -30.0), ("liquidation", 0.0),
                                                               ("clearance", -20.0)]  # fmt: skip
    assert f"{P - long_lp(500):,.2f}" == "4,618.47"


# ------------------------------------------------------------------ 6: post-mortem
def test_post_mortem_price_alone_survives_price_and_funding_do_not():
    real, alone = lesson.post_mortem(True), lesson.post_mortem(False)
    path = lesson.POST_MORTEM["path"]
    paid = sum(Q * m * 0.002 for _, m, due in path if due)  # 19.80 + 19.70 + 19.60 + 19.50
    assert f"{paid:.2f}" == "78.60" and f"{100 * paid / 500:.1f}" == "15.7"
    assert [round(-s.funding, 2) for s in real.steps[1:5]] == [19.8, 19.7, 19.6, 19.5]
    low = min(m for _, m, _ in path)
    assert low == 96_000 and long_lp(500) < low < long_lp(500 - paid)  # the scenario does what it says
    assert f"{long_lp(500):,.2f}" == "95,381.53" and f"{long_lp(500 - paid):,.2f}" == "96,170.68"
    assert alone.liquidated_at is None and real.liquidated_at == len(real.steps) - 1
    assert real.funding_paid == pytest.approx(paid)


# ------------------------------------------------------------------ the widget's text
def test_view_default():
    lines = lesson.view().splitlines()
    assert lines[0].endswith("at 20x -> margin 500.00 USDT.")
    assert lines[1] == "Trading fees (taker 0.05 % of the size, in and out): 10.00 USDT = 2 % of the margin."  # noqa: E501
    assert lines[2] == "Holding 168 h: 21 funding times at +0.01 % per 8 h (longs pay shorts)."
    assert lines[3] == "Funding paid: 21.00 USDT = 4.2 % of the margin."  # 21 / 500
    assert lines[4] == "Total cost (fees + funding): 31.00 USDT = 6.2 % of the margin."
    assert f"{long_lp(500):,.2f} at opening -> {long_lp(479):,.2f}" in lines[5]
    assert f"{long_lp(479) - long_lp(500):,.2f} USDT toward the mark" in lines[5]


def test_view_liquidated_received_and_no_funding():
    text = lesson.view(leverage=20, hours=168, rate_pct=0.3)
    assert "LIQUIDATED by funding alone at funding time 16 (hour 128)" in text
    assert "480.00 USDT of funding had left the isolated wallet" in text  # 16 × 30
    received = lesson.view(leverage=10, hours=24, rate_pct=-0.05)
    assert f"Funding received: {3 * N * 0.0005:.2f} USDT = 1.5 % of the margin." in received
    assert "Net cost (fees − funding received): -5.00 USDT" in received  # 10 − 15
    assert f"{long_lp(1_000):,.2f} at opening -> {long_lp(1_015):,.2f}" in received
    assert "away from the mark" in received
    assert "Holding 7 h: 0 funding times" in lesson.view(hours=7)
    last = lesson.view(hours=7).splitlines()[-1]
    assert last == f"Liquidation price: {long_lp(500):,.2f}, unchanged (wallet 500.00 USDT)."


@pytest.mark.parametrize(
    "values, fragment",
    [
        ({"leverage": 1, "hours": 8_760}, f"-- at opening -> {long_lp(10_000 - 1_095):,.2f}"),  # the extremes
        ({"leverage": 150}, "margin 66.67 USDT"),
        ({"rate_pct": 1}, "LIQUIDATED by funding alone at funding time 5 (hour 40)"),  # ⌈(500 − 40) / 100⌉
        ({"rate_pct": -1}, "Funding received: 2,100.00 USDT"),
        ({"hours": 0}, "Holding 0 h: 0 funding times"),
    ],
)
def test_view_at_the_controls_extremes(values, fragment):
    assert fragment in lesson.view(**values)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"leverage": 0}, "⚠ leverage (x) must be >= 1; got 0.0"),
        ({"leverage": 151}, "⚠ leverage (x) must be at most 150x for a 10,000 USDT BTCUSDT position"),
        ({"rate_pct": 1.01}, "⚠ funding rate (% per 8 h) must be between -1 and +1; got 1.01"),
        ({"rate_pct": -6}, "⚠ funding rate (% per 8 h) must be between -1 and +1; got -6"),
        ({"hours": -1}, "⚠ holding time (hours) must be between 0 and 8,760; got -1"),
        ({"hours": 1e6}, "⚠ holding time (hours) must be between 0 and 8,760; got 1,000,000"),
        ({"hours": float("nan")}, "⚠ holding time (hours) must be a finite number"),
        ({"rate_pct": float("nan")}, "⚠ funding rate (% per 8 h) must be a finite number"),
    ],
)
def test_bad_input_gives_one_line_naming_the_control_and_its_limit(kwargs, message):
    text = safe_text(lesson.view, **kwargs)
    assert text.startswith(message) and "\n" not in text
    assert safe_text(lesson.plot, **kwargs).startswith("⚠")


def test_widget_controls_stop_at_the_limits_the_refusals_quote():
    w = lesson.widget()
    assert len(w.controls) == 3 and type(w.children[-1]).__name__ == "Output"
    lev, rate = w.controls["leverage"], w.controls["rate_pct"]
    assert (lev.min, lev.max) == (1, 150) and (rate.min, rate.max) == (-1.0, 1.0)
    assert {c.description for c in w.controls.values()} == {
        "leverage (x)", "holding time (hours)", "funding rate (% per 8 h)",
    }  # fmt: skip


# ------------------------------------------------------------------ plots
def _legend(fig):
    legend = fig.legends[0]
    return {t.get_text(): h for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)}


def test_the_drift_plot_shows_the_drift_itself():
    fig = lesson.plot(leverage=10, hours=168, rate_pct=0.01)
    ax = fig.axes[0]
    dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"][0]
    assert max(dashed.get_ydata()) == pytest.approx(21 * P * 0.0001 / (1 - MMR))  # 210.84, not flat
    assert ax.get_ylim()[1] < 300  # the scale is the drift's, not the price's
    assert f"{P - long_lp(1_000):,.2f} USDT above" in " ".join(t.get_text() for t in ax.texts)  # 9,638.55
    assert ax.get_title() == "10x, +0.01 % per 8 h: the liquidation price moves 210.84 USDT toward the mark"
    assert ax.get_xlabel() == "hours since opening" and "USDT" in ax.get_ylabel()
    assert tuple(fig.get_size_inches()) == (8.0, 4.2)
    plt.close(fig)


def test_one_meaning_per_colour_and_style_in_every_plot():
    meaning = {}
    figs = [lesson.plot(), lesson.plot(leverage=20, rate_pct=0.3), lesson.plot_post_mortem()]
    for fig in figs:
        for label, handle in _legend(fig).items():
            kind = label.split(",")[0] if label.startswith("liquidation price") else label
            kind = "with funding" if "funding +" in label or "funding -" in label else kind
            kind = "no funding" if "no funding" in label else kind
            kind = "mark price" if label.startswith("mark price") else kind
            line = hasattr(handle, "get_marker")  # a Line2D; else the liquidation's marker
            style = (str(handle.get_color() if line else handle.get_facecolor()),
                     str(handle.get_linestyle() if line else "X"))  # fmt: skip
            assert meaning.setdefault(style, kind) == kind, f"{style} means {meaning[style]} and {kind}"
        plt.close(fig)
    assert {"with funding", "no funding", "liquidation", "mark price"} == set(meaning.values())


def test_a_liquidation_is_marked_where_the_last_payment_puts_the_price():
    fig = lesson.plot(leverage=20, hours=168, rate_pct=0.3)
    ax = fig.axes[0]
    assert any("LIQUIDATED\nat hour 128" == t.get_text() for t in ax.texts)
    x, y = ax.collections[0].get_offsets()[0]
    assert (x, y) == (128, pytest.approx(16 * P * 0.003 / (1 - MMR)))  # above the mark line
    assert ax.get_ylim()[1] > y
    plt.close(fig)
    fig = lesson.plot_post_mortem()
    assert any("at hour 36" in t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)


@pytest.mark.parametrize(
    "values", [{"rate_pct": 0}, {"hours": 0}, {"leverage": 1, "hours": 8_760}, {"rate_pct": -1}]
)
def test_the_plot_at_the_extremes_keeps_a_readable_frame(values):
    fig = lesson.plot(**values)
    low, high = fig.axes[0].get_ylim()
    assert low < 0 < high  # the no-funding line at 0 is inside the frame, not on its edge
    plt.close(fig)


# ------------------------------------------------------------------ exercises
ANSWERS = {
    "7a": 100 * 40_000 * (0.0002 + 0.0005) / 2_000,  # 1.4 %
    "7b": 9 * 0.5 * 100_000 * 0.0001,  # 45 USDT
    "7c": first_liquidating_payment(N / 30, N * 0.001),  # 30
    "7d": (N + 1_000 + 3 * N * 0.0005) / (Q * (1 + MMR)),  # a short receives 3 × 5 USDT
}
WRONG = {
    "7a": [100 * 2_000 * 0.0007 / 2_000, 100 * 40_000 * 0.001 / 2_000, 100 * 40_000 * 0.0004 / 2_000],
    "7b": [10 * 0.5 * 100_000 * 0.0001, 3 * 0.5 * 100_000 * 0.0001],  # 10 funding times; one a day
    "7c": [29, math.ceil(N / 30 / 10)],  # rounded down; the maintenance margin forgotten
    "7d": [(N + 1_000 - 15) / (Q * (1 + MMR)), (N + 1_000) / (Q * (1 + MMR))],  # paid; funding left out
}


def test_the_answers_are_what_the_lesson_says():
    assert ANSWERS["7c"] == 30 and f"{ANSWERS['7d']:,.2f}" == "109,711.16"  # 11,015 / 0.1004


@pytest.mark.parametrize("key", sorted(ANSWERS))
def test_exercises_accept_the_answer_and_reject_the_wrong_methods(key):
    check_exercise(lesson, key, ANSWERS[key], WRONG[key], hidden=("g",))
    check_hint(lesson, key)


# ------------------------------------------------------------------ quiz
def test_the_quiz_right_letters():
    right = {"q1": "a", "q2": "c", "q3": "b", "q4": "c"}
    assert [q.key for q in lesson.QUIZ.questions] == list(right)
    for q in lesson.QUIZ.questions:
        for letter in q.choices:
            assert ("is right" in lesson.QUIZ.check(q.key, letter)) == (letter == right[q.key])


# ------------------------------------------------------------------ the notebook's prose
def test_every_figure_the_prose_cites_is_printed_beside_it():
    check_cited_figures_are_printed(notebook(NOTEBOOK))


def test_the_references_cite_the_funding_rate_page():
    refs = section(notebook(NOTEBOOK), "## References")
    page = "Introduction to Binance Futures Funding Rates"
    assert f"[{page}](https://www.binance.com/en/support/faq/360033525031)" in refs
    assert "(consulted November 2026)" in refs
