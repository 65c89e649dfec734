"""Serving the calculator page: ``python -m margin_lib.app_server [--port N]`` (``make app``).

The one way to start the page, used by ``make app``, the browser tests and the benchmark alike:
Voilà on ``notebooks/app/margin_calculator.ipynb`` with the settings of
``notebooks/app/voila.json`` (:data:`CONFIG`) and the page template of
``notebooks/app/share/voila/templates/calculator`` (found through ``JUPYTER_PATH``). Those
settings are Voilà's and jupyter_server's own:

* the server listens on 127.0.0.1 only, and the template fetches nothing from another machine
  (Voilà's own template links FontAwesome from a CDN; the page shows no icons);
* one kernel is kept *preheated* (``VoilaConfiguration.preheat_kernel``, ``default_pool_size``):
  it has already run the notebook when a page is asked for, so the page shows its numbers
  sooner; another is started for the next visitor;
* a kernel whose page is closed is shut down at once (Voilà's page asks for it), and one whose
  page went away without saying so (a dropped connection, a bare request) is shut down once it
  has been idle and unconnected for ``MappingKernelManager.cull_idle_timeout`` seconds,
  checked every ``cull_interval`` seconds;
* at most :attr:`CappedKernelManager.max_kernels` kernels run at once, the preheated one
  included. Neither Voilà nor jupyter_server has that setting (Voilà's issue 617), so
  :class:`CappedKernelManager` adds it: a page asked for beyond the cap gets a 503 page that
  says, in a sentence, what to do.

>>> command(9000)[1:]
['-m', 'margin_lib.app_server', '--port=9000']
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado.web import HTTPError
from traitlets import Integer

__all__ = ["APP_DIR", "NOTEBOOK", "CONFIG", "TEMPLATES", "CappedKernelManager", "command", "voila_command",
           "environment", "settings", "Server", "served", "main"]  # fmt: skip

APP_DIR = Path(__file__).resolve().parents[1] / "notebooks" / "app"
NOTEBOOK = APP_DIR / "margin_calculator.ipynb"
CONFIG = APP_DIR / "voila.json"
#: Put on ``JUPYTER_PATH``: it holds ``voila/templates/calculator``.
TEMPLATES = APP_DIR / "share"

#: What a visitor beyond the cap reads.
FULL = ("The calculator is already open in {n} tabs or windows, the most this server runs at once. "
        "Close one of them (or wait a minute: a page left without a connection is closed after "
        "{idle} seconds), then reload this page.")  # fmt: skip


def settings() -> dict[str, Any]:
    """The settings in :data:`CONFIG` (the tests read the culling times from here)."""
    return json.loads(CONFIG.read_text(encoding="utf-8"))


class CappedKernelManager(AsyncMappingKernelManager):
    """jupyter_server's kernel manager with a cap on the number of kernels running at once.

    A start beyond the cap raises a 503 whose message says what to do. When a kernel is shut
    down (its page closed, or culled), Voilà's pool of preheated kernels is topped up again, in
    case a start was refused while the server was full.
    """

    max_kernels = Integer(8, config=True, help="The most kernels running at once (preheated ones included).")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._starting = 0
        self._closing = False

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:
        """Start a kernel, or refuse with a 503 when :attr:`max_kernels` already run."""
        if len(self.list_kernel_ids()) + self._starting >= self.max_kernels:
            idle = self.cull_idle_timeout
            raise HTTPError(503, FULL.format(n=self.max_kernels, idle=idle), reason="Too many pages open")
        self._starting += 1
        try:
            return await super().start_kernel(*args, **kwargs)
        finally:
            self._starting -= 1

    async def shutdown_kernel(self, kernel_id: str, *args: Any, **kwargs: Any) -> None:
        """Shut the kernel down, then top up the preheated pool (room has been made)."""
        await super().shutdown_kernel(kernel_id, *args, **kwargs)
        if not self._closing:
            self._refill()

    async def shutdown_all(self, *args: Any, **kwargs: Any) -> None:
        """Shut every kernel down (the server is stopping: nothing is refilled)."""
        self._closing = True
        await super().shutdown_all(*args, **kwargs)

    def _refill(self) -> None:
        """Drop the pool's refused starts and start what the pool lacks (Voilà's pool, when
        preheating is on; nothing otherwise)."""
        pools = getattr(self, "_pools", None)
        fill = getattr(self, "fill_if_needed", None)
        notebook = getattr(self, "notebook_path", None)
        if pools is None or fill is None or notebook is None:
            return
        refused = [t for t in pools.get(notebook, []) if t.done() and (t.cancelled() or t.exception())]
        pools[notebook] = [t for t in pools.get(notebook, []) if t not in refused]
        fill(delay=0, notebook_name=notebook)


def environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (the process's environment by default) with :data:`TEMPLATES` first on
    ``JUPYTER_PATH``, where Voilà looks for templates."""
    env = dict(os.environ if base is None else base)
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(TEMPLATES), env.get("JUPYTER_PATH", "")) if p)
    return env


