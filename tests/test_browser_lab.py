"""A lesson in JupyterLab in a real browser: open it, run all cells, move a slider, and see the
widget's output change. JupyterLab serves a temporary copy (autosave never touches the lesson).
The page is pytest-playwright's; skipped, with the reason shown, where Chromium is missing."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from browser_support import free_port, serving

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "01_initial_margin.ipynb"


@pytest.fixture()
def lab_url(tmp_path):
    shutil.copy(LESSON, tmp_path / LESSON.name)
    port = free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={tmp_path}",
           "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]  # fmt: skip
    if os.getuid() == 0:
        cmd.append("--allow-root")
    url = f"http://127.0.0.1:{port}/"
    with serving(cmd, url + "api", "JupyterLab"):
        yield url


def test_run_all_then_a_slider_changes_the_output(page, lab_url, outside_requests, tmp_path):
    page.set_viewport_size({"width": 1300, "height": 1000})
    page.goto(lab_url + f"lab/tree/{LESSON.name}", timeout=90_000)
    page.wait_for_selector(".jp-Notebook", timeout=90_000)
    page.wait_for_timeout(3_000)  # let the kernel connect
    page.click(".jp-Notebook")
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Shift+C")  # command palette
    page.keyboard.type("Run All Cells")
    page.keyboard.press("Enter")
    page.wait_for_selector(".jp-Notebook .widget-slider .noUi-handle", timeout=90_000)
    images = "() => document.querySelectorAll('.jp-Notebook .widget-output img').length > 0"
    page.wait_for_function(images, timeout=90_000)
    output = page.locator(".jp-Notebook .widget-output").first
    output.scroll_into_view_if_needed()  # JupyterLab leaves cells far off screen unrendered
    page.wait_for_function(
        "() => document.querySelector('.jp-Notebook .widget-output').innerText.trim() !== ''",
        timeout=30_000,
    )
    before = output.inner_text()
    assert "needs 100.00 USDT of initial margin" in before
    page.locator(".jp-Notebook .widget-slider .noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("b => document.querySelector('.jp-Notebook .widget-output').innerText !== b",
                           arg=before, timeout=60_000)  # fmt: skip
    assert "at 11x needs 90.91 USDT of initial margin" in output.inner_text()
    page.screenshot(path=str(tmp_path / "lab.png"))
    assert outside_requests == [], f"requests left the machine: {outside_requests}"
