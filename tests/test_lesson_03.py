"""Lesson 3 (isolated margin): the module's functions, held against the article's stated figures
and against arithmetic done here by hand, plus bad input, exercises, plots and the widget."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pytest

from margin_lib.examples import CASE_B, ISOLATED_EXAMPLE
from margin_lib.lessons import isolated_margin as lesson
from margin_lib.widgets import safe_text

WALLET = ISOLATED_EXAMPLE.wallet  # 1,000 USDT
SIZE = ISOLATED_EXAMPLE.positions[0].notional  # 1,000 USDT
LEV = ISOLATED_EXAMPLE.positions[0].leverage  # 10x
IM = ISOLATED_EXAMPLE.stated["initial_margin"]  # 100 USDT, as the article states
FREE = ISOLATED_EXAMPLE.stated["free"]  # 900 USDT
Q = SIZE / lesson.ENTRY  # coins


def long_lp(wallet: float, mmr: float) -> float:
    """A long's liquidation price by hand: WB + Q (LP − EP) = Q LP MMR."""
    return (Q * lesson.ENTRY - wallet) / (Q * (1 - mmr))


def cells(text: str, row: int) -> list[str]:
    return [c.strip() for c in text.splitlines()[row].split("|")]


def test_the_example_is_the_articles():
    assert lesson.open_example().state() == ISOLATED_EXAMPLE.build_account().state()
    text = lesson.wallet_split(ISOLATED_EXAMPLE.build_account())
    assert cells(text, 3)[1:] == [f"{IM:.2f} USDT"] * 2
    assert cells(text, 4)[1:] == [f"{FREE:.2f} USDT"] * 2


def test_view_at_the_articles_values():
    text = lesson.view()
    assert f"{IM:.2f} USDT locked" in text and f"{FREE:.2f} USDT free" in text
    assert f"Liquidation price: {long_lp(IM, 0.005):,.2f} (-9.548 % from the entry)" in text
    assert f"Free balance: {FREE:.2f} USDT" in text


def test_view_after_the_case_b_fall_leaves_20():
    text = lesson.view(move_pct=-8)
    left = CASE_B.stated["btc_left"]
    assert f"unrealized PnL {CASE_B.stated['btc_pnl']:.2f} USDT" in text
    assert f"Isolated margin balance: {left:.2f} USDT" in text
    assert f"Free balance: {FREE:.2f} USDT" in text


def test_view_with_added_margin_moves_the_liquidation_price_and_the_free_balance():
    text = lesson.view(move_pct=-8, added=50)
    assert f"so {IM + 50:.2f} USDT stands behind" in text
    assert f"Liquidation price: {long_lp(IM + 50, 0.005):,.2f}" in text
    assert f"Free balance: {FREE - 50:.2f} USDT" in text
    assert "MMR 0.500 %" in text


def test_view_liquidated_loses_only_the_isolated_wallet():
    text = lesson.view(move_pct=-9.6)
    assert f"the isolated wallet of {ISOLATED_EXAMPLE.stated['loss_if_liquidated']:.2f} USDT is lost" in text
    assert f"the wallet is now {WALLET - IM:,.2f} USDT" in text
    added = lesson.view(move_pct=-20, added=50)
    assert f"the isolated wallet of {IM + 50:.2f} USDT is lost" in added
    assert f"the wallet is now {WALLET - IM - 50:,.2f} USDT" in added


def test_view_with_the_whole_wallet_behind_it_has_no_liquidation_price():
    assert "Liquidation price: none (--)" in lesson.view(move_pct=-30, added=FREE)


def test_view_with_the_exchange_tier():
    assert f"Liquidation price: {long_lp(IM, 0.004):,.2f} (-9.639 % from the entry)" in lesson.view(
        tiers="exchange"
    )


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(added=-5), "⚠ amount must be > 0; got -5.0"),
        (dict(added=950), "⚠ amount must not exceed the available balance 900.00 USDT; got 950.00"),
        (dict(added=float("nan")), "⚠ amount must be a finite number > 0; got nan"),
        (dict(leverage=0), "⚠ leverage must be >= 1; got 0.0"),
        (dict(leverage=200), "⚠ leverage must be at most 125 in the article's table"),
        (
            dict(leverage=200, tiers="exchange"),
            "⚠ leverage must be at most 150x for a 1,000 USDT BTCUSDT position (tier 1's maximum)",
        ),
        (dict(move_pct=float("nan")), "⚠ move_pct must be a finite number > -100; got nan"),
        (dict(move_pct=-100), "⚠ move_pct must be > -100; got -100.0"),
        (dict(tiers="mine"), "⚠ tiers must be one of 'article', 'exchange'"),
    ],
)
def test_bad_widget_input_gives_a_short_message(values, message):
    assert safe_text(lesson.view, **values).startswith(message)
    assert "\n" not in safe_text(lesson.view, **values)


