"""The calculator page (make app): its functions against the article's Case A and hand arithmetic,
its refusals in plain words, what its plot draws, and the page's layout in the kernel.
(The served page in Chromium: test_browser_app.py; its kernels: test_browser_app_kernels.py.)"""

from __future__ import annotations

import itertools
import json
import re
import warnings
from pathlib import Path

import ipywidgets as ipw
import matplotlib.pyplot as plt
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from margin_lib.app import CASE_TAB, DEFAULTS, LABELS, calculator_page, dashboard, plot, view
from margin_lib.app_page import build_widget, controls_for
from margin_lib.calculator_tabs import TITLES, tabs
from margin_lib.errors import InvalidInputError
from margin_lib.examples import CASE_A
from margin_lib.widgets import safe_text

ROOT = Path(__file__).resolve().parents[1]
MMR = 0.004  # tier 1 of both shipped tables (0 to 300,000 USDT)
TAKER = 0.0005  # the exchange's regular taker fee, 0.05 %


def _rows(text):
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("---")) + 1
    return {r.split("|")[0].strip(): [c.strip() for c in r.split("|")[1:]] for r in lines[start : start + 3]}


def _header(text):
    return [c.strip() for c in next(line for line in text.splitlines() if "liq. price" in line).split("|")]


def test_defaults_are_case_a_and_match_the_article():
    rows = _rows(view(**DEFAULTS))
    for label in ("your set-up", "all isolated", "all cross"):
        assert rows[label][2] == f"{CASE_A.stated['equity']:,.2f} USDT"
        assert rows[label][3] == "nothing"
    # all isolated at 10x, exchange tier 1 (0.4 %): LP = EP·(1 − 1/10)/(1 − 0.004)
    assert rows["all isolated"][0] == f"{100_000 * 0.9 / (1 - MMR):,.2f}"


def test_mixed_modes_after_a_crash():
    rows = _rows(view(**(DEFAULTS | dict(btc_move=-25, btc_mode="isolated"))))
    assert rows["your set-up"][2:5] == ["750.00 USDT", "BTC", "500.00 USDT"]
    assert rows["all cross"][2:5] == ["0.00 USDT", "BTC, ETH", "1,000.00 USDT"]


# ---------------------------------------------------------------- item 2: one number per meaning
def _labels(fig):
    """The plot's named prices: in its legend, below the axes."""
    return [t.get_text() for t in fig.legends[0].get_texts()]


def test_the_table_and_the_plot_show_one_liquidation_price_and_say_which():
    """Both show BTC's liquidation price with ETH already at +5 % (the table's column says so),
    worked out by hand: cross WB' = wallet − ETH's MM + ETH's PnL, LP = (q·EP − WB') / (q·(1 − MMR))."""
    text = view(**DEFAULTS)
    wb = 1_000 - MMR * 5_250 + 250
    lp = (5_000 - wb) / (0.05 * (1 - MMR))
    assert _header(text)[1] == "BTC liq. price (ETH +5.0 %)"
    assert _rows(text)["your set-up"][0] == f"{lp:,.2f}" == _rows(text)["all cross"][0]
    fig = plot(**DEFAULTS)
    assert f"liquidation {lp:,.0f}" in _labels(fig)
    assert "ETH +5.0 %" in fig._suptitle.get_text()
    plt.close(fig)
    # and ETH's, with BTC at −8 %: WB'' = 1,000 − 0.4 %·4,600 − 400
    wb = 1_000 - MMR * 4_600 - 400
    assert _header(text)[2] == "ETH liq. price (BTC -8.0 %)"
    assert _rows(text)["your set-up"][1] == f"{(5_000 - wb) / (1.25 * (1 - MMR)):,.2f}"


def test_plot_follows_eth_to_its_moved_price():
    fig = plot(**(DEFAULTS | dict(eth_move=-20.0)))
    wb = 1_000 - MMR * 4_000 - 1_000  # ETH at 3,200: MM 0.4 %·4,000, PnL −1,000
    assert f"liquidation {(5_000 - wb) / (0.05 * (1 - MMR)):,.0f}" in _labels(fig)
    plt.close(fig)


