# Everything a new user runs; `make help` lists it.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV := .venv
VENV_217 := .venv-2.17
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv lint sanity test-modules test-fast test bench clean

help: ## list the targets
	@grep -E '^[a-z0-9.-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements/dev.txt requirements/constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed for ansible-core 2.19 (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade --requirement requirements/dev.txt
	touch $@

$(VENV_217)/.installed: requirements/ansible-2.17.txt
	$(PYTHON) -m venv $(VENV_217)
	$(VENV_217)/bin/pip install --quiet --requirement requirements/ansible-2.17.txt
	touch $@

venv: $(VENV)/.installed ## create .venv from the pinned requirement files

lint: venv ## ansible-lint, production profile
	$(BIN)/ansible-lint

sanity: venv $(VENV_217)/.installed ## ansible-test sanity with ansible-core 2.19 and 2.17
	tests/sanity/run $(VENV)
	tests/sanity/run $(VENV_217)

test-modules: venv ## the modules against a real devpi-server (pytest)
	$(BIN)/python -m pytest tests/modules $(PYTEST_ARGS)

test-fast: lint sanity test-modules ## everything that needs no lab

test: test-fast ## every test: lint, sanity, pytest

bench: venv ## benchmarks; writes docs/benchmarks.md
	$(BIN)/python bench/seed --write

clean: ## remove virtualenvs and test state
	rm -rf $(VENV) $(VENV_217) .tmp tests/output .pytest_cache
