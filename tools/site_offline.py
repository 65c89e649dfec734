"""Make the npm code the static site ships load nothing from a third party (``make site``).

The widget renderer and MathJax each hold a content network's address for files they might
fetch later: the renderer's loader falls back to ``cdn.jsdelivr.net`` for a widget module the
page lacks, and MathJax's speech-rule engine (its accessibility explorer) fetches its rule maps
and an XPath library from there. The pages never need either, but the course promises pages
that hold no code that could load from a third party, even code that never runs. So the copies
in ``site/static`` are rewritten: each such address becomes a path on the site itself (the
renderer's loader can then only ask the site for a module, and MathJax's explorer reads the rule
maps that ship with MathJax). After the rewrites, :func:`check_offline` refuses a site in whose
files any content network's host name is left, so a new version of a package that adds one
fails the build instead of shipping it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CDN_HOSTS", "REWRITES", "Rewrite", "ThirdPartyError", "check_offline", "localise"]

#: Host names of public content networks that pages commonly load code, styles or fonts from.
CDN_HOSTS = (
    "cdn.jsdelivr.net",
    "unpkg.com",
    "cdnjs.cloudflare.com",
    "cdn.mathjax.org",
    "fonts.googleapis.com",
    "fonts.gstatic.com",
    "ajax.googleapis.com",
    "code.jquery.com",
    "cdn.plot.ly",
    "maxcdn.bootstrapcdn.com",
    "stackpath.bootstrapcdn.com",
    "use.fontawesome.com",
    "kit.fontawesome.com",
    "esm.sh",
    "esm.run",
    "cdn.skypack.dev",
    "ga.jspm.io",
)
#: The files of the site that hold code or styles (fonts, sounds and pictures are not searched).
CODE_SUFFIXES = (".html", ".js", ".mjs", ".css", ".json")


@dataclass(frozen=True)
class Rewrite:
    """One address in a package's code, replaced by a path on the site."""

    pattern: str  #: a regular expression for the address (and the code around it)
    replacement: str  #: what it becomes
    why: str  #: what the address was for


REWRITES = (
    Rewrite(
        r'"https://cdn\.jsdelivr\.net/npm/"',
        '"static/widget-modules/"',
        "the widget renderer's loader, for a widget module the page lacks: it now asks the site "
        "(every widget the lessons use is built into the renderer, so it never has to)",
    ),
    Rewrite(
        r'"https://cdn\.jsdelivr\.net/npm/speech-rule-engine@"\s*\+\s*sre\.Variables\.VERSION'
        r'\s*\+\s*"/lib/mathmaps"',
        'MathJax.Ajax.fileURL("[a11y]/mathmaps")',
        "MathJax's speech-rule engine, for its rule maps: it now reads the copies MathJax ships",
    ),
    Rewrite(
        r'"https://cdn\.jsdelivr\.net/npm/wicked-good-xpath@[^"]*"',
        'MathJax.Ajax.fileURL("[a11y]/wgxpath.install.js")',
        "MathJax's speech-rule engine, for an XPath library: it now reads the copy MathJax ships",
    ),
    Rewrite(
        r"@import\s+url\(\s*['\"]?https?://[^)]*\)\s*;?",
        "",
        "a web font import (commented out in the widget styles) from Google Fonts",
    ),
)


class ThirdPartyError(RuntimeError):
    """A file of the site still names a content network after the rewrites."""


def code_files(root: Path) -> list[Path]:
    """Every file under ``root`` that holds code or styles, in a stable order."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in CODE_SUFFIXES)


def rewrite_text(text: str) -> tuple[str, list[str]]:
    """``text`` with every rewrite applied, and what each rewrite that matched was for.

    >>> text, applied = rewrite_text('let q="https://cdn.jsdelivr.net/npm/",_=!1;')
    >>> text, len(applied)
    ('let q="static/widget-modules/",_=!1;', 1)
    """
    applied = []
    for rewrite in REWRITES:
        text, count = re.subn(rewrite.pattern, rewrite.replacement, text)
        if count:
            applied.append(rewrite.why)
    return text, applied


def localise(root: Path) -> dict[str, list[str]]:
    """Rewrite every code file under ``root`` in place; returns, per file changed (its path
    relative to ``root``), what its rewrites were for."""
    changed = {}
    for path in code_files(root):
        text = path.read_text("utf-8", errors="surrogateescape")
        new, applied = rewrite_text(text)
        if applied:
            path.write_text(new, "utf-8", errors="surrogateescape")
            changed[path.relative_to(root).as_posix()] = applied
    return changed


def cdn_hosts_in(text: str) -> list[str]:
    """The content networks' host names that ``text`` mentions (any case).

    >>> cdn_hosts_in("import('https://UNPKG.com/x'); a.b.c")
    ['unpkg.com']
    """
    lowered = text.lower()
    return [host for host in CDN_HOSTS if re.search(rf"(?<![\w.-]){re.escape(host)}", lowered)]


def check_offline(root: Path) -> None:
    """Raise :class:`ThirdPartyError` naming each code file under ``root`` that still mentions a
    content network, and which."""
    found = {
        path.relative_to(root).as_posix(): hosts
        for path in code_files(root)
        if (hosts := cdn_hosts_in(path.read_text("utf-8", errors="replace")))
    }
    if found:
        lines = "\n".join(f"  {name}: {', '.join(hosts)}" for name, hosts in found.items())
        raise ThirdPartyError(
            "these files of the site name a content network (the site must load nothing from a "
            f"third party; add a rewrite to tools/site_offline.py):\n{lines}"
        )
