"""docs/teaching.md is a guide a teacher can run a class from: its plans fit their time and name
real sections, every discussion question has an expected answer whose figures are the lessons',
and its deployment recipes agree with the project's files."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "docs" / "teaching.md").read_text("utf-8")
LESSONS = {p.stem: p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _cells(stem: str) -> list[dict]:
    return json.loads(LESSONS[stem].read_text("utf-8"))["cells"]


def _headings(stem: str) -> list[str]:
    """The lesson's ``## `` section names, as written after the hashes."""
    texts = ("".join(c["source"]) for c in _cells(stem) if c["cell_type"] == "markdown")
    return [t.splitlines()[0][3:].strip() for t in texts if t.startswith("## ")]


def _lesson_text(stem: str) -> str:
    """Everything a learner sees in a lesson: its cells' sources and their stored outputs."""
    parts = []
    for cell in _cells(stem):
        parts.append("".join(cell["source"]))
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            parts.append("".join(text) if isinstance(text, list) else text)
    return "\n".join(parts)


def _section(title: str, text: str = GUIDE) -> str:
    """The text under a heading (``## x`` or ``### x``), up to the next heading of its level or above."""
    match = re.search(rf"^(#+) {re.escape(title)}\s*$", text, re.M)
    assert match, f"docs/teaching.md has no heading {title!r}"
    level = len(match[1])
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[: end.start()] if end else rest


def _flat(text: str) -> str:
    """Text with its line breaks and runs of spaces made single spaces (prose wraps anywhere)."""
    return " ".join(text.split())


def _strip_code(text: str) -> str:
    return re.sub(r"```.*?```", "", text, flags=re.S)


# --- the plans -------------------------------------------------------------------------------


def _plan_rows(text: str) -> list[dict]:
    """The rows of a plan table: | min | lesson | sections taught | sections cut | how |."""
    rows = []
    for line in text.splitlines():
        m = re.match(r"^\|\s*(\d+)\s*\|(.*)\|\s*$", line)
        if not m:
            continue
        cells = [c.strip() for c in m[2].split("|")]
        assert len(cells) == 4, f"a plan row has 5 columns: {line}"
        lesson, taught, cut, how = cells
        split = lambda cell: [s.strip() for s in cell.split(";") if s.strip()]  # noqa: E731
        rows.append({"min": int(m[1]), "lesson": lesson.strip("`") if lesson != "—" else None,
                     "taught": split(taught), "cut": split(cut), "how": how})  # fmt: skip
    return rows


def _sessions() -> dict[str, tuple[int, list[dict], str]]:
    """Each session of each plan: (its length in minutes, its rows, the text around them)."""
    plan_a = _section("Plan A: one session of 90 minutes")
    plan_b = _section("Plan B: two sessions of 90 minutes")
    out = {"A": (90, _plan_rows(plan_a), plan_a)}
    parts = re.split(r"^\*\*Session (\d) \((\d+) minutes\)\.\*\*\s*$", plan_b, flags=re.M)
    assert len(parts) == 7, "Plan B has two sessions, each with its length"
    for number, length, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
        out[f"B{number}"] = (int(length), _plan_rows(body), body)
    return out


SESSIONS = _sessions()


@pytest.mark.parametrize("name", SESSIONS)
def test_a_plans_minutes_fit_its_session(name):
    length, rows, _ = SESSIONS[name]
    assert rows, f"session {name} has a table of minutes"
    total = sum(r["min"] for r in rows)
    assert total <= length, f"session {name} plans {total} minutes for a {length}-minute session"
    assert total >= length - 10, f"session {name} leaves {length - total} of {length} minutes unplanned"


@pytest.mark.parametrize("name", SESSIONS)
def test_every_section_a_plan_names_is_a_heading_of_that_lesson(name):
    _, rows, _ = SESSIONS[name]
    for row in rows:
        if row["lesson"] is None:
            assert not row["taught"] and not row["cut"]
            continue
        assert row["lesson"] in LESSONS, f"no lesson {row['lesson']}"
        headings = _headings(row["lesson"])
        for section in row["taught"] + row["cut"]:
            assert section in headings, f"{row['lesson']} has no section {section!r}"
        assert not set(row["taught"]) & set(row["cut"]), f"{row['lesson']}: taught and cut at once"
        numbered = {h for h in headings if re.match(r"\d+\. ", h)} | {"Exercises", "Quiz"}
        missing = numbered - set(row["taught"]) - set(row["cut"])
        assert not missing, f"{row['lesson']}: say whether these are taught or cut: {sorted(missing)}"


