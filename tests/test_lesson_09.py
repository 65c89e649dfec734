"""Lesson 9 (stress lab): the simulated market against its equation and its stated statistics
(no drift, jumps at the stated rate and even odds), the replay against hand-made paths, the
bounds the set-ups guarantee, the historical losses against hand arithmetic, the kline replay
on lows, the widget at its extremes and with bad values, the exercises and the quiz."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
from lesson_checks import check_exercise, check_hint, check_quiz
from matplotlib.text import Annotation

from margin_lib import InvalidInputError
from margin_lib.klines import load_klines
from margin_lib.lessons import stress_lab as lesson
from margin_lib.widgets import safe_text

MMR = 0.004  # the exchange's tier-1 rate for these sizes (snapshot of 2026-09)
ENTRY = {"BTCUSDT": 100_000.0, "ETHUSDT": 4_000.0}


# ------------------------------------------------------------------ the simulated market
def by_the_equation(params: lesson.SimParams, n: int, seed: int, per_day: int = 96, days: int = 7):
    """The model's equation stepped forward one mark at a time (a loop, not a cumulative sum),
    from the same random draws as the lesson's recipe."""
    normal, uniform = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    steps, dt = per_day * days, 1 / per_day
    e1, e2, xi = np.moveaxis(normal.standard_normal((n, steps, 3)), -1, 0)
    u_jump, u_sign = np.moveaxis(uniform.random((n, steps, 2)), -1, 0)
    sigma = {"BTCUSDT": params.btc_daily_vol, "ETHUSDT": params.eth_daily_vol}
    z = {"BTCUSDT": e1, "ETHUSDT": params.correlation * e1 + math.sqrt(1 - params.correlation**2) * e2}
    out = {s: np.empty((n, steps)) for s in sigma}
    for s in sigma:
        price = np.full(n, ENTRY[s])
        for t in range(steps):
            jump = u_jump[:, t] < params.jumps_per_day * dt
            k = np.minimum(np.maximum(params.jump_size + params.jump_spread * xi[:, t], 0), 0.95)
            factor = np.where(jump, 1 + np.where(u_sign[:, t] < 0.5, -1, 1) * k, 1.0)
            normal_move = np.exp(-0.5 * sigma[s] ** 2 * dt + sigma[s] * math.sqrt(dt) * z[s][:, t])
            price = price * normal_move * factor
            out[s][:, t] = price
    return out


def test_simulate_follows_its_equation_and_keeps_its_first_paths():
    params = lesson.SimParams(jumps_per_day=0.5)  # many jumps, to exercise that term
    got = lesson.simulate(params, 50, 11)
    expected = by_the_equation(params, 50, 11)
    for s in got:
        np.testing.assert_allclose(got[s], expected[s], rtol=1e-9)
        assert not got[s].flags.writeable
    more = lesson.simulate(params, 80, 11)
    np.testing.assert_array_equal(more["BTCUSDT"][:50], got["BTCUSDT"])  # one row per path
    assert lesson.simulate(n_paths=4)["BTCUSDT"].shape == (4, 7 * 96)


def test_normal_moves_have_the_stated_volatility_and_correlation():
    params = lesson.SimParams(jumps_per_day=0.0)
    paths = lesson.simulate(params, 3_000, 3)
    r_btc = np.diff(np.log(paths["BTCUSDT"]), axis=1).ravel()
    r_eth = np.diff(np.log(paths["ETHUSDT"]), axis=1).ravel()
    assert np.std(r_btc) * np.sqrt(96) == pytest.approx(params.btc_daily_vol, rel=0.01)
    assert np.std(r_eth) * np.sqrt(96) == pytest.approx(params.eth_daily_vol, rel=0.01)
    assert np.corrcoef(r_btc, r_eth)[0, 1] == pytest.approx(params.correlation, abs=0.005)


