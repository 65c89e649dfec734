"""Lesson 3 (isolated margin): every number the notebook prints, computed the notebook's way with
the engine and held against the article's stated figures or arithmetic done here by hand; the
widget's text and plot at the extremes of its controls and with bad values; the exercises (right
answers accepted, the named wrong methods rejected); the quiz; the shared plot helper's labels
and close-up."""

from __future__ import annotations

import itertools
import math

import matplotlib.pyplot as plt
import pytest
from lesson_checks import check_exercise, check_hint, check_quiz

from margin_lib import (
    BracketTable,
    adverse_move_to_liquidation,
    bankruptcy_price,
    effective_leverage,
    error_tolerance,
    initial_margin,
    liquidation_price,
    maintenance_margin,
    unrealized_pnl,
)
from margin_lib.account import liquidation_losses
from margin_lib.examples import CASE_B, ISOLATED_EXAMPLE, article_mmr
from margin_lib.lessons import isolated_margin as lesson
from margin_lib.plots import CLOSE_UP, plot_margin_balance, usdt_ticks
from margin_lib.widgets import safe_text

WALLET = ISOLATED_EXAMPLE.wallet  # 1,000 USDT, the article's
SIZE = ISOLATED_EXAMPLE.positions[0].notional  # 1,000 USDT
LEV = ISOLATED_EXAMPLE.positions[0].leverage  # 10x
IM = ISOLATED_EXAMPLE.stated["initial_margin"]  # 100 USDT, as the article states
FREE = ISOLATED_EXAMPLE.stated["free"]  # 900 USDT
EP = lesson.ENTRY  # 100,000 USDT, illustrative
Q = SIZE / EP  # 0.01 BTC
MMR = 0.005  # the article's table at 10x
TIER1 = 0.004  # the 2026-09 BTCUSDT snapshot, tier 1


def long_lp(wallet: float, mmr: float = MMR, q: float = Q) -> float:
    """A long's liquidation price by hand: WB + Q (LP − EP) = Q LP MMR."""
    return (q * EP - wallet) / (q * (1 - mmr))


def short_lp(wallet: float, mmr: float = MMR, q: float = Q) -> float:
    """A short's: WB − Q (LP − EP) = Q LP MMR."""
    return (q * EP + wallet) / (q * (1 + mmr))


def marked(acct, move):
    acct.mark({"BTCUSDT": EP * (1 + move)})
    return acct


# ------------------------------------------------------------------ sections 1 and 2
def test_section_1_locks_the_initial_margin_and_leaves_the_rest_free():
    assert lesson.ENTRY == 100_000
    assert initial_margin(SIZE, LEV) == pytest.approx(IM)  # 1,000 / 10
    r = ISOLATED_EXAMPLE.build_account().report()
    assert r.position("BTCUSDT").isolated_wallet == pytest.approx(IM)
    assert r.available_balance == pytest.approx(FREE) == WALLET - IM
    assert lesson.open_example().state() == ISOLATED_EXAMPLE.build_account().state()


def test_section_2_margin_balance_after_the_8_percent_fall_is_the_articles_20():
    upnl = unrealized_pnl("long", Q, EP, EP * 0.92)
    assert upnl == pytest.approx(CASE_B.stated["btc_pnl"])  # -80, the article's
    assert IM + upnl == pytest.approx(CASE_B.stated["btc_left"])  # 20, the article's


@pytest.mark.parametrize("move", [-0.08, -0.04, 0.0, 0.05])
def test_section_2_the_free_balance_does_not_move_with_btc(move):
    r = marked(ISOLATED_EXAMPLE.build_account(), move).report()
    assert r.position("BTCUSDT").margin_balance == pytest.approx(IM + SIZE * move)  # 20, 60, 100, 150
    assert r.available_balance == pytest.approx(FREE)


# ------------------------------------------------------------------ section 3
def test_section_3_liquidation_prices_by_the_formula():
    assert article_mmr(LEV) == MMR
    lp = liquidation_price("long", Q, EP, IM, mmr=MMR, maintenance_amount=0.0)
    assert lp == pytest.approx(long_lp(IM)) and f"{lp:,.2f}" == "90,452.26"  # 990 / 0.01095... by hand
    sp = liquidation_price("short", Q, EP, IM, mmr=MMR, maintenance_amount=0.0)
    assert sp == pytest.approx(short_lp(IM)) and f"{sp:,.2f}" == "109,452.74"  # 1,100 / 0.01005


