"""Responsiveness of the course's widgets (prints figures; not a test).

1. In the kernel: for every lesson's widget and the calculator, the time from a control change
   to the finished output (the text, and the figure drawn and encoded to PNG by the widget's
   FigureRenderer), median of repeated changes of each control to new values: slider steps in
   one direction, -1 % per change in a typed box, the next option of toggle buttons (kernel
   messaging not included). Also the share of changes the renderer served with a fast redraw,
   and for toggles the first switch on its own (it may show a picture not drawn before).
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
from margin_lib.lessons import WIDGET_MODULES as MODULES  # noqa: E402
from margin_lib.rendering import FigureRenderer  # noqa: E402,F401

ROOT = Path(__file__).resolve().parents[1]


def _controls(widget: ipw.Widget) -> list[ipw.ValueWidget]:
    """The widget's controls, in order (sliders, typed boxes, toggle buttons)."""
    found = []
    for child in getattr(widget, "children", ()):
        if isinstance(child, (ipw.IntSlider, ipw.FloatSlider, ipw.FloatText, ipw.ToggleButtons)):
            found.append(child)
        found.extend(_controls(child))
    return found


def _walk(control: ipw.ValueWidget, repeats: int, up: bool = False) -> list[object]:
    """``repeats`` successive new values: slider steps in one direction (turning back at the
    end of the range), -1 % per change in a typed box (+1 % with ``up``, when going down is
    refused), the options of toggle buttons in turn. Never the same value twice in a row, and
    sliders and boxes never revisit a value, so a cache cannot flatter the figures."""
    start = control.value
    if isinstance(control, ipw.ToggleButtons):
        options = list(control.options)
        i = options.index(start)
        return [options[(i + k) % len(options)] for k in range(1, repeats + 1)]
    if isinstance(control, ipw.FloatText):  # downward first: a smaller size is never refused
        factor = 1.01 if up else 0.99
        return [start * factor**k if start else float(k) for k in range(1, repeats + 1)]
    ups = [start + k * control.step for k in range(1, repeats + 1) if start + k * control.step <= control.max]
    downs = [start - k * control.step for k in range(1, repeats + 1 - len(ups))]
    return ups + [v for v in downs if v >= control.min]


def _time_changes(control: ipw.ValueWidget, repeats: int, up: bool = False) -> tuple[list[float], int]:
    """Wall-clock seconds of each change, and how many changes the widget refused (a "⚠"
    message instead of a result, which is quick because nothing is drawn)."""
    start = control.value
    wall, refused = [], 0
    for value in _walk(control, repeats, up):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            t = time.perf_counter()
            control.value = value  # interactive_output runs view and plot synchronously
            wall.append(time.perf_counter() - t)
        refused += "⚠" in printed.getvalue()
    control.value = start
    return wall, refused


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
            wall, refused = _time_changes(control, repeats)
            if refused > len(wall) // 2 and isinstance(control, ipw.FloatText):
                hits, misses = renderer.hits, renderer.misses
                wall, refused = _time_changes(control, repeats, up=True)
            plt.close("all")
            done = renderer.hits - hits + renderer.misses - misses
            share = (renderer.hits - hits) / done if done else float("nan")
            kind = type(control).__name__ + (f" ({refused} refused)" if refused else "")
            if isinstance(control, ipw.ToggleButtons) and not refused:
                # a toggle comes back to pictures already drawn; its first switch may be a new one
                kind += f" (first {wall[0] * 1000:.0f} ms)"
            if 2 * refused >= len(wall):
                share = float("nan")  # mostly refused: no figure to time
            rows.append((control.description, kind, statistics.median(wall) * 1000, share))
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
            handle = page.locator(".widget-slider", has_text="BTC move (%)").locator(".noUi-handle")
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
    print(f"{'widget / control':<46} {'kind':<30} {'median':>9} {'fast':>5}  target < 50 ms")
    summary = []
    for module in [m for m in MODULES if args.only is None or args.only in m]:
        rows = kernel_latency(module, args.repeats)
        print(module.removeprefix("margin_lib."))
        for control, kind, ms, share in rows:
            verdict = "mostly refused" if share != share else "MET" if ms < 50 else "MISSED"
            print(f"  {control:<44} {kind:<30} {ms:6.1f} ms {share:5.0%}  {verdict}")
        sliders = [ms for _, kind, ms, _ in rows if kind.endswith("Slider")]
        summary.append((module, max(sliders), max(ms for _, _, ms, _ in rows)))
    print("\nslowest slider and slowest control per widget (target < 50 ms):")
    for module, slider, worst in summary:
        print(f"  {module.removeprefix('margin_lib.'):<40} {slider:6.1f} ms   {worst:6.1f} ms")
    if args.browser:
        ms = browser_latency(args.repeats)
        print(f"calculator in Chromium, key press -> new output: median {ms:.0f} ms  target < 250 ms: "
              f"{'MET' if ms < 250 else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