def test_liquidation_demo_shows_the_event_and_the_wallet_left():
    text = lesson.liquidation_demo((-0.095, -0.096))
    assert f"liquidation price {long_lp(IM, 0.005):,.2f}, -9.548 % from the entry" in text.splitlines()[0]
    first = text.splitlines()[1]
    assert "still open" in first and "LIQUIDATED" not in first
    # closed at the mark 90,400 (0.01 BTC × −9,600 = −96 realised), the 4 left taken: 100 in all
    assert "closed at the mark: -96.00 USDT realised; margin balance left, 4.00 USDT, taken" in text
    assert f"lost in all: {IM:.2f} USDT, the whole isolated wallet" in text
    assert f"wallet left: {WALLET - IM:.2f} USDT, of which free: {FREE:.2f} USDT" in text


def test_adding_margin_keeps_mmr_mm_and_leverage_and_moves_the_liquidation_price():
    text = lesson.add_margin_comparison(100, move=-0.08)
    rows = {cells(text, i)[0]: cells(text, i)[1:] for i in range(2, len(text.splitlines()))}
    for same in ("leverage setting", "maintenance margin rate (MMR)", "maintenance margin (MM)"):
        assert rows[same][0] == rows[same][1]
    assert rows["maintenance margin (MM)"][0] == f"{SIZE * 0.92 * 0.005:.2f} USDT"
    assert rows["isolated wallet (margin behind it)"] == [f"{IM:.2f} USDT", f"{IM + 100:.2f} USDT"]
    assert rows["liquidation price"] == [f"{long_lp(IM, 0.005):,.2f}", f"{long_lp(IM + 100, 0.005):,.2f}"]


def test_removable_margin_follows_the_rule():
    for i, (move, added) in enumerate(lesson.REMOVABLE_STATES, start=2):
        wb = IM + added
        notional = SIZE * (1 + move)
        mm = notional * 0.005
        upnl = SIZE * move
        expected = max(0.0, min(wb - mm, wb + upnl - notional / LEV))
        assert cells(lesson.removable_table(), i)[-1] == f"{expected:.2f} USDT"


def test_rescue_run_letting_go_loses_100_rescuing_loses_the_fall():
    run = lesson.rescue_run(-0.8)
    assert run.let_go_loss[-1] == pytest.approx(ISOLATED_EXAMPLE.stated["loss_if_liquidated"])
    assert not run.rescue_liquidated
    # never liquidated, no fees: the rescuer has lost exactly the fall on the full size
    assert run.rescue_loss[-1] == pytest.approx(SIZE * 0.8)
    # top-up k happens between the liquidation price and the 80 % ratio price of wallet 100 (k + 1)
    assert len(run.top_up_prices) == 8
    for k, p in enumerate(run.top_up_prices):
        wb = IM * (k + 1)
        at_80 = (Q * lesson.ENTRY - wb) / (Q * (1 - 0.005 / 0.8))
        assert long_lp(wb, 0.005) < p <= at_80
        assert run.top_up_totals[k] == pytest.approx(wb + 100)
    assert math.isclose(run.liquidation_price, long_lp(IM, 0.005))


def test_rescue_table_rows():
    text = lesson.rescue_table()
    assert text.splitlines()[0].endswith("adds 100 USDT whenever the margin ratio reaches 80 %")
    assert cells(text, 7) == ["-80.000 %", "100.00 USDT", "8", "900.00 USDT", "800.00 USDT"]
    assert cells(text, 4)[-1] == f"{SIZE * 0.2:.2f} USDT"


def test_case_b_matches_the_article():
    stated = CASE_B.stated
    text = lesson.case_b_table()
    btc, eth = cells(text, 2), cells(text, 3)
    assert btc[2:6] == [f"{stated['btc_pnl']:.2f} USDT"] * 2 + [f"{stated['btc_left']:.2f} USDT"] * 2
    assert eth[2:4] == [f"{stated['eth_pnl']:.2f} USDT"] * 2
    one, two = lesson.case_b_independence().splitlines()
    assert one.split(": ", 1)[1] == two.split(": ", 1)[1]


