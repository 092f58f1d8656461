# One obvious place for every command the README and CI use.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# One stamp per extra: `make lab` installs wfkit with JupyterLab only (`.[lab]`),
# `make test` the test tools (`.[dev]`, which includes `lab`).
STAMP := $(VENV)/.installed-dev
LAB_STAMP := $(VENV)/.installed-lab

.PHONY: lab test lint fmt typecheck bench setup sidecar widgets-js js-deps clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# jsonschema builds rfc3987 parsers at import (4-5 s per kernel); without the package
# it only skips the "iri" format check, which nothing here uses.
define install
	$(BIN)/pip install -q -e ".[$(1)]"
	$(BIN)/pip uninstall -q -y rfc3987-syntax || true
	touch $(2)
endef

$(LAB_STAMP): pyproject.toml | $(BIN)/python
	$(call install,lab,$(LAB_STAMP))

$(STAMP): pyproject.toml | $(BIN)/python
	$(call install,dev,$(STAMP))

setup: $(STAMP)

## The main job: JupyterLab on the notebooks.
lab: $(LAB_STAMP)
	$(BIN)/jupyter lab notebooks/

## Dapr's workflow engine (durabletask-go's sidecar), built once from the Go module proxy
## into ~/.cache/wfkit; without Go it says so and the real-engine tests skip.
sidecar:
	bash .ci/build-sidecar

## Every test: lint, types, unit, conformance, notebooks, the real engine when Go is present,
## and browser tests when Chromium is present.
test: $(STAMP) sidecar
	$(BIN)/ruff check wfkit tests bench
	$(BIN)/ruff format --check wfkit tests bench
	$(BIN)/mypy
	$(BIN)/pytest

## The widgets' JavaScript: esbuild (pinned in js/package-lock.json) bundles js/src/ into
## wfkit/widgets/static/ and wfkit/timetravel/static/, which are committed (pip needs no node).
js/node_modules/.package-lock.json: js/package-lock.json
	npm ci --prefix js --prefer-offline --ignore-scripts --no-audit --no-fund

js-deps: js/node_modules/.package-lock.json

widgets-js: js-deps
	node js/build.mjs

lint: $(STAMP)
	$(BIN)/ruff check wfkit tests bench

fmt: $(STAMP)
	$(BIN)/ruff format wfkit tests bench
	$(BIN)/ruff check --fix wfkit tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/pip install -q -e ".[bench]"
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
