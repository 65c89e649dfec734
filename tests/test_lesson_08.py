"""Lesson 8 (hedge mode): every figure the lesson prints against hand arithmetic or the article's
own figures (its table: 0.5 % up to 100x, 0.4 % at 125x; its 9.5 % error tolerance at 10x; Case
A's wallet and sizes), a brute-force search for the shared price, the widget at its extremes and
with bad values, the plots' labels, the exercises (wrong methods rejected) and the quiz."""

from __future__ import annotations

import math

import ipywidgets as ipw
import matplotlib.pyplot as plt
import numpy as np
import pytest
from lesson_checks import check_exercise, check_hint, check_quiz
from matplotlib.text import Annotation

from margin_lib import InvalidInputError, OrderRefusedError
from margin_lib.account import Account, liquidation_losses
from margin_lib.examples import CASE_A, LEVERAGE_TABLE
from margin_lib.lessons import hedge_mode as lesson
from margin_lib.widgets import safe_text

MMR = 0.005  # the article's rate up to 100x
EP = 100_000.0  # the lesson's BTC entry
BTC = "BTCUSDT"


def closed_form(long_usdt: float, short_usdt: float, wallet: float, mmr: float = MMR) -> float:
    """``WB + Q_L (P − EP) − Q_S (P − EP) = mmr (Q_L + Q_S) P`` solved by hand for ``P``."""
    q_l, q_s = long_usdt / EP, short_usdt / EP
    return (wallet - q_l * EP + q_s * EP) / (mmr * (q_l + q_s) - q_l + q_s)


def brute_force(long_usdt: float, short_usdt: float, wallet: float) -> float:
    """The first change of sign of balance − maintenance on a grid up to 10x the entry, bisected;
    nan where it never changes."""
    q_l, q_s = long_usdt / EP, short_usdt / EP

    def excess(p: float) -> float:
        return wallet + (q_l - q_s) * (p - EP) - MMR * (q_l + q_s) * p

    grid = np.linspace(1.0, 10 * EP, 100_001)
    signs = np.array([excess(p) > 0 for p in grid])
    flips = np.flatnonzero(signs[1:] != signs[:-1])
    if not len(flips):
        return math.nan
    lo, hi = grid[flips[0]], grid[flips[0] + 1]
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if (excess(mid) > 0) == (excess(lo) > 0) else (lo, mid)
    return (lo + hi) / 2


def test_table_follows_the_article_rows_up_to_125x():
    rates = {row.leverage: row.stated_mmr for row in LEVERAGE_TABLE}
    for lev in (5, 10, 50, 100, 125):
        assert lesson.table_for(lev).tier_at(50_000).mmr == rates[lev]
    assert lesson.table_for(50).max_leverage(50_000) == 125  # the slider's top, the table's last row
    with pytest.raises(InvalidInputError, match="at most 125"):
        lesson.table_for(130)


def test_one_way_refuses_a_second_side_and_hedge_mode_takes_it():
    one_way = Account(2_000, fee_rate=0, brackets={BTC: lesson.table_for(10)})
    one_way.open_position(BTC, "long", notional=10_000, price=EP, leverage=10)
    with pytest.raises(OrderRefusedError, match="reduces, closes or flips"):
        one_way.open_position(BTC, "short", notional=5_000, price=EP, leverage=10)
    one_way.place_order(BTC, "short", price=EP, notional=5_000)
    assert [(p.side_name, p.notional) for p in one_way.positions] == [("long", 5_000)]
    with pytest.raises(OrderRefusedError, match="while positions are open"):
        one_way.set_position_mode("hedge")
    hedge = lesson.hedge_account(10_000, 5_000, leverage=10)
    assert [p.side_name for p in hedge.positions] == ["long", "short"]


def test_two_legs_move_like_their_net_exposure_and_lock_margin_on_both():
    acct = lesson.hedge_account(50_000, 25_000)
    r = acct.report()
    assert [p.initial_margin for p in r.positions] == [50_000 / 50, 25_000 / 50]  # 1,500 in all
    assert r.available_balance == pytest.approx(2_000 - 1_500)
    acct.mark({BTC: 95_000})
    # 0.5 BTC × −5,000 + 0.25 BTC × +5,000 = 0.25 BTC × −5,000
    assert acct.report().unrealized_pnl == pytest.approx(-1_250)


