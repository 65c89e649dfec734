"""Responsiveness of the calculator's five tabs (margin_lib.calculator_tabs; prints figures, not a test).

1. In the kernel: for every control of every tab, the time from a change to the updated result and
   working (the update runs synchronously when a value is set), median of repeated changes to new
   values: -1 % per change in a typed box (so no cache can flatter it), the options of toggles and
   lists in turn. Target: under 50 ms.
2. In the browser (``--browser``; needs Debian's Chromium and Playwright): the calculator page
   served as ``make app`` serves it (``margin_lib.app_server.served``, a loopback port); per tab,
   the time from pressing Enter in a typed box to the changed result on the page, median of
   repeated changes. Target: under 250 ms.

Run: ``.venv/bin/python benchmarks/bench_calculator_tabs.py [--browser] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import ipywidgets as ipw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import verdict  # noqa: E402

from margin_lib.calculator import parse_number  # noqa: E402
from margin_lib.calculator_tabs import TITLES, tabs  # noqa: E402

#: Requests that stay on this machine (everything else is blocked).
LOCAL = ("http://127.0.0.1", "data:", "blob:")
#: One typed box per tab for the browser: (title, label).
BROWSER_BOXES = [
    ("PnL and ROE", "Exit price (USDT)"),
    ("Target price", "Wanted ROE (%)"),
    ("Liquidation price", "Entry price (USDT)"),
    ("Max open", "Available balance (USDT)"),
    ("Open price", "Fill 1 price (USDT)"),
]


def _walk(control: ipw.ValueWidget, repeats: int) -> list[object]:
    """``repeats`` new values: -1 % per change in a typed box, the options of toggles and lists in turn."""
    if isinstance(control, ipw.Text):
        start = parse_number(control.description, control.value)
        return [f"{start * 0.99**k:.10g}" for k in range(1, repeats + 1)]
    options = [o[1] if isinstance(o, tuple) else o for o in control.options]
    i = options.index(control.value)
    return [options[(i + k) % len(options)] for k in range(1, repeats + 1)]


def kernel_latency(repeats: int) -> dict[str, list[tuple[str, float]]]:
    """Per tab, per visible control: (label, median ms)."""
    out: dict[str, list[tuple[str, float]]] = {}
    w = tabs()
    for title in TITLES:
        pane, rows = w.panes[title], []
        for control in pane.controls.values():
            if control.layout.display == "none" or (isinstance(control, ipw.Text) and not control.value):
                continue
            start, wall = control.value, []
            for value in _walk(control, repeats):
                t = time.perf_counter()
                control.value = value
                wall.append(time.perf_counter() - t)
            control.value = start
            rows.append((control.description, statistics.median(wall) * 1000))
        out[title] = rows
    return out


def browser_latency(repeats: int) -> dict[str, float]:
    """Per tab: median ms from Enter in a typed box to the changed result in Chromium, on the
    calculator page served as ``make app`` serves it."""
    from playwright.sync_api import sync_playwright

    from margin_lib.app_server import served

    out = {}
    changed = (
        "b => { const r = [...document.querySelectorAll('.mc-result')].find(e => e.offsetParent !== null);"
        " return r && r.innerText.trim() !== b; }"
    )
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
    with served() as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page()
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(LOCAL) else r.abort())
        page.goto(server.url, timeout=90_000)
        page.wait_for_selector(".mc-result", state="attached", timeout=90_000)
        for title, label in BROWSER_BOXES:
            page.locator(".lm-TabBar-tab", has_text=title).click()
            labelled = page.get_by_text(label, exact=True)
            field = page.locator(".mc-field.widget-text:visible").filter(has=labelled)
            box = field.locator("input")
            start, times = parse_number(label, box.input_value()), []
            for k in range(1, repeats + 1):
                before = page.locator(".mc-result:visible").inner_text().strip()
                box.fill(f"{start * 0.99**k:.10g}")
                t = time.perf_counter()
                box.press("Enter")
                page.wait_for_function(changed, arg=before, timeout=30_000)
                times.append(time.perf_counter() - t)
            out[title] = statistics.median(times) * 1000
        page.close(run_before_unload=True)
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--browser", action="store_true", help="also time the tabs in Chromium")
    args = parser.parse_args()
    print(
        f"calculator tabs; {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, median of {args.repeats}"
    )
    print(f"{'tab / control':<52} {'median':>9}  target < 50 ms")
    for title, rows in kernel_latency(args.repeats).items():
        print(title)
        for label, ms in rows:
            print(f"  {label:<50} {ms:6.1f} ms  {verdict(ms < 50)}")
        worst = max(ms for _, ms in rows)
        print(f"  {'slowest control':<50} {worst:6.1f} ms  {verdict(worst < 50)}")
    if args.browser:
        print("\nin Chromium, Enter in a typed box -> new result on the page (target < 250 ms):")
        for title, ms in browser_latency(args.repeats).items():
            print(f"  {title:<50} {ms:6.0f} ms  {verdict(ms < 250)}")


if __name__ == "__main__":
    main()