def test_the_market_has_no_drift_and_jumps_go_both_ways():
    """E[P_T] = P_0: the −σ²Δt/2 term cancels the normal moves' convexity and a jump's factor
    1 ± K averages 1. With down-only jumps of 12 % at 0.02 a day the week's drift would be
    about −1.7 %; at this test's ten-fold rate, −17 %, some forty standard errors."""
    params = lesson.SimParams(jumps_per_day=0.2)  # ten times the lab's rate, to see the jumps
    paths = lesson.simulate(params, 4_000, 5)
    for s, p in paths.items():
        change = p[:, -1] / ENTRY[s] - 1
        assert abs(change.mean()) < 3 * change.std() / np.sqrt(len(change)), s
    assert 0.2 * 0.12 * 7 == pytest.approx(0.168)  # the drift down-only jumps would add, a week
    quiet = lesson.SimParams(btc_daily_vol=1e-4, eth_daily_vol=1e-4, jumps_per_day=0.5, jump_spread=0.0)
    r = np.diff(np.log(lesson.simulate(quiet, 2_000, 3)["BTCUSDT"]), axis=1)
    up, down = np.abs(r - np.log(1.12)) < 0.01, np.abs(r - np.log(0.88)) < 0.01
    expected = 0.5 / 96 * r.size
    assert up.sum() + down.sum() == pytest.approx(expected, rel=0.05)
    assert abs(up.sum() - down.sum()) < 4 * np.sqrt(up.sum() + down.sum())  # even odds


def test_bad_parameters_are_refused_by_name():
    with pytest.raises(InvalidInputError, match="correlation"):
        lesson.simulate(lesson.SimParams(correlation=1.5), 5)
    with pytest.raises(InvalidInputError, match="jump_size"):
        lesson.simulate(lesson.SimParams(jump_size=-0.1), 5)


# ------------------------------------------------------------------ set-ups and the replay
def test_setups_hold_the_same_legs_with_the_stated_capital_at_risk():
    at_risk = {"isolated": 200.0, "cross 200": 200.0, "cross 1,000": 1_000.0}
    for lev in (2, 10, 50):
        for setup, risk in at_risk.items():
            acct = lesson.build_account(lev, setup)
            r = acct.report()
            assert [p.notional for p in r.positions] == [100 * lev, 100 * lev]
            assert {p.margin_mode for p in r.positions} == {setup.split(" ")[0]}
            assert lesson.capital_at_risk(acct) == risk
            assert r.positions[0].mmr == MMR
    with pytest.raises(InvalidInputError, match="setup must be one of"):
        lesson.build_account(10, "portfolio")


def _paths(*btc_moves, eth=0.0):
    """One path per BTC move list (fractions from the entry), ETH held at ``eth``."""
    btc = np.array([[ENTRY["BTCUSDT"] * (1 + m) for m in moves] for moves in btc_moves])
    return {"BTCUSDT": btc, "ETHUSDT": np.full(btc.shape, ENTRY["ETHUSDT"] * (1 + eth))}


def test_stress_on_hand_made_paths():
    # isolated 10x long: liquidated when 100 + 1,000 m <= 0.004 × 1,000 (1 + m): m <= −9.64 %
    liq_move = -(0.1 - MMR) / (1 - MMR)
    paths = _paths([-0.05, -0.097, 0.0, 0.0], [-0.02, -0.03, -0.05, -0.05])
    iso = lesson.stress(10, "isolated", paths, steps_per_day=2)
    assert -0.097 < liq_move < -0.096
    # path 1: the BTC leg is liquidated at step 1 (within the first "day" of 2 steps) and loses its
    # 100; path 2 ends 5 % down: −50
    assert iso == lesson.Stress(liquidated_day=0.5, liquidated_week=0.5, mean_pnl=-75.0,
                                average_loss=75.0, worst_loss=100.0)  # fmt: skip
    cross = lesson.stress(10, "cross 200", paths, steps_per_day=2)
    # cross 200: the pool survives −97 (balance 103 against 7.6 of maintenance) and ends flat
    assert cross == lesson.Stress(liquidated_day=0.0, liquidated_week=0.0, mean_pnl=-25.0,
                                  average_loss=25.0, worst_loss=50.0)  # fmt: skip


def test_pooled_margin_is_never_liquidated_where_the_isolated_legs_survive():
    paths = lesson.simulate(n_paths=2_000)
    for lev in lesson.LEVERAGES:
        iso = lesson.build_account(lev, "isolated").replay(paths).any_liquidation
        cross = lesson.build_account(lev, "cross 200").replay(paths).any_liquidation
        wide = lesson.build_account(lev, "cross 1,000").replay(paths).any_liquidation
        assert not np.any(cross & ~iso) and not np.any(wide & ~cross), lev
        for setup in lesson.SETUPS:
            s = lesson.stress(lev, setup, paths)
            assert s.worst_loss <= lesson.capital_at_risk(lesson.build_account(lev, setup)) + 1e-9
            assert 0 <= s.liquidated_day <= s.liquidated_week <= 1
            assert s.average_loss >= max(-s.mean_pnl, 0)
    two = [lesson.stress(2, setup, paths) for setup in lesson.SETUPS]  # nothing liquidated at 2x
    assert all(_cells(s) == _cells(two[0]) for s in two) and two[0].liquidated_week == 0


