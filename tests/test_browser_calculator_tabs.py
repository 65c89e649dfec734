"""The calculator page's five calculator tabs in a real browser: the page served as ``make app``
serves it (conftest's ``app_url``: margin_lib.app_server, Voilà with notebooks/app/voila.json and
the offline template), driven in Debian's Chromium by pytest-playwright. Every tab once: type
values, read the result (the kernel's own numbers), type a bad value, read the message. At
390 × 844 nothing scrolls sideways, with the two-position view and the tabs on one page. Nothing
is asked of another machine. Screenshots go to pytest's tmp_path for a look."""

from __future__ import annotations

import time

import pytest
from conftest import LEAVE

from margin_lib.app import CASE_TAB
from margin_lib.calculator import (
    calc_liquidation_price,
    calc_max_open,
    calc_open_price,
    calc_pnl,
    calc_target_price,
)
from margin_lib.calculator_tabs import TITLES


def _open(page, url, width):
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(url, timeout=90_000)
    page.wait_for_selector(".mc-result", state="attached", timeout=90_000)
    page.wait_for_selector(".calc-page img.calc-plot", timeout=90_000)
    return page


@pytest.fixture()
def calc(page, app_url, outside_requests):
    yield _open(page, app_url, 1280)
    page.evaluate(LEAVE)
    assert outside_requests == [], f"requests left the machine: {outside_requests}"


@pytest.fixture()
def phone(page, app_url, outside_requests):
    yield _open(page, app_url, 390)
    page.evaluate(LEAVE)
    assert outside_requests == [], f"requests left the machine: {outside_requests}"


def _tab(page, title):
    page.locator(".lm-TabBar-tab", has_text=title).click()
    page.wait_for_function(
        "t => [...document.querySelectorAll('.lm-TabBar-tab.lm-mod-current')]"
        ".some(e => e.innerText.trim() === t)",
        arg=title,
    )


def _result(page) -> str:
    return page.locator(".mc-result:visible").inner_text().strip()


def _box(page, label):
    """The visible typed box labelled exactly ``label``."""
    field = page.locator(".mc-field.widget-text:visible").filter(has=page.get_by_text(label, exact=True))
    return field.locator("input")


def _type(page, label, text) -> tuple[str, float]:
    """Type ``text`` into the box, press Enter, wait for the result to change: (result, seconds)."""
    before = _result(page)
    box = _box(page, label)
    box.fill(text)
    start = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(
        "b => { const r = [...document.querySelectorAll('.mc-result')]"
        ".find(e => e.offsetParent !== null); return r && r.innerText.trim() !== b; }",
        arg=before,
        timeout=30_000,
    )
    return _result(page), time.perf_counter() - start


def _click(page, name) -> str:
    before = _result(page)
    page.get_by_role("button", name=name).click()
    page.wait_for_function(
        "b => [...document.querySelectorAll('.mc-result')].find(e => e.offsetParent !== null)"
        ".innerText.trim() !== b",
        arg=before,
        timeout=30_000,
    )
    return _result(page)