def test_section_3_exact_moves_and_the_articles_tolerance():
    m_long = adverse_move_to_liquidation("long", LEV, MMR)
    assert m_long == pytest.approx((0.1 - 0.005) / 0.995) == pytest.approx(1 - long_lp(IM) / EP)
    assert f"{m_long * 100:.3f}" == "9.548"
    m_short = adverse_move_to_liquidation("short", LEV, MMR)
    assert m_short == pytest.approx(0.095 / 1.005) and f"{m_short * 100:.3f}" == "9.453"
    assert error_tolerance(LEV, MMR) == pytest.approx(0.095)  # the article's 9.5 %


# ------------------------------------------------------------------ section 4
def test_section_4_bankruptcy_price_and_the_gap_is_the_maintenance_margin():
    bp = bankruptcy_price("long", Q, EP, IM)
    assert bp == pytest.approx(EP - IM / Q) == 90_000
    mm_lp = maintenance_margin(Q * long_lp(IM), MMR)
    assert long_lp(IM) - bp == pytest.approx(mm_lp / Q)
    assert f"{mm_lp:.2f}" == "4.52" and f"{mm_lp / Q:.2f}" == "452.26"


def test_section_4_still_open_at_9_5_percent_with_a_90_5_percent_ratio():
    acct = ISOLATED_EXAMPLE.build_account()
    assert acct.mark({"BTCUSDT": EP * (1 - 0.095)}) == []
    p = acct.report().position("BTCUSDT")
    assert p.margin_balance == pytest.approx(IM - 95)  # 5
    assert p.maintenance_margin == pytest.approx(905 * MMR)  # 4.525
    assert f"{p.margin_ratio * 100:.1f}" == "90.5"  # 4.525 / 5


def test_section_4_liquidation_closes_at_the_mark_then_takes_what_is_left():
    acct = ISOLATED_EXAMPLE.build_account()
    assert acct.mark({"BTCUSDT": EP * 0.905}) == []
    events = acct.mark({"BTCUSDT": EP * 0.904})
    # 0.01 BTC × (90,400 − 100,000) = −96 realised; 100 − 96 = 4 left, taken
    assert [(e.kind, round(e.amount, 6)) for e in events] == [("liquidation", -96.0), ("clearance", -4.0)]
    assert liquidation_losses(events)["BTCUSDT long"] == pytest.approx(
        ISOLATED_EXAMPLE.stated["loss_if_liquidated"]
    )
    r = acct.report()
    assert r.wallet_balance == pytest.approx(FREE) and r.available_balance == pytest.approx(FREE)


# ------------------------------------------------------------------ section 5
def test_section_5_effective_leverage_from_46x_to_7_7x_mmr_and_mm_unchanged():
    notional_now = Q * EP * 0.92  # 920
    assert maintenance_margin(notional_now, MMR) == pytest.approx(4.6)
    assert effective_leverage(notional_now, 20) == pytest.approx(920 / 20) == 46
    assert effective_leverage(notional_now, 120) == pytest.approx(920 / 120)
    assert f"{920 / 120:.1f}" == "7.7"


def test_section_5_the_account_before_and_after_adding_100():
    acct = marked(ISOLATED_EXAMPLE.build_account(), -0.08)
    before = acct.report().position("BTCUSDT")
    acct.add_margin("BTCUSDT", 100)
    after = acct.report().position("BTCUSDT")
    for same in ("leverage", "mmr", "maintenance_margin"):
        assert getattr(before, same) == getattr(after, same)
    assert (before.leverage, before.mmr, before.maintenance_margin) == (10, MMR, pytest.approx(4.6))
    assert (before.isolated_wallet, after.isolated_wallet) == (pytest.approx(100), pytest.approx(200))
    assert (before.margin_balance, after.margin_balance) == (pytest.approx(20), pytest.approx(120))
    assert f"{before.margin_ratio:.1%} {after.margin_ratio:.1%}" == "23.0% 3.8%"  # 4.6/20, 4.6/120
    assert before.liquidation_price == pytest.approx(long_lp(100))
    assert after.liquidation_price == pytest.approx(long_lp(200)) and f"{long_lp(200):,.2f}" == "80,402.01"
    rooms = [p.liquidation_price / (EP * 0.92) - 1 for p in (before, after)]
    assert [f"{r:.1%}" for r in rooms] == ["-1.7%", "-12.6%"]


