"""One path for the course's commands: `make <task>` forwards to `python -m tools.tasks <task>`,
which is what the README gives for a machine without make (Windows), and what CI runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools import tasks

ROOT = Path(__file__).resolve().parents[1]


def _make_targets() -> dict[str, list[str]]:
    """Each Makefile target (not the .PHONY line) and its recipe lines."""
    targets: dict[str, list[str]] = {}
    current = None
    for line in (ROOT / "Makefile").read_text().splitlines():
        if line.startswith("\t") and current is not None:
            targets[current].append(line.strip())
        elif m := re.match(r"^([a-z][a-z-]*):", line):
            current = m.group(1)
            targets[current] = []
        elif not line.startswith("#"):
            current = None if line.strip() and "=" in line else current
    return targets


def test_every_make_target_only_forwards_to_the_task_of_the_same_name():
    targets = _make_targets()
    assert set(targets) >= {"test", "lab", "app", "site", "student", "notebooks", "bench", "lint"}
    for name, recipe in targets.items():
        assert len(recipe) == 1, f"make {name} should be one line forwarding to tools.tasks: {recipe}"
        assert re.match(rf"^\$\(PYTHON\) -m tools\.tasks {name}( |$)", recipe[0]), recipe[0]
        tasks.plan(name, dry=True)  # a task of that name exists (an unknown one exits)


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci/run").read_text()


def test_readme_gives_the_same_commands_without_make():
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"-m tools\.tasks ([a-z]+)", readme))
    assert {"test", "lab", "app"} <= named
    for name in named:
        tasks.plan(name, dry=True)


def test_the_test_task_lints_then_runs_pytest_with_strict_nbval_over_everything():
    steps = tasks.plan("test", dry=True)
    assert steps[0][-3:] == ["ruff", "check", "."]
    pytest_run = steps[-1]
    assert pytest_run[1:3] == ["-m", "pytest"] and "--nbval" in pytest_run
    assert pytest_run[-4:] == ["tests", "margin_lib", "tools", "notebooks"]


def test_every_step_runs_with_the_course_environment_s_python():
    for name in ("test", "notebooks", "student", "lab", "app", "fuzz"):
        for cmd in tasks.plan(name, dry=True):
            if Path(cmd[0]).name != "npm":
                assert cmd[0] == str(ROOT / ".venv" / "bin" / "python"), (name, cmd)


def test_on_windows_the_environment_s_python_is_in_scripts():
    assert tasks.venv_python(Path("course"), windows=True) == Path("course/.venv/Scripts/python.exe")
    assert tasks.venv_python(Path("course"), windows=False) == Path("course/.venv/bin/python")


def test_lab_binds_loopback_and_takes_a_port_and_folder():
    (cmd,) = tasks.plan("lab", port=9999, lab_dir="student", dry=True)
    assert "--ip=127.0.0.1" in cmd and "--port=9999" in cmd and "--ServerApp.root_dir=student" in cmd


def test_an_unknown_task_names_the_tasks_there_are():
    with pytest.raises(SystemExit, match="unknown task 'tset'; choose from: setup, test"):
        tasks.plan("tset")


def test_a_dry_run_prints_the_commands_and_runs_nothing():
    out = subprocess.run([sys.executable, "-m", "tools.tasks", "lint", "--dry-run"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    assert out.strip().splitlines()[-1].endswith("-m ruff check .")


def test_the_server_load_benchmark_runs_and_leaves_nothing_behind():
    """benchmarks/bench_app_load.py, at its smallest (one session, two moves): it serves the
    page, times the moves, closes the session and stops the server with no process left."""
    pytest.importorskip("psutil")
    cmd = [sys.executable, "benchmarks/bench_app_load.py", "--levels", "1", "--duration", "2"]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True, timeout=300).stdout
    row = next(line.split() for line in out.splitlines() if line.split()[:1] == ["1"])
    assert row[1].endswith("ms") and row[-1] in ("yes", "NO")
    said = r"server stopped; of its (\d+) processes, (\d+) had to be killed; (\d+) still running"
    stopped = re.search(said, out)
    assert stopped and int(stopped[1]) >= 1 and int(stopped[3]) == 0, out