def test_mean_pnl_is_zero_within_two_standard_errors_in_every_row_of_the_lab():
    paths = lesson.simulate()
    for lev in lesson.LEVERAGES:
        for setup in lesson.SETUPS:
            pnl = lesson.build_account(lev, setup).replay(paths).pnl
            assert abs(pnl.mean()) < 2 * pnl.std() / np.sqrt(len(pnl)), (lev, setup)


def test_lab_table_rows():
    text = lesson.lab_table(lesson.simulate(n_paths=200))
    lines = text.splitlines()
    assert lines[0] == "200 simulated weeks"
    rows = [[c.strip() for c in line.split("|")] for line in lines[3:]]
    assert len(rows) == 15
    assert [r[2] for r in rows[:3]] == ["200 USDT", "200 USDT", "1,000 USDT"]
    assert [r[1] for r in rows[:3]] == ["isolated 2 × 100", "cross 200", "cross 1,000"]
    s = lesson.stress(10, "cross 200", lesson.simulate(n_paths=200))
    assert rows[7][3:] == _cells(s)


def _cells(s: lesson.Stress) -> list[str]:
    """A stress result as the lab's table and the widget print it."""
    return [f"{s.liquidated_day * 100:.1f} %", f"{s.liquidated_week * 100:.1f} %", f"{s.mean_pnl:,.2f} USDT",
            f"{s.average_loss:,.2f} USDT", f"{s.worst_loss:,.2f} USDT"]  # fmt: skip


# ------------------------------------------------------------------ historical crashes
def _iso_leg_loss(lev: float, move: float) -> float:
    liq_move = -(1 / lev - MMR) / (1 - MMR)
    return 100.0 if move <= liq_move else -100 * lev * move


def _cross_loss(lev: float, move: float, wallet: float) -> float:
    pnl = 2 * 100 * lev * move
    mm = 2 * MMR * 100 * lev * (1 + move)
    return wallet if wallet + pnl <= mm else -pnl


@pytest.mark.parametrize("lev", lesson.LEVERAGES)
@pytest.mark.parametrize("move", [m for _, _, m in lesson.HISTORICAL_MOVES])
def test_historical_losses_match_hand_arithmetic(lev, move):
    assert lesson.shock_loss(lev, "isolated", move, move) == pytest.approx(2 * _iso_leg_loss(lev, move))
    assert lesson.shock_loss(lev, "cross 200", move, move) == pytest.approx(_cross_loss(lev, move, 200))
    assert lesson.shock_loss(lev, "cross 1,000", move, move) == pytest.approx(_cross_loss(lev, move, 1_000))


def test_historical_table_and_the_split_shock():
    rows = lesson.historical_table().splitlines()
    assert rows[0] == "loss in USDT: isolated 2 × 100 / cross 200 / cross 1,000"
    heads = [h.strip() for h in rows[1].split("|")[1:]]
    assert heads == ["Covid sell-off -50 %", "China crackdown -30 %", "FTX collapse -25 %"]
    assert rows[5].split("|")[1].strip() == "200 / 200 / 1,000"  # 10x, −50 %: 2 × 500 > every pool
    # BTC −12 %, ETH +4 % at 10x: the isolated BTC leg loses its 100, ETH keeps +40; cross keeps both
    assert lesson.shock_loss(10, "isolated", -0.12, 0.04) == pytest.approx(100 - 40)
    assert lesson.shock_loss(10, "cross 200", -0.12, 0.04) == pytest.approx(120 - 40)