# ------------------------------------------------------------------ section 6
def test_section_6_removable_after_a_10_percent_rise_term_by_term():
    p = EP * 1.1
    keep_mm = IM - Q * p * MMR  # 100 − 5.50
    keep_im = IM + Q * (p - EP) - Q * p / LEV  # 100 + 100 − 110
    assert (keep_mm, keep_im) == (pytest.approx(94.5), pytest.approx(90.0))
    assert marked(ISOLATED_EXAMPLE.build_account(), 0.10).max_removable_margin("BTCUSDT") == pytest.approx(90)


@pytest.mark.parametrize("move, added", [(0.0, 0), (0.0, 50), (-0.05, 50), (0.20, 0)])
def test_section_6_removable_in_the_four_situations(move, added):
    wb, n = IM + added, SIZE * (1 + move)
    expected = max(0.0, min(wb - n * MMR, wb + SIZE * move - n / LEV))  # 0, 50, 5, 94
    assert marked(lesson.open_example(added=added), move).max_removable_margin("BTCUSDT") == pytest.approx(
        expected
    )
    assert round(expected, 6) in (0.0, 50.0, 5.0, 94.0)


# ------------------------------------------------------------------ section 7
def test_rescue_run_letting_go_loses_100_rescuing_loses_the_fall():
    run = lesson.rescue_run(-0.8)
    assert run.let_go_loss[-1] == pytest.approx(ISOLATED_EXAMPLE.stated["loss_if_liquidated"])
    assert not run.rescue_liquidated
    assert run.rescue_loss[-1] == pytest.approx(SIZE * 0.8)  # never liquidated, no fees: the whole fall
    assert len(run.top_up_prices) == 8
    for k, p in enumerate(
        run.top_up_prices
    ):  # top-up k between the LP and the 80 % ratio of wallet 100 (k+1)
        wb = IM * (k + 1)
        at_80 = (Q * EP - wb) / (Q * (1 - MMR / 0.8))
        assert long_lp(wb) < p <= at_80
        assert run.top_up_totals[k] == pytest.approx(wb + 100)
    assert math.isclose(run.liquidation_price, long_lp(IM))


def test_rescue_table_rows():
    lines = lesson.rescue_table().splitlines()
    rows = {ln.split("|")[0].strip(): [c.strip() for c in ln.split("|")[1:]] for ln in lines[2:]}
    assert rows["BTC fall 10 %"] == ["100.00 USDT", "1", "200.00 USDT", "100.00 USDT"]
    assert rows["BTC fall 20 %"] == ["100.00 USDT", "2", "300.00 USDT", f"{SIZE * 0.2:.2f} USDT"]
    assert rows["BTC fall 80 %"] == ["100.00 USDT", "8", "900.00 USDT", f"{SIZE * 0.8:.2f} USDT"]


def test_rescue_plot_reads_the_fall_as_positive_and_keeps_every_marker_and_label_clear():
    fig = lesson.plot_rescue()
    ax = fig.axes[0]
    assert ax.get_xlabel() == "BTC fall from the entry (%)" and ax.get_ylabel() == "USDT"
    assert "first liquidation price: a 9.548 % fall" in [t.get_text() for t in ax.texts]
    assert ax.get_legend() is None and fig.legends  # the legend sits below the axes, off the label
    tops = ax.collections[-1].get_offsets()
    assert tops[:, 0].max() < ax.get_xlim()[1] and tops[:, 1].max() < ax.get_ylim()[1]
    plt.close(fig)


# ------------------------------------------------------------------ section 8, Case B
def test_case_b_matches_the_article_and_eth_cannot_help_btc():
    acct = CASE_B.build_account()
    acct.mark(CASE_B.marks())
    r = acct.report()
    btc, eth = r.position("BTCUSDT"), r.position("ETHUSDT")
    assert btc.unrealized_pnl == pytest.approx(CASE_B.stated["btc_pnl"])
    assert btc.margin_balance == pytest.approx(CASE_B.stated["btc_left"])
    assert eth.unrealized_pnl == pytest.approx(CASE_B.stated["eth_pnl"])
    flat = CASE_B.build_account()
    flat.mark(CASE_B.marks({"BTCUSDT": -0.08, "ETHUSDT": 0.0}))
    assert (
        flat.report().position("BTCUSDT").liquidation_price
        == btc.liquidation_price
        == pytest.approx(long_lp(IM))
    )


