# One obvious place for every command the README and CI use.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test lint fmt typecheck bench setup clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

## The main job: JupyterLab on the notebooks.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

## Every test: lint, types, unit, conformance, notebooks (and browser tests when Chromium is present).
test: $(STAMP)
	$(BIN)/ruff check wfkit tests bench
	$(BIN)/ruff format --check wfkit tests bench
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check wfkit tests bench

fmt: $(STAMP)
	$(BIN)/ruff format wfkit tests bench
	$(BIN)/ruff check --fix wfkit tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