# ------------------------------------------------------------------ your own data
def test_demo_klines_are_well_formed_candles():
    k = load_klines(lesson.demo_klines("BTCUSDT"))
    assert len(k) == 30 * 96
    assert str(k.open_time[0]) == "2025-12-01T00:00:00.000"
    assert str(k.open_time[-1]) == "2025-12-30T23:45:00.000"
    assert np.all(k.low <= np.minimum(k.open, k.close)) and np.all(k.high >= np.maximum(k.open, k.close))
    np.testing.assert_allclose(k.open[1:], k.close[:-1])  # each open is the previous close
    assert k.open[0] == ENTRY["BTCUSDT"]


def test_a_replay_on_lows_sees_every_liquidation_the_closes_see_and_more():
    candles = {s: load_klines(lesson.demo_klines(s)) for s in ENTRY}
    closes = {s: ENTRY[s] * c.windows(96, field="close") for s, c in candles.items()}
    lows = {s: ENTRY[s] * c.windows(96, field="low") for s, c in candles.items()}
    then_close = {s: np.column_stack([lows[s], closes[s][:, -1]]) for s in lows}
    seen = {}
    for lev in (10, 20, 50):
        for setup in ("isolated", "cross 200"):
            acct = lesson.build_account(lev, setup)
            on_closes, on_lows = acct.replay(closes).any_liquidation, acct.replay(then_close).any_liquidation
            assert not np.any(on_closes & ~on_lows)
            seen[(lev, setup)] = (int(on_closes.sum()), int(on_lows.sum()))
    assert seen[(20, "isolated")][1] > seen[(20, "isolated")][0]  # the lesson's example shows a gap
    # a day that is not liquidated ends at its close, on both replays
    acct = lesson.build_account(2, "cross 1,000")
    np.testing.assert_allclose(acct.replay(closes).final_equity, acct.replay(then_close).final_equity)


# ------------------------------------------------------------------ the widget
def test_view_is_the_lab_on_its_hourly_market():
    text = lesson.view()
    assert text.splitlines()[0] == (
        "10x; BTC daily volatility 3.5 %, jumps of 12 % ± 5 % up or down; 1,000 weeks, hourly (*: shown)"
    )
    hourly = lesson.simulate(lesson.SimParams(), 1_000, lesson.SEED, steps_per_day=24)
    assert hourly["BTCUSDT"].shape == (1_000, 7 * 24)
    rows = {r.split("|")[0].strip(): [c.strip() for c in r.split("|")[1:]] for r in text.splitlines()[3:]}
    for setup, (label, _, _) in lesson.SETUPS.items():
        s = lesson.stress(10, setup, hourly, steps_per_day=24)
        assert rows[label + (" *" if setup == "cross 200" else "")] == _cells(s)
    odd = lesson.view(leverage=7)  # not one of the plotted leverages: replayed on its own
    assert odd.startswith("7x;") and "cross 200 *" in odd
    s = lesson.stress(7, "isolated", hourly, steps_per_day=24)
    assert [c.strip() for c in odd.splitlines()[3].split("|")[1:]] == _cells(s)


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(leverage=0), "⚠ leverage (x) must satisfy 1 <= leverage (x) <= 50; got 0.0"),
        (dict(leverage=60), "⚠ leverage (x) must satisfy 1 <= leverage (x) <= 50; got 60.0"),
        (dict(daily_vol=20), "⚠ BTC daily vol. (%) must satisfy 0.5 <= BTC daily vol. (%) <= 10; got 20.0"),
        (dict(daily_vol=float("nan")), "⚠ BTC daily vol. (%) must be a finite number with 0.5 <= BTC daily"),
        (dict(jump_size=-5), "⚠ jump size (%) must satisfy 0 <= jump size (%) <= 60; got -5.0"),
        (dict(setup="both"), "⚠ set-up shown must be one of 'isolated', 'cross 200', 'cross 1,000'; got"),
    ],
)
def test_bad_widget_input_names_the_control_and_its_range(values, message):
    text = safe_text(lesson.view, **values)
    assert text.startswith(message) and "\n" not in text
    controls = lesson.widget().controls
    labels = [w.description for w in controls.values()]
    assert message[2:].split(" must ")[0] in labels
    assert (controls["leverage"].max, controls["daily_vol"].max, controls["jump_size"].min) == (50, 10, 0)


def _marker_points(ax):
    for line in ax.lines:
        if line.get_marker() not in ("None", "", None):
            yield from ax.transData.transform(np.column_stack(line.get_data()))