def test_case_b_liquidation_move_with_both_tables():
    assert BracketTable.load("BTCUSDT").bracket_for(SIZE).mmr == TIER1
    moves = [adverse_move_to_liquidation("long", LEV, rate) for rate in (MMR, TIER1)]
    assert [f"{m * 100:.3f}" for m in moves] == ["9.548", "9.639"]  # 0.095/0.995, 0.096/0.996
    assert moves[0] < 1 - long_lp(IM, TIER1) / EP + 1e-12  # the article's table liquidates sooner
    # both beyond the article's "slightly more" than 8 %
    assert all(-m < CASE_B.stated["btc_liquidated_beyond_move"] for m in moves)


@pytest.mark.parametrize(
    "tiers, lost, open_, wallet",
    [("article", 100.0, ["ETHUSDT"], WALLET - IM), ("exchange", 0.0, ["BTCUSDT", "ETHUSDT"], WALLET)],
)
def test_case_b_at_minus_9_6_percent(tiers, lost, open_, wallet):
    acct = CASE_B.build_account(tiers=tiers)
    got = liquidation_losses(acct.mark(CASE_B.marks({"BTCUSDT": -0.096, "ETHUSDT": 0.05})))
    r = acct.report()
    assert sum(got.values()) == pytest.approx(lost)
    assert [p.symbol for p in r.positions] == open_
    assert r.wallet_balance == pytest.approx(wallet)
    # article: 900 − ETH's 100 = 800; exchange: 1,000 − 2 × 100 = 800
    assert r.available_balance == pytest.approx(800)


def test_case_b_manual_transfer_moves_the_eth_rule():
    acct = CASE_B.build_account()
    acct.mark(CASE_B.marks())
    most = acct.max_removable_margin("ETHUSDT")
    assert most == pytest.approx(min(IM - 1_050 * MMR, IM + 50 - 1_050 / LEV)) == pytest.approx(45)
    acct.remove_margin("ETHUSDT", most)
    acct.add_margin("BTCUSDT", most)
    lp = acct.report().position("BTCUSDT").liquidation_price
    assert lp == pytest.approx(long_lp(IM + 45)) and f"{lp:,.2f}" == "85,929.65"
    assert f"{lp / EP - 1:.1%}" == "-14.1%"


# ------------------------------------------------------------------ the widget's text
def test_view_at_the_articles_values():
    text = lesson.view()
    assert f"{IM:.2f} USDT locked" in text and f"{FREE:.2f} USDT free" in text
    assert "Effective leverage: 10.0x (notional 1,000.00 USDT / margin balance 100.00 USDT)" in text
    assert "maintenance margin 5.00 USDT, MMR 0.5 %, margin ratio 5.0 %" in text  # 1,000 × 0.5 %; 5 / 100
    assert text.endswith(f"Liquidation price: {long_lp(IM):,.2f} (-9.548 % from the entry).")


def test_view_after_the_case_b_fall_and_a_top_up():
    text = lesson.view(move_pct=-8, added=100)
    assert "so 200.00 USDT stands behind" in text and "unrealized PnL -80.00 USDT" in text
    assert "Effective leverage: 7.7x (notional 920.00 USDT / margin balance 120.00 USDT)" in text
    assert f"Liquidation price: {long_lp(200):,.2f}" in text and "Free balance: 800.00 USDT" in text


def test_view_liquidated_with_balance_left_takes_it():
    text = lesson.view(move_pct=-9.6)
    assert "-96.00 USDT realised, and the 4.00 USDT of margin balance left is taken" in text
    assert "You lose the isolated wallet, 100.00 USDT" in text and "the wallet is now 900.00 USDT" in text


def test_view_liquidated_past_bankruptcy_says_the_insurance_fund_bears_the_rest():
    text = lesson.view(move_pct=-50)
    # 0.01 BTC × −50,000 = −500 realised; 100 − 500 = −400 below zero
    assert (
        "-500.00 USDT realised, and the 400.00 USDT below zero falls on the exchange's insurance fund" in text
    )
    assert "You lose the isolated wallet, 100.00 USDT" in text and "the wallet is now 900.00 USDT" in text
    added = lesson.view(move_pct=-20, added=50)
    assert "the 50.00 USDT below zero" in added and "the wallet is now 850.00 USDT" in added