def test_every_lesson_is_in_each_plan_or_named_as_cut():
    plans = {"A": ["A"], "B": ["B1", "B2"]}
    for plan, names in plans.items():
        taught = {r["lesson"] for n in names for r in SESSIONS[n][1] if r["lesson"]}
        title = "one session of 90 minutes" if plan == "A" else "two sessions of 90 minutes"
        text = _section(f"Plan {plan}: {title}")
        cut_line = re.search(r"Lessons? cut entirely:(.*?)(?:\n\n|$)", text, re.S)
        assert cut_line, f"plan {plan} says which lessons it cuts entirely"
        cut = set(re.findall(r"`(\d\d_\w+)`", cut_line[1]))
        assert taught | cut == set(LESSONS) and not taught & cut, f"plan {plan}: {taught} / {cut}"
        assert {"03_isolated_margin", "04_cross_margin", "05_comparison"} <= taught, (
            f"plan {plan} must keep the isolated/cross lessons, the course's aim"
        )


def test_the_full_course_times_add_up_as_the_guide_says():
    minutes = {}
    for m in re.finditer(r"^\| (\d) \| `(\d\d_\w+)` \| (\d+) \|", GUIDE, re.M):
        minutes[m[2]] = int(m[3])
    assert set(minutes) == set(LESSONS)
    first = sum(v for k, v in minutes.items() if int(k[:2]) <= 5)
    second = sum(minutes.values()) - first
    guide = _flat(GUIDE)
    assert f"takes {first + second} minutes" in guide
    assert f"short course of {first} minutes" in guide and f"{second} minutes more" in guide
    assert f"Lessons 1–5 ({first} minutes)" in guide and f"lessons 6–9 ({second} minutes)" in guide


# --- discussion questions --------------------------------------------------------------------

QUESTION = re.compile(r"^### (D\d+) \(`(\d\d_\w+)`\)\s*$", re.M)


def _questions() -> dict[str, tuple[str, str, str]]:
    """key -> (lesson, question, expected answer)."""
    text = _section("Discussion questions and expected answers")
    found = {}
    blocks = QUESTION.split(text)[1:]
    for key, stem, body in zip(blocks[0::3], blocks[1::3], blocks[2::3], strict=True):
        q = re.search(r"\*\*Question\.\*\*(.*?)(?=\*\*Expected answer\.\*\*)", body, re.S)
        a = re.search(r"\*\*Expected answer\.\*\*(.*)", body, re.S)
        assert q and a, f"{key} needs a **Question.** and an **Expected answer.**"
        found[key] = (stem, " ".join(q[1].split()), " ".join(a[1].split()))
    return found


QUESTIONS = _questions()


def test_every_lesson_has_a_discussion_question_with_an_expected_answer():
    assert list(QUESTIONS) == [f"D{i}" for i in range(1, len(QUESTIONS) + 1)], "D1, D2, ... in order"
    assert {stem for stem, _, _ in QUESTIONS.values()} == set(LESSONS)
    for key, (stem, question, answer) in QUESTIONS.items():
        assert stem in LESSONS, f"{key} names no lesson"
        assert question.endswith("?"), f"{key}'s question must be a question"
        assert len(answer.split()) >= 50, f"{key}'s expected answer is too thin to steer a discussion"


def test_every_discussion_prompt_in_the_lessons_has_an_expected_answer_here():
    """A lesson that asks learners to discuss something names the guide's key for it (D1, ...)."""
    for stem in LESSONS:
        for cell in _cells(stem):
            text = "".join(cell["source"])
            if cell["cell_type"] == "markdown" and re.search(r"\bdiscuss(ion)?\b", text, re.I):
                keys = set(re.findall(r"\bD\d+\b", text))
                assert keys and keys <= set(QUESTIONS), f"{stem}: a discussion prompt with no answered key"


