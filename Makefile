# The front door. `make run` starts everything; `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test up down status lint format venv migrate demo chaos bench clean

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

venv: $(VENV)/.installed

up: venv
	@bin/stack up

down:
	@bin/stack down

status:
	@bin/stack status

migrate: up
	@$(PY) manage.py migrate --noinput

demo: migrate
	@$(PY) manage.py seed_demo

run: migrate
	@PORT=$(PORT) bin/run

test: up
	@$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: venv
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

format: venv
	@$(VENV)/bin/ruff check --fix .
	@$(VENV)/bin/ruff format .

clean:
	@bin/stack reset
