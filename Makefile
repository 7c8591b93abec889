# `make test`: make a virtualenv, install the package with its test tools, run the suite.
# SQLite by default; DATABASE_URL=postgres://... runs it on PostgreSQL.
PYTHON ?= python3
VENV ?= .venv
DJANGO ?=
PYTEST_ARGS ?=
PORT ?= 8000

BIN := $(VENV)/bin

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test,lint]" $(if $(DJANGO),"$(DJANGO)")
	touch $@

.PHONY: install test lint
install: $(BIN)/.installed

test: $(BIN)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check billing tests
	$(BIN)/ruff format --check billing tests
	$(BIN)/mypy billing
