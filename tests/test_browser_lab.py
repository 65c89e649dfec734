"""A lesson in JupyterLab in a real browser: open it, run all cells, move a slider, and see the
widget's output change. JupyterLab serves a temporary copy (autosave never touches the lesson).
Skipped, with the reason shown, where Chromium or Playwright is missing."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "01_initial_margin.ipynb"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip

playwright = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed; JupyterLab browser test skipped", allow_module_level=True)


@pytest.fixture()
def lab_url(tmp_path):
    shutil.copy(LESSON, tmp_path / LESSON.name)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={tmp_path}",
           "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]  # fmt: skip
    if os.getuid() == 0:
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(url + "api", timeout=5)
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    pytest.fail("JupyterLab did not start within 90 s")
                time.sleep(0.5)
        yield url
    finally:  # stop the server even when the test fails
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_run_all_then_a_slider_changes_the_output(lab_url, tmp_path):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
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
        before = output.inner_text()
        assert "needs 100.00 USDT of initial margin" in before
        page.locator(".jp-Notebook .widget-slider .noUi-handle").first.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("b => document.querySelector('.jp-Notebook .widget-output').innerText !== b",
                               arg=before, timeout=60_000)  # fmt: skip
        assert "at 11x needs 90.91 USDT of initial margin" in output.inner_text()
        page.screenshot(path=str(tmp_path / "lab.png"))
        browser.close()