def command(port: int, *extra: str) -> list[str]:
    """The command that serves the page on 127.0.0.1:``port``: what ``make app`` runs, and the
    browser tests and the benchmarks too (``extra`` Voilà settings go last, see :func:`main`)."""
    return [sys.executable, "-m", "margin_lib.app_server", f"--port={port}", *extra]


@dataclass
class Server:
    """A page being served by :func:`served`: its address and the server's process id; once
    stopped, how many of its processes (kernels) it had, how many outlived it and had to be
    killed, and how many are still running (none, unless one could not be killed)."""

    url: str
    pid: int
    started: int = 0
    killed: int = 0
    left: int = 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(*extra: str, timeout: float = 120.0) -> Iterator[Server]:
    """The page served as ``make app`` serves it, on a free port of 127.0.0.1, with ``extra``
    Voilà settings; for the browser tests and the benchmarks.

    Yields once the server answers (asking for a static file starts no kernel); on leaving, even
    after an error, stops the server and every process it started (a kernel that outlives it is
    killed and counted in :attr:`Server.killed`). Raises ``RuntimeError`` when the server stops,
    or does not answer within ``timeout`` seconds.
    """
    port = _free_port()
    proc = subprocess.Popen(command(port, *extra), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}/", proc.pid)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(server.url + "voila/static/voila.js", timeout=5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the calculator page did not start on port {port} within "
                                       f"{timeout:g} s") from None  # fmt: skip
                time.sleep(0.5)
        yield server
    finally:
        # kernels run in sessions of their own: found as the server's children, before it stops
        try:
            started = psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []
        except psutil.Error:
            started = []
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        _, alive = psutil.wait_procs(started, timeout=15)
        for leftover in alive:
            with contextlib.suppress(psutil.Error):
                leftover.kill()
        _, still = psutil.wait_procs(alive, timeout=15)
        server.started, server.killed, server.left = len(started), len(alive), len(still)


def voila_command(port: int, *extra: str) -> list[str]:
    """Voilà on the notebook with :data:`CONFIG`, run by :func:`main` with :func:`environment`;
    ``extra`` settings (``--CappedKernelManager.max_kernels=40``, for a load test) come last and
    win over the file's."""
    return [sys.executable, "-m", "voila", str(NOTEBOOK), f"--port={port}",
            f"--Voila.config_file_paths={APP_DIR}", *extra]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Serve the page until Ctrl-C: ``python -m margin_lib.app_server --port 8866`` (any further
    ``--Class.setting=value`` goes to Voilà)."""
    parser = argparse.ArgumentParser(description="Serve the margin calculator on 127.0.0.1 (Voilà).")
    parser.add_argument("--port", type=int, default=settings()["Voila"]["port"])
    known, extra = parser.parse_known_args(argv)
    print(f"Serving the margin calculator at http://127.0.0.1:{known.port}/ (Ctrl-C to stop).", flush=True)
    cmd = voila_command(known.port, *extra)
    os.execve(cmd[0], cmd, environment())  # Voilà takes this process's place (and its signals)


if __name__ == "__main__":
    main()
