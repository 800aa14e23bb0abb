# holterlab: one command to set up and run the demo, one to set up and run the tests.
#   make demo   - create .venv if missing, install everything, generate + inspect the demo recording
#   make test   - create .venv if missing, install everything, run ruff and the test suite
# Both work on a fresh Debian machine (root, or sudo available for the Debian packages).

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.holterlab-installed
DEBS := chromium libjs-mathjax poppler-utils
DEMO_DIR ?= demo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint format setup debs clean bench

setup: debs $(STAMP)

# Debian packages: chromium (PDF rendering, browser tests), libjs-mathjax (MathJax served
# locally, never from a CDN), poppler-utils (pdftotext/pdftoppm for report checks).
debs:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[all,dev]'
	@touch $(STAMP)

# The main job on the embedded default: a 24-hour synthetic Holter recording with ground truth,
# analysed end to end, its PDF report, and the beat-by-beat accuracy against the truth.
demo: setup
	@mkdir -p $(DEMO_DIR)
	$(VENV)/bin/holterlab synth $(DEMO_DIR)/demo.aiecg --hours 24 --leads 2 --fs 250 --seed 1
	$(VENV)/bin/holterlab info $(DEMO_DIR)/demo.aiecg
	$(VENV)/bin/holterlab analyze $(DEMO_DIR)/demo.aiecg --out $(DEMO_DIR) --include-beats
	$(VENV)/bin/holterlab report $(DEMO_DIR)/demo.result.json --recording $(DEMO_DIR)/demo.aiecg --out $(DEMO_DIR)/demo.pdf
	$(VENV)/bin/holterlab evaluate $(DEMO_DIR)/demo.atr $(DEMO_DIR)/demo.hlab --learning-s 0
	@echo "demo outputs: $(DEMO_DIR)/demo.result.json $(DEMO_DIR)/demo.hlab $(DEMO_DIR)/demo.pdf"

lint: $(STAMP)
	$(VENV)/bin/ruff check holterlab tests benchmarks widgets scripts
	$(VENV)/bin/ruff format --check holterlab tests benchmarks widgets scripts

format: $(STAMP)
	$(VENV)/bin/ruff check --fix holterlab tests benchmarks widgets scripts
	$(VENV)/bin/ruff format holterlab tests benchmarks widgets scripts

test: setup lint
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider

bench: setup
	@for f in benchmarks/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .ruff_cache
