"""FigureRenderer: the fast redraw shows the same picture as drawing the figure in full."""

from __future__ import annotations

import ast
import importlib
import io
import subprocess
import sys
from pathlib import Path

import ipywidgets as ipw
import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from margin_lib import rendering
from margin_lib.lessons import WIDGET_MODULES as MODULES
from margin_lib.rendering import FigureRenderer, frame_signature, png_bytes


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _full_render(fig) -> np.ndarray:
    """The figure drawn the ordinary way (layout engine, then everything in z-order)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return _pixels(buf.getvalue())


def _assert_same_picture(fast: np.ndarray, full: np.ndarray) -> None:
    assert fast.shape == full.shape
    differs = np.abs(fast - full).sum(axis=2) > 60
    # only where content crosses an axes spine can the two differ (content is drawn on top)
    assert differs.mean() < 0.002, f"{differs.sum()} pixels differ"


def _controls_and_plot(module: str):
    """A widget's controls (name -> control) and its plot function, without building the page."""
    mod = importlib.import_module(module)
    build = getattr(mod, "widget", None) or mod.dashboard
    original_build = mod.build_widget  # the module's own (the calculator's comes from app_page)
    calls = {}

    def fake_build(controls, view, plot, **kwargs):  # keep the widget's controls and plot
        calls["controls"], calls["plot"] = controls, plot
        return ipw.VBox(list(controls.values()))

    mod.build_widget = fake_build
    try:
        build()
    finally:
        mod.build_widget = original_build
    return calls["controls"], calls["plot"]


@pytest.mark.parametrize("module", MODULES)
def test_taking_a_widget_apart_leaves_its_module_as_it_was(module):
    """The helper above swaps the module's build_widget for a moment; the module's own comes back
    (the calculator's is app_page's, not widgets')."""
    mod = importlib.import_module(module)
    before = mod.build_widget
    _controls_and_plot(module)
    assert mod.build_widget is before


@pytest.mark.parametrize("module", MODULES)
def test_fast_redraw_matches_a_full_draw_for_every_slider(module):
    controls, plot = _controls_and_plot(module)
    values = {name: w.value for name, w in controls.items()}
    sliders = [n for n, w in controls.items() if isinstance(w, (ipw.IntSlider, ipw.FloatSlider))]
    assert sliders, "every widget has at least one slider"
    renderer = FigureRenderer()
    fig = plot(**values)
    first = renderer.render(fig)
    _assert_same_picture(_pixels(first), _full_render(fig))
    plt.close(fig)
    for name in sliders:
        w = controls[name]
        step = w.step if w.value + w.step <= w.max else -w.step
        changed = {**values, name: w.value + step}
        fig = plot(**changed)
        fast = renderer.render(fig)
        _assert_same_picture(_pixels(fast), _full_render(fig))
        plt.close(fig)
    assert renderer.hits + renderer.misses == 1 + len(sliders)


def test_a_changed_frame_is_drawn_in_full_and_a_moved_line_fast():
    renderer = FigureRenderer()
    fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
    (line,) = ax.plot([0, 1], [0, 1])
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("one")
    renderer.render(fig)
    line.set_ydata([1, 0])
    fast = renderer.render(fig)
    assert (renderer.hits, renderer.misses) == (1, 1)
    _assert_same_picture(_pixels(fast), _full_render(fig))
    ax.set_title("two")  # a title is content, only its number of lines is part of the frame
    retitled = renderer.render(fig)
    assert (renderer.hits, renderer.misses) == (2, 1)
    _assert_same_picture(_pixels(retitled), _full_render(fig))
    ax.set_title("two\nlines")
    renderer.render(fig)
    ax.set_ylim(0, 2)
    slow = renderer.render(fig)
    assert (renderer.hits, renderer.misses) == (2, 3)
    _assert_same_picture(_pixels(slow), _full_render(fig))
    plt.close(fig)