def test_case_b_liquidation_move_with_both_tables():
    text = lesson.case_b_tiers_table()
    article, exchange = cells(text, 2), cells(text, 3)
    assert article[3] == f"{-(0.1 - 0.005) / (1 - 0.005) * 100:.3f} %" == "-9.548 %"
    assert exchange[3] == f"{-(0.1 - 0.004) / (1 - 0.004) * 100:.3f} %" == "-9.639 %"
    assert article[2] == f"{long_lp(IM, 0.005):,.2f}" and exchange[2] == f"{long_lp(IM, 0.004):,.2f}"


def test_case_b_beyond_the_liquidation_price():
    gone = lesson.case_b_at(-0.096, "article")
    assert f"BTCUSDT: LIQUIDATED, lost {CASE_B.stated['loss_if_btc_liquidated']:.2f} USDT" in gone
    assert "ETHUSDT: open" in gone and f"wallet {WALLET - IM:.2f} USDT" in gone
    alive = lesson.case_b_at(-0.096, "exchange")
    assert "LIQUIDATED" not in alive


def test_case_b_manual_transfer_moves_at_most_the_eth_rule():
    text = lesson.case_b_manual_transfer()
    eth_notional = SIZE * 1.05
    most = min(IM - eth_notional * 0.005, IM + 50 - eth_notional / LEV)
    assert f"at most {most:.2f} USDT" in text
    assert f"after the transfer:  {long_lp(IM + most, 0.005):,.2f}" in text


EXERCISE_ANSWERS = {
    "3a": long_lp(IM + 50, 0.005),
    "3b": min(IM - SIZE * 1.05 * 0.005, IM + SIZE * 0.05 - SIZE * 1.05 / LEV),
    "3c": WALLET - IM - 50,
}


@pytest.mark.parametrize("key", sorted(EXERCISE_ANSWERS))
def test_exercises_say_right_or_hint_without_the_answer(key):
    ex = lesson.EXERCISES[key]
    answer = EXERCISE_ANSWERS[key]
    assert ex.check(answer).endswith("right!")
    for wrong, word in ((answer * 1.2, "too high"), (answer * 0.8, "too low")):
        feedback = ex.check(wrong)
        assert word in feedback and "Hint:" in feedback
        assert f"{answer:g}" not in feedback and f"{answer:,.2f}" not in feedback
    assert "replace None" in ex.check(None)


def test_exercise_3a_is_not_fooled_by_the_bankruptcy_price():
    assert "not yet" in lesson.EXERCISES["3a"].check(85_000)


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts]


def test_plot_labels_and_liquidation_marks():
    fig = lesson.plot()
    ax = fig.axes[0]
    assert ax.get_xlabel() == "BTC mark price (USDT)" and "USDT" in ax.get_ylabel()
    assert "liquidation 90,452" in _texts(fig)
    assert any(t.startswith("liquidation point") for t in _texts(fig))
    assert tuple(fig.get_size_inches()) == (8.0, 4.2)
    plt.close(fig)
    fig = lesson.plot(move_pct=-8, added=100)
    assert f"liquidation {long_lp(IM + 100, 0.005):,.0f}" in _texts(fig)
    assert "before adding 90,452" in _texts(fig)
    plt.close(fig)
    fig = lesson.plot(move_pct=-9.6)
    assert "liquidated: 100.00 USDT lost" in _texts(fig)
    plt.close(fig)
    fig = lesson.plot(move_pct=-30, added=FREE)
    assert not any(t.startswith("liquidation") for t in _texts(fig))
    assert "no liquidation price" in fig.axes[0].get_title()
    plt.close(fig)


def test_rescue_plot():
    fig = lesson.plot_rescue()
    ax = fig.axes[0]
    assert ax.get_xlabel() == "BTC fall from the entry (%)" and ax.get_ylabel() == "USDT"
    assert "liquidation price -9.548 %" in _texts(fig)
    plt.close(fig)


def test_widget_builds_with_the_views_defaults():
    w = lesson.widget()
    assert type(w).__name__ == "VBox"
    values = {c.description: c.value for c in w.controls.values()}
    assert values == {
        "price move (%)": 0.0,
        "added margin (USDT)": 0.0,
        "leverage (x)": 10,
        "MMR table": "article",
    }
