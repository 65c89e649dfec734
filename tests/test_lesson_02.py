"""Lesson 2 (maintenance margin): every figure the lesson prints, held against the article's
stated figures or arithmetic done here by hand; the widget's functions at their extremes and with
bad values; the exercises against the usual wrong methods; the quiz; the figures as pictures."""

from __future__ import annotations

from itertools import pairwise

import matplotlib.pyplot as plt
import pytest
from lesson_checks import check_exercise, check_hint, check_quiz
from matplotlib.figure import Figure

from margin_lib import (
    BracketTable,
    account_margin_level,
    adverse_move_to_liquidation,
    bankruptcy_price,
    error_tolerance,
    initial_margin,
    liquidation_price,
    maintenance_margin,
    margin_ratio,
)
from margin_lib.account import Account
from margin_lib.errors import MarginError
from margin_lib.examples import CASE_B, LEVERAGE_TABLE
from margin_lib.lessons import maintenance_margin as lesson
from margin_lib.widgets import safe_text

# The article's long: 1,000 USDT at 10x, 100 USDT of margin, MMR 0.5 %; entry 100,000, so Q = 0.01.
Q, ENTRY, WALLET, MMR = 0.01, 100_000.0, 100.0, 0.005
# BTCUSDT tiers of the 2026-09 snapshot, as the rule book lists them: (MMR, cum).
TIER = {1: (0.004, 0.0), 2: (0.005, 300.0), 3: (0.0065, 1_500.0), 4: (0.01, 12_000.0)}
TIERS = BracketTable.load("BTCUSDT")
OLD = BracketTable.load("BTCUSDT-2021")


def p(x: float, digits: int = 3) -> str:
    return f"{x * 100:.{digits}f} %"


# -- sections 1 to 4: balance, floor, ratio, liquidation price ---------------------------------
def test_section_1_case_b_after_the_8_per_cent_fall():
    mark = ENTRY * (1 + CASE_B.moves["BTCUSDT"])
    pnl = Q * (mark - ENTRY)
    assert (pnl, WALLET + pnl) == pytest.approx((CASE_B.stated["btc_pnl"], CASE_B.stated["btc_left"]))
    assert initial_margin(1_000, 10) == WALLET


def test_section_2_and_3_the_floor_and_the_two_ratios():
    mm = maintenance_margin(Q * 92_000, MMR)
    assert mm == pytest.approx(920 * 0.005)  # 4.60
    assert lesson.percent(MMR) == "0.5 %"
    assert lesson.percent(margin_ratio(mm, 20), 0) == "23 %"  # 4.6 / 20
    assert lesson.percent(account_margin_level(20, mm), 0) == "435 %"  # 20 / 4.6 = 4.348
    # the walk: MB = 100 + 1,000 × move, MM = 0.01 × mark × 0.5 %
    for move, ratio in [(0, "5 %"), (-0.05, "9.5 %"), (-0.08, "23 %"), (-0.095, "90.5 %")]:
        mark = ENTRY * (1 + move)
        mb, floor = WALLET + 1_000 * move, Q * mark * MMR
        assert lesson.percent(margin_ratio(floor, mb), 1) == ratio
    assert lesson.percent(-0.095) == "-9.5 %" and lesson.percent(0) == "0 %"


def test_section_4_liquidation_and_bankruptcy_prices():
    lp = liquidation_price("long", Q, ENTRY, WALLET, mmr=MMR)
    assert lp == pytest.approx((1_000 - 100) / (0.01 * 0.995))  # 90,452.26
    assert f"{lp:,.2f}" == "90,452.26" and p(1 - lp / ENTRY) == "9.548 %"
    assert WALLET + Q * (lp - ENTRY) == pytest.approx(Q * lp * MMR)  # MB = MM = 4.52 there
    assert f"{Q * lp * MMR:.2f}" == "4.52"
    bp = bankruptcy_price("long", Q, ENTRY, WALLET)
    assert bp == pytest.approx(90_000) and f"{lp - bp:,.2f}" == "452.26"


# -- sections 5 and 6: the article's table, the exact move -------------------------------------
@pytest.mark.parametrize("r", LEVERAGE_TABLE, ids=lambda r: f"{r.leverage:g}x")
def test_section_5_the_articles_table_is_reproduced(r):
    assert initial_margin(1.0, r.leverage) == pytest.approx(r.stated_imr)
    assert error_tolerance(r.leverage, r.stated_mmr) == pytest.approx(r.stated_tolerance)
    assert lesson.percent(r.stated_tolerance) == f"{r.stated_tolerance * 100:g} %"