@pytest.mark.parametrize(
    "name, long_usdt, short_usdt, side, denominator",
    [
        ("balanced", 50_000, 50_000, "above", MMR * 1.0),
        ("2:1, net long", 50_000, 25_000, "below", MMR * 0.75 - 0.25),
        ("1:2, net short", 25_000, 50_000, "above", MMR * 0.75 + 0.25),
        ("net long 1,500, covered", 50_000, 48_500, "none", MMR * 0.985 - 0.015),
    ],
)
def test_shared_price_agrees_with_hand_and_brute_force(name, long_usdt, short_usdt, side, denominator):
    assert (name, long_usdt, short_usdt) in lesson.PAIRS
    got = [p.liquidation_price for p in lesson.hedge_account(long_usdt, short_usdt).report().positions]
    assert got[0] == got[1] or (math.isnan(got[0]) and math.isnan(got[1]))  # one price for both legs
    expected = brute_force(long_usdt, short_usdt, 2_000)
    q_l, q_s = long_usdt / EP, short_usdt / EP
    assert q_l * MMR + q_s * MMR - q_l + q_s == pytest.approx(denominator)
    if side == "none":
        assert math.isnan(got[0]) and math.isnan(expected)
        assert closed_form(long_usdt, short_usdt, 2_000) < 0  # positive numerator, negative denominator
        return
    assert got[0] == pytest.approx(expected, rel=1e-9)
    assert got[0] == pytest.approx(closed_form(long_usdt, short_usdt, 2_000), rel=1e-12)
    assert (got[0] > EP) == (side == "above")


def test_the_lesson_prices():
    assert closed_form(50_000, 25_000, 2_000) == pytest.approx(93_401.015228, rel=1e-9)  # 18,000 / 0.19271
    assert closed_form(50_000, 50_000, 2_000) == pytest.approx(2_000 / (MMR * 1.0))  # 400,000
    assert closed_form(25_000, 50_000, 2_000) == pytest.approx(27_000 / 0.25375)  # 106,403.94


def test_balanced_pair_is_liquidated_only_above_and_the_covered_pair_never():
    balanced = lesson.hedge_account(50_000, 50_000)
    states = [bool(balanced.copy().mark({BTC: p})) for p in (1.0, EP / 2, 399_600, 400_400)]
    assert states == [False, False, False, True]
    covered = lesson.hedge_account(50_000, 48_500)
    for p in (1.0, 50_000, EP, 10 * EP, 100 * EP):
        assert not covered.copy().mark({BTC: p}), p
    # the balance with BTC near 0: 2,000 − 0.015 BTC × 99,999 USDT, about 500
    assert 2_000 + 0.015 * (1.0 - EP) == pytest.approx(500.015)


def test_isolated_legs_are_liquidated_alone():
    q, wallet = 0.5, 1_000
    long_lp, short_lp = (q * EP - wallet) / (q * (1 - MMR)), (q * EP + wallet) / (q * (1 + MMR))
    iso = lesson.hedge_account(50_000, 50_000, margin_mode="isolated")
    lps = [p.liquidation_price for p in iso.report().positions]
    assert lps == [pytest.approx(long_lp), pytest.approx(short_lp)]
    assert f"{long_lp:,.2f}" == "98,492.46" and f"{short_lp:,.2f}" == "101,492.54"
    assert long_lp / EP - 1 == pytest.approx(-0.015, abs=0.001)  # "about 1.5 %"
    events = iso.mark({BTC: 98_000})
    assert liquidation_losses(events) == {"BTCUSDT long": pytest.approx(wallet)}
    (short,) = iso.report().positions
    assert short.side == "short" and short.unrealized_pnl == pytest.approx(q * 2_000)
    assert iso.report().equity == pytest.approx(2_000)
    iso.mark({BTC: EP})
    assert iso.report().equity == pytest.approx(2_000 - wallet)
    cross = lesson.hedge_account(50_000, 50_000)
    assert not cross.mark({BTC: 98_000})
    cross.mark({BTC: EP})
    assert cross.report().equity == pytest.approx(2_000)


