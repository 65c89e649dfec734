"""Lesson 4 (cross margin): every figure the lesson prints, held against the article's stated
figures or arithmetic done here by hand (the article's flat 0.5 %, no fees, BTC at 100,000 and
ETH at 4,000 USDT); the widget's functions at the sliders' ends and with bad values; the
exercises against the usual wrong methods; the quiz; the map as a picture."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pytest
from lesson_checks import check_exercise, check_hint, check_quiz

from margin_lib import (
    OrderRefusedError,
    account_margin_level,
    initial_margin,
    liquidation_price,
    maintenance_margin,
    margin_ratio,
    unrealized_pnl,
)
from margin_lib.account import Account, liquidation_losses
from margin_lib.examples import ARTICLE_FEE_RATES, CASE_A, CROSS_EXAMPLE, article_table
from margin_lib.format import pct
from margin_lib.lessons import cross_margin as lesson
from margin_lib.widgets import safe_text

MMR = 0.005  # the article's rate at 10x
BTC_Q, ETH_Q = 5_000 / 100_000, 5_000 / 4_000  # Case A's quantities (coins)
# Case A's pool with the article's rate: MB − MM = 1,000 + 50 b + 50 e − 0.005 · 5,000 · (2 + b/100 + e/100)
# = 950 + 49.75 (b + e), b and e in per cent: the boundary is b + e = −950 / 49.75
EDGE = -950 / 49.75


def _case_a(btc: float = -8, eth: float = 5) -> Account:
    acct = CASE_A.build_account()
    acct.mark(CASE_A.marks({"BTCUSDT": btc / 100, "ETHUSDT": eth / 100}))
    return acct


# -- section 1: one pool ---------------------------------------------------------------------------
def test_section_1_the_articles_cross_example():
    r = CROSS_EXAMPLE.build_account().report()
    assert r.cross_margin_balance == pytest.approx(CROSS_EXAMPLE.stated["pool"])  # 1,000 + 0
    assert initial_margin(1_000, 10) == pytest.approx(CROSS_EXAMPLE.stated["initial_margin"])  # 1,000 / 10
    assert r.available_balance == pytest.approx(900)  # 1,000 − 100
    assert math.isnan(r.position("BTCUSDT").liquidation_price)  # the pool covers a fall to zero
    # by the formula: LP = (1,000 − 0.01 · 100,000) / (0.01 · (0.005 − 1)) = 0, not a price
    assert math.isnan(liquidation_price("long", 0.01, 100_000, 1_000, mmr=MMR))


# -- section 2: Case A -----------------------------------------------------------------------------
def test_section_2_case_a_matches_the_article():
    assert unrealized_pnl("long", BTC_Q, 100_000, 92_000) == pytest.approx(CASE_A.stated["btc_pnl"])
    assert unrealized_pnl("long", ETH_Q, 4_000, 4_200) == pytest.approx(CASE_A.stated["eth_pnl"])
    r = _case_a().report()
    assert r.wallet_balance == pytest.approx(1_000)  # a loss leaves the wallet only when closed
    assert r.cross_margin_balance == pytest.approx(CASE_A.stated["equity"])  # 1,000 − 400 + 250
    assert r.equity == pytest.approx(CASE_A.stated["equity"])
    # initial margin at the marks: 4,600 / 10 + 5,250 / 10 = 985 > 850, so nothing is available
    assert initial_margin(4_600, 10) + initial_margin(5_250, 10) == pytest.approx(985)
    assert r.available_balance == 0


def test_section_2_case_a_does_not_fit_with_the_taker_fee():
    # each order: 500 of margin + 0.05 % × 5,000 = 2.50 of fee; after the first, 1,000 − 502.50 is left
    with pytest.raises(OrderRefusedError) as refused:
        CASE_A.build_account(fee_rate=ARTICLE_FEE_RATES["taker"])
    assert str(refused.value).split(". Ways out")[0] == (
        "insufficient available balance: initial margin 500.00 + opening fee 2.50 = 502.50 USDT, "
        "but only 497.50 USDT is available"
    )


# -- section 3: two ratios -------------------------------------------------------------------------
def test_section_3_the_two_ratios_are_reciprocals():
    mm = MMR * (4_600 + 5_250)  # 49.25
    assert maintenance_margin(4_600, MMR) + maintenance_margin(5_250, MMR) == pytest.approx(mm)
    r = _case_a().report()
    assert r.cross_maintenance_margin == pytest.approx(mm)
    assert pct(account_margin_level(850, mm), 0) == pct(r.account_margin_level, 0) == "1,726 %"
    assert pct(margin_ratio(mm, 850), 2) == pct(r.margin_ratio, 2) == "5.79 %"
    assert account_margin_level(850, mm) * margin_ratio(mm, 850) == pytest.approx(1)


# -- section 4: the cross liquidation price --------------------------------------------------------
def test_section_4_the_cross_liquidation_price_of_btc():
    other_mm, other_upnl = MMR * 5_250, 250.0  # ETH at +5 %: 26.25 and 250
    assert maintenance_margin(ETH_Q * 4_200, MMR) == pytest.approx(other_mm)
    wb_eff = 1_000 - other_mm + other_upnl  # 1,223.75
    hand = (wb_eff - BTC_Q * 100_000) / (BTC_Q * (MMR - 1))
    lp = liquidation_price("long", BTC_Q, 100_000, 1_000, mmr=MMR,
                           other_maintenance_margin=other_mm, other_unrealized_pnl=other_upnl)  # fmt: skip
    assert lp == pytest.approx(hand)
    assert f"{lp:,.2f}" == "75,904.52"
    assert lesson.move_text((lp / 100_000 - 1) * 100) == "-24.095 %"
    check = CASE_A.build_account()
    check.mark({"ETHUSDT": 4_200})
    assert check.report().position("BTCUSDT").liquidation_price == pytest.approx(hand)


def test_section_4_with_the_exchanges_tiers():
    # 5,000 USDT is in the snapshot's first tier, 0.4 %: WB' = 1,000 − 0.004 · 5,250 + 250
    wb_eff = 1_000 - 0.004 * 5_250 + 250
    hand = (wb_eff - 5_000) / (BTC_Q * (0.004 - 1))
    acct = CASE_A.build_account(tiers="exchange")
    acct.mark({"ETHUSDT": 4_200})
    lp = acct.report().position("BTCUSDT").liquidation_price
    assert lp == pytest.approx(hand)
    assert (f"{lp:,.2f}", lesson.move_text((lp / 100_000 - 1) * 100)) == ("75,722.89", "-24.277 %")


@pytest.mark.parametrize(
    "btc, mb, level, ratio",
    [(0, "1,250.00", "2,439 %", "4.10 %"), (-8, "850.00", "1,726 %", "5.79 %"),
     (-16, "450.00", "952 %", "10.50 %"), (-20, "250.00", "541 %", "18.50 %"),
     (-24, "50.00", "110 %", "90.50 %")],
)  # fmt: skip
def test_section_4_the_ratios_as_btc_falls(btc, mb, level, ratio):
    # MB = 1,250 + 50 b (ETH +250 in), MM = 0.005 · 5,000 · (1 + b/100) + 26.25
    balance = 1_250 + 50 * btc
    mm = MMR * 5_000 * (1 + btc / 100) + 26.25
    assert f"{balance:,.2f}" == mb
    assert pct(account_margin_level(balance, mm), 0) == level
    assert pct(margin_ratio(mm, balance), 2) == ratio


def test_section_4_at_the_trigger_both_ratios_read_100():
    b = EDGE - 5  # ETH at +5 %
    assert lesson.move_text(b) == "-24.095 %"
    balance = 1_250 + 50 * b
    mm = MMR * 5_000 * (1 + b / 100) + 26.25
    assert f"{balance:,.2f}" == "45.23"
    assert (
        pct(account_margin_level(balance, mm), 0) == "100 %"
        and pct(margin_ratio(mm, balance), 2) == "100.00 %"
    )


# -- section 5: a single position ------------------------------------------------------------------
@pytest.mark.parametrize(
    "size, lp, move", [(5_000, "80,402.01", "-19.598 %"), (10_000, "90,452.26", "-9.548 %")]
)
def test_section_5_one_position_against_the_whole_pool(size, lp, move):
    q = size / 100_000
    hand = (1_000 - q * 100_000) / (q * (MMR - 1))
    got = liquidation_price("long", q, 100_000, 1_000, mmr=MMR)
    assert got == pytest.approx(hand)
    assert (f"{got:,.2f}", pct(got / 100_000 - 1)) == (lp, move)
    acct = Account(1_000, fee_rate=0, brackets={"BTCUSDT": article_table(10)})
    acct.set_margin_mode("BTCUSDT", "cross")
    acct.open_position("BTCUSDT", "long", notional=size, price=100_000, leverage=10)
    taken = liquidation_losses(acct.mark({"BTCUSDT": got * 0.999}))
    assert taken == {"cross": pytest.approx(1_000)}  # the pool, not the initial margin N / 10
    assert acct.report().wallet_balance == 0


# -- section 6: what a cross liquidation takes -----------------------------------------------------
def test_section_6_case_a_loses_both_positions_and_the_wallet():
    acct = _case_a()
    lp = (1_223.75 - 5_000) / (BTC_Q * (MMR - 1))
    events = acct.mark({"BTCUSDT": lp * 0.999, "ETHUSDT": 4_200})
    kinds = [(e.kind, e.symbol) for e in events]
    assert kinds == [("liquidation", "BTCUSDT"), ("liquidation", "ETHUSDT"), ("clearance", None)]
    assert events[0].amount == pytest.approx(BTC_Q * (lp * 0.999 - 100_000))  # −1,208.57
    assert f"{events[0].amount:,.2f}" == "-1,208.57"
    assert events[1].amount == pytest.approx(250)  # the profitable ETH long is closed too
    assert liquidation_losses(events) == {"cross": pytest.approx(1_000)}
    assert acct.positions == [] and acct.report().wallet_balance == 0


def _mixed() -> Account:
    acct = Account(1_000, fee_rate=0, brackets={s: article_table(10) for s in ("BTCUSDT", "ETHUSDT")})
    acct.set_margin_mode("BTCUSDT", "cross")
    for symbol, p in (("BTCUSDT", 100_000), ("ETHUSDT", 4_000)):  # ETH stays isolated, the default
        acct.open_position(symbol, "long", notional=5_000, price=p, leverage=10)
    return acct


def test_section_6_with_eth_isolated_the_margin_balance_is_not_the_equity():
    acct = _mixed()
    acct.mark({"BTCUSDT": 92_000, "ETHUSDT": 4_200})
    r = acct.report()
    assert r.cross_wallet_balance == pytest.approx(500)  # 1,000 − ETH's 500
    assert r.cross_margin_balance == pytest.approx(100)  # 500 − 400
    assert r.equity == pytest.approx(850)  # 1,000 − 400 + 250
    mm = MMR * 4_600  # 23
    assert pct(r.margin_ratio, 2) == pct(mm / 100, 2) == "23.00 %"
    assert pct(r.account_margin_level, 0) == pct(100 / mm, 0) == "435 %"
    assert pct(account_margin_level(r.equity, r.cross_maintenance_margin), 0) == pct(850 / mm, 0) == "3,696 %"


def test_section_6_a_cross_liquidation_leaves_the_isolated_position():
    acct = _mixed()
    events = acct.mark({"BTCUSDT": 90_000, "ETHUSDT": 4_200})  # MB = 500 − 500 = 0 <= MM
    assert liquidation_losses(events) == {"cross": pytest.approx(500)}
    (eth,) = acct.report().positions
    assert (eth.symbol, eth.margin_mode) == ("ETHUSDT", "isolated")
    assert eth.isolated_wallet == pytest.approx(500) and eth.unrealized_pnl == pytest.approx(250)
    assert acct.report().wallet_balance == pytest.approx(500)
    assert acct.report().equity == pytest.approx(750)
    # Case A itself (ETH cross) survives the same moves: 1,000 − 500 + 250 = 750 of margin balance
    assert _case_a(-10, 5).report().cross_margin_balance == pytest.approx(750)


# -- section 7: the hedge --------------------------------------------------------------------------
@pytest.mark.parametrize("btc, eth", [(-10, -10), (-20, -18), (10, 12), (-10, 5), (-10, 10)])
def test_section_7_the_hedge(btc, eth):
    hedge = Account(1_000, fee_rate=0, brackets={s: article_table(10) for s in ("BTCUSDT", "ETHUSDT")})
    for symbol, side, p in (("BTCUSDT", "long", 100_000), ("ETHUSDT", "short", 4_000)):
        hedge.set_margin_mode(symbol, "cross")
        hedge.open_position(symbol, side, notional=5_000, price=p, leverage=10)
    events = hedge.mark({"BTCUSDT": 100_000 * (1 + btc / 100), "ETHUSDT": 4_000 * (1 + eth / 100)})
    mb = 1_000 + 50 * btc - 50 * eth  # long BTC, short ETH
    mm = MMR * 5_000 * (2 + btc / 100 + eth / 100)
    if mb <= mm:
        assert liquidation_losses(events) == {"cross": pytest.approx(1_000)}
        assert (btc, eth) == (-10, 10)
    else:
        assert not events and hedge.report().cross_margin_balance == pytest.approx(mb)


# -- section 8: the boundary is a straight line ----------------------------------------------------
@pytest.mark.parametrize("eth", [-20, 0, 5, 20])
def test_section_8_trigger_plus_eth_move_is_constant(eth):
    assert lesson.btc_trigger(eth) == pytest.approx(EDGE - eth)
    assert lesson.move_text(lesson.btc_trigger(eth) + eth) == "-19.095 %"


def test_move_text_keeps_only_the_decimals_needed():
    assert [lesson.move_text(x) for x in (-8, 5, 0, -0.0, 0.905, -24.5)] == [
        "-8 %", "+5 %", "0 %", "0 %", "+0.905 %", "-24.5 %",
    ]  # fmt: skip


# -- the widget's text -----------------------------------------------------------------------------
def test_view_at_the_articles_moves():
    lines = lesson.view(-8, 5).splitlines()
    assert lines == [
        "Case A after BTC -8 %, ETH +5 %: wallet 1,000.00 USDT",
        "PnL: BTC -400.00 USDT, ETH 250.00 USDT",
        "margin balance MB 850.00 USDT (the equity: nothing is isolated), maintenance margin MM 49.25 USDT",
        "article's ratio MB / MM: 1,726 % (liquidation at 100 % or below)",
        "exchange's margin ratio MM / MB: 5.79 % (liquidation at 100 %)",
        "available for new orders: 0.00 USDT",
        "not liquidated: the pool is liquidated once BTC is at or below -24.095 % (ETH at +5 %)",
    ]


def test_view_past_the_trigger_says_where_it_was_and_what_it_took():
    assert lesson.view(-30, 5).splitlines() == [
        "Case A after BTC -30 %, ETH +5 %: past the trigger",
        "the pool is liquidated once BTC is at or below -24.095 % (ETH at +5 %);",
        "LIQUIDATED: both positions closed together, the cross wallet taken (1,000.00 USDT lost);",
        "wallet left 0.00 USDT.",
    ]
    # just short of the trigger (−24 %) the pool is open: 50 of MB against 45.25 of MM
    assert lesson.view(-24, 5).splitlines()[-1].startswith("not liquidated")


@pytest.mark.parametrize("btc, eth", [(-40, -30), (-40, 30), (20, -30), (20, 30)])
def test_view_at_the_sliders_ends(btc, eth):
    text = lesson.view(btc, eth)
    trigger = EDGE - eth
    assert f"at or below {lesson.move_text(trigger)} (ETH at {lesson.move_text(eth)})" in text
    mb = 1_000 + 50 * btc + 50 * eth
    mm = MMR * 5_000 * (2 + btc / 100 + eth / 100)
    if mb <= mm:
        assert "LIQUIDATED" in text and (btc, eth) == (-40, -30)
    else:
        assert f"margin balance MB {mb:,.2f} USDT" in text
        assert f"MM / MB: {pct(mm / mb, 2)}" in text and f"MB / MM: {pct(mb / mm, 0)}" in text


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(btc_move=-100, eth_move=5), "⚠ BTC move (%) must be > -100; got -100.0"),
        (dict(btc_move=-8, eth_move=-150), "⚠ ETH move (%) must be > -100; got -150.0"),
        (dict(btc_move=float("nan"), eth_move=5), "⚠ BTC move (%) must be a finite number > -100; got nan"),
        (dict(btc_move="ten", eth_move=5), "⚠ BTC move (%) must be a number; got 'ten'"),
    ],
)
def test_bad_moves_give_one_line_naming_the_slider(values, message):
    assert safe_text(lesson.view, **values) == message


def test_btc_trigger_has_no_price_when_eth_covers_everything():
    # ETH +90 %: b = −19.095 − 90 < −100, no BTC price
    assert math.isnan(lesson.btc_trigger(90))
    assert "no BTC price liquidates the pool with ETH at +90 %" in lesson.view(0, 90)


# -- the map ---------------------------------------------------------------------------------------
def test_map_is_square_with_the_boundary_dashed_and_the_trigger_marked():
    fig = lesson.plot(-8, 5)
    ax = fig.axes[0]
    assert fig.get_size_inches().tolist() == [8.0, 5.6]
    assert ax.get_aspect() == 1.0  # equal scales: the boundary b + e = const runs at 45°
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x1 - x0 == pytest.approx(y1 - y0)
    assert (
        ax.get_xlabel() == "BTC price move from entry (%)"
        and ax.get_ylabel() == "ETH price move from entry (%)"
    )
    assert "-19.095 points" in ax.get_title()
    texts = [t.get_text() for t in ax.texts]
    assert "boundary: MB = MM" in texts and any(t.startswith("liquidated together") for t in texts)
    contours = [c for c in ax.collections if hasattr(c, "levels")]
    assert any(c.filled and c.hatches == ["///"] for c in contours)
    (line,) = [c for c in contours if not c.filled]
    assert list(line.levels) == [0.0] and line.get_linestyle()[0][1] is not None  # dashed
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "trigger at this ETH move:\nBTC -24.095 %" in labels
    assert "chosen: BTC -8 %,\nETH +5 % (open)" in labels
    plt.close(fig)


@pytest.mark.parametrize("btc, eth, state", [(-40, -30, "liquidated"), (-40, 30, "open"), (20, -30, "open"),
                                             (20, 30, "open"), (-30, 5, "liquidated")])  # fmt: skip
def test_map_at_the_sliders_ends(btc, eth, state):
    fig = lesson.plot(btc, eth)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(label.endswith(f"({state})") for label in labels)
    off = not (-40 <= EDGE - eth <= 20)
    assert any(label.endswith("(off the map)") for label in labels) == off
    plt.close(fig)


def test_pool_grid_matches_hand_arithmetic():
    mb, mm, pnls = lesson._pool(-8.0, 5.0)
    assert float(mb) == pytest.approx(850) and float(mm) == pytest.approx(49.25)
    assert float(pnls["BTCUSDT"]) == pytest.approx(-400)


def test_widget_keeps_its_controls():
    box = lesson.widget()
    assert list(box.controls) == ["btc_move", "eth_move"]
    assert (box.controls["btc_move"].min, box.controls["btc_move"].max) == lesson.BTC_RANGE
    assert (box.controls["eth_move"].min, box.controls["eth_move"].max) == lesson.ETH_RANGE
    assert box.controls["btc_move"].description == "BTC move (%)"


# -- exercises -------------------------------------------------------------------------------------
# 4a: ETH −5 %: b = −950 / 49.75 + 5
# 4b: MM = 0.005 · (4,400 + 5,100) = 47.5; MB = 1,000 − 600 + 100 = 500; 9.5 %
# 4c: the cross wallet (2,800) goes; ETH keeps its 200 wallet and +200 of PnL
# 4d: WB' = 1,000 − 0.005 · 4,750 − 250; LP = (WB' + 1.25 · 4,000) / (1.25 · 1.005)
_WB_4D = 1_000 - MMR * 4_750 - 250
ANSWERS = {
    "4a": EDGE + 5,
    "4b": MMR * (4_400 + 5_100) / 500 * 100,
    "4c": 200 + 200,
    "4d": ((_WB_4D + 1.25 * 4_000) / (1.25 * (1 + MMR)) / 4_000 - 1) * 100,
}
WRONG = {
    "4a": [
        -9.548,  # the isolated 10x figure
        EDGE - 5,  # ETH still at +5 %
        ((1_000 - 25 - 250 - 5_000) / (BTC_Q * (MMR - 1)) / 100_000 - 1) * 100,  # ETH's MM left at its entry
    ],
    "4b": [50 / 500 * 100, 47.5 / 1_000 * 100, 500 / 47.5 * 100],  # MM at entry; over the wallet; inverted
    "4c": [0, 200, 3_000 - 1_000 + 200],  # all gone; PnL forgotten; only BTC's initial margin taken
    "4d": [
        ((1_000 - MMR * 4_750 + 5_000) / (1.25 * (1 + MMR)) / 4_000 - 1) * 100,  # BTC's loss forgotten
        ((1_000 - 250 + 5_000) / (1.25 * (1 + MMR)) / 4_000 - 1) * 100,  # BTC's MM forgotten
        -EDGE,  # ETH rise alone with BTC flat
    ],
}


@pytest.mark.parametrize("key", sorted(ANSWERS))
def test_exercises_accept_the_answer_and_reject_the_wrong_methods(key):
    rounded = [round(ANSWERS[key], 2)] if key in ("4a", "4d") else []  # asked to two decimals
    check_exercise(lesson, key, ANSWERS[key], WRONG[key], also_right=rounded, hidden=(".2f",))


def test_exercise_answers_by_hand():
    assert lesson.btc_trigger(-5) == pytest.approx(ANSWERS["4a"])  # the engine at ETH −5 %
    mm = maintenance_margin(4_400, MMR) + maintenance_margin(5_100, MMR)
    assert margin_ratio(mm, 500) * 100 == pytest.approx(ANSWERS["4b"])
    acct = lesson.mixed_account(3_000, 10_000, 2_000)
    assert acct.report().cross_wallet_balance == pytest.approx(2_800)


def test_hints_point_to_the_method_not_to_numbers():
    for key in lesson.EXERCISES:
        check_hint(lesson, key)


# -- quiz ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key, right", [("q1", "b"), ("q2", "c"), ("q3", "b"), ("q4", "c"), ("q5", "b")])
def test_quiz_right_letters(key, right):
    check_quiz(lesson, key, right)
