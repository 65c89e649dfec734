"""Shared set-up of the browser tests, on pytest-playwright's own fixtures (``page``, ``context``,
``expect``; traces and screenshots of a failing test land in ``build/playwright``, see
``addopts`` in pyproject.toml).

Its launch points at Debian's Chromium (never a downloaded browser). Where Chromium is missing,
every test that asks for a page is skipped, and the skip says why; ``.ci/run`` installs it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The flags that work in this container: no sandbox (root), no GPU, nothing phoned home.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright's launch options, pointed at Debian's Chromium (skip when it is missing)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium): browser test skipped")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


def is_local(url: str) -> bool:
    """True for a URL that stays on this machine: loopback hosts, files, data and blob URLs."""
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "file", "about") or parts.hostname in LOOPBACK


@pytest.fixture()
def outside_requests(context) -> Iterator[list[str]]:
    """Blocks every request that would leave the machine and lists it: a test asserts the list
    stays empty (``context.route`` covers every page of the test, before it loads)."""
    attempted: list[str] = []

    def route(r) -> None:
        if is_local(r.request.url):
            r.continue_()
        else:
            attempted.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    yield attempted


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """The calculator page served as ``make app`` serves it (``margin_lib.app_server.served``), on
    a free loopback port, for every browser test of the session; stopped with its kernels."""
    from margin_lib import app_server

    try:
        with app_server.served() as server:
            yield server.url
    except RuntimeError as exc:
        pytest.fail(str(exc))


#: What the page asks on leaving (Voilà's beforeunload beacon): shut my kernel down. A browser's
#: closed tab sends it (test_browser_app_kernels.py); Playwright closing the test's context runs
#: no beforeunload, so the tests ask, or the session's pages would fill the kernel cap.
LEAVE = """async () => {
  const id = JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId;
  const form = new FormData();
  form.append('_xsrf', (document.cookie.match('\\b_xsrf=([^;]*)\\b') || [])[1] || '');
  await fetch('voila/api/shutdown/' + id, {method: 'POST', body: form});
}"""