def test_view_with_the_whole_wallet_behind_it_has_no_liquidation_price():
    assert "Liquidation price: none (--)" in lesson.view(move_pct=-30, added=FREE)
    assert "Liquidation price: none (--)" in lesson.view(leverage=1)


def test_view_at_the_leverage_extremes():
    text = lesson.view(leverage=150, tiers="exchange")  # IM 6.67, tier 1: 0.4 %
    assert f"Liquidation price: {long_lp(SIZE / 150, TIER1):,.2f} (-0.268 % from the entry)" in text
    text = lesson.view(leverage=125)  # the article's last row: 0.4 %
    assert f"Liquidation price: {long_lp(8, 0.004):,.2f}" in text and "MMR 0.4 %" in text
    assert f"Liquidation price: {long_lp(IM, TIER1):,.2f} (-9.639 % from the entry)" in lesson.view(
        tiers="exchange"
    )


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(added=-5), "⚠ added margin (USDT) must be >= 0; got -5.0"),
        (
            dict(added=950),
            "⚠ added margin (USDT) must not exceed the free balance, 900.00 USDT at 10x; got 950.00",
        ),
        (
            dict(added=960, leverage=20),
            "⚠ added margin (USDT) must not exceed the free balance, 950.00 USDT at 20x",
        ),
        (dict(added=float("nan")), "⚠ added margin (USDT) must be a finite number >= 0; got nan"),
        (dict(leverage=0), "⚠ leverage (x) must be >= 1; got 0.0"),
        (
            dict(leverage=126),
            "⚠ leverage (x) must be at most 125 with the article's MMR table (its last row)",
        ),
        (dict(leverage=151, tiers="exchange"), "⚠ leverage (x) must be at most 150 with the exchange's tier"),
        (dict(move_pct=float("nan")), "⚠ price move (%) must be a finite number > -100; got nan"),
        (dict(move_pct=-100), "⚠ price move (%) must be > -100; got -100.0"),
        (dict(tiers="mine"), "⚠ MMR table must be one of 'article', 'exchange'"),
    ],
)
def test_bad_widget_input_gives_one_line_naming_the_control(values, message):
    text = safe_text(lesson.view, **values)
    assert text.startswith(message) and "\n" not in text


def test_the_controls_limits_are_the_ones_the_refusals_quote():
    w = lesson.widget()
    c = w.controls
    assert {k: getattr(v, "description", None) for k, v in c.items()} == lesson.LABELS
    assert (c["move_pct"].min, c["move_pct"].max, c["leverage"].min, c["leverage"].max) == (-50, 30, 1, 150)
    assert BracketTable.load("BTCUSDT").max_leverage(SIZE) == c["leverage"].max  # the exchange's tier 1
    assert (c["move_pct"].value, c["added"].value, c["leverage"].value, c["tiers"].value) == (
        0,
        0,
        10,
        "article",
    )


# ------------------------------------------------------------------ plots
def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def _close_up(ax) -> list[str]:
    """The texts of the close-up (empty when there is none)."""
    return [t.get_text() for t in ax.texts if t.get_gid() == CLOSE_UP and t.get_text()]


