"""environment.yml (conda, Binder) must mirror pyproject.toml (the source of truth) for what a
learner needs, the library stays lean, and the project's commands are wired as the README promises."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
# PyPI name -> conda-forge name, where they differ
CONDA_NAME = {}
_REQ = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:>=\s*([0-9][0-9.]*))?\s*(?:;.*)?$")


def _parse(req: str) -> tuple[str, str | None, str]:
    m = _REQ.match(req)
    assert m, f"requirement {req!r} must be 'name' or 'name>=version' (optionally with a marker)"
    marker = req.split(";", 1)[1].strip() if ";" in req else ""
    return m.group(1).lower(), m.group(2), marker


def _pyproject() -> dict[str, str | None]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + list(project["optional-dependencies"]["lab"])
    out = {}
    for req in reqs:
        name, low, marker = _parse(req)
        if marker:  # back-ports for old Pythons (tomli) have no place in a conda file for 3.10+
            assert "python_version" in marker, f"{req}: only python_version markers are expected"
            continue
        out[CONDA_NAME.get(name, name)] = low
    return out


def _environment() -> tuple[dict[str, str | None], list]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    out, pip = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip.extend(dep.get("pip", []))
            continue
        assert "=" not in dep.replace(">=", ""), f"{dep}: no pins or build strings in environment.yml"
        name, low, _ = _parse(dep)
        out[name] = low
    return out, pip


def _version(text: str | None) -> tuple[int, ...]:
    return tuple(int(x) for x in (text or "0").split("."))


def test_environment_yml_lists_the_same_packages_as_pyproject():
    py = _pyproject()
    env, pip = _environment()
    extra = set(env) - set(py) - {"python", "pip"}
    assert set(py) - set(env) == set(), "packages in pyproject.toml missing from environment.yml"
    assert extra == set(), "packages in environment.yml missing from pyproject.toml"
    assert "-e ." in pip, "environment.yml must install the course package itself"


def test_bounds_are_compatible():
    py = _pyproject()
    env, _ = _environment()
    for name, low in py.items():
        assert _version(env[name]) == _version(low), (
            f"{name}: pyproject >= {low}, environment.yml >= {env[name]}"
        )
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires.replace(" ", "") == ">=" + env["python"]


def test_ci_calls_make_test_and_makefile_installs_what_tests_need():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "|| true" not in ci
    from tools import tasks

    assert "test:\n\t$(PYTHON) -m tools.tasks test\n" in (ROOT / "Makefile").read_text()
    # the teach extra (nbgrader) too, so `make test` runs the autograding test rather than skip it
    assert tasks.EXTRAS == "lab,test,teach"
    assert tasks.VENV == ROOT / ".venv" and tasks.STAMP == ROOT / ".venv" / ".installed"
    (lab,) = tasks.plan("lab")
    assert "--ip=127.0.0.1" in lab


def test_the_library_installs_lean_and_holds_no_course_building_tools():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_parse(req)[0] for req in project["dependencies"]}
    assert runtime == {"numpy", "matplotlib", "pillow", "ipywidgets"}
    servers = {_parse(req)[0] for req in project["optional-dependencies"]["lab"]}
    assert servers == {"ipykernel", "jupyterlab", "voila"}
    env, _ = _environment()
    testing = {_parse(req)[0] for req in project["optional-dependencies"]["test"]}
    assert not testing & set(env), "the test tools stay out of the learners' environment"
    teaching = {_parse(req)[0] for req in project["optional-dependencies"]["teach"]}
    assert teaching == {"nbgrader"} and not teaching & set(env), "nbgrader is for teachers only"
    for tool in ("site.py", "classroom.py"):  # course-building, not for learners to import
        assert not (ROOT / "margin_lib" / tool).exists()
    assert (ROOT / "tools" / "site.py").exists() and (ROOT / "tools" / "classroom.py").exists()


def test_bracket_snapshots_ship_inside_the_package():
    tomltext = (ROOT / "pyproject.toml").read_text()
    assert "data/brackets/*.json" in tomltext
    assert sorted(p.stem for p in (ROOT / "margin_lib" / "data" / "brackets").glob("*.json")) == [
        "BTCUSDT",
        "BTCUSDT-2021",
        "ETHUSDT",
    ]