@pytest.mark.parametrize(
    "values",
    [{}, dict(leverage=1), dict(leverage=50, setup="isolated"), dict(daily_vol=0.5, jump_size=0),
     dict(daily_vol=10, jump_size=60, setup="cross 1,000")],
)  # fmt: skip
def test_plot_keeps_labels_off_the_data(values):
    fig = lesson.plot(**values)
    left, right = fig.axes
    assert left.get_ylim() == (0, 100) and right.get_ylim() == (1, 2_000) and right.get_yscale() == "log"
    assert left.get_ylabel() == "weeks liquidated (%)" and "USDT" in right.get_ylabel()
    assert left.get_legend() is None and len(fig.legends) == 1  # the legend sits below, off the data
    lev = values.get("leverage", 10)
    assert f"chosen leverage, {lev:g}x" in [t.get_text() for t in fig.legends[0].get_texts()]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in (left, right):
        for text in [t for t in ax.texts if isinstance(t, Annotation)]:
            box = text.get_window_extent(renderer)
            assert not any(box.contains(x, y) for x, y in _marker_points(ax)), text.get_text()
    assert right.texts and all(t.get_text().startswith("at risk: ") for t in right.texts)
    plt.close(fig)


def test_plot_titles_hold_across_the_widget_range():
    """Left: pooled margin is never liquidated more often; right: it loses about as much on
    average (within 15 %), at every leverage of the plot, at the sliders' extremes."""
    for vol, jump in ((0.5, 0.0), (3.5, 12.0), (10.0, 60.0)):
        curves = lesson._curves(lesson._market(vol, jump))
        for iso, cross in zip(curves["isolated"], curves["cross 200"], strict=True):
            assert cross.liquidated_week <= iso.liquidated_week
            assert cross.average_loss == pytest.approx(iso.average_loss, rel=0.15)


def test_widget_builds():
    w = lesson.widget()
    assert type(w).__name__ == "VBox"
    options = list(w.controls["setup"].options)  # plain words: a toggle's value is its label
    assert options == list(lesson.SETUPS) == ["isolated", "cross 200", "cross 1,000"]


# ------------------------------------------------------------------ exercises and quiz
def test_exercises_accept_the_answer_and_reject_the_named_wrong_methods():
    paths = lesson.simulate()
    p = lesson.stress(20, "cross 200", paths).liquidated_week
    calm = lesson.simulate(lesson.SimParams(jumps_per_day=0.0))
    no_jumps = lesson.stress(20, "cross 1,000", calm).liquidated_week
    with_jumps = lesson.stress(20, "cross 1,000", paths).liquidated_week
    right = {
        "9a": [no_jumps * 100, round(no_jumps * 100, 1)],  # as computed, and as the table prints it
        "9b": [100 - 40],  # the BTC leg loses its 100 USDT wallet, the ETH leg gains 4 % of 1,000
        "9c": [math.sqrt(p * (1 - p) / 10_000) * 100, math.sqrt(0.648 * 0.352 / 10_000) * 100],  # as printed
        "9d": [120 - 40],  # the pool keeps both legs: −120 + 40
    }
    wrong = {
        "9a": [with_jumps * 100, no_jumps],  # the table with jumps; a fraction, not per cent
        "9b": [120 - 40, 100.0],  # the BTC leg's loss not capped; the ETH gain left out
        "9c": [math.sqrt(p / 1e4) * 100, p / math.sqrt(1e4) * 100, math.sqrt(p * (1 - p) / 1e3) * 100],
        "9d": [60.0, 200.0],  # the isolated reasoning; the pool taken as lost
    }
    for key in lesson.EXERCISES:
        answer, *also_right = right[key]
        check_exercise(lesson, key, answer, wrong[key], also_right=also_right)
        check_hint(lesson, key)


def test_quiz_right_letters_and_reasons():
    right = {"q1": "c", "q2": "b", "q3": "c", "q4": "a"}
    for q in lesson.QUIZ.questions:
        check_quiz(lesson, q.key, right[q.key])
    # q1's reason: a share near 50 % on 1,000 weeks has a standard error of about 1.6 points
    assert math.sqrt(0.25 / 1_000) * 100 == pytest.approx(1.6, abs=0.05)
    # q4's: both coins −50 % at 10x cost cross 1,000 all of it, the other set-ups 200
    assert [lesson.shock_loss(10, s, -0.5, -0.5) for s in lesson.SETUPS] == [200, 200, 1_000]