# ---------------------------------------------------------------- item 3: after a liquidation
def _now(fig):
    """The "now" marker's point and its legend label."""
    ax = fig.axes[0]
    (marker,) = [c for c in ax.collections if c.get_label().startswith("now")]
    (x, y) = marker.get_offsets()[0]
    return float(x), float(y), marker.get_label()


@pytest.mark.parametrize(
    "change, lost",
    [
        (dict(btc_leverage=150, btc_mode="isolated"), 5_000 / 150),  # the isolated margin, no more
        (dict(btc_side="short", btc_move=60.0), 1_000.0),  # the whole cross wallet
        (dict(eth_move=-60.0), 1_000.0),  # ETH's fall takes the cross account, BTC with it
    ],
)
def test_after_a_liquidation_the_plot_draws_what_happened(change, lost):
    values = DEFAULTS | change
    assert _rows(view(**values))["your set-up"][4] == f"{lost:,.2f} USDT"
    fig = plot(**values)
    x, y, label = _now(fig)
    assert x == pytest.approx(100_000 * (1 + values["btc_move"] / 100))
    assert y == 0.0 and "liquidated" in label  # closed: nothing left, never a negative balance
    assert f"liquidated, {lost:,.2f} USDT lost" in fig._suptitle.get_text()
    plt.close(fig)


def test_a_standing_position_is_a_dot_on_its_balance_line():
    fig = plot(**DEFAULTS)
    x, y, label = _now(fig)
    assert (x, label) == (92_000, "now 92,000")
    assert y == pytest.approx(1_000 - 400 + 250)  # cross margin balance: wallet + both PnLs
    plt.close(fig)


