# `make serve` and `make test` set everything up on a fresh machine (Python 3.10+ and make).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Two workers: the machines this runs on have two cores; each worker gets its own emulator. -rs lists
# every skipped test with its reason (no chromium, no node or npm registry).
PYTEST_ARGS ?= -n 2 -rs

.PHONY: serve test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.serve-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.serve-installed

serve: $(VENV)/.serve-installed
	$(BIN)/gemini-mock serve --host $(HOST) --port $(PORT)

# The first run installs the test extras into .venv, chromium via apt (when root) and the JS SDK via npm:
# a few minutes. Later runs: the wheel check (~30 s) and the suite.
test: $(VENV)/.test-installed
	@echo "make test: wheel check, type check, then the suite (first run also installs chromium via apt and npm packages)"
	-@sh scripts/ensure-chromium
	$(BIN)/python scripts/check-wheel
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.test-installed
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info