def test_every_tab_once_values_then_a_bad_value(calc, tmp_path):
    page, times = calc, []

    _tab(page, "PnL and ROE")
    text, t = _type(page, "Exit price (USDT)", "110,000")
    r = calc_pnl(side="long", quantity=0.01, entry_price=100_000, exit_price=110_000, leverage=10)
    assert text == f"PnL: {r.pnl:,.2f} USDT; ROE: {r.roe_pct:,.2f} %; initial margin 100.00 USDT"
    assert "ROE = PnL / IM" in page.locator(".mc-working:visible").inner_text()
    times.append(t)
    text, _ = _type(page, "Quantity (coins)", "abc")
    assert text == "⚠ Quantity (coins) must be a number such as 1,234.5; got 'abc'"
    page.screenshot(path=str(tmp_path / "pnl-refused.png"), full_page=True)

    _tab(page, "Target price")
    text, t = _type(page, "Wanted ROE (%)", "20")
    want = calc_target_price(side="long", entry_price=1e5, leverage=10, roe_pct=20).price
    assert text == f"Target price: {want:,.2f} USDT"
    times.append(t)
    text, _ = _type(page, "Leverage (x)", "0")
    assert text == "⚠ Leverage (x) must be at least 1; got 0"

    _tab(page, "Liquidation price")
    assert _click(page, "The FAQ's ETH example") == "Liquidation price: 1,153.26 USDT"
    assert _click(page, "The FAQ's BTC example") == "Liquidation price: 26,316.89 USDT"
    working = page.locator(".mc-working:visible").inner_text()
    assert "(730,737.61 + 16,300 − 109.488 × 32,481.98) / (109.488 × (0.025 − 1))" in working
    assert "Lesson 6 — The exact liquidation price" in working
    page.screenshot(path=str(tmp_path / "liquidation-faq.png"), full_page=True)
    text, t = _type(page, "Quantity (coins)", "100")
    r = calc_liquidation_price(
        margin_mode="cross",
        tiers="flat",
        mmr_pct=2.5,
        maintenance_amount=16_300,
        side="long",
        quantity=100,
        entry_price=32_481.98,
        wallet_balance=1_535_443.01,
        other_maintenance_margin=356_512.508,
        other_unrealized_pnl=-448_192.89,
    )
    assert text == f"Liquidation price: {r.prices[0][1]:,.2f} USDT"
    times.append(t)
    text, _ = _type(page, "Other positions' maintenance margin (USDT)", "-1")
    assert text == "⚠ Other positions' maintenance margin (USDT) must be at least 0; got -1"

    _tab(page, "Max open")
    _type(page, "Available balance (USDT)", "10,000,000")
    text, t = _type(page, "Leverage (x)", "100")
    r = calc_max_open(symbol="BTCUSDT", balance=1e7, entry_price=1e5, leverage=100, fee_pct=0.05)
    assert text == f"Max open: {r.quantity:,.3f} BTC ({r.notional:,.2f} USDT at entry); the tier binds"
    assert (
        "tier 2 of the 2026-09 table is the last that allows 100x"
        in page.locator(".mc-working:visible").inner_text()
    )
    times.append(t)
    text, _ = _type(page, "Leverage (x)", "151")
    assert text == "⚠ Leverage (x) must be at most 150; got 151"

    _tab(page, "Open price")
    _type(page, "Fill 3 price (USDT)", "90,000")
    assert _result(page) == "⚠ Fill 3 quantity (coins) is empty: type a number"
    text, t = _type(page, "Fill 3 quantity (coins)", "0.03")
    r = calc_open_price([(100_000, 0.01), (95_000, 0.02), (90_000, 0.03)])
    assert text == f"Open price: {r.price:,.2f} USDT for 0.06 coins"
    times.append(t)
    text, _ = _type(page, "Fill 1 price (USDT)", "-5")
    assert text == "⚠ Fill 1 price (USDT) must be more than 0; got -5"
    assert "Traceback" not in page.inner_text("body")
    print("browser update times (ms):", ", ".join(f"{x * 1000:.0f}" for x in times))


SIZES = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def _no_sideways_scroll(page, width, what):
    sizes = page.evaluate(SIZES)
    assert sizes[0] <= sizes[1], (what, sizes)
    for box in page.locator(".mc-calc :is(input, select, button, pre, img):visible").all():
        right = box.evaluate("e => e.getBoundingClientRect().right")
        assert right <= width, (what, box.evaluate("e => e.outerHTML.slice(0, 80)"), right)


def test_a_phone_wide_page_does_not_scroll_sideways(phone, tmp_path):
    page = phone
    tabs = page.locator(".mc-calc > .lm-TabBar .lm-TabBar-tab")
    assert [t.inner_text().strip() for t in tabs.all()] == [CASE_TAB, *TITLES]
    for t in tabs.all():  # every title in reach on the screen: the bar wraps instead of scrolling
        box = t.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (t.inner_text(), box)
    _no_sideways_scroll(page, 390, CASE_TAB)
    page.screenshot(path=str(tmp_path / "calculator-390-two-positions.png"), full_page=True)
    for title in TITLES:
        _tab(page, title)
        if title == "Liquidation price":
            _click(page, "The FAQ's ETH example")  # the longest working and the longest labels
        _no_sideways_scroll(page, 390, title)
        shot = tmp_path / f"calculator-390-{title.split()[0].lower()}.png"
        page.screenshot(path=str(shot), full_page=True)


def test_a_wide_page_opens_on_the_two_positions_and_shows_every_tab(calc, tmp_path):
    page = calc
    current = page.locator(".mc-calc > .lm-TabBar .lm-TabBar-tab.lm-mod-current").inner_text().strip()
    assert current == CASE_TAB and page.locator(".calc-page img.calc-plot").is_visible()
    for title in TITLES:
        _tab(page, title)
        assert not _result(page).startswith("⚠")
        assert not page.locator(".calc-page").is_visible(), "one tab at a time"
        shot = tmp_path / f"calculator-1280-{title.split()[0].lower()}.png"
        page.screenshot(path=str(shot), full_page=True)
    _tab(page, CASE_TAB)
    assert page.locator(".calc-page img.calc-plot").is_visible()


def test_the_working_names_the_lesson_file_instead_of_a_link_that_would_not_open(calc):
    """The page is served alone (Voilà on one notebook): a link to ../06_....ipynb would 404, so
    the working names the lesson and its file in the course."""
    page = calc
    _tab(page, "Liquidation price")
    working = page.locator(".mc-working:visible")
    assert "Lesson 6 — The exact liquidation price (notebooks/06_liquidation_price.ipynb in the course)" \
        in working.inner_text()  # fmt: skip
    assert working.locator("a").count() == 0