def test_cross_coin_hedge_survives_the_article_tolerance_of_a_split():
    acct = lesson.cross_symbol_account()
    assert [(p.side_name, p.symbol, p.notional) for p in acct.positions] == [
        ("long", "BTCUSDT", 5_000), ("short", "ETHUSDT", 5_000),
    ]  # fmt: skip
    # the split that liquidates: WB / (N_B + N_E) − MMR, the article's 9.5 % at 10x
    tolerance = next(r.stated_tolerance for r in LEVERAGE_TABLE if r.leverage == 10)
    split = (CASE_A.wallet - MMR * 10_000) / 10_000
    assert split == pytest.approx(tolerance)

    def state(b: float, e: float) -> bool:
        return bool(acct.copy().mark({BTC: EP * (1 + b), "ETHUSDT": 4_000 * (1 + e)}))

    assert not state(-split + 1e-4, split - 1e-4) and state(-split - 1e-4, split + 1e-4)
    assert [state(b, e) for b, e in ((-0.1, -0.1), (-0.3, -0.3), (0.1, 0.1), (-0.05, 0.05), (0.1, -0.1))] == [
        False, False, False, False, False,
    ]  # fmt: skip
    assert state(-0.10, 0.10)  # PnL −1,000: balance 0 against 0.5 % of 4,500 + 5,500 = 50


def test_view_default_pair_matches_hand_arithmetic():
    text = lesson.view()
    assert "cross hedge, 50x (maintenance rate 0.5 %), wallet 2,000.00 USDT:" in text
    assert "long PnL -2,500.00 USDT, short PnL 1,250.00 USDT, sum -1,250.00 USDT" in text
    assert "net exposure +0.25 BTC (long)" in text
    lp = closed_form(50_000, 25_000, 2_000)
    assert f"shared liquidation price of both legs: {lp:,.2f} ({(lp / 95_000 - 1) * 100:+.1f} %" in text
    balance, mm = 2_000 - 1_250, MMR * 0.75 * 95_000
    assert f"margin balance {balance:,.2f} USDT, maintenance margin {mm:,.2f} USDT" in text
    assert text.endswith("not liquidated")
    assert max(len(line) for line in text.splitlines()) <= 90  # no wrapping in a notebook's output


def test_view_words_the_covered_pair_and_the_article_125x_row():
    covered = lesson.view(50_000, 48_500)
    assert "none (--): at no BTC price" in covered and "this price" not in covered
    assert "net exposure +0.015 BTC (long)" in covered
    balanced = lesson.view(50_000, 50_000)
    assert "net exposure 0\n" in balanced and "400,000.00 (+321.1 % from 95,000.00)" in balanced
    top = lesson.view(leverage=125)
    assert "125x (maintenance rate 0.4 %)" in top
    assert f"{closed_form(50_000, 25_000, 2_000, mmr=0.004):,.2f}" in top
    liquidated = lesson.view(price_now=90_000)
    assert liquidated.endswith("LIQUIDATED: both legs closed, the cross wallet lost")


