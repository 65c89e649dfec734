"""Lesson 9 (stress lab): the simulation, the lab's figures against hand arithmetic and the
bounds the modes guarantee, the historical table, and bad input."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from margin_lib.lessons import stress_lab as lesson
from margin_lib.widgets import safe_text

MMR = 0.004  # the exchange's tier-1 rate for these sizes


def test_simulation_is_seeded_read_only_and_has_the_stated_statistics():
    params = lesson.SimParams(crash_per_day=0.0)
    a = lesson.simulate(params, 3_000, seed=7)
    b = lesson.simulate.__wrapped__(params, 3_000, seed=7)
    np.testing.assert_array_equal(a["BTCUSDT"], b["BTCUSDT"])
    assert a["BTCUSDT"].shape == (3_000, 7 * 96) and not a["BTCUSDT"].flags.writeable
    r_btc = np.diff(np.log(a["BTCUSDT"]), axis=1).ravel()
    r_eth = np.diff(np.log(a["ETHUSDT"]), axis=1).ravel()
    assert np.std(r_btc) * np.sqrt(96) == pytest.approx(params.btc_daily_vol, rel=0.02)
    assert np.std(r_eth) * np.sqrt(96) == pytest.approx(params.eth_daily_vol, rel=0.02)
    assert np.corrcoef(r_btc, r_eth)[0, 1] == pytest.approx(params.correlation, abs=0.01)


def test_crash_days_happen_at_the_stated_rate():
    params = lesson.SimParams(btc_daily_vol=0.0001, eth_daily_vol=0.0001, crash_per_day=0.5, crash_spread=0.0)
    r = np.diff(np.log(lesson.simulate(params, 2_000, seed=3)["BTCUSDT"]), axis=1)
    crashes = np.abs(r - np.log(1 - 0.12)) < 0.01
    assert crashes.sum() / (2_000 * 671 / 96) == pytest.approx(0.5, rel=0.05)


def test_account_setup():
    for mode in lesson.MODES:
        r = lesson.build_account(10, mode).report()
        assert [p.notional for p in r.positions] == [1_000, 1_000]
        assert r.available_balance == pytest.approx(800)


def test_mode_bounds_hold_on_every_configuration():
    paths = lesson.simulate(lesson.SimParams(), 2_000)
    for lev in lesson.LEVERAGES:
        iso = lesson.stress(lev, "isolated", paths)
        cross = lesson.stress(lev, "cross", paths)
        assert iso.worst_loss <= 200 + 1e-9
        assert cross.worst_loss <= 1_000 + 1e-9
        assert iso.liquidated_week >= cross.liquidated_week
        assert 0 <= iso.liquidated_day <= iso.liquidated_week <= 1
    low = (lesson.stress(2, "isolated", paths), lesson.stress(2, "cross", paths))
    assert low[0].expected_loss == pytest.approx(low[1].expected_loss)  # nothing liquidated at 2x


def _iso_leg_loss(lev: float, move: float) -> float:
    liq_move = -(1 / lev - MMR) / (1 - MMR)
    return 100.0 if move <= liq_move else -100 * lev * move


def _cross_loss(lev: float, move: float) -> float:
    pnl = 2 * 100 * lev * move
    mm = 2 * MMR * 100 * lev * (1 + move)
    return 1_000.0 if 1_000 + pnl <= mm else -pnl


@pytest.mark.parametrize("lev", lesson.LEVERAGES)
@pytest.mark.parametrize("move", [m for _, _, m in lesson.HISTORICAL_MOVES])
def test_historical_losses_match_hand_arithmetic(lev, move):
    assert lesson.historical_loss(lev, "isolated", move) == pytest.approx(2 * _iso_leg_loss(lev, move))
    assert lesson.historical_loss(lev, "cross", move) == pytest.approx(_cross_loss(lev, move))


def test_historical_table_and_black_swan_text():
    rows = lesson.historical_table().splitlines()[2:]
    assert rows[0].startswith("2020-03-12/13") and rows[0].rstrip().endswith("200 / 1,000")
    text = lesson.black_swan(10, -0.5)
    assert "isolated: liquidated BTCUSDT long, ETHUSDT long; lost 200.00 USDT, left 800.00 USDT" in text
    assert "cross   : liquidated BTCUSDT long, ETHUSDT long; lost 1,000.00 USDT, left 0.00 USDT" in text


def test_kline_demo_replays_daily_windows():
    assert "672 candles from 2025-12-01T00:00:00.000 to 2025-12-07T23:45:00.000 -> 7 one-day windows" in (
        lesson.kline_demo()
    )


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(leverage=0), "⚠ leverage must be >= 1; got 0.0"),
        (dict(leverage=200), "⚠ leverage must be at most 150x for a 20,000 USDT BTCUSDT position"),
        (dict(daily_vol=-1), "⚠ daily_vol must satisfy 0 <= daily_vol <= 50; got -1.0"),
        (dict(crash_size=-95), "⚠ crash_size must satisfy -90 <= crash_size <= 0; got -95.0"),
        (dict(mode="both"), "⚠ mode must be one of 'isolated', 'cross'; got 'both'"),
    ],
)
def test_bad_widget_input(values, message):
    args = dict(leverage=10, mode="cross", daily_vol=3.5, crash_size=-12) | values
    assert safe_text(lesson.view, **args).startswith(message)


def test_view_lists_both_modes():
    text = lesson.view(10, "cross", 3.5, -12)
    assert "1,000 simulated paths in hourly steps; chosen mode: cross" in text
    rows = [r.split("|")[0].strip() for r in text.splitlines()[3:]]
    assert rows == ["isolated", "cross"]


def test_widget_market_reuses_its_random_numbers_and_reads_the_plot_curves():
    """Moving the volatility changes the market, not the luck: the widget's paths at two
    volatilities come from the same draws (the log returns scale exactly), and the view's
    numbers for a plotted leverage are the plot's."""
    low = lesson._widget_paths(lesson._market(2.0, -12))["BTCUSDT"]
    high = lesson._widget_paths(lesson._market(4.0, -12))["BTCUSDT"]
    assert low.shape == (lesson.WIDGET_PATHS, 7 * lesson.WIDGET_STEPS_PER_DAY)
    no_crash = lesson.SimParams(crash_per_day=0.0)
    a = lesson.simulate(no_crash, 50, steps_per_day=24)["BTCUSDT"]
    b = lesson.simulate(lesson.SimParams(btc_daily_vol=0.07, crash_per_day=0.0), 50, steps_per_day=24)[
        "BTCUSDT"
    ]
    assert np.allclose(np.diff(np.log(b)), 2 * np.diff(np.log(a)))
    assert not np.allclose(low, high)
    params = lesson._market(3.5, -12)
    curves = lesson._widget_curves(params)
    direct = lesson.stress(20, "cross", lesson._widget_paths(params))
    assert curves["cross"][lesson.LEVERAGES.index(20)] == direct
    assert f"{direct.liquidated_week:.1%}".replace("%", " %") in lesson.view(20, "cross", 3.5, -12)


def test_exercises():
    answers = {"9a": 200.0, "9c": _cross_loss(5, -0.5)}
    answers["9b"] = lesson.stress(20, "cross", lesson.simulate()).liquidated_week * 100
    assert answers["9b"] > 0
    for key, ex in lesson.EXERCISES.items():
        assert ex.check(answers[key]).endswith("right!")
        wrong = ex.check(answers[key] * 2)
        assert "too high" in wrong and "Hint:" in wrong


def test_plot_and_widget():
    fig = lesson.plot()
    left, right = fig.axes
    assert "liquidated within a week (%)" in left.get_ylabel() and "(USDT)" in right.get_ylabel()
    assert any(t.get_text() == "the whole wallet" for t in right.texts)
    plt.close(fig)
    assert type(lesson.widget()).__name__ == "VBox"
