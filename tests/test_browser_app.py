"""The calculator page in a real browser: Voila serves it on a free loopback port, Playwright
drives Debian's Chromium (never a downloaded browser). Skipped, with the reason shown, where
Chromium is missing; `.ci/run` installs Chromium first. Pages are pytest-playwright's."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from browser_support import free_port, serving

from margin_lib.app import DEFAULTS, view

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def app_url():
    port = free_port()
    cmd = [sys.executable, "-m", "voila", str(ROOT / "notebooks/app/margin_calculator.ipynb"), "--no-browser",
           f"--port={port}", "--Voila.ip=127.0.0.1",
           "--VoilaConfiguration.extension_denylist=@jupyter-notebook/lab-extension"]  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    with serving(cmd, url, "Voila"):
        yield url


@pytest.fixture()
def calculator(page, app_url, outside_requests):
    """The calculator page, loaded, its first table and plot shown."""
    page.set_viewport_size({"width": 1100, "height": 1500})
    page.goto(app_url, timeout=90_000)
    page.wait_for_selector(".widget-output img", timeout=90_000)
    yield page
    assert outside_requests == [], f"requests left the machine: {outside_requests}"


def _output(page) -> str:
    return page.inner_text(".widget-output")


def _wait_change(page, before: str) -> str:
    page.wait_for_function("b => document.querySelector('.widget-output').innerText !== b", arg=before,
                           timeout=60_000)  # fmt: skip
    page.wait_for_selector(".widget-output img", timeout=60_000)
    return _output(page)


def _slider(page, description: str):
    """The handle of the slider labelled ``description`` (found by its label, not its place)."""
    return page.locator(".widget-slider", has_text=description).locator(".noUi-handle")


def _table_rows(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.startswith(("your set-up", "all "))]


def test_leverage_and_move_change_the_numbers_to_the_engines(calculator, tmp_path):
    page = calculator
    assert _table_rows(_output(page)) == _table_rows(view(**DEFAULTS))
    btc_leverage, btc_move = (_slider(page, name) for name in ("BTC leverage (x)", "BTC move (%)"))
    before = _output(page)
    btc_leverage.focus()
    for _ in range(10):  # 10x -> 20x
        page.keyboard.press("ArrowRight")
    _wait_change(page, before)
    btc_move.focus()
    for _ in range(30):  # -8 % -> -23 %, steps of 0.5
        page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => document.querySelector('.widget-output').innerText.includes('BTC -23.0 %')",
                           timeout=60_000)  # fmt: skip
    page.wait_for_selector(".widget-output img", timeout=60_000)
    text = _output(page)
    expected = view(**(DEFAULTS | dict(btc_leverage=20, btc_move=-23.0)))
    assert _table_rows(text) == _table_rows(expected)
    page.screenshot(path=str(tmp_path / "calculator.png"), full_page=True)


def test_a_bad_value_shows_a_message_and_the_page_keeps_working(calculator, tmp_path):
    page = calculator
    box = page.locator(".widget-text", has_text="BTC size (USDT)").locator("input")
    box.fill("-5")
    box.press("Enter")
    page.wait_for_function("() => document.querySelector('.widget-output').innerText.includes('⚠')",
                           timeout=60_000)  # fmt: skip
    assert "⚠ btc_size must be > 0; got -5.0" in _output(page)
    assert "Traceback" not in _output(page)
    box.fill("5000")
    box.press("Enter")
    page.wait_for_selector(".widget-output img", timeout=60_000)
    assert _table_rows(_output(page)) == _table_rows(view(**DEFAULTS)) != []
    page.screenshot(path=str(tmp_path / "calculator-after-bad-value.png"), full_page=True)
