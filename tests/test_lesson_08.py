"""Lesson 8 (hedge mode): the lesson's functions against independent arithmetic (the article's
flat 0.5 % maintenance rate, BTC at 100,000 USDT, no fees), a brute-force search for the shared
liquidation price, and bad input."""

from __future__ import annotations

import math

import ipywidgets as ipw
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from margin_lib.examples import CASE_A, ILLUSTRATIVE_PRICES
from margin_lib.lessons import hedge_mode as lesson
from margin_lib.widgets import safe_text

MMR = 0.005  # the article's rate
EP = ILLUSTRATIVE_PRICES["BTCUSDT"]


def closed_form(long_usdt: float, short_usdt: float, wallet: float) -> float:
    """``WB + Q_L (P − EP) − Q_S (P − EP) = MMR (Q_L + Q_S) P`` solved by hand for ``P``."""
    q_l, q_s = long_usdt / EP, short_usdt / EP
    return (wallet - q_l * EP + q_s * EP) / (MMR * (q_l + q_s) - q_l + q_s)


def brute_force(long_usdt: float, short_usdt: float, wallet: float) -> float:
    """Scan prices from 1 to 100x the entry for the first change of sign of balance − MM, then
    bisect; nan if the sign never changes."""
    q_l, q_s = long_usdt / EP, short_usdt / EP

    def excess(p: float) -> float:
        return wallet + q_l * (p - EP) - q_s * (p - EP) - MMR * (q_l + q_s) * p

    grid = [EP * k / 1_000 for k in range(1, 100_001)]
    for lo, hi in zip(grid, grid[1:], strict=False):
        if (excess(lo) > 0) != (excess(hi) > 0):
            for _ in range(100):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if (excess(mid) > 0) == (excess(lo) > 0) else (lo, mid)
            return (lo + hi) / 2
    return math.nan


def test_modes_refuse_what_the_exchange_refuses():
    text = lesson.mode_rules()
    one_way, hedge = text.split("hedge account")
    assert "open a short as well -> refused: one-way mode holds a long BTCUSDT position" in one_way
    assert "switch to hedge mode -> refused: cannot switch to hedge mode while positions are open" in one_way
    assert "open a short as well -> accepted" in hedge
    assert "legs now open: long BTCUSDT, short BTCUSDT" in hedge


def test_view_default_pair_matches_hand_arithmetic():
    text = lesson.view()
    # 0.5 BTC long and 0.25 BTC short from 100,000, price 95,000
    assert "long PnL -2,500.00 USDT, short PnL 1,250.00 USDT, sum -1,250.00 USDT" in text
    assert "net exposure +0.25 BTC (long)" in text
    assert f"shared liquidation price of both legs: {closed_form(50_000, 25_000, 2_000):,.2f} (below" in text
    assert f"margin balance {2_000 - 1_250:,.2f} USDT" in text
    assert f"maintenance margin {MMR * 0.75 * 95_000:,.2f} USDT" in text
    assert text.endswith("not liquidated")
    assert max(len(line) for line in text.splitlines()) <= 90  # no wrapping in a notebook's output


@pytest.mark.parametrize(
    "long_usdt, short_usdt, side",
    [
        (50_000, 50_000, "above"),
        (50_000, 25_000, "below"),
        (25_000, 50_000, "above"),
        (50_000, 48_500, "none"),
    ],
)
def test_shared_price_agrees_with_brute_force(long_usdt, short_usdt, side):
    got = lesson.shared_price(long_usdt, short_usdt)
    expected = brute_force(long_usdt, short_usdt, 2_000)
    if side == "none":
        assert math.isnan(got) and math.isnan(expected)
        return
    assert got == pytest.approx(expected, rel=1e-9)
    assert got == pytest.approx(closed_form(long_usdt, short_usdt, 2_000), rel=1e-12)
    assert (got > EP) == (side == "above")


def test_net_long_has_a_price_despite_a_negative_denominator():
    q_l, q_s = 50_000 / EP, 25_000 / EP
    assert MMR * (q_l + q_s) - q_l + q_s < 0
    assert 0 < lesson.shared_price(50_000, 25_000) < EP
    rows = [r.split("|") for r in lesson.shared_prices_table().splitlines()[2:]]
    assert [r[-1].strip() for r in rows] == ["above", "below", "above", "none (--)"]
    assert rows[3][4].strip() == "--"


def test_report_shows_the_balanced_price_on_both_legs():
    balanced = 2_000 / (MMR * 1.0)  # balance stays at the wallet; MM = 0.5 % of 2 × 0.5 BTC × P
    rows = [r.split("|") for r in lesson.report_table().splitlines()[2:]]
    assert [r[0].strip() for r in rows] == ["long", "short"]
    assert all(r[-1].strip() == f"{balanced:,.2f}" for r in rows)
    assert all(r[4].strip() == "2,000.00 USDT" for r in rows)
    probe = lesson.balanced_probe().splitlines()
    assert [line.split(": ")[-1] for line in probe] == ["open", "open", "open", "LIQUIDATED"]


