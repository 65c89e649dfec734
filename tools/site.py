"""Build the course as a static site that needs no network (``make site``).

Every lesson is executed and exported to HTML with its widget state; the widget renderer
(``@jupyter-widgets/html-manager``), ``require.js`` and MathJax 2 (for the lessons' formulas:
its TeX input, CommonHTML output and web fonts) are copied into ``site/static/`` from an npm
install made at build time, so the pages draw their widgets, plots and formulas offline and
load nothing from a third party: the content-network addresses those packages hold are rewritten
into paths on the site (:mod:`tools.site_offline`), and nbconvert's mermaid loader is left out.
Each widget is a picture of the lesson as run: its controls are disabled and a note says so
(:mod:`tools.site_widgets`). The pages fit a 390 px phone without scrolling sideways
(:mod:`tools.site_style`). An ``index.html`` lists the lessons
in course order with each lesson's aim, and every lesson page has links to the index and to the
lessons before and after it, at its top and its bottom.

Run: ``python -m tools.site --js build/site-js/node_modules --out site``.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
from pathlib import Path

from tools.site_offline import check_offline, localise
from tools.site_style import STYLE
from tools.site_widgets import NOTE, TEMPLATE, disable_controls, static_notes

ROOT = Path(__file__).resolve().parents[1]
RENDERER = "@jupyter-widgets/html-manager/dist"
REQUIRE = "requirejs/require.js"
MATHJAX = "mathjax"
#: The parts of MathJax 2 the pages use (TeX in, CommonHTML out, its fonts); the rest of the
#: package (other outputs and font formats, the unpacked sources) is 50 MB the site does not need.
MATHJAX_PARTS = (
    "MathJax.js",
    "config/TeX-AMS_CHTML-full.js",
    "config/Safe.js",
    "extensions",
    "jax/input/TeX",
    "jax/output/CommonHTML",
    "jax/element",
    "fonts/HTML-CSS/TeX/woff",
    "localization/en",
)
MATHJAX_URL = "static/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
#: The widget renderer's files that the pages never load (other bundles, the source map).
RENDERER_UNUSED = ("embed.js", "embed.js.map", "embed.js.LICENSE.txt", "libembed-amd.js", "*.map")

__all__ = ["build_site", "copy_static", "lesson_aim", "lesson_title", "navigation"]


def _first_cell(path: Path) -> list[str]:
    nb = json.loads(path.read_text("utf-8"))
    return "".join(nb["cells"][0]["source"]).splitlines()


def lesson_title(path: Path) -> str:
    """The first heading of a lesson, without the leading ``#``."""
    return _first_cell(path)[0].lstrip("# ").strip()


def lesson_aim(path: Path) -> str:
    """The lesson's aim: the paragraph of its first cell that starts with ``**Aim.**``, without
    that label and with its lines joined ("" when there is none).

    >>> lesson_aim(ROOT / "notebooks" / "01_initial_margin.ipynb").split(",")[0]
    'After this lesson you can work out how much of your own money a futures position ties up'
    """
    paragraphs = "\n".join(_first_cell(path)).split("\n\n")
    aim = next((p for p in paragraphs if p.startswith("**Aim.**")), "")
    return " ".join(aim.removeprefix("**Aim.**").split())


def _inline(markdown: str) -> str:
    """Escape ``markdown`` for HTML, keeping its **bold**, *italic* and `code` runs.

    >>> _inline("*balance = MM* with `cum` & **tiers**")
    '<em>balance = MM</em> with <code>cum</code> &amp; <strong>tiers</strong>'
    """
    text = html.escape(markdown, quote=False)
    text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"\*(.+?)\*", r"<em>\1</em>", text)


def navigation(names: list[str], titles: list[str], i: int, where: str = "top") -> str:
    r"""The links of lesson ``i`` (0-based) of the pages ``names``: the previous lesson, the
    index and the next lesson (with their titles), as a ``<nav>`` element.

    >>> nav = navigation(["01_a.html", "02_b.html"], ["Lesson 1", "Lesson 2"], 0)
    >>> print(nav.replace("><", ">\n<"))
    <nav class="course-nav top">
    <span>
    </span>
    <a href="index.html">Course index</a>
    <a rel="next" href="02_b.html">Lesson 2 →</a>
    </nav>
    """
    before = (
        f'<a rel="prev" href="{names[i - 1]}">← {html.escape(titles[i - 1])}</a>'
        if i > 0
        else "<span></span>"
    )
    after = (
        f'<a rel="next" href="{names[i + 1]}">{html.escape(titles[i + 1])} →</a>'
        if i + 1 < len(names)
        else "<span></span>"
    )
    return f'<nav class="course-nav {where}">{before}<a href="index.html">Course index</a>{after}</nav>'