def test_section_6_the_exact_move_at_10x():
    assert adverse_move_to_liquidation("long", 10, MMR) == pytest.approx(0.095 / 0.995)
    assert adverse_move_to_liquidation("short", 10, MMR) == pytest.approx(0.095 / 1.005)
    assert (p(0.095 / 0.995), p(0.095 / 1.005)) == ("9.548 %", "9.453 %")
    # a short at the tolerance: MB = 100 − 95 = 5, MM = 0.01 × 109,500 × 0.5 % = 5.475
    assert margin_ratio(Q * 109_500 * MMR, 5) == pytest.approx(1.095)


# -- sections 7 to 9: tiers and cum ----------------------------------------------------------
def test_section_7_the_tier_table_is_dated_and_leaves_room_at_each_maximum():
    lines = lesson.tier_table(TIERS).splitlines()
    assert lines[0] == "BTCUSDT tiers, snapshot as of 2026-09 (12 tiers)"
    rows = [[c.strip() for c in line.split("|")] for line in lines[3:]]
    assert rows[0] == ["1", "0", "300,000", "150x", "0.4 %", "0"]
    assert rows[2] == ["3", "800,000", "3,000,000", "75x", "0.65 %", "1,500"]
    assert all(1 / t.max_leverage - t.mmr > 0 for t in TIERS)
    assert lesson.percent(1 / 150 - 0.004) == "0.267 %"
    assert lesson.tier_table(OLD).splitlines()[0] == "BTCUSDT tiers, snapshot as of 2021 (4 tiers)"
    assert TIERS.bracket_for(1_000).mmr == TIER[1][0] and TIERS.maintenance_margin(1_000) == 4.0


def test_section_8_leverage_does_not_move_the_maintenance_margin():
    for size, (rate, cum) in [(1_000, TIER[1]), (1_000_000, TIER[3])]:
        seen = set()
        for lev in (5, 50):
            acct = Account(size, fee_rate=0)
            acct.open_position("BTCUSDT", "long", notional=size, price=ENTRY, leverage=lev)
            pos = acct.report().position("BTCUSDT")
            assert pos.initial_margin == pytest.approx(size / lev)
            seen.add(round(pos.maintenance_margin, 9))
            q = size / ENTRY
            assert pos.liquidation_price == pytest.approx((size - size / lev - cum) / (q * (1 - rate)))
        assert seen == {size * rate - cum}


def test_section_9_cum_is_rebuilt_and_keeps_the_edges_continuous():
    for table in (OLD, TIERS):
        cum = 0.0
        for lower, upper in pairwise(table.brackets):
            cum += upper.notional_floor * (upper.mmr - lower.mmr)
            assert cum == pytest.approx(upper.maintenance_amount)
            edge = upper.notional_floor
            assert maintenance_margin(edge, lower.mmr, lower.maintenance_amount) == pytest.approx(
                maintenance_margin(edge, upper.mmr, upper.maintenance_amount)
            )
    assert 250_000 * (0.01 - 0.005) + 50 == 1_300  # the FAQ's example, on the older table
    # 1,000,000 at 50x, tier 3: (2 % − 0.65 % + 1,500 / 1,000,000) / (1 − 0.65 %)
    lp = liquidation_price("long", 10.0, ENTRY, 20_000, brackets=TIERS)
    assert 1 - lp / ENTRY == pytest.approx((0.02 - 0.0065 + 0.0015) / 0.9935)
    assert p((0.02 - 0.0065) / 0.9935) == "1.359 %"


def test_section_10_the_figure_uses_tier_1_and_says_so():
    assert p(adverse_move_to_liquidation("long", 10, TIER[1][0])) == "9.639 %"  # 0.096 / 0.996
    fig = lesson.plot("long", 1_000, 10)
    (ax,) = fig.axes
    title = ax.get_title()
    assert "liquidated after a 9.639 % fall" in title
    assert "BTCUSDT tier 1, MMR 0.4 %" in title
    plt.close(fig)


# -- the widget's text -----------------------------------------------------------------------
def cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("|")]


def row(text: str, label: str) -> list[str]:
    found = [cells(line) for line in text.splitlines() if cells(line)[0] == label]
    assert len(found) == 1, f"{label!r} not found once in:\n{text}"
    return found[0]


def test_view_sets_the_articles_figures_beside_the_exchange_tier():
    text = lesson.view("long", 1_000, 10)
    assert row(text, "initial margin rate (IMR)")[1:] == ["10 %", "10 %"]
    assert row(text, "maintenance margin rate")[1:] == ["0.5 %", "0.4 %"]
    assert row(text, "maintenance margin at entry")[1:] == ["5.00 USDT", "4.00 USDT"]
    assert row(text, "error tolerance (IMR − MMR)")[1:] == ["9.5 %", "9.6 %"]
    assert row(text, "exact adverse move (a fall)")[1:] == [p(0.095 / 0.995), p(0.096 / 0.996)]
    assert row(text, "liquidation price")[1:] == ["90,452.26", f"{90_000 / 0.996:,.2f}"]
    assert "tier 1 holds sizes from 0 to 300,000 USDT and allows up to 150x" in text