def _no_overprint(fig) -> None:
    """No two texts of the axes (the close-up's included) overlap, the close-up's card hides no
    other text, and every text and the legend lie inside the figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    texts = [t for t in ax.texts if t.get_text()]
    boxes = [t.get_window_extent(renderer) for t in texts]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), f"labels overprint: {a} and {b}"
    cards = [p.get_window_extent(renderer) for p in ax.patches if p.get_gid() == CLOSE_UP and p.get_fill()]
    for card, (t, box) in itertools.product(cards, zip(texts, boxes, strict=True)):
        wide = min(card.x1, box.x1) - max(card.x0, box.x0)
        high = min(card.y1, box.y1) - max(card.y0, box.y0)
        assert t.get_gid() == CLOSE_UP or min(wide, high) < 1, f"the close-up hides {t.get_text()!r}"
    for box in boxes + [leg.get_window_extent(renderer) for leg in fig.legends]:
        assert box.x0 >= -1 and box.x1 <= fig.bbox.x1 + 1 and box.y0 >= -1 and box.y1 <= fig.bbox.y1 + 1


def test_plot_at_the_articles_values_marks_and_magnifies_the_liquidation():
    fig = lesson.plot()
    ax = fig.axes[0]
    assert ax.get_xlabel() == "BTC mark price (USDT)" and "USDT" in ax.get_ylabel()
    assert {"liquidation 90,452", "bankruptcy 90,000", "entry 100,000"} <= set(_texts(ax))
    assert tuple(fig.get_size_inches()) == (8.0, 4.2) and repr(fig) == "<Figure size 800x420 with 1 Axes>"
    # the close-up where the balance meets the maintenance margin: both prices, the gap, the MM left
    assert {"90,000", "90,452", "gap 452 USDT", "balance = MM\n= 4.52", "0", "4.52"} <= set(_close_up(ax))
    assert "now" in [t.get_text() for t in fig.legends[0].get_texts()]
    _no_overprint(fig)
    plt.close(fig)


@pytest.mark.parametrize(
    "values",
    [
        dict(),
        dict(move_pct=-50),
        dict(move_pct=30),
        dict(leverage=1),
        dict(leverage=150, tiers="exchange"),
        dict(leverage=125),
        dict(leverage=100),
        dict(added=1),
        dict(added=FREE),
        dict(leverage=150, tiers="exchange", added=993),
        dict(leverage=150, tiers="exchange", move_pct=-50),
        dict(leverage=150, tiers="exchange", move_pct=30, added=50),
    ],
    ids=repr,
)
def test_plot_at_the_controls_extremes_keeps_labels_apart_and_data_in_frame(values):
    fig = lesson.plot(**values)
    ax = fig.axes[0]
    _no_overprint(fig)
    lo, hi = ax.get_ylim()
    for line in ax.get_lines()[:2]:  # balance and maintenance lines stay inside the frame
        y = line.get_ydata()
        assert lo <= min(y) and max(y) <= hi
    assert len(set(t.get_text() for t in ax.get_yticklabels())) > 2  # ticks that say different things
    plt.close(fig)


def test_plot_after_a_liquidation_shows_what_was_lost_not_a_position_still_standing():
    fig = lesson.plot(move_pct=-50)
    ax = fig.axes[0]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "now" not in labels and "liquidated: closed at the mark" in labels
    assert "below zero, the insurance fund's: 400.00 USDT" in labels
    assert ax.get_title().startswith("Liquidated: the 100 USDT behind the position is lost")
    plt.close(fig)
    fig = lesson.plot(move_pct=-9.6)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "liquidated: closed at the mark; 4.00 USDT left, taken" in labels and "now" not in labels
    plt.close(fig)


def test_plot_with_added_margin_shows_the_earlier_liquidation_price():
    fig = lesson.plot(move_pct=-8, added=100)
    assert f"liquidation {long_lp(200):,.0f}" in _texts(fig.axes[0])
    assert "before adding 90,452" in _texts(fig.axes[0])
    plt.close(fig)
    fig = lesson.plot(move_pct=-30, added=FREE)
    assert not any(t.startswith("liquidation") for t in _texts(fig.axes[0])) and not _close_up(fig.axes[0])
    assert "no liquidation price" in fig.axes[0].get_title()
    plt.close(fig)


@pytest.mark.parametrize("side", ["long", "short"])
@pytest.mark.parametrize("leverage", [2, 10, 50, 100, 125, 150])
def test_shared_margin_balance_plot_keeps_entry_liquidation_and_bankruptcy_labels_apart(side, leverage):
    table = BracketTable.load("BTCUSDT")
    fig = plot_margin_balance(
        side, Q, EP, SIZE / leverage, brackets=table, mark=EP, price_range=(0.45 * EP, 1.55 * EP)
    )
    ax = fig.axes[0]
    lp = liquidation_price(side, Q, EP, SIZE / leverage, brackets=table)
    assert f"liquidation {lp:,.0f}" in _texts(ax)
    assert all(
        ax.get_xlim()[0] <= t.xy[0] <= ax.get_xlim()[1] for t in ax.texts
    )  # annotations at their lines
    assert f"{lp:,.0f}" in _close_up(ax)  # the band near liquidation is magnified on a full-scale chart
    assert repr(fig) == "<Figure size 800x420 with 1 Axes>"
    _no_overprint(fig)
    plt.close(fig)


def test_shared_plot_zoom_can_be_turned_off_and_a_narrow_panel_gets_none():
    fig = plot_margin_balance("long", Q, EP, IM, mmr=MMR, zoom=False)
    assert not _close_up(fig.axes[0])
    plt.close(fig)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    plot_margin_balance("long", Q, EP, IM, mmr=MMR, ax=a, legend=None)
    assert not _close_up(a)
    plt.close(fig)


def test_tiny_amounts_get_ticks_that_differ():
    fig, ax = plt.subplots(figsize=(4, 3))
    usdt_ticks(ax.yaxis)
    labels = ax.yaxis.get_major_formatter().format_ticks([0, 0.0002, 0.0004, 0.0006])
    assert labels == ["0", "0.0002", "0.0004", "0.0006"]
    assert ax.yaxis.get_major_formatter().format_ticks([99.5, 100, 100.5]) == ["99.5", "100", "100.5"]
    plt.close(fig)
    fig = plot_margin_balance("long", 1e-7, EP, 1e-3, brackets=BracketTable.load("BTCUSDT"))
    fig.canvas.draw()
    assert len({t.get_text() for t in fig.axes[0].get_yticklabels()}) > 2
    plt.close(fig)


# ------------------------------------------------------------------ exercises and quiz
EXERCISES = {
    # key: (right answer by hand, {wrong method: its answer})
    "3a": (
        short_lp(2_000 / 20, q=0.02),  # (2,000 + 100) / (0.02 × 1.005) = 104,477.61
        {"1/L − MMR tolerance": EP * (1 + 0.05 - 0.005), "bankruptcy price": EP + 100 / 0.02,
         "the long's denominator": (2_000 + 100) / (0.02 * 0.995),
         "10x instead of 20x": short_lp(200, q=0.02)},
    ),
    "3b": (
        920 / 10 - 20,  # 72: the balance at 10x, less the 20 there is
        {"replace the loss": 80, "the initial margin again": 100, "the target balance itself": 92},
    ),
    "3c": (
        min(100 - 960 * 0.005, 100 + 40 - 960 / 10),  # min(95.2, 44) = 44
        {"profit left out": 100 - 96, "initial margin at the entry": 100 + 40 - 100, "first term only": 95.2},
    ),
    "3d": (
        WALLET - IM - 50,  # 850: the isolated wallet of 150 is lost, the insurance fund takes the rest
        {"the top-up comes back": WALLET - IM, "the whole fall is mine": WALLET - 200,
         "only the top-up is lost": WALLET - 50},
    ),
}  # fmt: skip


@pytest.mark.parametrize("key", sorted(EXERCISES))
def test_exercises_accept_the_answer_and_reject_the_named_wrong_methods(key):
    right, wrongs = EXERCISES[key]
    check_exercise(lesson, key, right, wrongs, hidden=(",.2f", "g"))
    check_hint(lesson, key)


def test_exercises_ask_for_numbers_the_lesson_did_not_print():
    printed = {
        100.0,
        900.0,
        20.0,
        90_452.26,
        109_452.74,
        90_000.0,
        4.6,
        80_402.01,
        90.0,
        94.0,
        50.0,
        5.0,
        45.0,
    }
    for right, _ in EXERCISES.values():
        assert round(right, 2) not in printed


QUIZ_ANSWERS = {"q1": "b", "q2": "a", "q3": "c", "q4": "c"}


@pytest.mark.parametrize("key", sorted(QUIZ_ANSWERS))
def test_quiz_right_letter_says_right_and_every_other_gives_its_reason(key):
    question = {q.key: q for q in lesson.QUIZ.questions}[key]
    assert len(question.choices) >= 3
    check_quiz(lesson, key, QUIZ_ANSWERS[key])


def test_quiz_q4_numbers_are_the_lessons():
    # 920 / 20 = 46x; the isolated wallet's 920 / 100 = 9.2x; the setting, 10x
    texts = {
        letter: text for letter, (text, _) in {q.key: q for q in lesson.QUIZ.questions}["q4"].choices.items()
    }
    assert texts["c"].startswith(f"{effective_leverage(920, 20):g}x")
    assert texts["b"].startswith(f"{920 / 100:g}x")
