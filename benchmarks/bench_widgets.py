"""Responsiveness of the course's widgets (prints figures; not a test).

1. In the kernel: for every lesson's widget and the calculator, the time from a control change
   to the finished output (the text, and the figure drawn and encoded to PNG by the widget's
   FigureRenderer), median of repeated changes of each control to new values: slider steps in
   one direction, -1 % per change in a typed box, the next option of toggle buttons (kernel
   messaging not included). Also the share of changes the renderer served with a fast redraw,
   and for toggles the first switch on its own (it may show a picture not drawn before).
   Target: under 50 ms median for every widget.
2. In the browser (``--browser``; needs Debian's Chromium and Playwright): the calculator served
   by Voila exactly as ``make app`` serves it (:mod:`margin_lib.app_server`), with every request
   that would leave the machine blocked:

   * first render: from the start of the page's navigation (``performance.now()`` is 0 there)
     to the table and the plot on screen, each load in a fresh browser context (nothing
     cached), loads far enough apart for the preheated kernel to be ready again. Target:
     under 1.5 s;
   * the time from a key press on a slider to the changed table and plot, median of repeated
     presses. Target: under 250 ms;
   * the memory of one kernel (resident set size, once it has drawn the page);
   * per calculator tab (PnL and ROE, Target price, Liquidation price, Max open, Open price), the
     time from Enter in a typed box to the new result on the page (``bench_calculator_tabs.py``,
     which also times every tab's control in the kernel). Target: under 250 ms.

Run: ``.venv/bin/python benchmarks/bench_widgets.py [--browser] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import ipywidgets as ipw
import matplotlib
import psutil

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import margin_lib.widgets as widgets_module  # noqa: E402
from margin_lib.lessons import WIDGET_MODULES as MODULES  # noqa: E402
from margin_lib.rendering import FigureRenderer  # noqa: E402,F401

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_calculator_tabs import browser_latency as tab_latency  # noqa: E402


def _controls(widget: ipw.Widget) -> list[ipw.ValueWidget]:
    """The widget's controls, in order (sliders, typed boxes, toggle buttons)."""
    found = []
    for child in getattr(widget, "children", ()):
        if isinstance(child, (ipw.IntSlider, ipw.FloatSlider, ipw.FloatText, ipw.Text, ipw.ToggleButtons)):
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
    if isinstance(control, (ipw.FloatText, ipw.Text)):  # downward first: a smaller size is never refused
        factor = 1.01 if up else 0.99
        if isinstance(control, ipw.Text):  # an amount typed as text ("1,000")
            first = float(start.replace(",", ""))
            return [f"{first * factor**k:,.2f}" for k in range(1, repeats + 1)]
        return [start * factor**k if start else float(k) for k in range(1, repeats + 1)]
    ups = [start + k * control.step for k in range(1, repeats + 1) if start + k * control.step <= control.max]
    downs = [start - k * control.step for k in range(1, repeats + 1 - len(ups))]
    return ups + [v for v in downs if v >= control.min]


def _time_changes(widget: ipw.Widget, control: ipw.ValueWidget, repeats: int, up: bool = False,
                  ) -> tuple[list[float], int]:  # fmt: skip
    """Wall-clock seconds of each change, and how many changes the widget refused (a "⚠"
    message instead of a result, which is quick because nothing is drawn; the calculator's page
    keeps its message as ``text``)."""
    start = control.value
    wall, refused = [], 0
    for value in _walk(control, repeats, up):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            t = time.perf_counter()
            control.value = value  # the widget redraws synchronously
            wall.append(time.perf_counter() - t)
        refused += "⚠" in printed.getvalue() + getattr(widget, "text", "")
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
            wall, refused = _time_changes(w, control, repeats)
            if refused > len(wall) // 2 and isinstance(control, (ipw.FloatText, ipw.Text)):
                hits, misses = renderer.hits, renderer.misses
                wall, refused = _time_changes(w, control, repeats, up=True)
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


#: True once the calculator shows its table and a drawn plot: then the time since navigation began.
_SHOWN = """() => {
  const img = document.querySelector('.calc-page img.calc-plot');
  const table = document.querySelector('.calc-page .calc-table');
  const shown = img && table && img.complete && img.naturalWidth > 0
    && img.getBoundingClientRect().height > 0;
  return shown ? performance.now() : false;
}"""
#: True once the table and the plot have both changed since ``[text, src]``.
_CHANGED = """([text, src]) => {
  const img = document.querySelector('.calc-page img.calc-plot');
  const summary = document.querySelector('.calc-page .calc-summary');
  return !!(summary && img && summary.innerText !== text && img.src !== src && img.complete
    && img.naturalWidth > 0);
}"""
#: Requests that stay on this machine (everything else is blocked).
LOCAL = ("http://127.0.0.1", "data:", "blob:")
_STATE = "() => [document.querySelector('.calc-page .calc-summary').innerText, " \
         "document.querySelector('.calc-page img.calc-plot').src]"