def test_view_isolated_names_each_leg_and_what_it_lost():
    text = lesson.view(50_000, 50_000, margin_mode="isolated", price_now=98_000)
    assert "long leg: own liquidation price 98,492.46, isolated wallet 1,000.00 USDT" in text
    assert text.endswith("long leg LIQUIDATED (1,000.00 USDT lost); short leg open")
    assert lesson.view(50_000, 50_000, margin_mode="isolated", price_now=99_000).endswith(
        "long leg open; short leg open"
    )
    # a 1x long backed by its whole notional has no liquidation price; the short's is (Q·EP + WB)/(Q·1.005)
    text = lesson.view(margin_mode="isolated", leverage=1, wallet=80_000)
    assert "long leg: own liquidation price --" in text
    assert f"short leg: own liquidation price {(25_000 + 25_000) / (0.25 * 1.005):,.2f}" in text


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(leverage=0), "⚠ leverage (x) must satisfy 1 <= leverage (x) <= 125; got 0.0"),
        (dict(leverage=130), "⚠ leverage (x) must satisfy 1 <= leverage (x) <= 125; got 130.0"),
        (dict(long_size=-5), "⚠ long size (USDT) must be > 0; got -5.0"),
        (dict(short_size=0), "⚠ short size (USDT) must be > 0; got 0.0"),
        (dict(short_size=float("nan")), "⚠ short size (USDT) must be a finite number > 0; got nan"),
        (dict(long_entry=0), "⚠ long entry (USDT) must be > 0; got 0.0"),
        (dict(price_now=float("nan")), "⚠ BTC price (USDT) must be a finite number > 0; got nan"),
        (dict(margin_mode="both"), "⚠ margin mode must be one of 'isolated', 'cross'; got 'both'"),
    ],
)
def test_bad_input_gives_one_line_naming_the_control(values, message):
    assert safe_text(lesson.view, **values) == message
    if "margin_mode" not in values:
        assert safe_text(lesson.view, **values, margin_mode="isolated") == message
    labels = [w.description for w in lesson.widget().controls.values()]
    assert message[2:].split(" must ")[0] in labels


def test_small_wallet_is_refused_quoting_the_slider_limit():
    text = safe_text(lesson.view, wallet=100)
    assert text.startswith("⚠ insufficient available balance") and "\n" not in text
    assert "up to 125x" in text


def _labels(ax) -> dict[str, Annotation]:
    return {t.get_text(): t for t in ax.texts if isinstance(t, Annotation)}


@pytest.mark.parametrize(
    "values, clear",
    [({}, True), (dict(price_now=90_000), True), (dict(leverage=125), True),
     (dict(long_size=25_000, short_size=50_000, price_now=105_000), True),
     (dict(long_size=200, short_size=100, wallet=10, leverage=125, price_now=99_000), True),
     (dict(long_entry=98_000, short_entry=103_000, price_now=99_000), False)],
)  # fmt: skip
def test_cross_plot_labels_are_not_struck_through(values, clear):
    """No curve runs through a price label: at the label's x, every curve passes above or below
    the label's box (display coordinates, after a draw). Where two long labels leave no clear
    place (two entries between the curves), the label sits on an opaque backing above the lines."""
    fig = lesson.plot(**values)
    ax = fig.axes[0]
    fig.canvas.draw()
    labels = _labels(ax)
    assert any(t.startswith("liquidation ") for t in labels) and any("entry" in t for t in labels)
    renderer = fig.canvas.get_renderer()
    crossed = []
    for text in labels.values():
        patch = text.get_bbox_patch()
        assert patch is not None and patch.get_facecolor()[:3] == (1.0, 1.0, 1.0)
        assert text.get_zorder() > max(line.get_zorder() for line in ax.lines)
        box = text.get_window_extent(renderer)
        for line in ax.lines[:2]:  # margin balance, maintenance margin
            xs, ys = ax.transData.transform(np.column_stack(line.get_data())).T
            inside = (xs >= box.x0) & (xs <= box.x1)
            if np.any((ys[inside] > box.y0 + 1) & (ys[inside] < box.y1 - 1)):
                crossed.append(text.get_text())
    assert not (clear and crossed), crossed
    assert ax.get_ylim()[1] > max(ax.lines[0].get_ydata().max(), ax.lines[1].get_ydata().max())
    plt.close(fig)


def test_cross_plot_marks_the_shared_price_and_its_notes():
    fig = lesson.plot()
    ax = fig.axes[0]
    assert ax.get_xlabel() == "BTC mark price (USDT)" and ax.get_ylabel() == "USDT"
    assert f"liquidation {closed_form(50_000, 25_000, 2_000):,.0f}" in _labels(ax)
    assert "entry 100,000" in _labels(ax)
    assert fig.get_size_inches().tolist() == [8.0, 4.2]
    plt.close(fig)
    fig = lesson.plot(50_000, 50_000, price_now=98_000)
    assert "shared liquidation price 400,000: off the chart →" in [t.get_text() for t in fig.axes[0].texts]
    plt.close(fig)
    fig = lesson.plot(50_000, 48_500)
    assert "no shared liquidation price (--)" in [t.get_text() for t in fig.axes[0].texts]
    plt.close(fig)


