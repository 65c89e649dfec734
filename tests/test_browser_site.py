"""The static site (make site) in a real browser with the network blocked: every page renders its
widgets and plots, and no request leaves the machine; each widget says it is a static copy and
its controls do nothing; at 390 × 844 (a phone) and at 1280 px nothing is cut off, the page does
not scroll sideways and the plots keep their text readable; the loaders whose content-network
addresses the build rewrote ask the site instead. Skipped, with the reason shown, where the site
has not been built (no npm) or Chromium is missing. Pages are pytest-playwright's; the
``outside_requests`` fixture (conftest.py) blocks and lists anything not on this machine."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

from tools.site_widgets import NOTE

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: A phone held upright, and a laptop.
SCREENS = {"phone": (390, 844), "laptop": (1280, 800)}
#: The smallest share of its drawn size at which a plot may be shown. The course draws plots at
#: 100 dpi with text of 9 pt and up (12.5 px); at 0.75 that text is still 9.4 px high.
PLOT_SCALE = 0.75
if not (SITE / "index.html").exists():
    pytest.skip(
        "site/ is not built (make site needs npm); site browser tests skipped", allow_module_level=True
    )


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site without writing a line per request to the test's output."""

    def log_message(self, fmt: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site_url():
    handler = functools.partial(QuietHandler, directory=str(SITE))
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


def open_lesson(page, url: str) -> None:
    """Go to a lesson page and wait until its widgets, their plots and its formulas are drawn."""
    page.goto(url)
    page.wait_for_function(
        """() => {
            const views = document.querySelectorAll(
                'script[type="application/vnd.jupyter.widget-view+json"]').length;
            return views > 0 && document.querySelectorAll(".widget-subarea .widget-output").length > 0
                && document.querySelectorAll(".widget-subarea").length === views
                && [...document.images].every(img => img.complete && img.naturalWidth > 0)
                && (!document.body.innerText.includes("$$")
                    || document.querySelectorAll(".MathJax_CHTML").length > 0);
        }""",
        timeout=60_000,
    )
    page.evaluate("document.fonts.ready")


#: Every element of the lesson whose right edge a reader cannot reach: outside the window, or
#: clipped by a box that hides what overflows it, and not inside a box that scrolls sideways.
CUT_OFF = """() => {
    const overflow = (el) => getComputedStyle(el).overflowX;
    function reachable(el) {
        const box = el.getBoundingClientRect();
        for (let up = el.parentElement; up && up !== document.documentElement; up = up.parentElement) {
            if (["auto", "scroll"].includes(overflow(up))) return reachable(up);
            if (["hidden", "clip"].includes(overflow(up))
                && box.right > up.getBoundingClientRect().right + 1) return false;
        }
        return box.left >= -1 && box.right <= innerWidth + 1;
    }
    const whole = "img, input, button, select, textarea, svg, canvas, pre, .widget-readout, .noUi-target";
    const ignored = "script, style, .MJX_Assistive_MathML, .MathJax_Preview, svg *";
    return [...document.querySelectorAll("main *")]
        .filter(el => !el.children.length || el.matches(whole))
        .filter(el => !el.closest(ignored))
        .filter(el => { const b = el.getBoundingClientRect(); return b.width >= 2 && b.height >= 2; })
        .filter(el => !reachable(el))
        .map(el => `${el.tagName.toLowerCase()}.${[...el.classList].join(".")} `
            + `"${(el.textContent || "").trim().slice(0, 40)}" `
            + `ends at ${Math.round(el.getBoundingClientRect().right)}`);
}"""
#: Each plot's displayed width as a share of its drawn width.
PLOT_SCALES = """() => [...document.querySelectorAll(".jp-OutputArea-output img")]
    .map(img => [img.naturalWidth, img.getBoundingClientRect().width / img.naturalWidth])"""
#: For each control row of the widgets: the bottom of its label and the top of its control.
LABEL_AND_CONTROL = """() => [...document.querySelectorAll(
        ".widget-subarea .widget-inline-hbox:not(.widget-html), .widget-subarea .widget-toggle-buttons")]
    .map(row => [row.querySelector(":scope > .widget-label"), row.querySelector(
        ":scope > input, :scope > .slider-container, :scope > div:not(.widget-readout)")])
    .filter(([label, control]) => label && control && label.offsetWidth > 0)
    .map(([label, control]) => [label.getBoundingClientRect().bottom, control.getBoundingClientRect().top])"""


@pytest.mark.parametrize("screen", SCREENS, ids=str)
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_pages_fit_the_screen_with_nothing_cut_off(page, site_url, outside_requests, lesson, screen):
    """No sideways scroll; every control, code line, printed table and plot is either in view or
    in a box of its own that scrolls sideways; plots keep their drawn size; controls stack on a
    phone (label above control) and sit beside their labels on a laptop."""
    page.set_viewport_size(dict(zip(("width", "height"), SCREENS[screen], strict=True)))
    open_lesson(page, site_url + f"{lesson.stem}.html")
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
    assert width <= inner, f"the page scrolls sideways: {width} px in a {inner} px window"
    assert page.evaluate(CUT_OFF) == [], "cut off, out of the reader's reach"
    scales = page.evaluate(PLOT_SCALES)
    assert len(scales) >= 2 and all(scale >= PLOT_SCALE for _, scale in scales), scales
    rows = page.evaluate(LABEL_AND_CONTROL)
    assert rows, "no control rows found"
    stacked = [label_bottom <= control_top + 1 for label_bottom, control_top in rows]
    assert all(stacked) if screen == "phone" else not any(stacked), rows
    assert outside_requests == []


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_each_widget_says_it_is_static_and_its_controls_do_nothing(page, site_url, outside_requests, lesson):
    page.set_viewport_size({"width": 390, "height": 844})
    open_lesson(page, site_url + f"{lesson.stem}.html")
    widgets = page.locator(".jupyter-widgets.jp-OutputArea-output:has(.widget-subarea)")
    assert widgets.count() >= 2
    for i in range(widgets.count()):
        widget = widgets.nth(i)
        note = widget.locator(":scope > .static-note")
        note.scroll_into_view_if_needed()
        assert note.is_visible() and note.inner_text().startswith(NOTE)
        assert note.bounding_box()["height"] >= 16  # one line of text at least, not a sliver
        controls = widget.locator(".widget-subarea").locator("input, button, select, textarea")
        sliders = widget.locator(".noUi-target")
        readouts = widget.locator(".widget-readout")
        assert controls.count() + sliders.count() >= 1
        assert all(controls.nth(j).is_disabled() for j in range(controls.count()))
        assert all(sliders.nth(j).get_attribute("disabled") is not None for j in range(sliders.count()))
        editable = [readouts.nth(j).get_attribute("contenteditable") for j in range(readouts.count())]
        assert set(editable) <= {"false"}
    handle = page.locator(".noUi-handle").first
    if handle.count():  # a slider does not move under the keyboard or the mouse
        before = handle.get_attribute("aria-valuenow")
        handle.focus()
        page.keyboard.press("ArrowRight")
        box = handle.bounding_box()
        page.mouse.move(box["x"] + 4, box["y"] + 4)
        page.mouse.down()
        page.mouse.move(box["x"] + 90, box["y"] + 4, steps=4)
        page.mouse.up()
        assert handle.get_attribute("aria-valuenow") == before
    choice = page.locator(".widget-radio-box input").first
    choice.click(force=True)  # a quiz answer cannot be picked
    assert not choice.is_checked()
    assert outside_requests == []


#: A page with a widget whose module the renderer lacks, so that its loader has to look for it.
UNKNOWN_WIDGET = """<!doctype html><html><head><meta charset="utf-8">
<script src="static/require.js"></script></head><body>
<script type="application/vnd.jupyter.widget-state+json">{"version_major": 2, "version_minor": 0,
 "state": {"m1": {"model_name": "ProbeModel", "model_module": "course-probe-widget",
 "model_module_version": "1.0.0", "state": {}}}}</script>
<script type="application/vnd.jupyter.widget-view+json">
{"version_major": 2, "version_minor": 0, "model_id": "m1"}</script>
<script src="static/html-manager/embed-amd.js"></script></body></html>"""


def test_the_widget_loader_asks_only_the_site_for_a_module_it_lacks(page, site_url, outside_requests):
    """The renderer's loader fell back to cdn.jsdelivr.net; the build pointed it at the site."""
    page.route(site_url + "probe.html", lambda r: r.fulfill(body=UNKNOWN_WIDGET, content_type="text/html"))
    with page.expect_request(lambda r: "course-probe-widget@1.0.0" in r.url, timeout=30_000) as req:
        page.goto(site_url + "probe.html")
    assert req.value.url == site_url + "static/widget-modules/course-probe-widget@1.0.0/dist/index.js"
    assert outside_requests == []


def test_mathjax_speech_reads_its_rule_maps_from_the_site(page, site_url, outside_requests):
    """MathJax's speech-rule engine (its accessibility explorer) named cdn.jsdelivr.net for its rule
    maps and an XPath library; the build pointed both at the copies MathJax ships."""
    open_lesson(page, site_url + f"{LESSONS[1].stem}.html")
    paths, speech = page.evaluate(
        """() => new Promise((done, fail) => {
            MathJax.Hub.Register.StartupHook("Sre Ready", () => done([
                [sre.Variables.url, sre.Variables.WGXpath],
                sre.System.getInstance().toSpeech("<math><mi>x</mi><mo>+</mo><mn>1</mn></math>")]));
            MathJax.Ajax.Require("[a11y]/semantic-enrich.js");
            setTimeout(() => fail(new Error("the speech engine did not start")), 30000);
        })"""
    )
    base = site_url + "static/mathjax/extensions/a11y/"
    assert paths == [base + "mathmaps", base + "wgxpath.install.js"]
    assert speech == "x plus one"
    assert outside_requests == []
