# Two commands on a fresh machine: `make run` and `make test`. Only Python 3.11 is assumed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SW := $(BIN)/shouwang

.PHONY: run test install test-install lint format migrate demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

test-install: $(VENV)/.test-installed

migrate: install
	$(SW) migrate --noinput -v 0

# Serves the demo community on 127.0.0.1:8000 and prints its logins.
run: migrate
	$(SW) demo --if-empty
	$(SW) serve

test: test-install
	$(BIN)/pytest -n 2 --dist loadfile

lint: test-install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(SW) makemigrations --check --dry-run

format: test-install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) var/static