def test_isolated_legs_liquidate_alone():
    q = 0.5
    long_lp = (q * EP - 1_000) / (q * (1 - MMR))
    short_lp = (q * EP + 1_000) / (q * (1 + MMR))
    text = lesson.isolated_legs(98_000)
    assert f"liquidation price {long_lp:,.2f}" in text and f"liquidation price {short_lp:,.2f}" in text
    assert "liquidated long leg (lost 1,000.00 USDT)" in text
    assert "still open: short leg, unrealized PnL 1,000.00 USDT" in text
    assert "BTC back at 100,000.00: equity 1,000.00 USDT" in text
    assert "same pair in cross mode at 98,000.00: both legs open" in text
    view = lesson.view(50_000, 50_000, margin_mode="isolated", price_now=98_000)
    assert view.endswith("long leg LIQUIDATED; short leg open")
    assert lesson.view(50_000, 50_000, margin_mode="isolated", price_now=99_000).endswith(
        "long leg open; short leg open"
    )


def test_cross_symbol_hedge_offsets_together_and_loses_twice_when_split():
    size = CASE_A.positions[0].notional
    assert lesson.cross_symbol_after(-10, -10) == (-0.1 * size, 0.1 * size, CASE_A.wallet, False)
    btc, eth, equity, liquidated = lesson.cross_symbol_after(-10, 10)
    assert (btc, eth) == (pytest.approx(-0.1 * size), pytest.approx(-0.1 * size))
    assert liquidated and equity == pytest.approx(CASE_A.wallet - 0.2 * size)
    rows = {
        (r.split("|")[0].strip(), r.split("|")[1].strip()): r
        for r in lesson.cross_symbol_table().splitlines()
    }
    assert rows[("-30 %", "-30 %")].rstrip().endswith("open")
    assert rows[("-10 %", "+10 %")].rstrip().endswith("LIQUIDATED")


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(leverage=0), "⚠ leverage must be >= 1; got 0.0"),
        (
            dict(leverage=120),
            "⚠ leverage must be at most 100x for a 50,000 USDT BTCUSDT position (tier 1's maximum); got 120x",
        ),
        (dict(long_size=-5), "⚠ long_size must be > 0; got -5.0"),
        (dict(short_size=0), "⚠ short_size must be > 0; got 0.0"),
        (dict(short_size=float("nan")), "⚠ short_size must be a finite number > 0; got nan"),
        (dict(price_now=float("nan")), "⚠ price must be a finite number > 0; got nan"),
    ],
)
def test_bad_input_gives_a_short_message(values, message):
    assert safe_text(lesson.view, **values) == message
    assert safe_text(lesson.view, **values, margin_mode="isolated") == message


def test_small_wallet_is_refused_with_a_message():
    text = safe_text(lesson.view, wallet=100)
    assert text.startswith("⚠ insufficient available balance") and "\n" not in text


def test_exercises():
    answers = {
        "8a": closed_form(40_000, 20_000, 1_500),
        "8b": 1_500 / (MMR * 2 * 0.3),
        "8c": -0.06 * 5_000 - 0.04 * 5_000,
    }
    for key, ex in lesson.EXERCISES.items():
        assert ex.check(answers[key]).endswith("right!"), key
        wrong = ex.check(answers[key] * 1.2)
        assert ("too high" in wrong or "too low" in wrong) and "Hint:" in wrong
        assert f"{abs(answers[key]):,.0f}" not in wrong and f"{abs(answers[key]):.0f}" not in wrong


def test_cross_plot_marks_the_shared_price():
    fig = lesson.plot()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "BTC mark price (USDT)" and ax.get_ylabel() == "USDT"
    lp = closed_form(50_000, 25_000, 2_000)
    assert f"shared liquidation {lp:,.0f}" in [t.get_text() for t in ax.texts]
    assert any(line.get_linestyle() == "--" for line in ax.lines)
    plt.close(fig)


def test_balanced_plot_notes_the_price_off_the_chart_and_isolated_plot_has_two_prices():
    fig = lesson.plot(50_000, 50_000, price_now=98_000)
    assert "shared liquidation at 400,000, off the chart →" in [t.get_text() for t in fig.axes[0].texts]
    plt.close(fig)
    fig = lesson.plot(50_000, 50_000, margin_mode="isolated", price_now=98_000)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert ax.get_xlabel() == "BTC mark price (USDT)" and ax.get_ylabel() == "USDT"
        assert any(t.get_text().startswith("liquidation ") for t in ax.texts)
    plt.close(fig)


def test_cross_symbol_map_has_a_labelled_boundary():
    fig = lesson.cross_symbol_plot()
    ax = fig.axes[0]
    assert ax.get_xlabel() == "BTC price move (%)" and ax.get_ylabel() == "ETH price move (%)"
    assert "liquidation boundary" in [t.get_text() for t in ax.texts]
    plt.close(fig)


def test_widget_builds():
    w = lesson.widget()
    assert isinstance(w, ipw.VBox)
    descriptions = [getattr(c, "description", "") for c in w.children]
    assert "margin mode" in descriptions and "leverage (x)" in descriptions
