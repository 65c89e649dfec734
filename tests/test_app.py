"""The calculator page (make app): its functions against the article's Case A, hand arithmetic
and bad input, and the page's layout. (The served page in Chromium: test_browser_app.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from margin_lib.app import DEFAULTS, dashboard, plot, view
from margin_lib.examples import CASE_A
from margin_lib.widgets import safe_text

ROOT = Path(__file__).resolve().parents[1]


def _rows(text):
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("---")) + 1
    return {r.split("|")[0].strip(): [c.strip() for c in r.split("|")[1:]] for r in lines[start : start + 3]}


def test_defaults_are_case_a_and_match_the_article():
    rows = _rows(view(**DEFAULTS))
    for label in ("your set-up", "all isolated", "all cross"):
        assert rows[label][2] == f"{CASE_A.stated['equity']:,.2f} USDT"
        assert rows[label][3] == "nothing"
    # all isolated at 10x, exchange tier 1 (0.4 %): LP = EP·(1 − 1/10)/(1 − 0.004)
    assert rows["all isolated"][0] == f"{100_000 * 0.9 / 0.996:,.2f}"


def test_mixed_modes_after_a_crash():
    rows = _rows(view(**(DEFAULTS | dict(btc_move=-25, btc_mode="isolated"))))
    assert rows["your set-up"][2:5] == ["750.00 USDT", "BTC", "500.00 USDT"]
    assert rows["all cross"][2:5] == ["0.00 USDT", "BTC, ETH", "1,000.00 USDT"]


def test_plot_uses_eth_at_its_moved_price():
    fig = plot(**(DEFAULTS | dict(btc_move=-23)))
    labels = [t.get_text() for t in fig.axes[0].texts]
    # cross BTC with ETH +5 %: WB' = 1,000 − 0.4 %·5,250 + 250; LP = (5,000 − WB') / (0.05 · 0.996)
    wb = 1_000 - 0.004 * 5_250 + 250
    assert f"liquidation {(5_000 - wb) / (0.05 * 0.996):,.0f}" in labels
    assert fig.axes[0].get_xlabel() == "BTC mark price (USDT)"
    plt.close(fig)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(btc_leverage=0), "⚠ leverage must be >= 1; got 0.0"),
        (dict(eth_leverage=200), "⚠ leverage must be at most 150x for a 5,000 USDT ETHUSDT position"),
        (dict(btc_size=-5), "⚠ btc_size must be > 0; got -5.0"),
        (dict(wallet=0), "⚠ wallet must be > 0; got 0.0"),
        (dict(fees="taker"), "⚠ insufficient available balance: initial margin 500.00 + opening fee 2.50"),
        (dict(btc_move=-100), "⚠ btc_move must be > -100; got -100.0"),
        (dict(eth_mode="portfolio"), "⚠ eth_mode must be one of 'isolated', 'cross'; got 'portfolio'"),
    ],
)
def test_bad_input_gives_a_short_message(change, message):
    assert safe_text(view, **(DEFAULTS | change)).startswith(message)


def test_page_builds_and_is_stored_executed():
    assert type(dashboard()).__name__ == "VBox"
    nb = json.loads((ROOT / "notebooks" / "app" / "margin_calculator.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == [1]
    assert "nbval-ignore-output" in code[0]["metadata"]["tags"]
    assert "not trading advice" in "".join(nb["cells"][0]["source"])


def test_controls_sit_in_two_columns_one_per_coin():
    page = dashboard()
    row = next(child for child in page.children if type(child).__name__ == "HBox")
    columns = [[control.description for control in column.children] for column in row.children]
    assert columns == [
        ["wallet (USDT)", "BTC size (USDT)", "BTC leverage (x)", "BTC side", "BTC mode", "BTC move (%)"],
        ["trading fees", "ETH size (USDT)", "ETH leverage (x)", "ETH side", "ETH mode", "ETH move (%)"],
    ]