def test_view_counts_cum_in_the_exact_move():
    text = lesson.view("short", 500_000, 50)
    rate, cum = TIER[2]
    assert row(text, "maintenance margin at entry")[2] == f"{500_000 * rate - cum:,.2f} USDT"
    assert row(text, "exact adverse move (a rise)")[2] == p((0.02 - rate + cum / 500_000) / (1 + rate))
    assert "cum lowers the maintenance margin to 0.44 % of the size: more room" in text  # 2,200 / 500,000


def test_view_reports_a_tier_change_at_the_liquidation_price():
    text = lesson.view("long", 300_000, 100)
    assert "exchange, tier 2" in text
    assert "in tier 1; the engine uses that tier's rate there" in text


def test_view_at_the_slider_ends():
    high = lesson.view("long", 1_000, 150)
    assert row(high, "maintenance margin rate")[1] == "--"
    assert "The article's table stops at 125x" in high
    assert row(high, "initial margin rate (IMR)")[2] == "0.667 %"
    assert row(lesson.view("long", 1_000, 125), "maintenance margin rate")[1] == "0.4 %"
    flat = lesson.view("long", 1_000, 1)
    assert row(flat, "liquidation price")[1:] == ["--", "--"]
    assert "No liquidation price" in flat
    tiny = lesson.view("long", 0.01, 10)  # 0.01 × 0.5 % and 0.01 × 0.4 %, not "0.00 USDT"
    assert row(tiny, "maintenance margin at entry")[1:] == ["0.00005 USDT", "0.00004 USDT"]
    short = lesson.view("short", 1_000, 1)  # a short always has one: (2 × 1,000) / (0.01 × 1.004)
    assert row(short, "liquidation price")[2] == f"{2_000 / (0.01 * 1.004):,.2f}"


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(side="long", notional=1_000, leverage=0), "⚠ leverage must be >= 1; got 0.0"),
        (
            dict(side="long", notional=500_000, leverage=120),
            "⚠ leverage must be at most 100x for a 500,000 USDT BTCUSDT position (tier 2's maximum)",
        ),
        (
            dict(side="short", notional=1_000, leverage=151),
            "⚠ leverage must be at most 150x for a 1,000 USDT BTCUSDT position (tier 1's maximum)",
        ),
        (dict(side="long", notional=-1_000, leverage=10), "⚠ notional must be > 0; got -1000.0"),
        (dict(side="long", notional=float("nan"), leverage=10), "⚠ notional must be a finite number > 0"),
        (dict(side="long", notional=1_000, leverage=float("nan")), "⚠ leverage must be a finite number >= 1"),
        (dict(side="long", notional=2e9, leverage=1), "⚠ notional must be below 1,800,000,000 USDT"),
        (dict(side="up", notional=1_000, leverage=10), "⚠ side must be 'long' or 'short'"),
    ],
)
def test_bad_widget_input_gives_a_short_message(values, message):
    text = safe_text(lesson.view, **values)
    assert text.startswith(message) and "\n" not in text
    with pytest.raises(MarginError):
        lesson.plot(**values)


# -- exercises and quiz ----------------------------------------------------------------------
ANSWERS = {
    "2a": (0.04 - 0.005) / 1.005 * 100,  # 3.483 %
    "2b": 5_000_000 * 0.01 - 12_000,  # 38,000: tier 4
    "2c": (0.02 - 0.005 + 300 / 500_000) / 0.995 * 100,  # 1.568 %: tier 2, cum included
    "2d": 0.01 * 91_000 * 0.005 / (100 - 90) * 100,  # 45.5 %
}
WRONG = {
    "2a": [3.5, (0.04 - 0.005) / 0.995 * 100, (0.04 - 0.004) / 1.004 * 100],  # tolerance; long; tier 1
    "2b": [50_000, 5_000_000 * 0.0065 - 1_500],  # no cum; tier 3
    "2c": [1.5, 0.015 / 0.995 * 100, (0.02 - 0.004) / 0.996 * 100],  # tolerance; no cum; tier 1
    "2d": [50, 10 / 4.55 * 100, 4.55],  # MM at entry; the article's reciprocal; MM / wallet
}


@pytest.mark.parametrize("key", sorted(ANSWERS))
def test_exercises_accept_the_answer_and_reject_the_usual_mistakes(key):
    check_exercise(lesson, key, ANSWERS[key], WRONG[key])