def _kernels(pid: int) -> list[psutil.Process]:
    """The kernel processes under the server ``pid``."""
    return [c for c in psutil.Process(pid).children(recursive=True) if "ipykernel" in " ".join(c.cmdline())]


def _first_render(context, url: str) -> tuple[Any, float]:
    """A new page of ``context`` at 1280 × 900 on ``url``: the page, and seconds from the start of
    its navigation to the table and the plot shown."""
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url, wait_until="commit", timeout=90_000)
    shown = page.wait_for_function(_SHOWN, polling="raf", timeout=90_000)
    return page, shown.json_value() / 1000


def browser_figures(repeats: int, loads: int = 5, gap: float = 8.0) -> dict[str, list[float]]:
    """In Chromium: first renders (s) in fresh contexts ("first") and, after one load that fills
    the browser's cache, in the same context ("cached"); key-press latencies (ms) on the last
    page; and the memory (MiB) of that page's kernel. Loads are ``gap`` seconds apart, time for
    the pool's next kernel to start and run the notebook."""
    from playwright.sync_api import sync_playwright

    from margin_lib.app_server import served

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
    out: dict[str, list[float]] = {"first": [], "cached": [], "key": [], "kernel_mib": []}
    with served() as server, sync_playwright() as p:
        url, pid = server.url, server.pid
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        time.sleep(gap)  # the first preheated kernel is ready
        for _ in range(loads):
            context = browser.new_context()  # nothing cached
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(LOCAL) else r.abort())
            page, seconds = _first_render(context, url)
            out["first"].append(seconds)
            page.close(run_before_unload=True)
            context.close()
            time.sleep(gap)
        context = browser.new_context()
        context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(LOCAL) else r.abort())
        for i in range(4):  # the first fills the cache
            page, seconds = _first_render(context, url)
            if i:
                out["cached"].append(seconds)
            if i < 3:
                page.close(run_before_unload=True)
                time.sleep(gap)
        handle = page.locator(".widget-slider", has_text="BTC move (%)").locator(".noUi-handle")
        handle.focus()
        for k in range(repeats):
            before = page.evaluate(_STATE)
            t = time.perf_counter()
            page.keyboard.press("ArrowLeft" if k % 2 == 0 else "ArrowRight")
            page.wait_for_function(_CHANGED, arg=before, polling="raf", timeout=30_000)
            out["key"].append((time.perf_counter() - t) * 1000)
        config = page.evaluate("document.getElementById('jupyter-config-data').textContent")
        kernel = json.loads(config)["kernelId"]  # its process is started with kernel-<id>.json
        mine = [k for k in _kernels(pid) if kernel in " ".join(k.cmdline())]
        out["kernel_mib"] = [k.memory_info().rss / 2**20 for k in mine]
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--only", help="time only widgets whose module name contains this text")
    parser.add_argument("--browser", action="store_true", help="also time the calculator in Chromium")
    parser.add_argument("--browser-only", action="store_true", help="time only the calculator in Chromium")
    args = parser.parse_args()
    print(
        f"widget responsiveness; {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"median of {args.repeats}"
    )
    print(f"{'widget / control':<46} {'kind':<30} {'median':>9} {'fast':>5}  target < 50 ms")
    summary = []
    chosen = [] if args.browser_only else [m for m in MODULES if args.only is None or args.only in m]
    for module in chosen:
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
    if args.browser or args.browser_only:
        got = browser_figures(args.repeats)
        first, cached, key = got["first"], got["cached"], statistics.median(got["key"])
        print(f"calculator in Chromium, first render (table and plot shown, fresh context each): median "
              f"{statistics.median(first):.2f} s, range {min(first):.2f}-{max(first):.2f} s  target < 1.5 s: "
              f"{'MET' if statistics.median(first) < 1.5 else 'MISSED'}")  # fmt: skip
        print(f"calculator in Chromium, first render with the browser's cache filled: median "
              f"{statistics.median(cached):.2f} s, range {min(cached):.2f}-{max(cached):.2f} s")  # fmt: skip
        print(f"calculator in Chromium, key press -> new table and plot: median {key:.0f} ms  "
              f"target < 250 ms: {'MET' if key < 250 else 'MISSED'}")  # fmt: skip
        print("the page's kernel, resident memory: " + ", ".join(f"{m:.0f} MiB" for m in got["kernel_mib"]))
        print("calculator's five tabs in Chromium, Enter in a typed box -> new result (target < 250 ms):")
        for title, ms in tab_latency(args.repeats).items():
            print(f"  {title:<44} {ms:6.0f} ms  {'MET' if ms < 250 else 'MISSED'}")


if __name__ == "__main__":
    main()
