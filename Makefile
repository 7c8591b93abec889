# `make test`: make a virtualenv, install the package with its test tools, run the suite.
# SQLite by default; DATABASE_URL=postgres://... runs it on PostgreSQL.
PYTHON ?= python3
VENV ?= .venv
DJANGO ?=
PYTEST_ARGS ?=
PORT ?= 8000

BIN := $(VENV)/bin

# The package alone (what the demo needs), then the test and lint tools on top.
$(BIN)/.package: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e . $(if $(DJANGO),"$(DJANGO)")
	touch $@

$(BIN)/.installed: pyproject.toml $(BIN)/.package
	$(BIN)/python -m pip install -q -e ".[test,lint]" $(if $(DJANGO),"$(DJANGO)")
	touch $@

$(BIN)/.docs: pyproject.toml $(BIN)/.package
	$(BIN)/python -m pip install -q -e ".[docs]"
	touch $@

.PHONY: install test lint demo docs package
install: $(BIN)/.installed

test: $(BIN)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check billing tests demo bench
	$(BIN)/ruff format --check billing tests demo bench
	$(BIN)/mypy billing

# `make docs`: the documentation site in docs/_build/html; any warning is an error.
docs: $(BIN)/.docs
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

# `make package`: build, check and smoke-test the sdist and wheel outside the tree.
package:
	PYTHON=$(PYTHON) bash .ci/package.sh

# `make demo`: the demo shop on http://127.0.0.1:$(PORT)/, paying through the local sandbox.
DEMO := $(BIN)/python demo/manage.py
demo: $(BIN)/.package
	$(DEMO) migrate --noinput
	$(DEMO) demo_data
	@echo "Demo shop: http://127.0.0.1:$(PORT)/  (admin: demo / demo; Ctrl-C stops it)"
	PORT=$(PORT) $(DEMO) runserver 127.0.0.1:$(PORT)
