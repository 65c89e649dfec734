"""The static site's pages (tools/site.py) without a browser: built from the stored lessons
(not re-executed) with a stand-in for the npm packages, so these run on any machine. The stand-ins
hold the content-network addresses that the real packages hold, so the build has to rewrite them;
the real site (``make site``) is scanned too where it has been built."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tools.site import MATHJAX_PARTS, build_site, lesson_aim, lesson_title
from tools.site_offline import ThirdPartyError
from tools.site_widgets import NOTE, NOTE_WITH_OUTPUT

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BUILT_SITE = ROOT / "site"

#: Excerpts of the real npm packages that name a content network (the addresses are theirs).
RENDERER_LOADER = (
    'const F=function(e){return e};let q="https://cdn.jsdelivr.net/npm/",_=!1;'
    "const S=`${q}${o}@${t}/dist/${n}`;\n"
    "var css=\"/* Commented out in ipywidgets since we don't need it. */\\n"
    "/* @import url('https://fonts.googleapis.com/css?family=Roboto+Mono'); */\\n\";\n"
)
SPEECH_ENGINE = (
    'sre.Variables.url="https://cdn.jsdelivr.net/npm/speech-rule-engine@"+sre.Variables.VERSION+'
    '"/lib/mathmaps";sre.Variables.WGXpath="https://cdn.jsdelivr.net/npm/wicked-good-xpath@1.3.0/'
    'dist/wgxpath.install.js";\n'
)
STAND_INS = {
    "@jupyter-widgets/html-manager/dist/embed-amd.js": RENDERER_LOADER,
    "@jupyter-widgets/html-manager/dist/embed.js": RENDERER_LOADER,  # a bundle the pages never load
    "@jupyter-widgets/html-manager/dist/libembed-amd.js": RENDERER_LOADER,
    "@jupyter-widgets/html-manager/dist/embed.js.map": '{"sources": []}',
    "@jupyter-widgets/html-manager/dist/fa-solid.woff2": "wOF2",
    "requirejs/require.js": "/* stand-in */",
    "mathjax/extensions/a11y/mathjax-sre.js": SPEECH_ENGINE,
}


def make_stand_ins(js: Path, extra: dict[str, str] | None = None) -> Path:
    """A stand-in for the npm install under ``js``: the files the build copies, with
    :data:`STAND_INS` (and ``extra``) as their text."""
    for part in MATHJAX_PARTS:  # files stand in for files, folders for folders
        path = js / "mathjax" / part
        if part.endswith(".js"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("/* stand-in */")
        else:
            path.mkdir(parents=True, exist_ok=True)
            (path / "stand-in.js").write_text("/* stand-in */")
    for name, text in {**STAND_INS, **(extra or {})}.items():
        (js / name).parent.mkdir(parents=True, exist_ok=True)
        (js / name).write_text(text)
    return js


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    js = make_stand_ins(tmp_path_factory.mktemp("node_modules"))
    out = tmp_path_factory.mktemp("site")
    build_site(js, out, execute=False)
    return out


# --- A scan for anything that would load from a third party ------------------------------------
# It reads every file the site ships: a page's tags, its scripts and styles, every script and
# style sheet. Links a reader clicks (<a href>) are allowed; so are the addresses that code uses
# as names and never fetches (XML namespaces, JSON-schema ids) and three links that MathJax's
# menu shows to the reader.

#: Content networks (and parts of their names) that must appear nowhere, not even in a comment.
CDN_NAMES = (
    "cdn.jsdelivr.net", "jsdelivr", "unpkg", "cdnjs", "cdn.mathjax.org", "fonts.googleapis.com",
    "fonts.gstatic.com", "ajax.googleapis.com", "code.jquery.com", "cdn.plot.ly", "bootstrapcdn",
    "fontawesome.com/releases", "use.fontawesome.com", "kit.fontawesome.com", "esm.sh", "esm.run",
    "skypack", "jspm.io", "rawgit", "githack", "statically.io",
)  # fmt: skip
URL = r"(?:https?:)?//[A-Za-z0-9][\w-]*(?:\.[\w-]+)+"
QUOTE = r"""\\?['"`]"""
#: Code that fetches what it names, by kind.
LOADS = {
    "CSS @import": rf"@import\s*(?:url\(\s*)?(?:{QUOTE})?\s*{URL}",
    "CSS url()": rf"\burl\(\s*(?:{QUOTE})?\s*{URL}",
    "dynamic import()": rf"\bimport\s*\(\s*{QUOTE}{URL}",
    "import ... from": rf"\bfrom\s*{QUOTE}{URL}",
    "bare import": rf"\bimport\s*{QUOTE}{URL}",
    "fetch()": rf"\bfetch\s*\(\s*{QUOTE}{URL}",
    "XMLHttpRequest": rf"\.open\s*\(\s*{QUOTE}\w+{QUOTE}\s*,\s*{QUOTE}{URL}",
    "require / define": rf"\b(?:require|requirejs|define)\s*\(\s*\[?\s*"
    rf"(?:{QUOTE}[^'\"`]*{QUOTE}\s*,\s*)*{QUOTE}{URL}",
    "worker, socket, beacon": rf"\b(?:importScripts|Worker|SharedWorker|EventSource|WebSocket|sendBeacon)"
    rf"\s*\(\s*{QUOTE}(?:wss?:)?{URL}",
    "a tag's src or href": rf"<(?!a[\s>])[a-z][\w-]*\b[^<>]*?\b(?:src|srcset|href|data|poster|xlink:href)"
    rf"\s*=\s*(?:{QUOTE})?\s*{URL}",
    "an element's src or href": rf"\.(?:src|href|srcset|data)\s*=\s*{QUOTE}{URL}",
    "setAttribute(src/href)": rf"setAttribute(?:NS)?\s*\([^)]*?{QUOTE}(?:src|href|srcset|data){QUOTE}"
    rf"\s*,\s*{QUOTE}{URL}",
}
#: A string in code that starts with an address (what a loader would be handed).
STRING_URL = re.compile(rf"(?P<before>[^\n]{{0,40}}?){QUOTE}(?P<url>{URL}[^'\"`\s\\]*)")
NAME_HOSTS = ("www.w3.org", "json-schema.org", "exslt.org")  # namespaces and schema ids
SCHEMA_KEY = re.compile(r"""["']?\$(?:id|ref|schema)\\?["']?\s*:\s*$""")  # JSON-schema ids
LINKS_SHOWN = (  # MathJax's About box, help and font warning: links the reader may click
    "http://www.mathjax.org/",
    "http://www.stixfonts.org/",
    "https://github.com/mathjax/MathJax/tree/master/fonts/HTML-CSS/TeX/otf",
)
CODE_SUFFIXES = {".html", ".js", ".mjs", ".css", ".json", ".svg"}
#: Files that hold no code: fonts, MathJax's sounds, pictures.
INERT_SUFFIXES = {".woff", ".woff2", ".ttf", ".eot", ".otf", ".mp3", ".ogg", ".png"}


def _host(url: str) -> str:
    return re.sub(r"^(?:https?:)?//", "", url).split("/")[0].lower()


def cdn_names(text: str) -> list[str]:
    """The content networks ``text`` names anywhere."""
    lowered = text.lower()
    return [f"names {name}" for name in CDN_NAMES if name in lowered]


def loads_in_code(code: str) -> list[str]:
    """The places where script or style ``code`` fetches an outside address."""
    return [
        f"{kind}: {match.group(0)[-90:]!r}"
        for kind, pattern in LOADS.items()
        for match in re.finditer(pattern, code, flags=re.I)
    ]


def outside_strings(code: str) -> list[str]:
    """Strings in ``code`` that start with an outside address and are not names or links."""
    found = []
    for match in STRING_URL.finditer(code):
        url = match["url"]
        if _host(url) in NAME_HOSTS or SCHEMA_KEY.search(match["before"]) or url in LINKS_SHOWN:
            continue
        found.append(f"string {url!r} after {match['before'][-30:]!r}")
    return found


class _Page(HTMLParser):
    """A page's tags with an outside address (other than links), and its scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._inside: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("a", "area"):
            self.tags += [
                f"<{tag} {name}={value!r}>"
                for name, value in attrs
                if value and not name.startswith("xmlns") and re.match(URL, value.strip())
            ]
        self._inside = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._inside = None

    def handle_data(self, data: str) -> None:
        {"script": self.scripts, "style": self.styles}.get(self._inside, []).append(data)


def third_party_loads(name: str, text: str) -> list[str]:
    """Everything in the file ``name`` (with contents ``text``) that would or could load
    something from a third party."""
    found = cdn_names(text)
    suffix = Path(name).suffix
    if suffix in (".html", ".svg"):
        page = _Page()
        page.feed(text)
        found += page.tags
        found += [hit for script in page.scripts for hit in loads_in_code(script) + outside_strings(script)]
        found += [hit for style in page.styles for hit in loads_in_code(style)]
    elif suffix == ".css":
        found += loads_in_code(text)
    else:  # scripts, and any other file read as one (a source map, a licence)
        found += loads_in_code(text) + outside_strings(text)
    return found


def scan(root: Path) -> dict[str, list[str]]:
    """:func:`third_party_loads` of every file under ``root`` that holds any (fonts, sounds and
    pictures are not read)."""
    found = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = path.relative_to(root).as_posix()
        if path.suffix in INERT_SUFFIXES:
            continue
        if hits := third_party_loads(name, path.read_text("utf-8", errors="replace")):
            found[name] = hits
    return found


@pytest.mark.parametrize(
    "name, text",
    [
        ("page.html", '<script type="module">await import("https://cdnjs.cloudflare.com/m.mjs")</script>'),
        ("page.html", '<link rel="stylesheet" href="https://example.org/style.css">'),
        ("page.html", '<script src="//example.org/lib.js"></script>'),
        ("page.html", "<style>@import url('https://example.org/a.css');</style>"),
        ("page.html", '<script>const u = "https://example.org/x.js"; load(u)</script>'),
        ("style.css", "@font-face { src: url(https://example.org/f.woff2) }"),
        ("code.js", 'import x from "https://example.org/x.mjs";'),
        ("code.js", "fetch('https://example.org/data.json')"),
        ("code.js", 'xhr.open("GET", "https://example.org/data.json")'),
        ("code.js", 'require(["https://example.org/amd.js"], f)'),
        ("code.js", 'el.src = "https://example.org/pic.png"'),
        ("code.js", 'var s = "<script src=\\"https://example.org/x.js\\"></script>"'),
        ("code.js", "/* a comment that names unpkg.com is still not allowed */"),
    ],
)
def test_the_scan_finds_every_kind_of_third_party_load(name, text):
    assert third_party_loads(name, text), text


@pytest.mark.parametrize(
    "name, text",
    [
        ("page.html", '<a href="https://www.binance.com/en/support/faq/360033162192">the FAQ</a>'),
        ("page.html", '<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0"/></svg>'),
        ("code.js", 'document.createElementNS("http://www.w3.org/1998/Math/MathML", "math")'),
        ("code.js", 'e.exports=JSON.parse(\'{"$id":"https://raw.githubusercontent.com/a/b/data.json#"}\')'),
        ("code.js", "// see https://github.com/jupyter-widgets/ipywidgets/issues/1 for why"),
        ("style.css", ".a { background: url(data:image/png;base64,AAAA) }"),
    ],
)
def test_the_scan_lets_links_names_and_local_files_through(name, text):
    assert third_party_loads(name, text) == []


def test_no_file_of_the_site_would_load_from_a_third_party(site):
    """The stand-ins hold the packages' content-network addresses: the build rewrites them, and
    the pages carry no loader of their own (nbconvert's lazy mermaid import is left out)."""
    assert scan(site) == {}
    assert {p.suffix for p in site.rglob("*") if p.is_file()} <= CODE_SUFFIXES | INERT_SUFFIXES


def test_the_built_site_would_load_nothing_from_a_third_party():
    """Every file that ``make site`` wrote, scanned with the real npm packages in it."""
    if not (BUILT_SITE / "static" / "html-manager" / "embed-amd.js").exists():
        pytest.skip("site/ is not built (make site needs npm): the real packages are not scanned")
    assert len(list(BUILT_SITE.rglob("*.js"))) > 50  # the real MathJax and renderer, not stand-ins
    assert scan(BUILT_SITE) == {}


def test_the_rewritten_loaders_point_at_the_site(site):
    renderer = (site / "static/html-manager/embed-amd.js").read_text()
    assert 'let q="static/widget-modules/"' in renderer
    speech = (site / "static/mathjax/extensions/a11y/mathjax-sre.js").read_text()
    assert 'sre.Variables.url=MathJax.Ajax.fileURL("[a11y]/mathmaps")' in speech
    assert 'sre.Variables.WGXpath=MathJax.Ajax.fileURL("[a11y]/wgxpath.install.js")' in speech


def test_renderer_files_the_pages_never_load_are_left_out(site):
    shipped = sorted(p.name for p in (site / "static/html-manager").iterdir())
    assert shipped == ["embed-amd.js", "fa-solid.woff2"]


def test_a_package_that_names_a_content_network_is_refused(tmp_path):
    js = make_stand_ins(tmp_path / "node_modules", {"mathjax/extensions/new.js": 'x="https://unpkg.com/y"'})
    with pytest.raises(ThirdPartyError, match=r"extensions/new\.js: unpkg\.com"):
        build_site(js, tmp_path / "out", execute=False)


# --- Widgets: a picture, and said to be one ----------------------------------------------------


def _widget_state(page: str) -> dict:
    state = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', page, re.S)
    return json.loads(state.group(1))["state"]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_each_widget_carries_the_static_note(site, lesson):
    page = (site / f"{lesson.stem}.html").read_text("utf-8")
    outputs = re.findall(
        r'<div [^>]*?class="jupyter-widgets jp-OutputArea-output[^"]*"[^>]*>(.*?)</div>', page, re.S
    )
    views = page.count('<script type="application/vnd.jupyter.widget-view+json">')
    assert len(outputs) == views >= 2
    notes = [re.match(r'\s*<p class="static-note" role="note">([^<]*)</p>', out) for out in outputs]
    assert all(notes), "a widget without its note"
    texts = [html.unescape(note.group(1)) for note in notes]
    assert set(texts) == {NOTE, NOTE_WITH_OUTPUT}  # the lesson's widget shows its output; the quiz not
    assert NOTE == "Static copy: run the notebook to make the controls live."


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_every_control_is_stored_disabled(site, lesson):
    state = _widget_state((site / f"{lesson.stem}.html").read_text("utf-8"))
    controls = {k: m for k, m in state.items() if "disabled" in m["state"]}
    assert any(m["model_name"].endswith(("SliderModel", "TextModel")) for m in controls.values())
    assert {k: m["state"]["disabled"] for k, m in controls.items()} == dict.fromkeys(controls, True)


# --- The pages and the index --------------------------------------------------------------------


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
