"""The calculator page in a real browser, served as `make app` serves it (margin_lib.app_server:
Voilà with notebooks/app/voila.json) on a free loopback port; Playwright drives Debian's Chromium
(never a downloaded browser). Skipped, with the reason shown, where Chromium is missing;
`.ci/run` installs Chromium first. Pages are pytest-playwright's; every test also asserts that
no request tried to leave the machine (conftest's `outside_requests`).

The page's kernels (culling, the cap): test_browser_app_kernels.py."""

from __future__ import annotations

import base64
import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import LEAVE, is_local
from matplotlib.text import Text
from PIL import Image

from margin_lib.app import DEFAULTS, plot, summary
from margin_lib.plots import steady_axes

#: The table and a drawn plot are on the page.
SHOWN = """() => {
  const img = document.querySelector('.calc-page img.calc-plot');
  const table = document.querySelector('.calc-page .calc-table');
  return !!(img && table && img.complete && img.naturalWidth > 0 && img.getBoundingClientRect().height > 0);
}"""


def _open(page, url: str, width: int, height: int):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(url, timeout=90_000)
    page.wait_for_function(SHOWN, timeout=90_000)
    return page


@pytest.fixture()
def calculator(page, app_url, outside_requests):
    """The calculator page at 1280 × 900, loaded, its first table and plot shown."""
    yield _open(page, app_url, 1280, 900)
    page.evaluate(LEAVE)
    assert outside_requests == [], f"requests left the machine: {outside_requests}"


@pytest.fixture()
def phone(page, app_url, outside_requests):
    """The calculator page at 390 × 844, a phone held upright."""
    yield _open(page, app_url, 390, 844)
    page.evaluate(LEAVE)
    assert outside_requests == [], f"requests left the machine: {outside_requests}"


def _summary(page) -> str:
    return page.inner_text(".calc-page .calc-summary, .calc-page .calc-error")


def _rows(page) -> list[list[str]]:
    """The table as shown: per row, its label and cells."""
    return page.eval_on_selector_all(
        ".calc-table tbody tr", "rows => rows.map(r => [...r.children].map(c => c.innerText.trim()))"
    )


def _expected(values) -> list[list[str]]:
    return [[r.label, *r.cells] for r in summary(**values).rows]


def _wait_text(page, text: str) -> None:
    page.wait_for_function("t => document.querySelector('.calc-page').innerText.includes(t)", arg=text,
                           timeout=60_000)  # fmt: skip


def _slider(page, description: str):
    """The handle of the slider labelled ``description`` (found by its label, not its place)."""
    return page.locator(".widget-slider", has_text=description).locator(".noUi-handle")


def _type(page, description: str, text: str) -> None:
    box = page.locator(".widget-text", has_text=description).locator("input")
    box.fill(text)
    box.press("Enter")


def test_leverage_and_move_change_the_numbers_to_the_engines(calculator, tmp_path):
    page = calculator
    assert _rows(page) == _expected(DEFAULTS)
    _slider(page, "BTC leverage (x)").focus()
    for _ in range(10):  # 10x -> 20x
        page.keyboard.press("ArrowRight")
    _wait_text(page, "BTC long 5,000 USDT at 20x")
    _slider(page, "BTC move (%)").focus()
    for _ in range(30):  # -8 % -> -23 %, steps of 0.5
        page.keyboard.press("ArrowLeft")
    _wait_text(page, "BTC -23.0 %")
    page.wait_for_function(SHOWN, timeout=60_000)
    assert _rows(page) == _expected(DEFAULTS | dict(btc_leverage=20, btc_move=-23.0))
    page.screenshot(path=str(tmp_path / "calculator.png"), full_page=True)


@pytest.mark.parametrize(
    "label, typed, message",
    [
        ("BTC size (USDT)", "-5", "⚠ BTC size (USDT) must be more than 0 USDT; got '-5'"),
        ("wallet (USDT)", "abc", "⚠ wallet (USDT) must be a number of USDT, such as 1000 or 1,000.50; "
                                 "got 'abc'"),
        ("wallet (USDT)", "1e100", "⚠ wallet (USDT) must be at most 10,000,000,000 USDT; got '1e100'"),
    ],
)
def test_a_bad_value_is_refused_in_a_sentence_and_the_page_keeps_working(calculator, label, typed, message):
    page = calculator
    _type(page, label, typed)
    _wait_text(page, "⚠")
    assert _summary(page).strip() == message
    assert not page.locator(".calc-page img.calc-plot").is_visible()  # no plot of the refused values
    shown = page.inner_text("body")
    for word in ("Traceback", "Warning", "btc_size", "eth_size", ".py"):
        assert word not in shown
    _type(page, label, f"{DEFAULTS[{'BTC size (USDT)': 'btc_size', 'wallet (USDT)': 'wallet'}[label]]:,.0f}")
    page.wait_for_function(SHOWN, timeout=60_000)
    assert _rows(page) == _expected(DEFAULTS)