def test_isolated_plot_has_a_price_per_leg():
    fig = lesson.plot(50_000, 50_000, margin_mode="isolated", price_now=98_000)
    assert len(fig.axes) == 2
    prices = ((0.5 * EP - 1_000) / (0.5 * 0.995), (0.5 * EP + 1_000) / (0.5 * 1.005))
    for ax, lp in zip(fig.axes, prices, strict=True):
        assert ax.get_xlabel() == "BTC mark price (USDT)" and ax.get_ylabel() == "USDT"
        assert any(t.get_text() == f"liquidation {lp:,.0f}" for t in ax.texts)
        assert len(ax.get_xticks()) <= 7  # two panels: price ticks that do not run together
    plt.close(fig)


def test_cross_coin_map_labels_its_points_in_place_and_keeps_the_legend_off_the_data():
    fig = lesson.cross_symbol_plot()
    ax = fig.axes[0]
    assert ax.get_xlabel() == "BTC price move (%)" and ax.get_ylabel() == "ETH price move (%)"
    assert ax.get_legend() is None and len(fig.legends) == 1
    handles = fig.legends[0].legend_handles
    assert all(getattr(h, "get_marker", lambda: "None")() in ("None", "", None) for h in handles)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "liquidated", "liquidation boundary", "both coins move alike",
    ]  # fmt: skip
    texts = [t.get_text() for t in ax.texts]
    assert "BTC −10 %, ETH +10 %: liquidated" in texts and "BTC −10 %, ETH −10 %: open" in texts
    plt.close(fig)


def test_widget_builds_with_the_labelled_controls():
    w = lesson.widget()
    assert isinstance(w, ipw.VBox)
    controls = w.controls
    assert controls["leverage"].max == 125 and controls["leverage"].min == 1
    assert controls["margin_mode"].options == ("cross", "isolated")


def test_exercises_accept_the_answer_and_reject_the_named_wrong_methods():
    q8a = (0.4, 0.2)  # BTC
    right = {
        "8a": closed_form(40_000, 20_000, 1_500),  # 93,908.63
        "8b": 1_500 / (MMR * 0.6),  # the balance stays at the wallet: 500,000
        "8c": 1_500 - MMR * 0.6 * 50_000,  # 1,350
        "8d": 13.0,  # 1,000 − 300 − 5,000 e = 0.005 (4,700 + 5,000 (1 + e)): e = 651.5 / 5,025 = 12.97 %
    }
    wrong = {
        "8a": [
            EP - (1_500 - MMR * 60_000) / 0.2,  # maintenance kept at its entry value: 94,000
            EP - 1_500 / 0.2,  # no maintenance at all (the bankruptcy price): 92,500
            (1_500 - 0.2 * EP) / (MMR * 0.2 - 0.2),  # maintenance on the net 0.2 BTC only: 92,964.82
        ],
        "8b": [1_500 / (MMR * 0.3)],  # one leg's maintenance only
        "8c": [1_500 - MMR * 0.6 * EP, 1_500.0],  # maintenance at entry; maintenance left out
        "8d": [14.0, 12.0, 651.5 / 5_025 * 100],  # no maintenance; one too few; not a whole per cent
    }
    assert right["8a"] == pytest.approx((1_500 - q8a[0] * EP + q8a[1] * EP) / (MMR * 0.6 - 0.2))
    assert wrong["8a"][0] == pytest.approx(94_000)
    for key in lesson.EXERCISES:
        check_exercise(lesson, key, right[key], wrong[key])
        check_hint(lesson, key)


def test_quiz_right_letters_and_reasons():
    right = {"q1": "b", "q2": "c", "q3": "a", "q4": "c", "q5": "b"}
    for q in lesson.QUIZ.questions:
        check_quiz(lesson, q.key, right[q.key])
    questions = lesson.QUIZ.questions
    words = " ".join(f"{q.prompt} {text} {why}" for q in questions for text, why in q.choices.values())
    assert "cannot lose" not in words  # a hedge can always lose: not even a wrong choice says otherwise
