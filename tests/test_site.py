"""The static site's pages (tools/site.py) without a browser: built from the stored lessons
(not re-executed) with a stand-in for the npm packages, so these run on any machine."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from tools.site import MATHJAX_PARTS, build_site, lesson_aim, lesson_title

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    js = tmp_path_factory.mktemp("node_modules")
    (js / "@jupyter-widgets/html-manager/dist").mkdir(parents=True)
    (js / "@jupyter-widgets/html-manager/dist/embed-amd.js").write_text("/* stand-in */")
    (js / "requirejs").mkdir()
    (js / "requirejs/require.js").write_text("/* stand-in */")
    for part in MATHJAX_PARTS:  # files stand in for files, folders for folders
        path = js / "mathjax" / part
        if part.endswith(".js"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("/* stand-in */")
        else:
            path.mkdir(parents=True)
            (path / "stand-in.js").write_text("/* stand-in */")
    out = tmp_path_factory.mktemp("site")
    build_site(js, out, execute=False)
    return out


def test_every_lesson_has_a_page_and_an_index_entry_in_order(site):
    index = (site / "index.html").read_text("utf-8")
    assert re.findall(r'<li><a href="([^"]+)">', index) == [f"{p.stem}.html" for p in LESSONS]
    assert all((site / f"{p.stem}.html").exists() for p in LESSONS)
    assert "not trading advice" in index


def test_index_shows_each_lessons_title_and_aim(site):
    index = (site / "index.html").read_text("utf-8")
    entries = [html.unescape(re.sub(r"<[^>]+>", "", li)) for li in re.findall(r"<li>(.*?)</li>", index)]
    assert len(entries) == len(LESSONS)
    for path, entry in zip(LESSONS, entries, strict=True):
        title, aim = lesson_title(path), lesson_aim(path)
        assert title.startswith("Lesson ") and aim.startswith("After this lesson you can")
        assert entry == title + re.sub(r"[*`]", "", aim)  # the words, with markdown's marks as HTML


def test_each_page_links_to_the_index_and_its_neighbours_top_and_bottom(site):
    names = [f"{p.stem}.html" for p in LESSONS]
    for i, name in enumerate(names):
        page = (site / name).read_text("utf-8")
        navs = re.findall(r'<nav class="course-nav (top|bottom)">(.*?)</nav>', page, flags=re.S)
        assert [where for where, _ in navs] == ["top", "bottom"], name
        for _, nav in navs:
            links = dict(re.findall(r'<a (?:rel="(\w+)" )?href="([^"]+)"', nav))
            assert links.get("") == "index.html"
            assert links.get("prev") == (names[i - 1] if i > 0 else None)
            assert links.get("next") == (names[i + 1] if i + 1 < len(names) else None)


def test_pages_load_their_scripts_from_the_site_itself(site):
    for path in LESSONS:
        page = (site / f"{path.stem}.html").read_text("utf-8")
        scripts = re.findall(r'<script[^>]+src="([^"]+)"', page)
        assert "static/require.js" in scripts, scripts
        assert "static/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe" in scripts, scripts
        assert not [s for s in scripts if "//" in s], scripts
        assert "static/html-manager/embed-amd.js" in page


def test_formulas_are_typeset_by_the_sites_own_mathjax(site):
    mathjax = site / "static" / "mathjax"
    assert (mathjax / "MathJax.js").exists() and (mathjax / "fonts/HTML-CSS/TeX/woff").is_dir()


def test_missing_npm_packages_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="embed-amd.js"):
        build_site(tmp_path, tmp_path / "out", execute=False)