@pytest.mark.parametrize("key", sorted(ANSWERS))
def test_hints_name_the_method_not_a_number(key):
    check_hint(lesson, key)


def test_exercise_2c_keeps_its_tier_at_the_liquidation_price():
    lp = 100_000 * (1 - ANSWERS["2c"] / 100)
    assert TIERS.bracket_for(5 * lp).bracket == 2  # 5 BTC at the liquidation price


@pytest.mark.parametrize("key, right", [("q1", "b"), ("q2", "b"), ("q3", "c"), ("q4", "b")])
def test_quiz_right_letters_say_right_and_every_other_gives_its_reason(key, right):
    check_quiz(lesson, key, right)


def test_quiz_figures_are_the_lessons():
    assert 1 / 0.23 == pytest.approx(4.35, abs=0.005)  # q4: about 435 %
    assert TIERS.bracket_for(1_000).mmr == 0.004  # q2: 0.4 % at 5x and at 50x


# -- the figures as pictures ---------------------------------------------------------------------
def _overlaps(fig) -> list[tuple[str, str]]:
    """Pairs of visible texts of the main axes (labels, title, tick labels) whose boxes overlap."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [
        (t.get_text(), t.get_window_extent(renderer))
        for ax in fig.axes
        for t in [*ax.texts, *ax.get_xticklabels(), *ax.get_yticklabels()]
        if t.get_text() and t.get_visible()
    ]
    return [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1 :] if ba.overlaps(bb)]


CASES = [
    ("long", 1_000, 10), ("short", 1_000, 10), ("long", 1_000, 1), ("short", 1_000, 1),
    ("long", 1_000, 150), ("short", 1_000, 150), ("long", 0.01, 10), ("long", 1_700_000_000, 1),
    ("short", 1_700_000_000, 1), ("long", 300_000, 100), ("long", 500_000, 50), ("short", 1_000_000, 75),
]  # fmt: skip


@pytest.mark.parametrize("side, size, lev", CASES)
def test_plot_at_the_controls_extremes(side, size, lev):
    fig = lesson.plot(side, size, lev)
    assert isinstance(fig, Figure) and tuple(fig.get_size_inches()) == (11.0, 4.6)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "BTC mark price (USDT)" and "USDT" in ax.get_ylabel()
    assert not _overlaps(fig)
    yt = [t.get_text() for t in ax.get_yticklabels() if t.get_visible()]
    assert len(set(yt)) == len(yt) >= 3  # a tiny size's ticks do not all read "0"
    low, high = ax.get_ylim()
    q, wallet = size / 100_000, size / lev
    lo_price, hi_price = ax.get_xlim()
    balance = [wallet + (1 if side == "long" else -1) * q * (x - 100_000) for x in (lo_price, hi_price)]
    assert low <= min(balance) and max(balance) <= high
    assert high - low <= 1.6 * (max(balance) - min(min(balance), 0))  # the axis fits the data
    labels = [t.get_text() for t in ax.texts]
    move = lesson.exact_move(side, size, lev)
    if move == move:  # a liquidation price: marked and labelled, its tier named in the title
        lp = 100_000 * (1 - (1 if side == "long" else -1) * move)
        assert any(label == f"liquidation {lp:,.0f}" for label in labels)
        assert f"liquidated after a {p(move)}" in ax.get_title()
        assert "MMR" in ax.get_title()
    else:  # no close-up: the maintenance line is named, with its value at the entry (0.4 % of the size)
        assert "no liquidation price" in ax.get_title()
        assert f"maintenance margin ({TIERS.maintenance_margin(size):,.2f} USDT at the entry)" in labels
    plt.close(fig)


def test_maintenance_curve_plot_is_labelled():
    fig = lesson.plot_maintenance_curve(OLD)
    (ax,) = fig.axes
    assert ax.get_xlabel().endswith("(USDT)") and ax.get_ylabel() == "maintenance margin (USDT)"
    assert [t.get_text() for t in ax.texts] == [
        "tier 2 starts (0.5 %)",
        "tier 3 starts (1 %)",
        "tier 4 starts (2.5 %)",
    ]
    assert tuple(fig.get_size_inches()) == (8.0, 4.2)
    assert not _overlaps(fig)
    plt.close(fig)


def test_widget_builds_and_refuses_a_leverage_above_the_tier(capsys):
    w = lesson.widget()
    assert type(w).__name__ == "VBox"
    side, size, leverage = (w.controls[k] for k in ("side", "notional", "leverage"))
    assert (side.value, size.value, leverage.value, leverage.min, leverage.max) == ("long", 1_000, 10, 1, 150)
    capsys.readouterr()
    size.value = 500_000
    leverage.value = 120
    assert "⚠ leverage must be at most 100x" in capsys.readouterr().out
    plt.close("all")