@pytest.mark.parametrize("key", list(QUESTIONS))
def test_the_figures_an_expected_answer_cites_are_the_lessons_own(key):
    stem, _, answer = QUESTIONS[key]
    lesson = _lesson_text(stem)
    figures = re.findall(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+", answer)
    assert figures, f"{key}'s answer quotes the lesson's figures"
    missing = [f for f in figures if f not in lesson]
    assert not missing, f"{key} cites figures {stem} does not show: {missing}"


def test_the_plans_point_to_questions_that_exist():
    for name, (_, rows, _) in SESSIONS.items():
        for row in rows:
            for key in re.findall(r"\bD\d+\b", row["how"]):
                assert key in QUESTIONS, f"session {name} points to {key}, which has no answer here"
                assert QUESTIONS[key][0] == row["lesson"], f"{key} belongs to {QUESTIONS[key][0]}"


# --- assessment and deployment ---------------------------------------------------------------


def test_the_nbgrader_steps_match_the_tools():
    text = _flat(_section("The exercises: graded with nbgrader"))
    for step in ("make assignments", "nbgrader generate_assignment", "nbgrader autograde", "nbgrader export"):
        assert step in text
    assert "source/<lesson>/<lesson>.ipynb" in text and "### BEGIN SOLUTION" in text
    assert "`teach` extra" in text and "teach" in PYPROJECT["project"]["optional-dependencies"]
    assert "alembic" in text, "say why nbgrader must run from the course's environment"
    points = len(LESSONS) * 4
    assert f"{points} for the course" in text


def _specs(command: str) -> list[str]:
    return re.findall(r"\"(\.\[[a-z,]+\]|[A-Za-z][\w.-]*[<>=!~]+[\w.]+)\"", command)


def test_the_wheelhouse_commands_name_the_projects_own_extras_and_build_tool():
    text = _section("A classroom without internet: a wheelhouse")
    download = re.search(r"^python -m pip download -d wheelhouse (.*)$", text, re.M)
    offline = r"^\.venv/bin/python -m pip install --no-index --find-links wheelhouse (.*)$"
    install = re.search(offline, text, re.M)
    assert download and install, "the two commands, pip download and pip install --no-index"
    extras = PYPROJECT["project"]["optional-dependencies"]
    got = [set(s[2:-1].split(",")) for s in _specs(download[1]) + _specs(install[1]) if s.startswith(".[")]
    assert len(got) == 2 and got[0] == got[1] == {"lab"}, "learners get the library and the servers"
    for named in re.findall(r"\"\.\[([a-z,]+)\]\"", text):
        assert set(named.split(",")) <= set(extras), f"no extra {named!r} in pyproject.toml"
    for requirement in PYPROJECT["build-system"]["requires"]:
        assert f'"{requirement}"' in download[1], f"the wheelhouse needs the build tool {requirement}"
    from tools import tasks

    assert "touch .venv/.installed" in text and tasks.STAMP == ROOT / ".venv" / ".installed"


def test_the_binder_section_names_environment_yml_and_what_it_builds():
    text = _section("Binder")
    assert "`environment.yml`" in text
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    for dep in env["dependencies"]:
        if isinstance(dep, str) and dep != "pip":
            name = re.match(r"[A-Za-z_.-]+", dep)[0]
            assert name.lower() in text.lower(), f"the Binder section should say it installs {name}"
    pip_part = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "pip install -e ." in text and "-e ." in pip_part
    badge = re.search(r"\[!\[Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]\((\S+)\)", text)
    assert badge and "/v2/gh/<your-org>/<repo>/" in badge[1] and "<your-org>/<repo>" in text
    target = parse_qs(urlsplit(badge[1]).query)["urlpath"][0].removeprefix("lab/tree/")
    assert (ROOT / target).exists(), f"the badge opens {target}, which the repository does not hold"


def test_the_nbgitpuller_link_has_its_parts_and_opens_a_real_lesson():
    text = _section("JupyterHub, with an nbgitpuller link")
    link = re.search(r"^\s*(https://\S+/hub/user-redirect/git-pull\?\S+)$", text, re.M)
    assert link, "a full nbgitpuller link"
    query = parse_qs(urlsplit(link[1]).query)
    assert set(query) == {"repo", "branch", "urlpath"}
    assert unquote(query["repo"][0]) == "https://github.com/<your-org>/<repo>"
    urlpath = unquote(query["urlpath"][0])
    assert urlpath.startswith("lab/tree/<repo>/")
    assert (ROOT / urlpath.removeprefix("lab/tree/<repo>/")).exists()
    for part in ("repo=", "branch=", "urlpath=", "user-redirect"):
        assert f"`{part}" in text or f"/{part}" in text, f"the table explains {part}"


def test_the_static_site_and_jupyterlite_are_described_honestly():
    site = _flat(_section("The static site, for reading only"))
    assert "make site" in site and "site/index.html" in site
    assert "What works" in site and "What does not" in site and "solutions" in site
    lite = _flat(_section("No browser-only version yet"))
    assert "JupyterLite" in lite and "not offered" in lite
    for word in ("numpy", "matplotlib", "PyPI", "npm", "Pyodide"):
        assert word in lite, f"say why JupyterLite is not offered: {word}"


def test_the_guide_loads_nothing_and_keeps_the_disclaimer():
    prose = _strip_code(GUIDE)
    assert not re.search(r"<\s*(script|iframe|img|link)\b", GUIDE, re.I), "no scripts, frames or images"
    assert not re.search(r"!\[[^\]]*\]\(https?://", prose), "no image fetched from elsewhere outside code"
    assert "educational material, not trading advice" in GUIDE.lower()
    titles = re.findall(r"^#+ (.+)$", _strip_code(GUIDE), re.M)
    slugs = {re.sub(r"[^\w\- ]", "", t.lower()).replace(" ", "-") for t in titles}
    for anchor in re.findall(r"\]\(#([\w-]+)\)", GUIDE):  # the contents links point at headings
        assert anchor in slugs, f"the link #{anchor} points at no heading"
