"""Lesson 6 (the exact liquidation price): every figure the lesson prints, recomputed here by hand
from the exchange's rules and the BTCUSDT tiers of the 2026-09 snapshot (tier 1 0.4 % / cum 0,
tier 2 0.5 % / cum 300, tier 3 0.65 % / cum 1,500, tier 4 1 % / cum 12,000) or taken from the
article's stated figures, against the engine calls the notebook makes and the module's functions;
then the widget at its extremes and with bad input, the exercises (right answers accepted, the
named wrong methods rejected), the quiz, and the notebook's prose against its own outputs."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from lesson_checks import check_cited_figures_are_printed, check_exercise, check_hint, notebook, section

from margin_lib import (
    BracketTable,
    adverse_move_to_liquidation,
    bankruptcy_price,
    error_tolerance,
    liquidation_price,
    maintenance_margin,
    unrealized_pnl,
)
from margin_lib.examples import CASE_A, ISOLATED_EXAMPLE
from margin_lib.lessons import liquidation_price as lesson
from margin_lib.liquidation import effective_wallet
from margin_lib.widgets import safe_text

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "06_liquidation_price.ipynb"
EP = 100_000.0  # the course's illustrative BTC entry
SIZE = ISOLATED_EXAMPLE.positions[0].notional  # 1,000 USDT, the article's trade
WB = ISOLATED_EXAMPLE.stated["initial_margin"]  # 100 USDT, as the article states
Q = SIZE / EP  # 0.01 BTC
TIER1, TIER2, TIER3, TIER4 = (0.004, 0.0), (0.005, 300.0), (0.0065, 1_500.0), (0.01, 12_000.0)
BTC = BracketTable.load("BTCUSDT")


def long_lp(q, ep, wb, tier):
    mmr, cum = tier
    return (q * ep - wb - cum) / (q * (1 - mmr))


def short_lp(q, ep, wb, tier):
    mmr, cum = tier
    return (q * ep + wb + cum) / (q * (1 + mmr))


# ------------------------------------------------------------------ sections 1 to 4: the equation
@pytest.mark.parametrize(
    "mark, mb, mm",
    [(100_000, 100.0, 4.0), (95_000, 50.0, 3.8), (91_000, 10.0, 3.64), (90_000, 0.0, 3.6)],
)
def test_both_sides_of_the_equation_at_a_few_marks(mark, mb, mm):
    # MB = 100 + 0.01 × (mark − 100,000); MM = 0.01 × mark × 0.4 %
    assert lesson.ENTRY == EP
    assert WB + unrealized_pnl("long", Q, EP, mark) == pytest.approx(mb)
    assert float(BTC.maintenance_margin(Q * mark)) == pytest.approx(mm)


def test_the_long_and_the_short_by_hand_and_by_the_engine():
    lp = long_lp(Q, EP, WB, TIER1)
    assert f"{lp:,.2f}" == "90,361.45"  # 900 / 0.00996
    assert liquidation_price("long", Q, EP, WB, brackets=BTC) == pytest.approx(lp, rel=1e-12)
    assert WB + Q * (lp - EP) == pytest.approx(Q * lp * 0.004)  # MB = MM there
    assert f"{Q * lp * 0.004:.4f}" == "3.6145"
    sp = short_lp(Q, EP, WB, TIER1)
    assert f"{sp:,.2f}" == "109,561.75"  # 1,100 / 0.01004
    assert liquidation_price("short", Q, EP, WB, brackets=BTC) == pytest.approx(sp, rel=1e-12)


def test_the_distance_from_the_entry_long_further_short_closer():
    assert f"{error_tolerance(10, 0.005):.3%}" == "9.500%"
    assert f"{adverse_move_to_liquidation('long', 10, 0.005):.3%}" == f"{0.095 / 0.995:.3%}" == "9.548%"
    assert f"{adverse_move_to_liquidation('short', 10, 0.005):.3%}" == f"{0.095 / 1.005:.3%}" == "9.453%"
    assert f"{1 - long_lp(Q, EP, WB, TIER1) / EP:.3%}" == f"{0.096 / 0.996:.3%}" == "9.639%"


# ------------------------------------------------------------------ section 5: bankruptcy, events
def test_bankruptcy_price_and_the_gap_is_the_maintenance_margin():
    lp = long_lp(Q, EP, WB, TIER1)
    assert bankruptcy_price("long", Q, EP, WB) == EP - WB / Q == 90_000
    assert Q * (lp - 90_000) == pytest.approx(Q * lp * 0.004)
    assert f"{Q * (lp - 90_000):.2f}" == "3.61"


def test_a_liquidation_takes_the_whole_isolated_wallet():
    acct = ISOLATED_EXAMPLE.build_account(tiers="exchange")
    events = acct.mark({"BTCUSDT": 90_350})
    assert [(e.kind, round(e.amount, 2)) for e in events] == [
        ("liquidation", round(Q * (90_350 - EP), 2)),  # -96.50 realised at the mark
        ("clearance", round(-(WB + Q * (90_350 - EP)), 2)),  # -3.50 left, taken
    ]
    assert -sum(e.amount for e in events) == pytest.approx(ISOLATED_EXAMPLE.stated["loss_if_liquidated"])
    assert acct.report().wallet_balance == pytest.approx(ISOLATED_EXAMPLE.stated["free"])


def test_a_gap_past_bankruptcy_is_covered_by_the_insurance_fund():
    acct = ISOLATED_EXAMPLE.build_account(tiers="exchange")
    events = acct.mark({"BTCUSDT": 89_000})
    assert [(e.kind, round(e.amount, 2)) for e in events] == [("liquidation", -110.0), ("insurance", 10.0)]
    assert acct.report().wallet_balance == pytest.approx(ISOLATED_EXAMPLE.stated["free"])


# ------------------------------------------------------------------ section 6: cum
def test_cum_rebuilt_by_the_recursion():
    cum, rows = 0.0, []
    for prev, tier in zip(list(BTC)[:4], list(BTC)[1:5], strict=True):
        cum += tier.notional_floor * (tier.mmr - prev.mmr)
        rows.append((tier.bracket, round(cum, 6), tier.maintenance_amount))
    # by hand: 300,000 × 0.1 %, + 800,000 × 0.15 %, + 3,000,000 × 0.35 %, + 12,000,000 × 1 %
    assert rows == [
        (2, 300.0, 300.0), (3, 1_500.0, 1_500.0), (4, 12_000.0, 12_000.0), (5, 132_000.0, 132_000.0),
    ]  # fmt: skip


def test_cum_keeps_the_maintenance_margin_continuous():
    assert 800_000 * 0.005 - 300 == 800_000 * 0.0065 - 1_500 == 3_700
    assert maintenance_margin(799_999.99, *TIER2) == pytest.approx(3_700, abs=0.01)
    assert maintenance_margin(800_000, *TIER3) == pytest.approx(3_700)
    assert (800_000 * 0.005, 800_000 * 0.0065) == (4_000, 5_200)  # without cum


# ------------------------------------------------------------------ section 7: the tier fixed point
def test_the_tier_example_candidates_and_the_fixed_point():
    q, wb = 7.5, 150_000.0
    assert lesson.TIER_EXAMPLE == {"side": "short", "size": 750_000.0, "leverage": 5.0}
    assert BTC.bracket_for(750_000).bracket == 2
    candidates = [short_lp(q, EP, wb, t) for t in (TIER1, TIER2, TIER3, TIER4)]
    assert [f"{lp:,.2f}" for lp in candidates] == ["119,521.91", "119,442.79", "119,423.75", "120,396.04"]
    floors = [(0, 300_000), (300_000, 800_000), (800_000, 3_000_000), (3_000_000, 12_000_000)]
    inside = [lo <= q * lp < hi for lp, (lo, hi) in zip(candidates, floors, strict=True)]
    assert inside == [False, False, True, False]  # exactly one tier holds its own candidate
    assert liquidation_price("short", q, EP, wb, brackets=BTC) == pytest.approx(candidates[2], rel=1e-12)


def test_the_entry_tier_is_late_and_cum_left_out_is_early():
    q, wb = 7.5, 150_000.0
    right, wrong = short_lp(q, EP, wb, TIER3), short_lp(q, EP, wb, TIER2)
    no_cum = short_lp(q, EP, wb, (0.0065, 0))
    # the true headroom MB − MM, with tier 3 (which holds Q × price at both)
    assert f"{wb - q * (wrong - EP) - (q * wrong * 0.0065 - 1_500):,.2f}" == "-143.73"
    assert f"{wrong - right:.2f}" == "19.04"
    assert f"{no_cum:,.2f}" == "119,225.04" and f"{right - no_cum:.2f}" == "198.71"
    assert wb - q * (no_cum - EP) - (q * no_cum * 0.0065 - 1_500) == pytest.approx(1_500)


# ------------------------------------------------------------------ section 8: cross
def test_the_cross_wallet_of_case_a_and_its_liquidation_price():
    eth_notional = CASE_A.positions[1].notional * (1 + CASE_A.moves["ETHUSDT"])  # 5,250
    wb = CASE_A.wallet - eth_notional * 0.004 + CASE_A.stated["eth_pnl"]  # 1,000 − 21 + 250
    assert wb == pytest.approx(1_229)
    assert effective_wallet(1_000, 21, 250) == pytest.approx(wb)
    q = CASE_A.positions[0].notional / EP
    lp = long_lp(q, EP, wb, TIER1)
    assert f"{lp:,.2f}" == "75,722.89"
    acct = CASE_A.build_account(tiers="exchange")
    acct.mark(CASE_A.marks({"ETHUSDT": CASE_A.moves["ETHUSDT"], "BTCUSDT": 0.0}))
    assert acct.report().position("BTCUSDT").liquidation_price == pytest.approx(lp, rel=1e-9)


def test_the_cross_liquidation_price_moves_with_the_other_position():
    wb = 1_000 - 4_750 * 0.004 - 250  # ETH down 5 %: MM 19, loss 250
    lp = long_lp(0.05, EP, wb, TIER1)
    assert f"{lp:,.2f}" == "85,722.89"
    acct = CASE_A.build_account(tiers="exchange")
    acct.mark(CASE_A.marks({"ETHUSDT": -CASE_A.moves["ETHUSDT"], "BTCUSDT": 0.0}))
    assert acct.report().position("BTCUSDT").liquidation_price == pytest.approx(lp, rel=1e-9)


# ------------------------------------------------------------------ section 9: mark vs last
def test_the_wick_crosses_only_the_last_price():
    lp = long_lp(Q, EP, WB, TIER1)
    assert lesson.wick_lp() == pytest.approx(lp)
    below = [i for i, p in enumerate(lesson.WICK_LAST) if p < lp]
    assert below == [5] and min(lesson.WICK_MARK) > lp
    assert lesson.wick_run(lesson.WICK_MARK) == ["open"] * 10
    assert lesson.wick_run(lesson.WICK_LAST) == ["open"] * 5 + ["LIQUIDATED"] + ["gone"] * 4


def test_plot_wick_is_labelled():
    fig = lesson.plot_wick()
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("minute") and ax.get_ylabel() == "BTC price (USDT)"
    assert f"liquidation price {long_lp(Q, EP, WB, TIER1):,.2f}" in [t.get_text() for t in ax.texts]
    assert any(line.get_linestyle() == "--" for line in ax.get_lines())
    assert tuple(fig.get_size_inches()) == (8.0, 4.2)
    plt.close(fig)


# ------------------------------------------------------------------ the widget's text
def test_view_at_the_articles_trade():
    lines = lesson.view().splitlines()
    assert lines[1] == "Money behind it: the isolated wallet, 100.00 USDT."
    assert lines[2] == (
        "Liquidation price: 90,361.45 (-9.639 % from the entry), tier 1 (MMR 0.4 %, cum 0 USDT)."
    )
    assert lines[3] == "Bankruptcy price: 90,000.00 (-10 % from the entry)."


def test_view_cross_short_with_other_positions_changes_tier():
    text = lesson.view(side="short", size=750_000, leverage=5, mode="cross", wallet=200_000,
                       other_mm=1_000, other_upnl=-5_000)  # fmt: skip
    wb = 200_000 - 1_000 - 5_000
    lp = short_lp(7.5, EP, wb, TIER3)
    assert 7.5 * lp >= 800_000
    assert f"= {wb:,.2f} USDT." in text
    assert f"Liquidation price: {lp:,.2f} (+25.253 % from the entry), tier 3 (MMR 0.65 %, cum 1,500" in text
    assert f"Bankruptcy price: {EP + wb / 7.5:,.2f} (+25.867 % from the entry)." in text


@pytest.mark.parametrize(
    "values, line",
    [
        (dict(leverage=1), "Liquidation price: none (--)"),  # a 1x long covers every loss
        (dict(leverage=1, side="short"), f"Liquidation price: {short_lp(Q, EP, 1_000, TIER1):,.2f} (+99.203"),
        (dict(leverage=150), f"Liquidation price: {long_lp(Q, EP, SIZE / 150, TIER1):,.2f}"),
        (dict(wallet=150), f"Liquidation price: {long_lp(Q, EP, 150, TIER1):,.2f}"),
    ],
)
def test_view_at_the_controls_extremes(values, line):
    assert line in lesson.view(**values)


def test_isolated_ignores_the_other_positions():
    assert lesson.view(other_mm=50, other_upnl=-80) == lesson.view()


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(leverage=0), "⚠ leverage (x) must be >= 1; got 0.0"),
        (dict(leverage=151), "⚠ leverage (x) must be at most 150x for a 1,000 USDT BTCUSDT position"),
        (dict(size=500_000, leverage=120), "⚠ leverage (x) must be at most 100x for a 500,000 USDT"),
        (dict(size=-5), "⚠ size (USDT) must be > 0; got -5.0"),
        (dict(size=float("nan")), "⚠ size (USDT) must be a finite number > 0; got nan"),
        (dict(size=2e9), "⚠ size (USDT) must be below 1,800,000,000 USDT"),
        (dict(wallet=-1), "⚠ wallet (USDT, 0 = IM) must be >= 0; got -1.0"),
        (dict(entry=0), "⚠ entry price (USDT) must be > 0"),
        (dict(mode="hedge"), "⚠ margin mode must be one of 'isolated', 'cross'"),
        (dict(side="up"), "⚠ side must be one of 'long', 'short'"),
        (dict(mode="cross", other_mm=-1), "⚠ other cross MM (USDT) must be >= 0"),
        (dict(mode="cross", other_upnl=-200), "⚠ other cross MM (USDT) and other cross UPNL (USDT) must"),
    ],
)
def test_bad_input_gives_one_line_naming_the_control(values, message):
    text = safe_text(lesson.view, **values)
    assert text.startswith(message) and "\n" not in text
    assert safe_text(lesson.plot, **values).startswith("⚠")


# ------------------------------------------------------------------ the widget's plot
def _texts(fig):
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_plot_frames_and_marks_the_prices():
    fig = lesson.plot()
    ax = fig.axes[0]
    assert ax.get_xlim() == (80_000, 120_000)  # ±1.5 × the 10,000 to bankruptcy, rounded out
    assert "90,361" in _texts(fig) and "90,000" in _texts(fig)
    assert ax.get_title() == "Isolated 10x long: the balance meets the maintenance margin at 90,361.45"
    assert tuple(fig.get_size_inches()) == (8.0, 4.2)
    plt.close(fig)


@pytest.mark.parametrize(
    "values, window, title_end",
    [
        (dict(leverage=150), (99_000, 101_000), f"at {long_lp(Q, EP, SIZE / 150, TIER1):,.2f}"),  # crowded
        (dict(leverage=1), (1_000, 200_000), "(no liquidation price)"),
        (dict(leverage=1, side="short"), (1_000, 300_000), f"at {short_lp(Q, EP, SIZE, TIER1):,.2f}"),
    ],
)
def test_plot_at_the_leverage_extremes(values, window, title_end):
    fig = lesson.plot(**values)
    ax = fig.axes[0]
    assert ax.get_xlim() == window
    assert ax.get_title().endswith(title_end)
    plt.close(fig)


def test_widget_builds_with_the_views_defaults():
    w = lesson.widget()
    values = {c.description: c.value for c in w.controls.values()}
    assert values == {
        "side": "long",
        "size (USDT)": SIZE,
        "entry price (USDT)": EP,
        "leverage (x)": 10,
        "wallet (USDT, 0 = IM)": 0.0,
        "margin mode": "isolated",
        "other cross MM (USDT)": 0.0,
        "other cross UPNL (USDT)": 0.0,
    }
    assert w.controls["leverage"].max == 150  # the BTCUSDT table's highest leverage


# ------------------------------------------------------------------ exercises
EXERCISE_ANSWERS = {
    "6a": long_lp(4, EP, 40_000, TIER2),  # 400,000 USDT at 10x: tier 2 at the entry and at LP
    "6b": short_lp(26, EP, 520_000, TIER4),  # 2,600,000 USDT at 5x: tier 3 at the entry, 4 at LP
    "6c": long_lp(0.5, EP, 10_000 - 150 - 2_000, TIER1),
    "6d": 100 * (1 / 20 - 0.005) / (1 + 0.005),
}
WRONG_METHODS = {
    "6a": [long_lp(4, EP, 40_000, TIER1), long_lp(4, EP, 40_000, (0.005, 0)), EP - 40_000 / 4],
    "6b": [short_lp(26, EP, 520_000, TIER3), short_lp(26, EP, 520_000, (0.01, 0))],  # entry tier; no cum
    "6c": [long_lp(0.5, EP, 10_000, TIER1), long_lp(0.5, EP, 10_000 - 2_000, TIER1)],  # whole wallet; MM kept
    "6d": [100 * (1 / 20 - 0.005), 100 * (1 / 20 - 0.005) / (1 - 0.005)],  # tolerance; the long's divisor
}


def test_the_exercises_have_the_answers_computed_here():
    assert 300_000 <= 4 * EXERCISE_ANSWERS["6a"] < 800_000  # tier 2 holds Q × LP
    assert BTC.bracket_for(2_600_000).bracket == 3  # at the entry
    assert 26 * short_lp(26, EP, 520_000, TIER3) >= 3_000_000  # tier 3's candidate lies beyond tier 3
    assert 3_000_000 <= 26 * EXERCISE_ANSWERS["6b"] < 12_000_000  # tier 4's lies inside tier 4


@pytest.mark.parametrize("key", sorted(EXERCISE_ANSWERS))
def test_exercises_say_right_or_hint_without_the_answer(key):
    check_exercise(lesson, key, EXERCISE_ANSWERS[key], WRONG_METHODS[key], hidden=(",.2f", ".2f"))
    check_hint(lesson, key)


# ------------------------------------------------------------------ quiz
def test_the_quiz_right_letters_and_reasons():
    right = {"q1": "b", "q2": "c", "q3": "a", "q4": "c", "q5": "a"}
    for q in lesson.QUIZ.questions:
        for letter in q.choices:
            feedback = lesson.QUIZ.check(q.key, letter)
            assert ("is right" in feedback) == (letter == right[q.key]), feedback
    assert "9.548 %" in lesson.QUIZ.show() and "9.453 %" in lesson.QUIZ.show()


# ------------------------------------------------------------------ the notebook's prose
def test_every_figure_the_prose_cites_is_printed_beside_it():
    check_cited_figures_are_printed(notebook(NOTEBOOK))


def test_the_summary_gets_the_short_right():
    summary = " ".join(section(notebook(NOTEBOOK), "## Summary").split())
    assert "1 − MMR puts a long's trigger a little further (9.548 %" in summary
    assert "1 + MMR puts a short's a little closer (9.453 %)" in summary
