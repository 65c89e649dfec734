"""Lesson 7 (fees and funding): the module's functions, held against the exchange's stated fee
example and against arithmetic done here by hand, plus bad input, exercises, plots and the widget."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pytest

from margin_lib.lessons import fees_and_funding as lesson
from margin_lib.widgets import safe_text

Q = lesson.QUANTITY
P = lesson.ENTRY
N = Q * P  # 10,000 USDT
MMR = 0.004  # BTCUSDT tier 1


def long_lp(wallet: float) -> float:
    """A long's liquidation price by hand: WB + Q (LP − EP) = Q LP MMR."""
    return (N - wallet) / (Q * (1 - MMR))


def first_liquidating_payment(margin: float, payment: float) -> int:
    """The first k with margin − k × payment <= MM, by hand."""
    return math.ceil((margin - MMR * N) / payment - 1e-12)


def test_the_exchanges_fee_example():
    # stated by the exchange (the course's reference, section 7): 5.052 and 2.2208 USDT
    taker, maker = lesson.fee_example()
    assert taker == pytest.approx(5.052) and maker == pytest.approx(2.2208)
    text = lesson.fee_example_table()
    assert "5.0520 USDT" in text and "2.2208 USDT" in text


def test_the_articles_rates_and_modes():
    # the article: maker 0.02 % / taker 0.05 %, identical in both modes
    text = lesson.fees_by_mode(leverage=20, margin=1_000)
    rows = [r for r in text.splitlines() if r.startswith(("isolated", "cross"))]
    assert len(rows) == 2
    for row in rows:
        cells = [c.strip() for c in row.split("|")]
        assert cells[1:] == ["10.00 USDT", "10.00 USDT", "20.00 USDT", "2.000 %"]  # 20,000 × 0.0005


@pytest.mark.parametrize("lev", [1, 5, 20, 125])
def test_round_trip_is_leverage_times_the_rates(lev):
    assert lesson.round_trip_pct(lev) == pytest.approx(lev * 2 * 0.0005)
    assert lesson.round_trip_pct(lev, 0.0002, 0.0005) == pytest.approx(lev * 0.0007)
    row = lesson.round_trip_table((lev,)).splitlines()[2]
    assert f"{lev * 0.1:.3f} %" in row and f"{lev * 0.04:.3f} %" in row


def test_funding_direction():
    text = lesson.funding_direction_table((0.0001, -0.0001))
    pos, neg = text.splitlines()[2:4]
    assert "-1.00 USDT (pays)" in pos.split("|")[1] and "+1.00 USDT (receives)" in pos.split("|")[2]
    assert "+1.00 USDT (receives)" in neg.split("|")[1] and "-1.00 USDT (pays)" in neg.split("|")[2]
    assert lesson.settlements_in(24 * 7) == 21 == lesson.WEEK_SETTLEMENTS
    assert lesson.settlements_in(7.99) == 0


@pytest.mark.parametrize("lev, rate", [(10, 0.0001), (10, 0.003), (20, 0.0001)])
def test_a_week_of_funding_drags_the_lp(lev, rate):
    run = lesson.run_funding(lev, rate)
    margin = N / lev
    assert run.liquidated_at is None and len(run.steps) == 22
    for k, s in enumerate(run.steps):
        assert s.hour == 8 * k
        assert s.wallet == pytest.approx(margin - k * N * rate)
        assert s.liquidation_price == pytest.approx(long_lp(margin - k * N * rate))
    assert run.funding_paid == pytest.approx(21 * N * rate)


def test_funding_alone_liquidates_at_20x_extreme():
    run = lesson.run_funding(20, lesson.EXTREME_RATE)
    k = first_liquidating_payment(N / 20, N * lesson.EXTREME_RATE)
    assert run.liquidated_at == k == lesson.settlements_until_liquidation(20, lesson.EXTREME_RATE)
    assert run.steps[k].state == "LIQUIDATED" and run.steps[k].mark == P
    assert run.steps[k - 1].state == "open"
    assert "LIQUIDATED" in lesson.week_table(20).splitlines()[2 + k]


