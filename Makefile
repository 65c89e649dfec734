# The commands a newcomer types. Each target only forwards to `python -m tools.tasks <target>`
# (standard library only), which is also what a machine without make runs (README, "Without
# make"): one path, exercised by CI. The first task creates .venv and installs the course.
PYTHON ?= python3
PORT   ?= 8888
APP_PORT ?= 8866
# The folder JupyterLab opens: the lessons, or `make lab LAB_DIR=student` for the student copies.
LAB_DIR ?= notebooks

.PHONY: setup test lint notebooks student assignments site lab app bench fuzz clean

# Create .venv and install the course with the lab, test and teach extras (again only when
# pyproject.toml changed; the stamp is .venv/.installed).
setup:
	$(PYTHON) -m tools.tasks setup

# ruff, the static site when npm is there, then pytest: unit, property and brute-force tests,
# doctests, strict nbval on every lesson, browser tests.
test:
	$(PYTHON) -m tools.tasks test

lint:
	$(PYTHON) -m tools.tasks lint

# Re-execute every lesson and the calculator in place (outputs and widget state stored).
notebooks:
	$(PYTHON) -m tools.tasks notebooks

# Student copies of the lessons (solutions removed, self-checks kept) in student/.
student:
	$(PYTHON) -m tools.tasks student

# nbgrader source notebooks in assignments/ (solutions marked, autograded test cells added); then
# `cd assignments && ../.venv/bin/nbgrader generate_assignment 01_initial_margin` (docs/teaching.md).
assignments:
	$(PYTHON) -m tools.tasks assignments

# The course as static HTML in site/ (widgets, plots and formulas render with no network at all);
# the widget renderer, require.js and MathJax come from the npm registry at build time.
site:
	$(PYTHON) -m tools.tasks site

lab:
	$(PYTHON) -m tools.tasks lab --port $(PORT) --lab-dir $(LAB_DIR)

# The calculator page: Voilà with notebooks/app/voila.json, as the browser tests and the
# benchmarks start it (margin_lib.app_server).
app:
	$(PYTHON) -m tools.tasks app --port $(APP_PORT)

# The speed figures: the engine, kline loading, the widgets, the calculator's tabs, the server load.
bench:
	$(PYTHON) -m tools.tasks bench

# A long search for ledger bugs: the account's state machine on 20,000 random sequences (~20 min).
fuzz:
	$(PYTHON) -m tools.tasks fuzz

clean:
	$(PYTHON) -m tools.tasks clean