def test_taker_fees_on_the_defaults_say_which_control_to_change(calculator):
    page = calculator
    fees = page.locator(".widget-toggle-buttons", has_text="trading fees")
    fees.get_by_role("button", name="taker").click()
    _wait_text(page, "⚠")
    assert "raise wallet (USDT) to at least 1,005.00" in _summary(page)
    _type(page, "wallet (USDT)", "1,005")
    page.wait_for_function(SHOWN, timeout=60_000)
    assert _rows(page) == _expected(DEFAULTS | dict(wallet=1_005.0, fees="taker"))


# ---------------------------------------------------------------- items 2 and 3: what the page shows
def _shown_plot(page) -> np.ndarray:
    src = page.eval_on_selector(".calc-page img.calc-plot", "img => img.src")
    png = base64.b64decode(src.split("base64,", 1)[1])
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _drawn(values) -> np.ndarray:
    """The kernel's figure for ``values``, drawn the ordinary way (a full draw, no fast redraw)."""
    fig = plot(**values)
    steady_axes(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return np.asarray(Image.open(buffer).convert("RGB")).astype(int)


def test_after_a_liquidation_the_page_shows_what_happened(calculator, tmp_path):
    """150x isolated, BTC −8 %: the table says BTC was liquidated and 33.33 USDT (its margin) lost,
    and the plot on the page is the kernel's drawing of it (a cross at balance 0, the loss in
    the title: test_app.py checks that drawing)."""
    page = calculator
    _slider(page, "BTC leverage (x)").focus()
    page.keyboard.press("End")  # 150x
    _wait_text(page, "at 150x")
    before = page.eval_on_selector(".calc-page img.calc-plot", "img => img.src")
    mode = page.locator(".widget-toggle-buttons", has_text="BTC mode")
    mode.get_by_role("button", name="isolated").click()
    _wait_text(page, "(isolated)")
    changed = "src => document.querySelector('.calc-page img.calc-plot').src !== src"
    page.wait_for_function(changed, arg=before, timeout=60_000)
    page.wait_for_function(SHOWN, timeout=60_000)
    values = DEFAULTS | dict(btc_leverage=150, btc_mode="isolated")
    mine = _rows(page)[0]
    assert mine[0] == "your set-up" and mine[4:6] == ["BTC", f"{5_000 / 150:,.2f} USDT"]
    shown, drawn = _shown_plot(page), _drawn(values)
    Image.fromarray(shown.astype(np.uint8)).save(tmp_path / "shown.png")
    Image.fromarray(drawn.astype(np.uint8)).save(tmp_path / "drawn.png")
    assert shown.shape == drawn.shape
    assert (np.abs(shown - drawn).sum(axis=2) > 60).mean() < 0.002, "the page shows the kernel's drawing"


# ---------------------------------------------------------------- item 1: a phone and a wide screen
OVERFLOW = """() => {
  const out = [], width = document.documentElement.clientWidth;
  const name = el => el.className.toString() || el.tagName;
  for (const el of document.querySelectorAll('.calc-page *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.left < -0.5 || r.right > width + 0.5)) out.push(name(el));
  }
  const page = [document.documentElement, document.body, document.querySelector('#rendered_cells')];
  for (const el of page) if (el && el.scrollWidth > el.clientWidth + 1) out.push('page scrolls: ' + name(el));
  for (const el of document.querySelectorAll('.calc-page, .calc-page *')) {
    const scrolls = getComputedStyle(el).overflowX !== 'visible';
    if (scrolls && el.scrollWidth > el.clientWidth + 1) out.push('scrolls: ' + name(el));
  }
  return out;
}"""
#: Each control's parts (buttons, readouts, boxes) with their box and their control's.
PARTS = """() => {
  const parts = document.querySelectorAll(
    '.widget-toggle-button, .widget-readout, .widget-text input, .noUi-target');
  return [...parts].map(el => {
    const r = el.getBoundingClientRect();
    const c = el.closest('.widget-inline-hbox, .widget-toggle-buttons').getBoundingClientRect();
    return [el.innerText || el.className, r.left, r.right, c.left, c.right];
  });
}"""
#: Per cell of the table: how many lines its number takes (a wrapped number takes two).
LINES = "() => [...document.querySelectorAll('.calc-v')].map(v => [v.innerText, v.getClientRects().length])"
COLUMNS = """() => [...document.querySelectorAll('.calc-column')].map(el => {
  const r = el.getBoundingClientRect(); return [r.left, r.top, r.bottom]; })"""


def _fits(page) -> None:
    """Nothing sticks out sideways or scrolls sideways; every control's parts sit inside it; no
    number in the table breaks across lines."""
    assert page.evaluate(OVERFLOW) == []
    width = page.viewport_size["width"]
    for text, left, right, c_left, c_right in page.evaluate(PARTS):
        assert 0 <= left and right <= width, f"{text!r} is cut off: {left:.0f}-{right:.0f} of {width}"
        assert c_left - 0.5 <= left and right <= c_right + 0.5, f"{text!r} sticks out of its control"
    cells = page.evaluate(LINES)
    assert len(cells) == 3 * 6 and all(lines == 1 for _, lines in cells), cells


def _smallest_text_pt() -> tuple[float, float]:
    """The plot's smallest text in points, and its figure's width in points (the figure at the
    defaults, from the kernel's side)."""
    fig = plot(**DEFAULTS)
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    width = fig.get_figwidth() * 72
    plt.close(fig)
    return min(sizes), width


def test_at_phone_width_nothing_is_cut_off_the_table_turns_into_rows_and_the_plot_reads(phone, tmp_path):
    page = phone
    _fits(page)
    (btc_left, btc_top, btc_bottom), (eth_left, eth_top, _) = page.evaluate(COLUMNS)
    assert eth_left == btc_left and eth_top >= btc_bottom, "the two columns stack"
    assert not page.locator(".calc-table thead").is_visible(), "one card per row: no column headings"
    assert page.locator(".calc-table td").first.evaluate("td => getComputedStyle(td, '::before').content") \
        == '"BTC liq. price (ETH +5.0 %)"'  # fmt: skip
    # the plot: scaled to the screen, its smallest text still at least 9 CSS pixels high
    size = "img => [img.getBoundingClientRect().width, img.naturalWidth]"
    shown, natural = page.eval_on_selector(".calc-page img.calc-plot", size)
    smallest_pt, width_pt = _smallest_text_pt()
    assert shown >= 340, "the plot takes the screen's width"
    assert natural > shown  # drawn finer than shown: scaled down, and sharp
    px = smallest_pt * shown / width_pt  # the figure's width in points is shown across `shown` pixels
    assert px >= 9, f"the plot's smallest text is {px:.1f} CSS pixels high"
    page.set_viewport_size({"width": 390, "height": 3000})
    page.screenshot(path=str(tmp_path / "calculator-390.png"), full_page=True)


def test_on_a_wide_screen_the_columns_stand_side_by_side_and_the_table_is_a_table(calculator, tmp_path):
    page = calculator
    _fits(page)
    (btc_left, btc_top, _), (eth_left, eth_top, _) = page.evaluate(COLUMNS)
    assert eth_left > btc_left and eth_top == btc_top
    assert page.locator(".calc-table thead").is_visible()
    headings = page.eval_on_selector_all(".calc-table thead th", "ths => ths.map(th => th.innerText)")
    said = [h.replace("\xa0", " ") for h in headings[1:3]]  # which liquidation price each is
    assert said == ["BTC liq. price\n(ETH +5.0 %)", "ETH liq. price\n(BTC -8.0 %)"]
    shown = page.eval_on_selector(".calc-page img.calc-plot", "img => img.getBoundingClientRect().width")
    assert shown == page.eval_on_selector(".calc-page img.calc-plot", "img => img.naturalWidth")
    page.screenshot(path=str(tmp_path / "calculator-1280.png"), full_page=True)


# ---------------------------------------------------------------- item 5: nothing leaves the machine
def test_the_page_names_nothing_outside_the_machine(calculator):
    """Besides no request having left (the fixture), no stylesheet, script, image or font the page
    links is elsewhere."""
    linked = calculator.evaluate(
        "() => [...document.querySelectorAll('link[href], script[src], img[src], iframe[src]')]"
        ".map(el => el.href || el.src)"
    )
    assert linked and [url for url in linked if not is_local(url)] == []