def test_post_mortem_price_alone_survives_price_and_funding_do_not():
    real, price_only = lesson.post_mortem(True), lesson.post_mortem(False)
    low = min(m for _, m, _ in lesson.POST_MORTEM["path"])
    lev, rate = lesson.POST_MORTEM["leverage"], lesson.POST_MORTEM["rate"]
    paid = sum(Q * m * rate for _, m, due in lesson.POST_MORTEM["path"] if due)
    assert long_lp(N / lev) < low < long_lp(N / lev - paid)  # the scenario does what it says
    assert price_only.liquidated_at is None
    assert real.liquidated_at == len(real.steps) - 1
    assert real.funding_paid == pytest.approx(paid)
    text = lesson.post_mortem_table()
    assert text.splitlines()[-1].count("LIQUIDATED") == 1 and text.splitlines()[-1].endswith("open")
    assert "survives" in lesson.post_mortem_verdict()


def test_view_default():
    text = lesson.view(leverage=20, hours=168, rate_pct=0.01)
    assert "margin 500.00 USDT" in text
    assert "10.00 USDT = 2.000 % of the margin" in text  # 2 × 10,000 × 0.05 %
    assert "21 funding time(s)" in text
    assert f"Funding paid: {21 * N * 0.0001:.2f} USDT" in text
    assert f"{10 + 21:.2f} USDT = {(10 + 21) / 500:.3%}".replace("%", " %") in text
    assert f"{long_lp(500 - 21):,.2f}" in text


def test_view_liquidated_and_negative_rate():
    text = lesson.view(leverage=20, hours=168, rate_pct=0.3)
    assert "LIQUIDATED by funding alone at funding time #16 (hour 128)" in text
    received = lesson.view(leverage=10, hours=24, rate_pct=-0.05)
    assert f"Funding received: {3 * N * 0.0005:.2f} USDT" in received
    assert f"{long_lp(1_000 + 15):,.2f}" in received
    assert "0 funding time(s)" in lesson.view(hours=7)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"leverage": 0}, "leverage must be >= 1"),
        ({"leverage": 151}, "at most 150x"),
        ({"rate_pct": 5.01}, "funding rate must be between"),
        ({"rate_pct": -6}, "funding rate must be between"),
        ({"hours": -1}, "hours must be >= 0"),
        ({"hours": float("nan")}, "hours must be a finite number"),
        ({"rate_pct": float("nan")}, "rate_pct must be a finite number"),
    ],
)
def test_bad_input_gives_a_short_message(kwargs, fragment):
    text = safe_text(lesson.view, **kwargs)
    assert text.startswith("⚠") and fragment in text and "\n" not in text


def test_exercises():
    solved = {
        "7a": 100 * 40_000 * (0.0002 + 0.0005) / 2_000,
        "7b": 9 * 0.5 * 100_000 * 0.0001,
        "7c": first_liquidating_payment(N / 30, N * 0.001),
    }
    for key, answer in solved.items():
        ex = lesson.EXERCISES[key]
        assert ex.check(answer).endswith("right!")
        wrong = ex.check(answer * 1.5)
        assert "not yet" in wrong and "Hint" in wrong and f"{answer:g}" not in wrong
        assert "replace None" in ex.check(None)


def test_plots_are_labelled_and_mark_the_liquidation():
    figs = [lesson.plot(leverage=20, rate_pct=0.3), lesson.plot_week(20), lesson.plot_post_mortem()]
    for fig in figs:
        ax = fig.axes[0]
        assert "USDT" in ax.get_ylabel() and "hours" in ax.get_xlabel() and ax.get_title()
        assert any("LIQUIDATED" in t.get_text() for t in ax.texts)
        assert tuple(fig.get_size_inches()) == (8.0, 4.2)
    calm = lesson.plot()
    assert not any("LIQUIDATED" in t.get_text() for t in calm.axes[0].texts)
    assert "toward the mark" in lesson.plot_week(10).axes[0].get_title()
    for fig in [*figs, calm]:
        plt.close(fig)


def test_widget_builds():
    w = lesson.widget()
    assert len(w.controls) == 3 and type(w.children[-1]).__name__ == "Output"
