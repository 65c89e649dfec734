"""Responsiveness of the course's widgets (prints figures; not a test).

1. In the kernel: for every lesson's widget and the calculator, the time from a control change
   to the finished output (text, and the figure encoded to PNG as the inline backend does),
   median of repeated changes of the widget's last slider (kernel messaging not included).
   Target: under 50 ms median for every widget.
2. In the browser (``--browser``; needs Debian's Chromium and Playwright): the calculator served
   by Voila, the time from a key press on a slider to the changed output on the page, median of
   repeated presses. Target: under 250 ms.

Run: ``.venv/bin/python benchmarks/bench_widgets.py [--browser] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import ipywidgets as ipw
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import margin_lib.widgets as widgets_module  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODULES = [
    "margin_lib.lessons.initial_margin",
    "margin_lib.lessons.maintenance_margin",
    "margin_lib.lessons.isolated_margin",
    "margin_lib.lessons.cross_margin",
    "margin_lib.lessons.comparison",
    "margin_lib.lessons.liquidation_price",
    "margin_lib.lessons.fees_and_funding",
    "margin_lib.lessons.hedge_mode",
    "margin_lib.lessons.stress_lab",
    "margin_lib.app",
]


def _sliders(widget: ipw.Widget) -> list[ipw.Widget]:
    found = []
    for child in getattr(widget, "children", ()):
        if isinstance(child, (ipw.IntSlider, ipw.FloatSlider)):
            found.append(child)
        found.extend(_sliders(child))
    return found


def _render_like_the_inline_backend(obj: object) -> None:
    """Outside a kernel ``display`` only prints a repr; encode figures to PNG as Jupyter would."""
    if hasattr(obj, "savefig"):
        obj.savefig(io.BytesIO(), format="png")


def kernel_latency(module: str, repeats: int) -> tuple[str, float, float]:
    widgets_module.display = _render_like_the_inline_backend
    mod = importlib.import_module(module)
    build = getattr(mod, "widget", None) or mod.dashboard
    with contextlib.redirect_stdout(io.StringIO()):
        w = build()
        slider = _sliders(w)[-1]
        start = slider.value
        step = slider.step
        times = []
        for i in range(repeats):
            target = start + (step if i % 2 == 0 else 0)
            target = min(max(target, slider.min), slider.max)
            if target == slider.value:
                target = slider.value - step
            t = time.perf_counter()
            slider.value = target  # interactive_output runs view + plot synchronously
            times.append(time.perf_counter() - t)
            plt.close("all")
    return slider.description, statistics.median(times) * 1000, max(times) * 1000


def browser_latency(repeats: int) -> float:
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "voila", str(ROOT / "notebooks/app/margin_calculator.ipynb"), "--no-browser",
           f"--port={port}", "--Voila.ip=127.0.0.1",
           "--VoilaConfiguration.extension_denylist=@jupyter-notebook/lab-extension"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(180):
            try:
                urllib.request.urlopen(url, timeout=5)
                break
            except OSError:
                time.sleep(0.5)
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync"]  # fmt: skip
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
            page = browser.new_page()
            page.goto(url, timeout=90_000)
            page.wait_for_selector(".widget-output img", timeout=90_000)
            handle = page.query_selector_all(".widget-slider .noUi-handle")[2]  # BTC move
            handle.focus()
            times = []
            for i in range(repeats):
                before = page.inner_text(".widget-output")
                t = time.perf_counter()
                page.keyboard.press("ArrowLeft" if i % 2 == 0 else "ArrowRight")
                page.wait_for_function("b => document.querySelector('.widget-output').innerText !== b",
                                       arg=before, timeout=30_000)  # fmt: skip
                page.wait_for_selector(".widget-output img", timeout=30_000)
                times.append(time.perf_counter() - t)
            browser.close()
        return statistics.median(times) * 1000
    finally:
        os.killpg(proc.pid, signal.SIGTERM)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--browser", action="store_true", help="also time the calculator in Chromium")
    args = parser.parse_args()
    print(
        f"widget responsiveness; {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"median of {args.repeats}"
    )
    print(f"{'widget':<42} {'control':<22} {'median':>9} {'max':>9}  target < 50 ms")
    for module in MODULES:
        control, median, worst = kernel_latency(module, args.repeats)
        verdict = "MET" if median < 50 else "MISSED"
        print(f"{module:<42} {control:<22} {median:7.1f} ms {worst:7.1f} ms  {verdict}")
    if args.browser:
        ms = browser_latency(args.repeats)
        print(f"calculator in Chromium, key press -> new output: median {ms:.0f} ms  target < 250 ms: "
              f"{'MET' if ms < 250 else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