def _boxes(fig):
    """Every text the figure draws, with its box in pixels (tick labels beyond the axes' limits
    exist but are not drawn: left out)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    hidden = set()
    for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        for tick in axis.get_major_ticks():
            if not min(lo, hi) <= tick.get_loc() <= max(lo, hi):
                hidden |= {id(tick.label1), id(tick.label2)}
    return [(t.get_text(), t.get_window_extent(renderer)) for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip() and id(t) not in hidden]  # fmt: skip


EXTREMES = [
    {},
    dict(btc_leverage=150, btc_mode="isolated"),
    dict(btc_leverage=150, btc_side="short", btc_mode="isolated", btc_move=60.0),
    dict(btc_leverage=150),
    dict(btc_move=-60.0, eth_move=60.0),
    dict(btc_side="short", btc_move=60.0),
    dict(btc_leverage=1, btc_size="500", eth_size="4,000"),
    dict(wallet="10,000,000,000"),
    dict(btc_side="short", btc_move=-25.0, eth_move=-60.0),  # liquidated near the top of the range
    dict(btc_size="1,000,000", btc_leverage=20, wallet="60,000", btc_mode="isolated"),
]


def _name(change):
    return ",".join(f"{k}={v}" for k, v in change.items()) or "defaults"


@pytest.mark.parametrize("change", EXTREMES, ids=_name)
def test_no_text_of_the_plot_is_clipped_or_overprinted(change):
    fig = plot(**(DEFAULTS | change))
    boxes = _boxes(fig)
    width, height = fig.bbox.width, fig.bbox.height
    for text, box in boxes:
        inside = box.x0 >= -1 and box.y0 >= -1 and box.x1 <= width + 1 and box.y1 <= height + 1
        assert inside, f"{text!r} clipped"
    labels = [(t, b) for t, b in boxes if re.match(r"(entry|liquidation|bankruptcy|now) ", t)]
    assert labels, "the entry at least is labelled"
    for (a, box_a), (b, box_b) in itertools.combinations(labels, 2):
        assert not box_a.overlaps(box_b), f"{a!r} overprints {b!r}"
    x, y, _ = _now(fig)  # and no label covers the marker (its square, 10 pixels a side)
    px, py = fig.axes[0].transData.transform((x, y))
    marker = Bbox.from_extents(px - 5, py - 5, px + 5, py + 5)
    assert not [t for t, box in labels if box.overlaps(marker)]
    plt.close(fig)


# ---------------------------------------------------------------- item 4: plain words
BAD = [
    (dict(btc_leverage=0), "BTC leverage (x) must be at least 1; got 0"),
    (dict(eth_leverage=200), "ETH leverage (x) must be at most 150x for a 5,000 USDT ETH position"),
    (dict(btc_size=-5), "BTC size (USDT) must be more than 0 USDT; got -5"),
    (dict(btc_size="abc"), "BTC size (USDT) must be a number of USDT, such as 1000 or 1,000.50; got 'abc'"),
    (dict(eth_size="3"), "ETH size (USDT) must be at least 4 USDT (0.001 ETH at 4,000"),
    (dict(btc_size="50"), "BTC size (USDT) must be at least 100 USDT (0.001 BTC at 100,000"),
    (dict(btc_size="2,000,000,000", btc_leverage=1, wallet="3,000,000,000"), "BTC size (USDT) must be below"),
    (dict(btc_size="5,000,000", btc_leverage=150), "BTC leverage (x) must be at most 50x for a 5,000,000"),
    (dict(wallet=0), "wallet (USDT) must be more than 0 USDT; got 0"),
    (dict(wallet="abc"), "wallet (USDT) must be a number of USDT, such as 1000 or 1,000.50; got 'abc'"),
    (dict(wallet=""), "wallet (USDT) must be a number of USDT"),
    (dict(wallet="nan"), "wallet (USDT) must be a number of USDT"),
    (dict(wallet=True), "wallet (USDT) must be a number of USDT"),
    (dict(wallet=None), "wallet (USDT) must be a number of USDT"),
    (dict(wallet="1e100"), "wallet (USDT) must be at most 10,000,000,000 USDT; got '1e100'"),
    (dict(wallet=1e100), "wallet (USDT) must be at most 10,000,000,000 USDT"),
    (dict(btc_move=-100), "BTC move (%) must be more than -100; got -100"),
    (dict(eth_move="up"), "ETH move (%) must be a number; got 'up'"),
    (dict(eth_move=1e6), "ETH move (%) must be at most 1000; got 1e+06"),
    (dict(eth_mode="portfolio"), "ETH mode must be one of 'isolated', 'cross'; got 'portfolio'"),
    (dict(btc_side="up"), "BTC side must be one of 'long', 'short'; got 'up'"),
    (dict(fees="maker"), "trading fees must be one of 'none', 'taker'; got 'maker'"),
]


@pytest.mark.parametrize("change, message", BAD, ids=[m[:40] for _, m in BAD])
def test_bad_input_is_refused_naming_the_control_as_the_page_labels_it(change, message):
    shown = safe_text(view, **(DEFAULTS | change))
    assert shown.startswith("⚠ " + message)
    code_names = [key for key in DEFAULTS if "_" in key]
    assert not any(name in shown for name in code_names), shown


def test_taker_fees_on_the_defaults_say_which_control_to_change():
    """Case A spends the whole wallet on margin; with fees the message names the control and the
    amount that works: 2 × (500 initial margin + 5,000 × 0.05 % fee)."""
    needed = 2 * (5_000 / 10 + 5_000 * TAKER)
    shown = safe_text(view, **(DEFAULTS | dict(fees="taker")))
    assert shown.startswith("⚠ The wallet (USDT) of 1,000.00 USDT cannot pay")
    assert f"raise wallet (USDT) to at least {needed:,.2f}" in shown
    words = re.sub(r"\d[\d,]*\.\d+", "N", shown)  # numbers out: one full stop left, at the end
    assert words.count(".") == 1 and words.endswith("."), "one sentence"
    assert _rows(view(**(DEFAULTS | dict(fees="taker", wallet=needed))))["your set-up"][3] == "nothing"
    assert safe_text(view, **(DEFAULTS | dict(fees="taker", wallet=needed - 0.01))).startswith("⚠")


def test_typed_amounts_are_read_as_typed():
    typed = dict(wallet="1,000", btc_size=" 5000 ", eth_size="5,000.00")
    assert view(**(DEFAULTS | typed)) == view(**DEFAULTS)


def test_no_warning_reaches_the_page(capsys):
    """A warning raised while the page redraws goes nowhere: not to the page's streams, not out."""

    def warning_plot(**values):
        warnings.warn("overflow encountered in multiply", RuntimeWarning, stacklevel=1)
        return plot(**values)

    controls = controls_for(DEFAULTS, LABELS, fees=["none", "taker"], modes=["isolated", "cross"],
                            sides=["long", "short"])  # fmt: skip
    columns = [[k for k in DEFAULTS if not k.startswith("eth")], [k for k in DEFAULTS if k.startswith("eth")]]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        page = build_widget(controls, view, warning_plot, html=lambda **v: "table", title="", columns=columns)
        controls["wallet"].value = "1e100"
        controls["wallet"].value = "2,000"
    assert caught == []
    assert capsys.readouterr() == ("", "")
    assert page.image.layout.display is None and page.summary.value == "table"


