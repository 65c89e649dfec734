"""Lesson 4 (cross margin): the widget's functions against the article's figures, independent
arithmetic (flat 0.5 % maintenance rate, no fees) and bad input."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from margin_lib.examples import CASE_A
from margin_lib.lessons import cross_margin as lesson
from margin_lib.widgets import safe_text

MMR = 0.005  # the article's rate at 10x


def test_view_reproduces_case_a():
    text = lesson.view(-8, 5)
    assert f"equity {CASE_A.stated['equity']:,.2f} USDT" in text
    assert f"BTC {CASE_A.stated['btc_pnl']:,.2f} USDT, ETH {CASE_A.stated['eth_pnl']:,.2f} USDT" in text
    assert text.endswith("not liquidated")
    # MM of both legs at their marks: 0.5 % of 4,600 and of 5,250
    mm = MMR * (5_000 * 0.92 + 5_000 * 1.05)
    assert f"maintenance margin {mm:,.2f} USDT" in text
    assert f"(MM / balance): {mm / 850 * 100:.2f} %" in text
    assert f"(equity / MM): {850 / mm * 100:,.0f} %" in text


def test_case_a_table_matches_article_column():
    lines = lesson.case_a_table().splitlines()[2:9]
    for line in lines:
        _, engine, article = (c.strip() for c in line.split("|"))
        assert engine == article
    assert [ln.split("|")[2].strip() for ln in lines] == [
        f"{x:,.2f} USDT"
        for x in (
            CASE_A.stated["initial_margin_each"],
            CASE_A.stated["initial_margin_each"],
            CASE_A.stated["btc_pnl"],
            CASE_A.stated["eth_pnl"],
            CASE_A.stated["net_pnl"],
            CASE_A.stated["equity"],
        )
    ] + ["no"]


def test_cross_example_has_no_liquidation_price_and_bigger_positions_lose_the_whole_wallet():
    assert lesson.pool_table().splitlines()[-1].split("|")[1].strip() == "--"
    rows = [r.split("|") for r in lesson.bigger_positions_table().splitlines()[2:]]
    assert rows[0][1].strip() == "--"
    # 10,000 USDT at 10x with a 1,000 wallet: the isolated 10x move (IMR − MMR) / (1 − MMR)
    assert rows[2][2].strip() == f"{-(0.1 - MMR) / (1 - MMR) * 100:.3f} %"
    # 5,000 USDT: 1,000 + 5,000·m = 0.005·5,000·(1 + m)
    m = (0.005 * 5_000 - 1_000) / (5_000 - 0.005 * 5_000)
    assert rows[1][2].strip() == f"{m * 100:.3f} %"
    assert all(r[3].strip().startswith("1,000.00 USDT (wallet left 0.00 USDT)") for r in rows[1:])


def test_liquidation_move_with_eth_flat_matches_hand_arithmetic():
    # 1,000 + 5,000·b − 0.005·5,000·(1 + b) − 0.005·5,000 = 0
    b = -(1_000 - 2 * 0.005 * 5_000) / (5_000 - 0.005 * 5_000)
    assert lesson.btc_move_to_liquidation(0.0) == pytest.approx(b * 100)
    # ETH +5 % adds 250 of profit and 1.25 of MM
    b5 = -(1_000 + 250 - 0.005 * 5_000 - 0.005 * 5_250) / (5_000 - 0.005 * 5_000)
    assert lesson.btc_move_to_liquidation(5.0) == pytest.approx(b5 * 100)


def test_ratio_table_figures_are_reciprocals_and_end_liquidated():
    rows = [[c.strip() for c in r.split("|")] for r in lesson.ratio_table().splitlines()[2:]]
    for row in rows:
        article = float(row[2].rstrip(" %").replace(",", "")) / 100
        exchange = float(row[3].rstrip(" %")) / 100
        assert article * exchange == pytest.approx(1, rel=0.01)
        # both figures say the same thing about the trigger
        assert (article < 1) == (exchange > 1) == row[4].startswith("LIQUIDATED")
    assert rows[-1][4].startswith("LIQUIDATED") and rows[-2][4] == "open"
    # BTC −24.5 %, ETH +5 %: 1,000 − 1,225 + 250 = 25 USDT of equity at the trigger
    assert rows[-1][1] == "25.00 USDT"


def test_all_at_once_closes_both_and_takes_the_wallet():
    text = lesson.all_at_once()
    assert "liquidated long BTCUSDT, long ETHUSDT" in text
    assert "cross wallet lost: 1,000.00 USDT; wallet left 0.00 USDT, positions left 0" in text


def test_hedge_offsets_together_and_breaks_when_split():
    rows = {
        (r.split("|")[0].strip(), r.split("|")[1].strip()): r for r in lesson.hedge_table().splitlines()[2:]
    }
    assert "1,000.00 USDT" in rows[("-10 %", "-10 %")] and "open" in rows[("-10 %", "-10 %")]
    # split 10 points each way: −500 − 500 = −1,000, the whole pool
    assert "LIQUIDATED" in rows[("-10 %", "+10 %")]


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(btc_move=-100, eth_move=5), "⚠ btc_move must be > -100; got -100.0"),
        (dict(btc_move=-8, eth_move=-150), "⚠ eth_move must be > -100; got -150.0"),
        (dict(btc_move=float("nan"), eth_move=5), "⚠ btc_move must be a finite number > -100; got nan"),
    ],
)
def test_bad_moves_give_a_short_message(values, message):
    assert safe_text(lesson.view, **values) == message


def test_view_reports_a_liquidation_with_the_figures_at_the_trigger():
    text = lesson.view(-24.5, 5)
    # just past the trigger: 1,000 − 1,225 + 250 = 25 of equity against 0.5 % of 3,775 + 5,250
    mm = MMR * (5_000 * 0.755 + 5_000 * 1.05)
    assert text.startswith("Case A after BTC -24.5 %, ETH +5.0 %: equity 25.00 USDT at these prices")
    assert f"maintenance margin {mm:,.2f} USDT" in text
    assert f"(equity / MM): {25 / mm * 100:.0f} %" in text
    assert f"(MM / balance): {mm / 25 * 100:.2f} %" in text
    assert text.splitlines()[-1] == (
        "LIQUIDATED: both positions closed together; "
        "the cross wallet (1,000.00 USDT) is gone, 0.00 USDT left."
    )
    # past bankruptcy the exchange's figure has no finite value
    assert "beyond 100 % (balance at or below zero)" in lesson.view(-30, 5)
    # the ratio table's last open row (BTC −24 %) is open in the view too
    assert lesson.view(-24, 5).endswith("not liquidated")


def test_case_a_ratios_are_reciprocals_from_both_sources():
    text = lesson.case_a_ratios()
    mm = MMR * (5_000 * 0.92 + 5_000 * 1.05)
    assert f"equity / MM = {850 / mm * 100:,.2f} %  (report: {850 / mm * 100:,.2f} %" in text
    assert f"MM / equity = {mm / 850 * 100:.2f} %  (report: {mm / 850 * 100:.2f} %" in text
    assert text.endswith("product of the two: 1.000000")


def test_case_a_does_not_fit_with_taker_fees():
    # two orders of 5,000 at 10x: 500 of margin + 0.05 % × 5,000 = 2.50 of fee each
    text = lesson.case_a_with_fees()
    assert "the second order is refused" in text
    assert "502.50 USDT, but only 497.50 USDT is available" in text


def test_exercises():
    after = lesson.case_a_after(-12, 2)
    answers = {
        "4a": 1_000 - 600 + 100,
        "4b": 0.005 * (4_400 + 5_100) / 500 * 100,
        "4c": lesson.btc_move_to_liquidation(0.0),
    }
    assert after.equity == pytest.approx(answers["4a"])
    for key, ex in lesson.EXERCISES.items():
        assert ex.check(answers[key]).endswith("right!")
        wrong = ex.check(answers[key] * 0.8 if answers[key] > 0 else answers[key] * 1.2)
        assert "too low" in wrong and "Hint:" in wrong
        assert f"{answers[key]:.1f}" not in wrong


def test_map_has_labelled_axes_and_boundary():
    fig = lesson.plot(-8, 5)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "BTC price move (%)" and ax.get_ylabel() == "ETH price move (%)"
    texts = [t.get_text() for t in ax.texts]
    assert "liquidation boundary: balance = MM" in texts
    assert any(t.startswith("liquidated") for t in texts)
    plt.close(fig)
    contours = [c for c in ax.collections if hasattr(c, "levels")]
    filled = [c for c in contours if c.filled]
    lines = [c for c in contours if not c.filled]
    assert filled and all(c.hatches == ["///"] for c in filled)  # liquidated region hatched
    assert [list(c.levels) for c in lines] == [[0.0]]
    assert lines[0].get_linestyle()[0][1] is not None  # the boundary is dashed, not colour alone
    assert any("(safe)" in t.get_text() for t in ax.get_legend().get_texts())
    plt.close(fig)
    fig = lesson.plot(-30, 5)
    assert any("(liquidated)" in t.get_text() for t in fig.axes[0].get_legend().get_texts())
    grid = lesson._boundary_grid(np.array([-8.0, -30.0]), np.array([5.0, 5.0]))
    assert grid[0] > 0 > grid[1]
    assert math.isclose(grid[0], 850 - 0.005 * (4_600 + 5_250))


def test_widget_builds():
    assert type(lesson.widget()).__name__ == "VBox"
