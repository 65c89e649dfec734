"""Lesson 2 (maintenance margin): tables, widget, plots and exercises, held against the article's
stated figures and against arithmetic done here by hand."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from margin_lib.errors import MarginError
from margin_lib.examples import CASE_B, LEVERAGE_TABLE
from margin_lib.lessons import maintenance_margin as lesson
from margin_lib.widgets import safe_text

# BTCUSDT tiers 1 and 2 of the course reference (margin-maths.md, snapshot 2026-09).
TIER1_MMR, TIER2_MMR, TIER2_CUM = 0.004, 0.005, 300.0


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("|")]


def row(text: str, label: str) -> list[str]:
    """The cells of the table line whose first cell is ``label``."""
    found = [cells(line) for line in text.splitlines() if cells(line)[0] == label]
    assert len(found) == 1, f"{label!r} not found once in:\n{text}"
    return found[0]


def p(x: float, digits: int = 3) -> str:
    return f"{x * 100:.{digits}f} %"


# -- the article's table -----------------------------------------------------------------------
@pytest.mark.parametrize("r", LEVERAGE_TABLE, ids=lambda r: f"{r.leverage:g}x")
def test_leverage_table_reproduces_the_articles_rates(r):
    line = row(lesson.leverage_table(), f"{r.leverage:g}x")
    assert line[1] == line[2] == p(r.stated_imr, 1)
    assert line[3] == p(r.stated_mmr, 1)
    assert line[4] == line[5] == p(r.stated_tolerance, 1)


@pytest.mark.parametrize("r", LEVERAGE_TABLE, ids=lambda r: f"{r.leverage:g}x")
def test_exact_moves_divide_the_tolerance_by_one_minus_or_plus_mmr(r):
    line = row(lesson.exact_moves_table(), f"{r.leverage:g}x")
    assert line[2] == p(r.stated_tolerance)
    assert line[3] == p(r.stated_tolerance / (1 - r.stated_mmr))
    assert line[4] == p(r.stated_tolerance / (1 + r.stated_mmr))


def test_exact_move_at_10x_is_9_548_not_9_5():
    line = row(lesson.exact_moves_table(), "10x")
    assert (line[2], line[3], line[4]) == ("9.500 %", "9.548 %", "9.453 %")


def test_liquidation_check_puts_the_price_where_balance_meets_maintenance():
    long_line, short_line = lesson.liquidation_check().splitlines()
    # 1,000 USDT at 10x, 100 USDT of margin, MMR 0.5 %, entry 100,000: Q = 0.01.
    assert f"liquidation at {(1_000 - 100) / (0.01 * 0.995):,.2f}" in long_line
    assert f"liquidation at {(1_000 + 100) / (0.01 * 1.005):,.2f}" in short_line
    for line in (long_line, short_line):
        mb, mm = line.split("there MB ")[1].split(" = MM ")
        assert mb == mm


# -- the walk to liquidation ------------------------------------------------------------------
def test_walk_shows_the_articles_case_b_figures_and_the_open_position_at_9_5():
    text = lesson.liquidation_walk()
    stated_mmr = next(r.stated_mmr for r in LEVERAGE_TABLE if r.leverage == 10)
    assert text.splitlines()[0].endswith(
        f"isolated margin 100.00 USDT, MMR {p(stated_mmr)} (the article's rate for 10x)"
    )
    fall = row(text, f"{100_000 * (1 + CASE_B.moves['BTCUSDT']):,.2f}")
    assert fall[2] == f"{CASE_B.stated['btc_pnl']:.2f} USDT"
    assert fall[3] == f"{CASE_B.stated['btc_left']:.2f} USDT"
    at_tolerance = row(text, "90,500.00")
    assert at_tolerance[-1] == "open"
    last = cells(text.splitlines()[-1])
    assert (last[1], last[-1]) == ("-9.548 %", "liquidation")
    assert last[3] == last[4]  # margin balance = maintenance margin


def test_walk_for_a_short_is_past_liquidation_at_the_articles_tolerance():
    text = lesson.liquidation_walk("short")
    assert row(text, "109,500.00")[-1] == "past liquidation"
    assert row(text, f"{(1_000 + 100) / (0.01 * 1.005):,.2f}")[-1] == "liquidation"


# -- tiers and cum ----------------------------------------------------------------------------
def test_tier_table_is_dated_and_every_tier_leaves_room_at_its_maximum_leverage():
    lines = lesson.tier_table().splitlines()
    assert lines[0] == "BTCUSDT tiers, snapshot as of 2026-09 (12 tiers)"
    body = [cells(line) for line in lines[3:]]
    assert len(body) == 12
    assert body[0][3:6] == ["150x", "0.40 %", "0"]
    assert all(float(r[-1].rstrip(" %")) > 0 for r in body)


def test_maintenance_margin_does_not_change_with_leverage():
    lines = [cells(line) for line in lesson.same_size_different_leverage().splitlines()[2:]]
    by_size: dict[str, set[str]] = {}
    for size, _lev, _im, _mmr, mm, _lp in lines:
        by_size.setdefault(size, set()).add(mm)
    assert by_size == {"1,000 USDT": {f"{1_000 * TIER1_MMR:,.2f} USDT"}, "1,000,000 USDT": {"5,000.00 USDT"}}
    assert len({line[2] for line in lines}) == len(lines)  # but the initial margin does


def test_cum_derivation_gives_the_faqs_1300():
    text = lesson.cum_derivation()
    assert "250,000 × (1.00 % − 0.50 %) + 50 = 1,300 (table: 1,300)" in text
    for line in text.splitlines() + lesson.cum_derivation("BTCUSDT").splitlines():
        computed, stated = line.split(" = ")[1].split(" (table: ")
        assert computed == stated.rstrip(")")


def test_edge_table_shows_no_jump_with_cum_and_the_jump_without():
    lines = [cells(line) for line in lesson.edge_table().splitlines()[2:]]
    assert [line[0] for line in lines] == ["50,000", "250,000", "1,000,000"]

    def money(text: str) -> float:
        return float(text.removesuffix(" USDT").replace(",", ""))

    for _edge, below, above, no_cum, jump in lines:
        assert below == above
        assert money(no_cum) - money(above) == pytest.approx(money(jump))
    assert lines[1][1:] == ["1,200.00 USDT", "1,200.00 USDT", "2,500.00 USDT", "1,300.00 USDT"]


# -- the widget's view ------------------------------------------------------------------------
def test_view_sets_the_articles_figures_beside_the_exchange_tier():
    text = lesson.view("long", 1_000, 10)
    r = next(r for r in LEVERAGE_TABLE if r.leverage == 10)
    assert row(text, "initial margin rate (IMR)")[1:] == [p(r.stated_imr)] * 2
    assert row(text, "maintenance margin rate")[1:] == [p(r.stated_mmr), p(TIER1_MMR)]
    assert row(text, "maintenance margin at entry")[1:] == ["5.00 USDT", "4.00 USDT"]
    assert row(text, "error tolerance (IMR − MMR)")[1:] == [p(r.stated_tolerance), p(0.1 - TIER1_MMR)]
    assert row(text, "exact adverse move (a fall)")[1:] == ["9.548 %", p((0.1 - TIER1_MMR) / (1 - TIER1_MMR))]
    assert "100.00 USDT of margin" in text
    assert "tier 1 holds sizes from 0 to 300,000 USDT and allows up to 150x" in text


def test_view_counts_cum_in_the_exact_move():
    text = lesson.view("short", 500_000, 50)
    assert row(text, "maintenance margin at entry")[2] == f"{500_000 * TIER2_MMR - TIER2_CUM:,.2f} USDT"
    # short: (IMR − MMR + cum / N) / (1 + MMR)
    exact = (0.02 - TIER2_MMR + TIER2_CUM / 500_000) / (1 + TIER2_MMR)
    assert row(text, "exact adverse move (a rise)")[2] == p(exact)
    assert "cum lowers the maintenance margin to 0.440 % of the size" in text


def test_view_reports_a_tier_change_at_the_liquidation_price():
    text = lesson.view("long", 300_000, 100)
    assert "exchange, tier 2" in text
    assert "in tier 1; the engine uses that tier's rate there" in text


def test_view_beyond_the_articles_table_and_without_a_liquidation_price():
    high = lesson.view("long", 1_000, 150)
    assert row(high, "maintenance margin rate")[1] == "--"
    assert "The article's table stops at 125x" in high
    assert row(lesson.view("long", 1_000, 125), "maintenance margin rate")[1] == "0.400 %"
    flat = lesson.view("long", 1_000, 1)
    assert row(flat, "liquidation price")[1:] == ["--", "--"]
    assert "No liquidation price" in flat


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
    assert text.startswith(message)
    assert "\n" not in text
    with pytest.raises(MarginError):
        lesson.plot(**values)


# -- exercises --------------------------------------------------------------------------------
ANSWERS = {"2a": 0.045 / 0.995 * 100, "2b": 500_000 * 0.005 - 300, "2c": 4}


@pytest.mark.parametrize("key", sorted(ANSWERS))
def test_exercises_say_right_or_hint_without_the_answer(key):
    ex = lesson.EXERCISES[key]
    assert ex.check(ANSWERS[key]).endswith("right!")
    wrong = ex.check(ANSWERS[key] * 1.5)
    assert "too high" in wrong and "Hint:" in wrong
    assert f"{ANSWERS[key]:g}" not in wrong and f"{ANSWERS[key]:.2f}" not in wrong
    assert "replace None" in ex.check(None)
    assert "finite number" in ex.check("ten")


def test_exercises_catch_the_usual_mistakes():
    assert "too low" in lesson.EXERCISES["2a"].check(4.5)  # the article's tolerance at 20x
    assert lesson.EXERCISES["2a"].check(4.52).endswith("right!")
    no_cum = lesson.EXERCISES["2b"].check(500_000 * 0.005)
    assert "too high" in no_cum and "cum" in no_cum
    assert "too low" in lesson.EXERCISES["2c"].check(3)  # 3,000,000 is tier 4's floor


# -- plots and widget -------------------------------------------------------------------------
def _labels(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_plot_marks_the_liquidation_in_the_whole_view_and_the_close_up():
    fig = lesson.plot("long", 1_000, 10)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    lp = 100_000 * (1 - (0.1 - TIER1_MMR) / (1 - TIER1_MMR))
    for ax in fig.axes:
        assert ax.get_xlabel() == "BTC mark price (USDT)"
        assert "USDT" in ax.get_ylabel()
        assert f"liquidation {lp:,.0f}" in _labels(ax)
        lo, hi = ax.get_xlim()
        assert all(lo <= t.xy[0] <= hi for t in ax.texts)
    assert "9.64 % fall" in fig.get_suptitle()
    plt.close(fig)


def test_plot_without_a_liquidation_price_says_so():
    fig = lesson.plot("long", 1_000, 1)
    (ax,) = fig.axes
    assert not any(label.startswith("liquidation") for label in _labels(ax))
    assert "never meets" in ax.get_title()
    plt.close(fig)


def test_maintenance_curve_plot_is_labelled():
    fig = lesson.plot_maintenance_curve()
    (ax,) = fig.axes
    assert ax.get_xlabel().endswith("(USDT)") and ax.get_ylabel() == "maintenance margin (USDT)"
    assert "tier 3 starts (1.0 %)" in _labels(ax)
    assert tuple(fig.get_size_inches()) == (8.0, 4.2)
    plt.close(fig)


def test_widget_builds_and_refuses_a_leverage_above_the_tier(capsys):
    w = lesson.widget()
    assert type(w).__name__ == "VBox"
    side, size, leverage = w.children[1:4]
    assert (side.value, size.value, leverage.value, leverage.max) == ("long", 1_000, 10, 150)
    capsys.readouterr()
    size.value = 500_000
    leverage.value = 120
    assert "⚠ leverage must be at most 100x" in capsys.readouterr().out
    plt.close("all")


def test_walk_handles_other_leverages_without_a_liquidation_row_or_past_bankruptcy():
    flat = lesson.liquidation_walk(leverage=1)  # a 1x long has no liquidation price
    assert "liquidation" not in flat.split("\n", 1)[1]
    high = lesson.liquidation_walk("short", leverage=37)  # not a row of the article's table
    assert row(high, "105,000.00")[-2:] == ["--", "past bankruptcy"]
    assert [cells(line)[-1] for line in high.splitlines()[3:]].count("liquidation") == 1