def test_a_refusal_replaces_table_and_plot_with_one_sentence():
    page = dashboard()
    page.controls["wallet"].value = "abc"
    assert page.summary.value.startswith("<p class='calc-error'>⚠ wallet (USDT) must be a number")
    assert page.image.layout.display == "none"
    hidden = [w for w in _tree(page) if w.layout.display == "none"]
    assert hidden == [page.image], "only the plot is hidden"
    page.controls["wallet"].value = "1,000"
    assert "calc-table" in page.summary.value and page.image.layout.display is None


def test_amount_errors_are_the_engines_error_type():
    from margin_lib.app import amount

    with pytest.raises(InvalidInputError):
        amount("btc_size", "five thousand")


# ---------------------------------------------------------------- the page and its notebook
def _tree(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _tree(child)


def test_the_page_sends_no_binary_buffers():
    """Voilà 0.5 reads every binary message it forwards as its own newer format; from a client of
    the older protocol it then builds a list billions long and the server spins out of memory.
    The page's widgets hold text only (the plot inline in an <img>), so no binary message is sent."""
    page = dashboard()
    for widget in _tree(page):
        state = widget.get_state()
        assert not [k for k, v in state.items() if isinstance(v, (bytes, bytearray, memoryview))], widget
    assert page.image.value.startswith("<img class='calc-plot'") and "base64," in page.image.value



def test_page_builds_and_is_stored_executed():
    assert type(dashboard()).__name__ == "VBox"
    nb = json.loads((ROOT / "notebooks" / "app" / "margin_calculator.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == [1]
    assert "calculator_page()" in "".join(code[0]["source"])
    shown = code[0]["outputs"][0]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    state = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert state[shown]["model_name"] == "TabModel"
    assert state[shown]["state"]["titles"] == [CASE_TAB, *TITLES]
    assert "nbval-ignore-output" in code[0]["metadata"]["tags"]
    assert "not trading advice" in "".join(nb["cells"][0]["source"])


def test_the_page_puts_the_two_positions_first_then_the_five_calculator_tabs():
    page = calculator_page()
    assert [page.get_title(i) for i in range(len(page.children))] == [CASE_TAB, *TITLES]
    assert page.selected_index == 0 and page.children[0] is page.case
    assert page.case.text.startswith(dashboard().text.splitlines()[0])
    # the page is served alone: no link to a lesson that is not beside it
    for pane in page.panes.values():
        assert "<a " not in pane.working.value and "</code> in the course" in pane.working.value, pane
    linked = tabs()  # in JupyterLab, beside the lessons: links
    assert '<a href="../01_initial_margin.ipynb"' in linked.panes["PnL and ROE"].working.value


def test_controls_sit_in_two_columns_one_per_coin_and_amounts_are_typed_as_text():
    page = dashboard()
    row = next(child for child in page.children if isinstance(child, ipw.HBox))
    columns = [[control.description for control in column.children] for column in row.children]
    assert columns == [
        ["wallet (USDT)", "BTC size (USDT)", "BTC leverage (x)", "BTC side", "BTC mode", "BTC move (%)"],
        ["trading fees", "ETH size (USDT)", "ETH leverage (x)", "ETH side", "ETH mode", "ETH move (%)"],
    ]
    assert all(isinstance(page.controls[k], ipw.Text) for k in ("wallet", "btc_size", "eth_size"))
    assert {c.description for c in page.controls.values()} == set(LABELS.values())
