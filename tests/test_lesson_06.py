"""Lesson 6 (the exact liquidation price): the module's functions held against arithmetic done here
by hand from the course's rule book (the BTCUSDT tiers: tier 1 0.4 % / cum 0, tier 2 0.5 % /
cum 300, tier 3 0.65 % / cum 1,500), against the article's stated figures, plus bad input,
exercises, plots and the widget."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pytest

from margin_lib.examples import CASE_A, ISOLATED_EXAMPLE
from margin_lib.lessons import liquidation_price as lesson
from margin_lib.widgets import safe_text

EP = lesson.ENTRY
SIZE = ISOLATED_EXAMPLE.positions[0].notional  # 1,000 USDT
WB = ISOLATED_EXAMPLE.stated["initial_margin"]  # 100 USDT, as the article states
Q = SIZE / EP
TIER1 = (0.004, 0.0)
TIER2 = (0.005, 300.0)
TIER3 = (0.0065, 1_500.0)


def long_lp(q: float, ep: float, wb: float, tier: tuple[float, float]) -> float:
    mmr, cum = tier
    return (q * ep - wb - cum) / (q * (1 - mmr))


def short_lp(q: float, ep: float, wb: float, tier: tuple[float, float]) -> float:
    mmr, cum = tier
    return (q * ep + wb + cum) / (q * (1 + mmr))


def cells(text: str, row: int) -> list[str]:
    return [c.strip() for c in text.splitlines()[row].split("|")]


# ------------------------------------------------------------------------------- derivation
def test_derive_long_and_short_match_the_hand_formula_and_the_library():
    d = lesson.derive()
    assert d.lp == pytest.approx(long_lp(Q, EP, WB, TIER1), rel=1e-12)
    assert d.lp == pytest.approx(d.lp_library, rel=1e-12)
    assert d.balance_at_lp == pytest.approx(d.mm_at_lp, abs=1e-9)
    s = lesson.derive("short")
    assert s.lp == pytest.approx(short_lp(Q, EP, WB, TIER1), rel=1e-12)
    assert s.balance_at_lp == pytest.approx(s.mm_at_lp, abs=1e-9)


def test_steps_text_prints_each_step():
    lines = lesson.steps_text(lesson.derive()).splitlines()
    assert lines[3].endswith(f"= {SIZE - WB:,.2f}")
    assert lines[5] == f"LP = {SIZE - WB:,.2f} / {Q * 0.996:.6f} = {long_lp(Q, EP, WB, TIER1):,.2f}"
    assert lines[6].endswith(f"= {long_lp(Q, EP, WB, TIER1):,.2f}")


def test_equation_table_reaches_zero_at_the_liquidation_price():
    text = lesson.equation_table()
    lp = long_lp(Q, EP, WB, TIER1)
    row = next(cells(text, i) for i in range(2, 7) if cells(text, i)[1] == f"{lp:,.2f}")
    assert row[-1] == "0.00 USDT"
    assert cells(text, 2)[-1] == f"{WB - SIZE * 0.004:.2f} USDT"  # 96.00 at the entry


def test_cross_uses_the_effective_wallet():
    c = lesson.cross_inputs()
    eth_notional = CASE_A.positions[1].notional * (1 + CASE_A.moves["ETHUSDT"])
    expected_wb = CASE_A.wallet - eth_notional * 0.004 + CASE_A.stated["eth_pnl"]
    assert c["effective_wallet"] == pytest.approx(expected_wb)
    q = CASE_A.positions[0].notional / EP
    lp = long_lp(q, EP, expected_wb, TIER1)
    text = lesson.cross_check()
    assert text.splitlines()[-1] == f"Account report, BTC liquidation price: {lp:,.2f}"
    assert f"LP = {q * EP - expected_wb:,.2f} / " in text


def test_cum_keeps_the_maintenance_margin_continuous():
    text = lesson.cum_table()
    mm = 800_000 * 0.005 - 300
    assert mm == 800_000 * 0.0065 - 1_500
    assert [cells(text, i)[4] for i in (2, 3, 4)] == [f"{mm:,.2f} USDT"] * 3
    assert cells(text, 3)[5] == f"{800_000 * 0.0065:,.2f} USDT"


def test_tier_crossing_entry_tier_is_wrong_liquidation_tier_is_right():
    q, wb = 7.5, 150_000.0
    assert lesson.tier_example() == {"quantity": q, "wallet": wb}
    wrong = short_lp(q, EP, wb, TIER2)
    right = short_lp(q, EP, wb, TIER3)
    no_cum = short_lp(q, EP, wb, (0.0065, 0.0))
    assert q * wrong >= 800_000 and q * right >= 800_000  # both land in tier 3
    text = lesson.tier_crossing()
    assert f"at {800_000 / q:,.2f}, before" in text.splitlines()[1]
    assert cells(text, 4)[1:4] == [f"{wrong:,.2f}", f"{q * wrong:,.2f}", "3"]
    assert cells(text, 5)[1] == f"{right:,.2f}" and cells(text, 5)[4] == "0.00 USDT"
    assert cells(text, 6)[1] == f"{no_cum:,.2f}" and cells(text, 6)[4] == "1,500.00 USDT"
    # the entry tier's answer is past liquidation: the balance there is below the real MM
    mb = wb - q * (wrong - EP)
    assert cells(text, 4)[4] == f"{mb - (q * wrong * 0.0065 - 1_500):,.2f} USDT"
    assert f"= {right:,.2f}; Account report: {right:,.2f}" in text
    assert f"{wrong - right:+.2f} USDT from the right one" in text


# ------------------------------------------------------------------------------- bankruptcy
def test_bankruptcy_gap_and_the_whole_wallet_lost():
    text = lesson.bankruptcy_gap()
    lp = long_lp(Q, EP, WB, TIER1)
    assert f"{EP - WB / Q:,.2f}" in text.splitlines()[1]
    assert f"= {Q * (lp - (EP - WB / Q)):.2f} USDT" in text
    event = lesson.liquidation_event()
    assert f"lost in all: {ISOLATED_EXAMPLE.stated['loss_if_liquidated']:.2f} USDT" in event
    assert f"liquidation, {Q * (EP * (1 - 0.0965) - EP):.2f} USDT" in event  # realised at the mark
    assert f"wallet left: {ISOLATED_EXAMPLE.stated['free']:.2f} USDT" in event
    assert lesson.liquidation_event(-0.09) == f"mark {EP * 0.91:,.2f}: still open"


# ------------------------------------------------------------------------------- mark vs last
def test_the_wick_crosses_only_the_last_price():
    lp = long_lp(Q, EP, WB, TIER1)
    below = [i for i, p in enumerate(lesson.WICK_LAST) if p < lp]
    assert len(below) == 1
    assert min(lesson.WICK_MARK) > lp
    text = lesson.wick_table()
    rows = [cells(text, i) for i in range(3, 3 + len(lesson.WICK_LAST))]
    assert all(r[4] == "open" for r in rows)
    assert rows[below[0]][5] == "LIQUIDATED" and rows[below[0]][3] == "below"
    assert "illustrative" in text.splitlines()[0]


# ------------------------------------------------------------------------------- view
def test_view_at_the_articles_trade():
    text = lesson.view()
    assert f"{WB:.2f} USDT" in text.splitlines()[1]
    assert f"Liquidation price: {long_lp(Q, EP, WB, TIER1):,.2f} (-9.639 % from the entry), tier 1" in text
    assert f"Bankruptcy price: {EP - WB / Q:,.2f} (-10.000 % from the entry)." in text


def test_view_short_and_added_wallet():
    assert f"Liquidation price: {short_lp(Q, EP, WB, TIER1):,.2f}" in lesson.view(side="short")
    assert f"Liquidation price: {long_lp(Q, EP, 150, TIER1):,.2f}" in lesson.view(wallet=150)


def test_view_cross_with_other_positions_and_a_tier_change():
    text = lesson.view(
        side="short",
        size=750_000,
        leverage=5,
        mode="cross",
        wallet=200_000,
        other_mm=1_000,
        other_upnl=-5_000,
    )
    wb = 200_000 - 1_000 - 5_000
    lp = short_lp(7.5, EP, wb, TIER3)
    assert 7.5 * lp >= 800_000
    assert f"= {wb:,.2f} USDT." in text
    assert f"Liquidation price: {lp:,.2f}" in text and "tier 3" in text
    assert f"Bankruptcy price: {EP + wb / 7.5:,.2f}" in text


def test_isolated_ignores_the_other_positions_and_a_full_wallet_has_no_price():
    assert lesson.view(other_mm=50, other_upnl=-80) == lesson.view()
    assert "Liquidation price: none (--)" in lesson.view(leverage=1)


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(leverage=0), "⚠ leverage must be >= 1; got 0.0"),
        (dict(leverage=200), "⚠ leverage must be at most 150x for a 1,000 USDT BTCUSDT position (tier 1's"),
        (dict(size=500_000, leverage=120), "⚠ leverage must be at most 100x for a 500,000 USDT"),
        (dict(size=-5), "⚠ size must be > 0; got -5.0"),
        (dict(size=float("nan")), "⚠ size must be a finite number > 0; got nan"),
        (dict(wallet=-1), "⚠ wallet must be >= 0; got -1.0"),
        (dict(entry=0), "⚠ entry must be > 0; got 0"),
        (dict(mode="hedge"), "⚠ mode must be one of 'isolated', 'cross'"),
        (dict(side="up"), "⚠ side must be one of 'long', 'short'"),
        (dict(mode="cross", other_mm=-1), "⚠ other_mm must be >= 0"),
        (dict(mode="cross", other_upnl=-200), "⚠ the other positions' maintenance margin and loss"),
    ],
)
def test_bad_input_gives_a_short_message(values, message):
    text = safe_text(lesson.view, **values)
    assert text.startswith(message)
    assert "\n" not in text


# ------------------------------------------------------------------------------- exercises
EXERCISE_ANSWERS = {
    "6a": long_lp(4, EP, 40_000, TIER2),
    "6b": EP - 40_000 / 4,
    "6c": long_lp(0.5, EP, 10_000 - 150 - 2_000, TIER1),
}


@pytest.mark.parametrize("key", sorted(EXERCISE_ANSWERS))
def test_exercises_say_right_or_hint_without_the_answer(key):
    ex = lesson.EXERCISES[key]
    answer = EXERCISE_ANSWERS[key]
    assert ex.check(answer).endswith("right!")
    for wrong, word in ((answer * 1.02, "too high"), (answer * 0.98, "too low")):
        feedback = ex.check(wrong)
        assert word in feedback and "Hint:" in feedback
        assert f"{answer:,.2f}" not in feedback and f"{answer:.2f}" not in feedback
    assert "replace None" in ex.check(None)


def test_exercise_6a_rejects_the_tier_1_answer_and_the_bankruptcy_price():
    assert "not yet" in lesson.EXERCISES["6a"].check(long_lp(4, EP, 40_000, TIER1))
    assert "not yet" in lesson.EXERCISES["6a"].check(EP - 40_000 / 4)


# ------------------------------------------------------------------------------- plots, widget
def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_plot_labels_and_marks_the_liquidation_price():
    fig = lesson.plot()
    ax = fig.axes[0]
    assert ax.get_xlabel() == "BTC mark price (USDT)" and ax.get_ylabel() == "USDT"
    assert f"liquidation {long_lp(Q, EP, WB, TIER1):,.0f}" in _texts(ax)
    assert f"bankruptcy {EP - WB / Q:,.0f}" in _texts(ax)
    assert tuple(fig.get_size_inches()) == (8.0, 4.2)
    plt.close(fig)
    fig = lesson.plot(side="short", size=750_000, leverage=5, mode="cross", wallet=200_000)
    lp = short_lp(7.5, EP, 200_000, TIER3)
    assert f"liquidation {lp:,.0f}" in _texts(fig.axes[0])
    assert fig.axes[0].get_title().startswith("Cross short")
    plt.close(fig)


def test_plot_wick_labels():
    fig = lesson.plot_wick()
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("minute") and ax.get_ylabel() == "BTC price (USDT)"
    assert f"liquidation {long_lp(Q, EP, WB, TIER1):,.0f}" in _texts(ax)
    assert any(line.get_linestyle() == "--" for line in ax.get_lines())
    plt.close(fig)


def test_widget_builds_with_the_views_defaults():
    w = lesson.widget()
    assert type(w).__name__ == "VBox"
    values = {c.description: c.value for c in w.controls.values()}
    assert values == {
        "side": "long",
        "size (USDT)": SIZE,
        "entry price (USDT)": EP,
        "leverage (x)": 10,
        "wallet (USDT, 0 = IM)": 0.0,
        "margin mode": "isolated",
        "other cross MM (USDT)": 0.0,
        "other cross UPNL (USDT)": 0.0,
    }
    assert not math.isnan(EP)
