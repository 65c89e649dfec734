"""Lesson 5 (isolated against cross): the widget's functions against the article's figures,
independent arithmetic (flat 0.5 % maintenance rate, no fees) and bad input."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from margin_lib.examples import CASE_A, CASE_B
from margin_lib.lessons import comparison as lesson
from margin_lib.widgets import safe_text

MMR = 0.005


def _rows(text):
    return {r.split("|")[0].strip(): [c.strip() for c in r.split("|")[1:]] for r in text.splitlines()[2:]}


def test_cases_side_by_side_match_the_article():
    rows = _rows(lesson.cases_side_by_side())
    assert rows["Case A (cross)"][3] == f"{CASE_A.stated['equity']:,.2f} USDT"
    assert (
        rows["Case B (isolated)"][3]
        == f"{1_000 + CASE_B.stated['btc_pnl'] + CASE_B.stated['eth_pnl']:,.2f} USDT"
    )
    assert rows["Case B (isolated)"][1] == f"{2 * CASE_B.stated['initial_margin_each']:,.2f} USDT"
    assert rows["Case A (cross)"][0] == f"{2 * CASE_A.stated['initial_margin_each']:,.2f} USDT"
    assert all(r[4] == "nothing liquidated" for r in rows.values())


def test_same_trades_isolated_loses_a_leg_cross_loses_the_pool():
    rows = _rows(lesson.same_trades_table())
    # BTC −12 %: the isolated BTC leg (500 of margin) is gone; ETH +250 remains
    assert rows["isolated, BTC -12 % ETH +5 %"][3:] == ["750.00 USDT", "BTC", "500.00 USDT"]
    assert rows["cross, BTC -12 % ETH +5 %"][3] == f"{1_000 - 600 + 250:,.2f} USDT"
    assert rows["cross, BTC -25 % ETH +5 %"][3:] == ["0.00 USDT", "BTC, ETH", "1,000.00 USDT"]
    # isolated BTC liquidation at 10x: (IMR − MMR) / (1 − MMR)
    assert rows["isolated, BTC -8 % ETH +5 %"][2] == f"{-(0.1 - MMR) / (1 - MMR) * 100:.3f} %"


def test_article_controls_are_case_a():
    c = lesson.ARTICLE_CONTROLS
    assert (c["notional"], c["leverage"]) == (CASE_A.positions[0].notional, CASE_A.positions[0].leverage)
    assert (c["btc_move"], c["eth_move"]) == (-8, 5)  # the article: BTC drops 8 %, ETH rises 5 %
    assert lesson.CASE_B_SIZE == 1_000


def test_like_against_like_at_case_b_size():
    rows = _rows(lesson.same_trades_table(notional=lesson.CASE_B_SIZE))
    # both modes agree before a liquidation: 1,000 − 80 + 50
    assert rows["isolated, BTC -8 % ETH +5 %"][3] == rows["cross, BTC -8 % ETH +5 %"][3] == "970.00 USDT"
    # BTC −25 %: isolated loses only its 100 of margin, keeps ETH's +50; cross pays the 250 fall
    assert rows["isolated, BTC -25 % ETH +5 %"][3:] == [f"{1_000 - 100 + 50:,.2f} USDT", "BTC", "100.00 USDT"]
    assert rows["cross, BTC -25 % ETH +5 %"][3:] == [
        f"{1_000 - 250 + 50:,.2f} USDT",
        "nothing liquidated",
        "0.00 USDT",
    ]
    assert rows["cross, BTC -25 % ETH +5 %"][2] == "--"


def test_article_table_in_numbers():
    rows = _rows(lesson.article_table())
    assert rows["margin locking: held in isolated wallets"] == ["1,000.00 USDT", "0.00 USDT"]
    assert rows["capital used (initial margin)"] == ["1,000.00 USDT", "1,000.00 USDT"]
    iso = -(0.1 - MMR) / (1 - MMR) * 100
    cross = -(1_000 - 2 * MMR * 5_000) / (5_000 - MMR * 5_000) * 100
    assert rows["error tolerance: BTC move to liquidation"] == [f"{iso:.3f} %", f"{cross:.3f} %"]
    assert rows["liquidation impact: lost at that move"] == ["500.00 USDT (BTC)", "1,000.00 USDT (BTC, ETH)"]
    assert rows["risk isolation: positions left open"] == ["ETH", "nothing"]


def test_myths():
    text = lesson.myth_checks()
    # cross with ETH flat: 1,000 + 5,000 b − 0.005·5,000·(1 + b) − 0.005·5,000 = 0
    b = -(1_000 - 2 * MMR * 5_000) / (5_000 - MMR * 5_000)
    assert f"at {b * 100:.3f} % in cross" in text
    assert "isolated lost 500.00 USDT (BTC), equity 750.00 USDT" in text
    assert "cross lost 1,000.00 USDT (BTC, ETH), equity 0.00 USDT" in text
    assert "900.00 USDT is still available" in text
    assert text.count("needs 100.00 USDT of margin") == 3
    assert "the engine refuses: cannot switch BTCUSDT to cross margin" in text


def test_rules_and_fees():
    rules = lesson.rules_demo()
    assert "BTCUSDT is cross, ETHUSDT is isolated" in rules
    assert "switching ETHUSDT to cross with its position open: cannot switch ETHUSDT" in rules
    assert "one-way mode holds a long BTCUSDT position" in rules
    assert "long BTCUSDT, short BTCUSDT" in rules
    fees = lesson.fees_table()
    assert "maker | 0.02 % |         0.20 USDT" in fees and "taker | 0.05 % |         0.50 USDT" in fees
    assert "isolated: 1.00 USDT; cross: 1.00 USDT" in fees
    assert "that is 2.000 % of the 50.00 USDT margin at 20x" in fees


def test_closing_advice_numbers():
    text = lesson.advice_table()
    assert f"{(0.2 - MMR) / (1 - MMR) * 100:.3f} %" in text
    assert "200.00 USDT" in text
    # −5 % on 1,000 plus taker fees on 1,000 and on 950
    assert f"loss of {50 + 0.5 + 0.475:,.2f} USDT" in text


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(leverage=0), "⚠ leverage must be >= 1; got 0.0"),
        (dict(leverage=200), "⚠ leverage must be at most 125 in the article's table; got 200"),
        (dict(notional=-5_000), "⚠ notional must be > 0; got -5000.0"),
        (dict(notional=50_000), "⚠ insufficient available balance"),
        (dict(btc_move=-100), "⚠ btc_move must be > -100; got -100.0"),
        (dict(eth_move=float("nan")), "⚠ eth_move must be a finite number > -100; got nan"),
    ],
)
def test_bad_widget_input_gives_a_short_message(values, message):
    args = dict(notional=5_000, leverage=10, btc_move=-8, eth_move=5) | values
    assert safe_text(lesson.view, **args).startswith(message)


def test_view_shows_both_modes():
    rows = _rows("\n".join(lesson.view(5_000, 10, -25, 5).splitlines()[2:]))
    assert rows["isolated"][3:] == ["750.00 USDT", "BTC", "500.00 USDT"]
    assert rows["cross"][3:] == ["0.00 USDT", "BTC, ETH", "1,000.00 USDT"]


def test_exercises():
    answers = {"5a": 1_000 - 80 + 50, "5b": -(0.1 - MMR) / (1 - MMR) * 100, "5c": 2 * 1_000 * 0.0005}
    for key, ex in lesson.EXERCISES.items():
        assert ex.check(answers[key]).endswith("right!")
        wrong = ex.check(answers[key] + abs(answers[key]))
        assert "too high" in wrong and "Hint:" in wrong
        assert f"{answers[key]:.2f}" not in wrong


def test_plot_marks_both_liquidations():
    fig = lesson.plot(5_000, 10, -8, 5)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("BTC price move (%)") and "USDT" in ax.get_ylabel()
    texts = [t.get_text().replace("\n", " ") for t in ax.texts]
    assert any(t.startswith("isolated: liquidation at BTC -9.5 %") for t in texts)
    assert any(t.startswith("cross: liquidation at BTC -24.1 %") for t in texts)
    plt.close(fig)


def test_plot_says_when_a_mode_is_not_liquidated_in_range():
    # 1,000 per leg at 20x, ETH −10 %: the isolated ETH leg (50 of margin) is gone at −4.5 %, and
    # cross mode cannot be liquidated by BTC above −40 % (the wallet covers the fall)
    fig = lesson.plot(1_000, 20, -30, -10)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "cross mode (BTC not liquidated above -40 %)" in labels
    assert "isolated mode (ETH leg liquidated at ETH -10.0 %)" in labels
    texts = [t.get_text().replace("\n", " ") for t in fig.axes[0].texts]
    assert any(t.startswith("isolated: liquidation at BTC -4.5 %") for t in texts)
    plt.close(fig)


def test_widget_builds():
    assert type(lesson.widget()).__name__ == "VBox"
