"""Build the course as a static site that needs no network (``make site``).

Every lesson is executed and exported to HTML with its widget state; the widget renderer
(``@jupyter-widgets/html-manager``) and ``require.js`` are copied into ``site/static/`` from an
npm install made at build time, so the pages draw their widgets and plots offline. The lessons
use no LaTeX, so MathJax is replaced by an empty local script. An ``index.html`` lists the lessons
in course order.

Run: ``python -m margin_lib.site --js build/site-js/node_modules --out site``.
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RENDERER = "@jupyter-widgets/html-manager/dist"
REQUIRE = "requirejs/require.js"

__all__ = ["build_site", "lesson_title"]


def lesson_title(path: Path) -> str:
    """The first heading of a lesson, without the leading ``#``."""
    nb = json.loads(path.read_text("utf-8"))
    first = "".join(nb["cells"][0]["source"]).splitlines()[0]
    return first.lstrip("# ").strip()


def build_site(
    js_modules: Path, out: Path, notebooks: Path = ROOT / "notebooks", execute: bool = True
) -> list[Path]:
    """Export every ``NN_*.ipynb`` lesson to ``out`` as HTML that loads nothing from the network."""
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import ExecutePreprocessor
    from traitlets.config import Config

    renderer, require = js_modules / RENDERER, js_modules / REQUIRE
    if not (renderer / "embed-amd.js").exists() or not require.exists():
        raise FileNotFoundError(f"{js_modules} must hold {RENDERER}/embed-amd.js and {REQUIRE} (npm install)")
    static = out / "static"
    if static.exists():
        shutil.rmtree(static)
    shutil.copytree(renderer, static / "html-manager")
    shutil.copy(require, static / "require.js")
    (static / "no-mathjax.js").write_text("/* the lessons use no LaTeX */\n")
    config = Config()
    config.HTMLExporter.widget_renderer_url = "static/html-manager/embed-amd.js"
    config.HTMLExporter.require_js_url = "static/require.js"
    config.HTMLExporter.mathjax_url = "static/no-mathjax.js"
    exporter = HTMLExporter(config=config)
    pages = []
    for path in sorted(notebooks.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if execute:
            ExecutePreprocessor(timeout=180, kernel_name="python3").preprocess(
                nb, {"metadata": {"path": str(notebooks)}}
            )
        body, _ = exporter.from_notebook_node(nb)
        page = out / f"{path.stem}.html"
        page.write_text(body, encoding="utf-8")
        pages.append(page)
    items = "\n".join(
        f'    <li><a href="{p.name}">{html.escape(lesson_title(notebooks / (p.stem + ".ipynb")))}</a></li>'
        for p in pages
    )
    (out / "index.html").write_text(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Margin on crypto perpetual futures</title></head>\n<body>\n"
        "<h1>Margin on crypto perpetual futures — the course</h1>\n"
        "<p><em>Educational material, not trading advice.</em></p>\n<ol>\n"
        f"{items}\n</ol>\n</body></html>\n",
        encoding="utf-8",
    )
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
