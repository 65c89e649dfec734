"""The static site (make site) in a real browser with the network blocked: every page renders its
widgets and plots, and no request leaves the machine. Skipped, with the reason shown, where the
site has not been built (no npm) or Chromium is missing. Pages are pytest-playwright's; the
``outside_requests`` fixture (conftest.py) blocks and lists anything not on this machine."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
if not (SITE / "index.html").exists():
    pytest.skip(
        "site/ is not built (make site needs npm); site browser tests skipped", allow_module_level=True
    )


@pytest.fixture(scope="module")
def site_url():
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_index_lists_every_lesson_in_order(page, site_url, outside_requests):
    page.goto(site_url + "index.html")
    links = [a.get_attribute("href") for a in page.query_selector_all("ol li a")]
    assert links == [f"{p.stem}.html" for p in LESSONS]
    assert "not trading advice" in page.inner_text("body")
    assert outside_requests == []


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_each_page_renders_widgets_and_plots_offline(page, site_url, outside_requests, lesson):
    page.goto(site_url + f"{lesson.stem}.html")
    page.wait_for_selector(".widget-output", timeout=60_000)
    assert page.query_selector_all(".jupyter-widgets"), "widgets did not render"
    assert len(page.query_selector_all("img")) >= 2, "plots missing"
    assert page.inner_text(".widget-output").strip(), "the widget's stored output is empty"
    if "$$" in lesson.read_text():  # its formulas are typeset by the site's own MathJax
        page.wait_for_selector(".MathJax_CHTML", timeout=60_000)
        assert "Math Processing Error" not in page.inner_text("body")
    assert outside_requests == [], f"requests left the machine: {outside_requests}"


def test_a_learner_can_walk_the_course_with_the_links(page, site_url, outside_requests):
    page.goto(site_url + "index.html")
    page.click(f'a[href="{LESSONS[0].stem}.html"]')
    for lesson in LESSONS[1:]:
        page.click("nav.course-nav.top a[rel=next]")
        page.wait_for_url(site_url + f"{lesson.stem}.html")
    assert page.query_selector("nav.course-nav.bottom a[rel=next]") is None  # the last lesson
    page.click("nav.course-nav.bottom a[href='index.html']")
    page.wait_for_url(site_url + "index.html")
    assert outside_requests == []
