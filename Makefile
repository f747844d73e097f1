# The front door. `make run` starts everything; `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test test-cluster up down status lint format venv migrate demo chaos bench bench-codecs eval clean restore-drill docs

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

# Service addresses come from the stack (ports are configurable: see bin/stack).
STACK_ENV = eval "$$(bin/stack env)"

migrate: up
	@$(STACK_ENV) && $(PY) manage.py migrate --noinput

demo: migrate
	@$(STACK_ENV) && $(PY) manage.py seed_demo

run: migrate
	@$(STACK_ENV) && PORT=$(PORT) bin/run

test: up
	@$(STACK_ENV) && $(VENV)/bin/pytest $(PYTEST_ARGS)

# Fault injection and soak (RELIABILITY.md): stops and kills real services and workers.
# The failover tests (tests/chaos/test_failover.py) run against the STACK_HA=1 topology.
chaos: up
	@STACK_HA=1 bin/stack-ha up
	@$(STACK_ENV) && $(VENV)/bin/pytest -m chaos -rA --durations=0 $(PYTEST_ARGS)

# Backups drilled (docs/operations.md): point-in-time restore of the primary into a new data
# directory after a destructive mistake (prints RPO and RTO), then a deleted video's media
# restored from the bucket's previous object version.
restore-drill: up
	@$(STACK_ENV) && $(PY) bin/restore-drill && $(PY) bin/restore-media --drill

# The feed suite with the cache on a 3-master Redis Cluster (bin/stack-ha) instead of one node.
test-cluster: up
	@STACK_REDIS_CLUSTER=1 bin/stack-ha up
	@eval "$$(STACK_REDIS_CLUSTER=1 bin/stack env)" && $(VENV)/bin/pytest tests/feed tests/discovery/test_for_you_*.py tests/integration/test_feed_flows.py \
		--deselect tests/integration/test_feed_flows.py::test_redis_stopped_mid_test_gives_degraded_200_and_feeds_rebuild_after \
		$(PYTEST_ARGS)  # (that one stops the single-node cache)

# lintmigrations (django-migration-linter) reads the applied migrations: it needs the database.
lint: up
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/lint-imports
	@$(STACK_ENV) && $(PY) manage.py lintmigrations --quiet ignore ok

# The docs' tables of routes, events, scripts, keys, task queues and beat entries, from
# the code (tests/test_docs.py fails when they are stale).
docs: venv
	@$(PY) manage.py docs_tables

format: venv
	@$(VENV)/bin/ruff check --fix .
	@$(VENV)/bin/ruff format .

# Load and fan-out benchmark (BENCHMARKS.md): seeds tiktok_bench_$(SIZE) when missing,
# writes bench/results/latest.json. `make bench SIZE=small` for a quick run. bench/run.py
# runs seed_bench, gunicorn and the workers with bench.settings (the only settings that
# install the bench app and route its baseline endpoints).
SIZE ?= large
bench: up
	@$(STACK_ENV) && $(PY) bench/run.py --size $(SIZE) $(BENCH_ARGS)

# H.264 vs AV1/HEVC ladder: bytes at equal SSIM, encode CPU, break-even views (BENCHMARKS.md).
bench-codecs: venv
	@$(PY) bench/codecs.py $(BENCH_ARGS)

# Offline evaluation of For You (BENCHMARKS.md): seeds tiktok_eval with interest structure,
# holds out recent likes, writes bench/results/eval-for-you.json. Shares make bench's Redis DB.
eval: up
	@$(STACK_ENV) && $(PY) bench/eval_run.py $(EVAL_ARGS)

clean:
	@bin/stack reset
