# The commands a newcomer types. Each one creates .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
# The folder JupyterLab opens: the lessons, or `make lab LAB_DIR=student` for the student copies.
LAB_DIR ?= notebooks
# JupyterLab refuses to run as root unless told to; add the flag only when needed.
ROOT_FLAG := $(shell [ "$$(id -u)" = "0" ] && echo --allow-root)

.PHONY: test lint notebooks student assignments site lab app bench fuzz clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10+ is required"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lab,test,teach]"
	@# Build matplotlib's font cache now, so its warning never lands in a lesson's output.
	$(BIN)/python -c "import matplotlib.pyplot"
	@touch $(STAMP)

NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

# Unit, property and brute-force tests, doctests, strict nbval on every lesson, browser tests.
# The static site is built first when npm is available (its offline browser test needs it).
test: $(STAMP) lint
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory site; \
	else echo "npm not found: the static site is not built and its browser test will be skipped."; fi
	$(BIN)/python -m pytest $(NBVAL) tests margin_lib tools notebooks

# Re-execute every lesson in place (outputs and widget state stored), after changing one.
notebooks: $(STAMP)
	$(BIN)/python -m jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=120 notebooks/[0-9]*.ipynb notebooks/app/*.ipynb

lint: $(STAMP)
	$(BIN)/python -m ruff check .

# Student copies of the lessons (solutions removed, self-checks kept) in student/.
student: $(STAMP)
	$(BIN)/python -m tools.classroom notebooks student

# nbgrader source notebooks in assignments/ (solutions marked, autograded test cells added); then
# `cd assignments && ../.venv/bin/nbgrader generate_assignment 01_initial_margin` (docs/teaching.md).
assignments: $(STAMP)
	$(BIN)/python -m tools.assignments notebooks assignments

# The course as static HTML in site/ (widgets, plots and formulas render with no network at all);
# the widget renderer, require.js and MathJax come from the npm registry at build time.
SITE_JS := build/site-js
site: $(STAMP)
	@command -v npm >/dev/null 2>&1 || { echo "make site needs npm (Node.js)"; exit 1; }
	npm install --silent --no-audit --no-fund --prefix $(SITE_JS) @jupyter-widgets/html-manager@1 requirejs@2 mathjax@2.7.9
	$(BIN)/python -m tools.site --js $(SITE_JS)/node_modules --out site

lab: $(STAMP)
	@echo "Starting JupyterLab on 127.0.0.1; open the URL it prints below (Ctrl-C to stop)."
	$(BIN)/python -m jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG) \
		--ServerApp.root_dir=$(LAB_DIR)

# The calculator page, served by Voila (no code shown, no token on 127.0.0.1).
APP_PORT ?= 8866
# Voilà with notebooks/app/voila.json, as the browser tests and the benchmark start it.
app: $(STAMP)
	$(BIN)/python -m margin_lib.app_server --port=$(APP_PORT)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_klines.py
	@if [ -x /usr/bin/chromium ]; then $(BIN)/python benchmarks/bench_widgets.py --browser; \
	else echo "(no /usr/bin/chromium: widget timings in the kernel only)"; $(BIN)/python benchmarks/bench_widgets.py; fi

# A long search for ledger bugs: the account's state machine on 20,000 random sequences (~20 min).
fuzz: $(STAMP)
	$(BIN)/python benchmarks/fuzz_ledger.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache site build