def test_frame_signature_sees_limits_ticks_labels_and_titles():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.set_xlim(0, 1)
    base = frame_signature(fig)
    for change in (
        lambda: ax.set_xlim(0, 2),
        lambda: ax.set_ylabel("USDT"),
        lambda: ax.set_title("a title"),
        lambda: ax.set_xticks([0, 0.5, 1], ["a", "b", "c"]),
        lambda: ax.set_yscale("log"),
    ):
        change()
        now = frame_signature(fig)
        assert now != base
        base = now
    ax.set_ylim(0.1, 1)
    base = frame_signature(fig)
    ax.plot([0, 1], [0.5, 0.6])  # content only, limits are fixed
    ax.text(0.5, 0.5, "content")
    assert frame_signature(fig) == base
    plt.close(fig)


def test_png_bytes_round_trips_exactly():
    rgb = np.random.default_rng(1).integers(0, 256, size=(17, 23, 3), dtype=np.uint8)
    assert (np.asarray(Image.open(io.BytesIO(png_bytes(rgb)))) == rgb).all()
    with pytest.raises(ValueError, match=r"\(height, width, 3\).*\(4, 4\)"):
        png_bytes(np.zeros((4, 4), dtype=np.uint8))


def test_widget_benchmark_script_runs():
    """The responsiveness benchmark keeps working (one widget, two changes per control)."""
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_widgets.py"
    done = subprocess.run(
        [sys.executable, str(script), "--only", "initial_margin", "--repeats", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=script.parents[1],
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any("leverage (x)" in line and "IntSlider" in line and " ms " in line for line in lines), (
        done.stdout
    )
    assert "slowest slider" in done.stdout


def test_switching_back_to_a_kept_frame_is_fast_and_the_same_picture():
    """A toggle between two pictures draws each frame once, then restores the kept one."""
    renderer = FigureRenderer()

    def figure(wide: bool):
        fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
        ax.plot([0, 1], [0, 1])
        ax.set_xlim(0, 10 if wide else 1)
        ax.set_ylim(0, 1)
        return fig

    for wide in (False, True, False, True, False):
        fig = figure(wide)
        png = renderer.render(fig)
        _assert_same_picture(_pixels(png), _full_render(fig))
        plt.close(fig)
    assert (renderer.hits, renderer.misses) == (3, 2)


def test_every_matplotlib_internal_is_read_through_private():
    """rendering.py reads matplotlib's private attributes only by name through ``_private``,
    and each such name is listed in PRIVATE, so the fallback test below covers them all."""
    tree = ast.parse(Path(rendering.__file__).read_text())
    own = {t.attr for node in ast.walk(tree) if isinstance(node, (ast.Assign, ast.AnnAssign))
           for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
           if isinstance(t, ast.Attribute)}  # fmt: skip
    own |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    own |= {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets
            if isinstance(t, ast.Name)}  # fmt: skip
    direct = sorted({n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr.startswith("_")
                     and not n.attr.startswith("__") and n.attr not in own})  # fmt: skip
    assert direct == [], f"matplotlib internals read directly, not through _private: {direct}"
    named = {c.args[1].value for c in ast.walk(tree) if isinstance(c, ast.Call)
             and getattr(c.func, "id", None) == "_private"}  # fmt: skip
    assert named == set(rendering.PRIVATE)


@pytest.mark.parametrize("missing", rendering.PRIVATE)
def test_a_widget_still_renders_when_a_matplotlib_internal_is_gone(missing, monkeypatch):
    """As if a future matplotlib dropped ``missing``: the widget's figures still come out, each
    the same picture as an ordinary full draw (the renderer falls back to drawing in full)."""
    real = rendering._private

    def without(obj, name):
        if name == missing:
            raise rendering._Unsupported(f"{type(obj).__name__}.{name}")
        return real(obj, name)

    monkeypatch.setattr(rendering, "_private", without)
    controls, plot = _controls_and_plot("margin_lib.lessons.comparison")  # titles, legend, labels
    values = {name: w.value for name, w in controls.items()}
    renderer = FigureRenderer()
    for change in ({}, {"leverage": values["leverage"] + 1}, {"btc_move": values["btc_move"] - 1}):
        fig = plot(**(values | change))
        _assert_same_picture(_pixels(renderer.render(fig)), _full_render(fig))
        plt.close(fig)
    legend_only = {"_loc", "_mode", "_fontsize", "_multialignment", "_dash_pattern"}  # drawn, not pasted
    if missing in legend_only:
        assert renderer.fallback is None
    else:
        assert renderer.fallback is not None and missing in renderer.fallback
        assert renderer.hits == 0 and renderer.misses == 3
