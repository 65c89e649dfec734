"""The course's commands, the same on every system: ``python -m tools.tasks <task>``.

On Linux and macOS ``make <task>`` runs exactly this (the Makefile only forwards), so Windows,
with no ``make``, types ``py -m tools.tasks test`` and gets what CI tests. Only the standard
library is used: the first task creates ``.venv`` and installs the course into it, and every
later step runs with that environment's Python.

Tasks: setup, test, lint, notebooks, student, assignments, site, lab, app, bench, fuzz, clean. Options:
``--port`` (lab, app), ``--lab-dir`` (lab: ``notebooks`` or ``student``), ``--dry-run`` (print
the commands instead of running them).

>>> plan("lint")[0][-3:]
['ruff', 'check', '.']
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path

if sys.version_info < (3, 10):  # noqa: UP036 - run by the system's Python, whatever it is
    raise SystemExit("Python 3.10+ is required")

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
STAMP = VENV / ".installed"
EXTRAS = "lab,test,teach"  # what `setup` installs: the notebook servers, the test tools, nbgrader
SITE_JS = Path("build") / "site-js"
SITE_PACKAGES = ("@jupyter-widgets/html-manager@1", "requirejs@2", "mathjax@2.7.9")
NBVAL = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg"]

Command = list[str]


def venv_python(root: Path = ROOT, windows: bool | None = None) -> Path:
    """The course environment's Python: ``.venv/bin/python``, or ``.venv\\Scripts\\python.exe``
    on Windows (``windows`` defaults to this system)."""
    windows = os.name == "nt" if windows is None else windows
    return root / ".venv" / ("Scripts/python.exe" if windows else "bin/python")


def _py(*args: str) -> Command:
    return [str(venv_python()), *args]


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _setup(dry: bool) -> list[Command]:
    """Create ``.venv`` and install the course (again only when pyproject.toml changed)."""
    fresh = STAMP.exists() and STAMP.stat().st_mtime >= (ROOT / "pyproject.toml").stat().st_mtime
    if fresh and venv_python().exists():
        return []
    if not venv_python().exists() and not dry:
        print(f"creating {VENV.name} with {sys.executable}", flush=True)
        venv.create(VENV, with_pip=True)
    steps = [
        _py("-m", "pip", "install", "--quiet", "--upgrade", "pip"),
        _py("-m", "pip", "install", "--quiet", "-e", f".[{EXTRAS}]"),
        # matplotlib's font cache built now, so its warning never lands in a lesson's output
        _py("-c", "import matplotlib.pyplot"),
    ]
    return steps


def _lint() -> list[Command]:
    return [_py("-m", "ruff", "check", ".")]


def _site() -> list[Command]:
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("the site task needs npm (Node.js)")
    return [
        [npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(SITE_JS), *SITE_PACKAGES],
        _py("-m", "tools.site", "--js", str(SITE_JS / "node_modules"), "--out", "site"),
    ]


def _test() -> list[Command]:
    """ruff, then the static site when npm is there (its browser test needs it), then pytest."""
    steps = _lint()
    if shutil.which("npm"):
        steps += _site()
    else:
        print("npm not found: the static site is not built and its browser test will be skipped.")
    return steps + [_py("-m", "pytest", *NBVAL, "tests", "margin_lib", "tools", "notebooks")]


def _notebooks() -> list[Command]:
    lessons = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
    apps = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks" / "app").glob("*.ipynb"))
    return [_py("-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                "--ExecutePreprocessor.timeout=120", *lessons, *apps)]  # fmt: skip


def _lab(port: int, lab_dir: str) -> list[Command]:
    print(f"Starting JupyterLab on 127.0.0.1:{port}; open the URL it prints below (Ctrl-C to stop).")
    # a kernel left idle for an hour with no tab open is shut down (checked every 5 minutes)
    cmd = _py("-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
              f"--ServerApp.root_dir={lab_dir}", "--MappingKernelManager.cull_idle_timeout=3600",
              "--MappingKernelManager.cull_interval=300")  # fmt: skip
    return [cmd + (["--allow-root"] if _is_root() else [])]  # JupyterLab refuses root unless told


def _app(port: int) -> list[Command]:
    """The calculator page: Voilà with notebooks/app/voila.json (margin_lib.app_server prints the URL)."""
    return [_py("-m", "margin_lib.app_server", f"--port={port}")]


def _bench() -> list[Command]:
    browser = ["--browser"] if Path("/usr/bin/chromium").exists() else []
    if not browser:
        print("(no /usr/bin/chromium: widget timings in the kernel only)")
    return [_py("benchmarks/bench_engine.py"), _py("benchmarks/bench_klines.py"),
            _py("benchmarks/bench_widgets.py", *browser),
            _py("benchmarks/bench_calculator_tabs.py"),  # its browser figures: bench_widgets.py --browser
            _py("benchmarks/bench_app_load.py")]  # fmt: skip


def _clean() -> list[Command]:
    for name in (".venv", ".pytest_cache", ".hypothesis", ".ruff_cache", "site", "build"):
        shutil.rmtree(ROOT / name, ignore_errors=True)
    return []


def plan(task: str, *, port: int | None = None, lab_dir: str = "notebooks", dry: bool = False,
         ) -> list[Command]:  # fmt: skip
    """The commands ``task`` runs, in order, once :func:`_setup`'s have run."""
    tasks: dict[str, Callable[[], list[Command]]] = {
        "setup": lambda: [],
        "test": _test,
        "lint": _lint,
        "notebooks": _notebooks,
        "student": lambda: [_py("-m", "tools.classroom", "notebooks", "student")],
        "assignments": lambda: [_py("-m", "tools.assignments", "notebooks", "assignments")],
        "site": _site,
        "lab": lambda: _lab(port or 8888, lab_dir),
        "app": lambda: _app(port or 8866),
        "bench": _bench,
        "fuzz": lambda: [_py("benchmarks/fuzz_ledger.py")],
        "clean": lambda: [] if dry else _clean(),
    }
    if task not in tasks:
        raise SystemExit(f"unknown task {task!r}; choose from: {', '.join(tasks)}")
    return tasks[task]()


def _run(commands: list[Command], dry: bool) -> int:
    for cmd in commands:
        if dry:
            print(subprocess.list2cmdline(cmd))
            continue
        try:
            code = subprocess.run(cmd, check=False).returncode
        except KeyboardInterrupt:  # Ctrl-C stops a server (lab, app): a normal way to finish
            return 130
        if code:
            return code
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.tasks", description=__doc__.splitlines()[0])
    parser.add_argument("task")
    parser.add_argument("--port", type=int, default=None, help="lab (8888) and app (8866)")
    parser.add_argument("--lab-dir", default="notebooks", help="the folder JupyterLab opens")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    if args.task != "clean":
        code = _run(_setup(args.dry_run), args.dry_run)
        if code:
            return code
        if not args.dry_run:
            STAMP.touch()
    return _run(plan(args.task, port=args.port, lab_dir=args.lab_dir, dry=args.dry_run), args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
