"""The calculator's kernels are cleaned up and capped (Voilà served as `make app` serves it, with
notebooks/app/voila.json): a closed page's kernel is shut down at once; pages dropped without a
goodbye and bare requests leave kernels that are shut down once idle for the configured time;
and no more than the configured number ever run, a request beyond the cap getting a page that
says, in a sentence, what to do. Uses Chromium through pytest-playwright's fixtures (skipped
where Chromium is missing), and takes about as long as the configured idle time."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

from margin_lib import app_server

SETTINGS = app_server.settings()
IDLE = SETTINGS["MappingKernelManager"]["cull_idle_timeout"]
EVERY = SETTINGS["MappingKernelManager"]["cull_interval"]
CAP = SETTINGS["CappedKernelManager"]["max_kernels"]
POOL = SETTINGS["VoilaConfiguration"]["default_pool_size"]
SHOWN = "() => !!(document.querySelector('.calc-page img.calc-plot') && document.querySelector('.calc-v'))"


@pytest.fixture()
def server():
    """A server of our own (its kernels are counted): (URL, kernel counter), stopped at the end
    with every kernel it started (``app_server.served``)."""
    with app_server.served() as served:

        def kernels() -> int:
            """How many kernel processes run under the server (ended ones not counted)."""
            count = 0
            try:
                children = psutil.Process(served.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                return 0
            for child in children:
                try:
                    alive = child.status() != psutil.STATUS_ZOMBIE
                    count += alive and "ipykernel" in " ".join(child.cmdline())
                except psutil.Error:  # ended while being looked at
                    pass
            return count

        _until(lambda: kernels() == POOL, 90, "the preheated kernel")
        yield served.url, kernels
    assert served.left == 0, "a kernel outlived its server"


def _status(url: str) -> int | str:
    """The status of a GET (the page read to its end, then the connection dropped), or the body
    of a refusal."""
    try:
        with urllib.request.urlopen(url, timeout=120) as reply:
            reply.read()
            return reply.status
    except urllib.error.HTTPError as refused:
        return f"{refused.code} {refused.read().decode()}"
    except OSError:
        return 0


def _running(kernel: str) -> bool:
    """Whether the kernel ``kernel`` (an id) has a process."""
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if kernel in " ".join(proc.info["cmdline"] or ()) and proc.status() != psutil.STATUS_ZOMBIE:
                return True
        except psutil.Error:  # ended while being looked at
            pass
    return False


def _until(condition, seconds: float, what: str) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > seconds:
            pytest.fail(f"waited {seconds:g} s for {what}")
        time.sleep(0.5)
    return time.monotonic() - start


def test_dropped_pages_are_culled_and_no_more_than_the_cap_run(server, context, outside_requests):
    url, kernels = server
    most, watching = [0], [True]

    def watch() -> None:  # the largest number of kernels seen at once
        while watching[0]:
            most[0] = max(most[0], kernels())
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        # a page closed as a tab closes (its beforeunload asks Voilà to shut its kernel down): gone now
        page = context.new_page()
        page.goto(url, timeout=90_000)
        page.wait_for_function(SHOWN, timeout=90_000)
        config = page.evaluate("document.getElementById('jupyter-config-data').textContent")
        kernel = json.loads(config)["kernelId"]
        assert _running(kernel)
        page.close(run_before_unload=True)
        _until(lambda: not _running(kernel), 15, "the closed page's kernel to be shut down")
        # three pages opened and dropped without a goodbye (no beforeunload: a lid shut, a network lost)
        for _ in range(3):
            page = context.new_page()
            page.goto(url, timeout=90_000)
            page.wait_for_function(SHOWN, timeout=90_000)
            page.close(run_before_unload=False)
        assert kernels() >= 3
        # then more bare requests at once than the cap allows (another site's page asking for ours)
        with ThreadPoolExecutor(CAP + 2) as pool:
            answers = list(pool.map(_status, [url] * (CAP + 2)))
        dropped = time.monotonic()
        refused = [a for a in answers if isinstance(a, str)]
        assert refused and all(a.startswith("503 ") for a in refused), answers
        assert all(a == 200 for a in answers if not isinstance(a, str)), answers
        assert "already open in" in refused[0] and "then reload this page" in refused[0]
        assert "http" not in refused[0].replace(url, ""), "the refusal page names nothing outside the machine"
        assert most[0] <= CAP
        # every kernel left idle and unconnected is shut down within the configured time
        _until(lambda: kernels() <= POOL, IDLE + EVERY + 30, "the idle kernels to be culled")
        gone = time.monotonic() - dropped
        print(f"idle kernels culled {gone:.0f} s after the last request (idle {IDLE} s, checks {EVERY} s)")
        assert gone <= IDLE + EVERY + 30
        # room again: the pool is refilled and a new visitor gets the page
        _until(lambda: kernels() == POOL, 60, "the preheated kernel to be started again")
        assert _status(url) == 200
    finally:
        watching[0] = False
        watcher.join()
    assert most[0] <= CAP, f"{most[0]} kernels ran at once; the cap is {CAP}"
    assert outside_requests == []
