# The two commands of README.md: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BESS := $(VENV)/bin/bess
# Where the store lives and where data comes from; BESS_DATA unset means the demo fleet.
BESS_STORE ?= .bess/store
BESS_DATA ?=
DEMO_DIR ?= .bess/demo
HOST ?= 127.0.0.1
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test bench install browser demo ingest info clean screenshots

# Re-install only when the project's dependencies change.
$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

# Debian's Chromium for the browser tests (Playwright's own browser download does not work here).
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium; \
	fi

demo: install
	@if [ -z "$(BESS_DATA)" ] && [ ! -f $(DEMO_DIR)/ground_truth.json ]; then \
	  $(BESS) demo --out $(DEMO_DIR); \
	fi

ingest: demo
	$(BESS) ingest $(if $(BESS_DATA),$(BESS_DATA),$(DEMO_DIR)) --store $(BESS_STORE)

info: install
	$(BESS) info --store $(BESS_STORE)

run: ingest
	$(BESS) serve --host $(HOST) --port $(PORT) --store $(BESS_STORE)

test: install browser
	$(VENV)/bin/ruff check --select F .
	$(PY) -m pytest

# The README's pictures (docs/screenshots/*.png), made by the browser tests from the demo fleet.
screenshots: install browser
	BESS_SCREENSHOTS=1 $(PY) -m pytest -q -m browser tests/test_dashboard_browser.py -k readme_screenshots

bench: install browser
	$(BESS) bench --out BENCHMARKS.md

clean:
	rm -rf .bess .pytest_cache .hypothesis test-artifacts