def copy_static(js_modules: Path, out: Path) -> dict[str, list[str]]:
    """Copy the widget renderer, require.js and MathJax's needed parts into ``out/static`` and
    rewrite their content-network addresses into paths on the site (:mod:`tools.site_offline`);
    returns what was rewritten, by file. Raises when a package is missing, or when a file still
    names a content network afterwards."""
    renderer, require, mathjax = js_modules / RENDERER, js_modules / REQUIRE, js_modules / MATHJAX
    needed = [renderer / "embed-amd.js", require, mathjax / "MathJax.js"]
    if not all(path.exists() for path in needed):
        raise FileNotFoundError(
            f"{js_modules} must hold {RENDERER}/embed-amd.js, {REQUIRE} and {MATHJAX}/MathJax.js "
            "(npm install)"
        )
    static = out / "static"
    if static.exists():
        shutil.rmtree(static)
    # The pages load embed-amd.js only: the other bundles and the source map are left out.
    shutil.copytree(renderer, static / "html-manager", ignore=shutil.ignore_patterns(*RENDERER_UNUSED))
    shutil.copy(require, static / "require.js")
    for part in MATHJAX_PARTS:
        source, target = mathjax / part, static / "mathjax" / part
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    rewritten = localise(static)
    check_offline(static)
    return rewritten


def lesson_exporter():
    """nbconvert's HTML exporter for the lessons: scripts from ``static/``, no mermaid loader,
    a note on each widget (:mod:`tools.site_widgets`)."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.widget_renderer_url = "static/html-manager/embed-amd.js"
    config.HTMLExporter.require_js_url = "static/require.js"
    config.HTMLExporter.mathjax_url = MATHJAX_URL
    return HTMLExporter(
        config=config,
        extra_loaders=[DictLoader({"site.html.j2": TEMPLATE})],
        template_file="site.html.j2",
    )


def lesson_page(nb, exporter, nav_top: str, nav_bottom: str) -> str:
    """The HTML page of the executed lesson ``nb``: its widgets' controls disabled, a note on
    each widget, the site's style and the navigation links added."""
    notes = static_notes(nb)
    disable_controls(nb)
    body, _ = exporter.from_notebook_node(nb, resources={"static_notes": notes, "static_note": NOTE})
    body = body.replace("</head>", f"<style>{STYLE}</style></head>", 1)
    body = body.replace("<main>", "<main>" + nav_top, 1)
    return body.replace("</main>", nav_bottom + "</main>", 1)


def index_page(names: list[str], titles: list[str], lessons: list[Path]) -> str:
    """The site's ``index.html``: the lessons in order, each with its aim."""
    items = "\n".join(
        f'  <li><a href="{name}">{html.escape(title)}</a><p>{_inline(lesson_aim(path))}</p></li>'
        for name, title, path in zip(names, titles, lessons, strict=True)
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Margin on crypto perpetual futures</title><style>{STYLE}</style></head>\n"
        '<body class="course-index">\n'
        "<h1>Margin on crypto perpetual futures — the course</h1>\n"
        "<p><em>Educational material, not trading advice.</em></p>\n"
        '<p class="note">How margin works on USDT-margined perpetual futures: initial and maintenance '
        f"margin, isolated and cross mode, liquidation, in {len(lessons)} lessons to take in "
        "order. These pages show each lesson as it was last run, its widgets included; the "
        "sliders need a running kernel, so to change the examples open the course in JupyterLab "
        "(see the README).</p>\n<ol>\n"
        f"{items}\n</ol>\n</body></html>\n"
    )


def build_site(
    js_modules: Path, out: Path, notebooks: Path = ROOT / "notebooks", execute: bool = True
) -> list[Path]:
    """Export every ``NN_*.ipynb`` lesson to ``out`` as HTML that loads nothing from the network."""
    import nbformat
    from nbconvert.preprocessors import ExecutePreprocessor

    copy_static(js_modules, out)
    exporter = lesson_exporter()
    lessons = sorted(notebooks.glob("[0-9][0-9]_*.ipynb"))
    names = [f"{path.stem}.html" for path in lessons]
    titles = [lesson_title(path) for path in lessons]
    pages = []
    for i, path in enumerate(lessons):
        nb = nbformat.read(path, as_version=4)
        if execute:
            ExecutePreprocessor(timeout=180, kernel_name="python3").preprocess(
                nb, {"metadata": {"path": str(notebooks)}}
            )
        top, bottom = navigation(names, titles, i, "top"), navigation(names, titles, i, "bottom")
        page = out / names[i]
        page.write_text(lesson_page(nb, exporter, top, bottom), encoding="utf-8")
        pages.append(page)
    (out / "index.html").write_text(index_page(names, titles, lessons), encoding="utf-8")
    return pages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--js", type=Path, required=True, help="node_modules with the widget renderer")
    parser.add_argument("--out", type=Path, default=ROOT / "site")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for page in build_site(args.js, args.out):
        print(f"wrote {page}")
    print(f"wrote {args.out / 'index.html'}")


if __name__ == "__main__":
    main()
