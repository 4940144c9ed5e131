# fcnbook: every target is idempotent and sets up what it needs from nothing.
#   make book   venv + data + full-profile report in book/_build/html, from the shipped results (RETRAIN=1:
#               recompute every result into a fresh folder, results-retrain/)
#   make quick  the whole book with the quick profile (a preview: its results go to results-quick/, git-ignored)
#   make test   venv + data + Chromium + poppler + PostgreSQL + the test suite
#   make test-fast  the unit tests and docstring examples only: no `slow`, `browser` or `heavy` test (see below)
#   make bench  side-by-side performance measurements (benchmarks/latest.json)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
MATHJAX := node_modules/mathjax/es5/tex-chtml.js
PROFILE ?= full
RETRAIN ?=

.PHONY: setup data book quick pdf test test-fast bench chromium poppler postgresql lint clean

setup: $(STAMP) $(MATHJAX)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is needed, found " + sys.version' \
	  || { echo "make setup: Python >= 3.11 is needed (set PYTHON=/path/to/python3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# MathJax is served from the built book itself, so the HTML loads nothing from the network.
$(MATHJAX): package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $(MATHJAX)

data: $(STAMP)
	$(BIN)/fcnbook data fetch

book: setup data
	$(BIN)/fcnbook book --profile $(PROFILE) $(if $(RETRAIN),--retrain)

# The preview never touches the shipped results/: fcnbook.paths gives the quick profile results-quick/.
quick:
	$(MAKE) book PROFILE=quick

# The whole book as one PDF, book/_build/pdf/fcnbook.pdf: the sections, Jupyter Book's singlehtml build, printed by
# Debian's Chromium (Jupyter Book's pdfhtml builder would download a browser).
pdf: setup data chromium
	$(BIN)/fcnbook book --profile $(PROFILE) --pdf

# Debian's Chromium drives the browser tests (no browser download); installed when missing and we are root.
chromium:
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "make chromium: Chromium is missing; run: sudo apt-get install -y chromium (browser tests will skip)"; fi

# poppler-utils (pdfinfo, pdftotext, pdftoppm) check the PDF in the tests; installed when missing and we are root.
poppler:
	@if command -v pdfinfo >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; \
	else echo "make poppler: poppler-utils is missing; run: sudo apt-get install -y poppler-utils (PDF tests will skip)"; fi

# Debian's PostgreSQL server binaries (off PATH, in /usr/lib/postgresql/<version>/bin) back the throwaway servers of
# the Optuna storage tests (tests/pg_server.py); installed when missing and we are root. The package's own cluster is
# not used: the tests run initdb into temporary folders.
postgresql:
	@if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else echo "make postgresql: PostgreSQL is missing; run: sudo apt-get install -y postgresql (PostgreSQL tests will skip)"; fi

test: setup data chromium poppler postgresql
	$(BIN)/python -m pytest -q

# Everything but the tests marked slow (real data, the book), browser (Chromium) and heavy (over a few seconds:
# real processes, servers, trainings; the list is in tests/conftest.py). Tests that need the real data or a
# PostgreSQL server skip without them. Measured on the 2-core AMD EPYC while shared with other work (load average
# about 4, not idle): 72 s for 582 tests and 5 docstring examples; everything but slow and browser took 14 min.
test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not browser and not heavy"

bench: setup data
	$(BIN)/python benchmarks/bench.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/lint-imports

clean:
	rm -rf book/_build book/sections
