"""Responsiveness of the course's widgets (prints figures; not a test).

1. In the kernel: for every lesson's widget and the calculator, the time from a control change
   to the finished output (the text, and the figure drawn and encoded to PNG by the widget's
   FigureRenderer), median of repeated back-and-forth changes of each control: one step of a
   slider, +1 % in a typed box, the next option of toggle buttons (kernel messaging not
   included). Also the share of changes the renderer served with a fast redraw.
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
from margin_lib.rendering import FigureRenderer  # noqa: E402,F401

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


def _controls(widget: ipw.Widget) -> list[ipw.ValueWidget]:
    """The widget's controls, in order (sliders, typed boxes, toggle buttons)."""
    found = []
    for child in getattr(widget, "children", ()):
        if isinstance(child, (ipw.IntSlider, ipw.FloatSlider, ipw.FloatText, ipw.ToggleButtons)):
            found.append(child)
        found.extend(_controls(child))
    return found


def _other_value(control: ipw.ValueWidget, start: object) -> object:
    """A neighbouring value: one slider step, +1 % typed, or the next toggle option."""
    if isinstance(control, ipw.ToggleButtons):
        options = list(control.options)
        return options[(options.index(start) + 1) % len(options)]
    if isinstance(control, ipw.FloatText):
        return start * 1.01 if start else 1.0
    up = start + control.step
    return up if up <= control.max else start - control.step


def _time_changes(control: ipw.ValueWidget, repeats: int) -> list[float]:
    start = control.value
    other = _other_value(control, start)
    times = []
    for i in range(repeats):
        t = time.perf_counter()
        control.value = other if i % 2 == 0 else start  # interactive_output runs synchronously
        times.append(time.perf_counter() - t)
    control.value = start
    return times


def kernel_latency(module: str, repeats: int) -> list[tuple[str, str, float, float]]:
    """Per control of the module's widget: (control, kind, median ms, share of fast redraws)."""
    widgets_module.display = lambda *args, **kwargs: None  # the PNG is already encoded by then
    mod = importlib.import_module(module)
    build = getattr(mod, "widget", None) or mod.dashboard
    rows = []
    with contextlib.redirect_stdout(io.StringIO()):
        w = build()
        renderer = w.figure_renderer
        for control in _controls(w):
            hits, misses = renderer.hits, renderer.misses
            times = _time_changes(control, repeats)
            plt.close("all")
            done = renderer.hits - hits + renderer.misses - misses
            share = (renderer.hits - hits) / done if done else float("nan")
            kind = type(control).__name__
            rows.append((control.description, kind, statistics.median(times) * 1000, share))
    return rows


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
    parser.add_argument("--only", help="time only widgets whose module name contains this text")
    parser.add_argument("--browser", action="store_true", help="also time the calculator in Chromium")
    args = parser.parse_args()
    print(
        f"widget responsiveness; {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"median of {args.repeats}"
    )
    print(f"{'widget / control':<46} {'kind':<14} {'median':>9} {'fast redraws':>13}  target < 50 ms")
    summary = []
    for module in [m for m in MODULES if args.only is None or args.only in m]:
        rows = kernel_latency(module, args.repeats)
        print(module.removeprefix("margin_lib."))
        for control, kind, median, share in rows:
            verdict = "MET" if median < 50 else "MISSED"
            print(f"  {control:<44} {kind:<14} {median:7.1f} ms {share:12.0%}  {verdict}")
        sliders = [median for _, kind, median, _ in rows if kind.endswith("Slider")]
        summary.append((module, max(sliders), max(median for *_, median, _ in rows)))
    print("\nslowest slider / slowest control per widget:")
    for module, slider, control in summary:
        print(f"  {module.removeprefix('margin_lib.'):<40} {slider:7.1f} ms / {control:7.1f} ms")
    if args.browser:
        ms = browser_latency(args.repeats)
        print(f"calculator in Chromium, key press -> new output: median {ms:.0f} ms  target < 250 ms: "
              f"{'MET' if ms < 250 else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
