# landing: `make dev` runs the service on localhost, `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# Python 3.13: pyenv's shim (via .python-version), or the interpreter our machines ship.
PYTHON ?= $(shell for p in python3.13 /root/.pyenv/versions/3.13.0/bin/python3 python3; do \
	command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' \
	2>/dev/null && echo $$p && break; done)

.PHONY: dev test unit lint format init-db system-deps clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.13 not found" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# uv.lock holds every version, with hashes. uv itself is pinned there too (dev group): pip
# bootstraps exactly that release, hash-checked, from requirements-dev.txt; then uv installs
# the lock as it is (--locked: it refuses a lock that no longer matches pyproject.toml).
# Once: later uv releases arrive through the lock like any other package.
$(BIN)/uv: | $(BIN)/python
	awk '/^uv==/{p=1} p{print} p&&!/\\$$/{exit}' requirements-dev.txt > $(VENV)/uv-pin.txt
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(VENV)/uv-pin.txt
	touch $@

$(VENV)/.installed: $(BIN)/uv pyproject.toml uv.lock
	$(BIN)/uv sync --quiet --locked --group dev
	touch $@

# uv.lock from pyproject.toml (UPGRADE=1: every package to its newest allowed release), and
# the hashed requirements files exported from it: requirements.txt (the image's runtime set),
# requirements-dev.txt and requirements-bench.txt (for installs with pip alone). Commit all
# four; tests/deploy/test_lock.py fails when they disagree.
.PHONY: lock
lock: $(BIN)/uv
	$(BIN)/uv lock $(if $(UPGRADE),--upgrade)
	$(call export,--no-dev,requirements.txt)
	$(call export,--group dev,requirements-dev.txt)
	$(call export,--group dev --group bench,requirements-bench.txt)

# $(call export,ARGS,FILE): FILE from uv.lock, under a header naming the command (the test
# runs that command again and compares).
define export
	{ echo "# Generated from uv.lock by \`make lock\`: uv export --format requirements-txt $(1)"; \
	  echo "# Do not edit: change pyproject.toml, then run \`make lock\`. With pip alone:"; \
	  echo "# pip install --no-deps --require-hashes -r $(2) (--no-deps: these are all the"; \
	  echo "# packages, and pip knows nothing of pyproject.toml's overrides)."; \
	  $(BIN)/uv export --quiet --locked --format requirements-txt --no-header $(1); } > $(2)
endef

# Settings are production unless told otherwise; `make dev` is development (localhost).
DEV_ENV := APP_ENV=$${APP_ENV:-development}

# PostgreSQL's schema and RabbitMQ's queues, as this version declares them (idempotent).
init-db: $(VENV)/.installed
	$(DEV_ENV) $(BIN)/flask --app landing migrate

dev: init-db
	@scripts/rabbitmq-management.sh
	@echo "landing on localhost:"
	@echo "  page          http://127.0.0.1:8000/"
	@echo "  API           http://127.0.0.1:8000/api/register/  (docs: http://127.0.0.1:8000/api/docs)"
	@echo "  dashboard     http://127.0.0.1:8001/dashboard/  (admin / admin)"
	@echo "  campaign      http://127.0.0.1:8001/dashboard/campaign/  (admin / admin; ?lang=fa)"
	@echo "  operator API  http://127.0.0.1:8000/api/admin/  (with ADMIN_TOKENS set: flask --app landing hash-token)"
	@echo "  RabbitMQ      http://127.0.0.1:15672/  (guest / guest)"
	@echo "  SMS gateway   http://127.0.0.1:8025/  (codes sent with VERIFICATION=sms)"
	$(DEV_ENV) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start

test: lint system-deps
	$(BIN)/pytest

# The fast tier: the tests marked fast, in seconds; they start no process and talk to no
# service but PostgreSQL and Redis (admission's script, a batch's split); make test runs
# them too. `tests/` mirrors the code.
unit: $(VENV)/.installed
	$(BIN)/pytest -m fast -p no:cacheprovider -p no:schemathesis

# nginx, shellcheck, Chromium and RabbitMQ's management API, which the tests run for real.
system-deps:
	scripts/system-deps.sh

# ruff, then mypy (configured in pyproject.toml: landing/ and actors/).
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis

# The benchmark (not part of `make test`): the bench group (matplotlib) into the venv, wrk
# and nginx (the matrix runs (a) and (b) through our nginx.conf too) from Debian if missing.
# BENCH_DURATION (20), BENCH_REPEAT (3), BENCH_CONCURRENCY (64,256,1024), BENCH_SIGNUPS
# (20000) and BENCH_SCENARIOS (matrix,e2e,journey) tune it; BENCH_JOURNEY_* the journey
# (docs/benchmark.md).
.PHONY: bench
# Every time (a no-op when installed): the dev set's own sync leaves matplotlib out.
.PHONY: bench-deps
bench-deps: $(VENV)/.installed
	$(BIN)/uv sync --quiet --locked --group dev --group bench

bench: bench-deps
	@command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
	@command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || \
		{ apt-get update -q && apt-get install -y -q nginx; }
	$(BIN)/python -m bench.run

# How cost grows, apart from `make bench` (~35 minutes, ~50 with the journey): process counts and
# table sizes (BENCH_DURATION, BENCH_REPEAT, BENCH_SIGNUPS = the drain's backlog), and a
# soak at a fixed rate (SOAK_SECONDS, default 600; SOAK_RATE, default 0: 60% of capacity).
.PHONY: bench-scaling soak
bench-scaling: bench-deps
	@command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
	$(BIN)/python -m bench.scaling

soak: bench-deps
	@command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
	$(BIN)/python -m bench.soak

# The visitor's journey alone (also `make bench`'s last phase): POST as page.js does (and
# its polls, when a code step asks for them), with the workers keeping up and behind a
# backlog (BENCH_BACKLOG_SECONDS, default 600, queued first), and what polls cost the web
# (docs/benchmark.md). ~5 minutes.
.PHONY: bench-journey
bench-journey: $(VENV)/.installed
	$(BIN)/python -m bench.journey

# Instructions per sign-up in the web's app, counted by valgrind (~15 minutes of one core;
# deterministic where CPU time here is not): bare, landing without I/O, landing.
.PHONY: bench-instructions
bench-instructions: $(VENV)/.installed
	@command -v valgrind >/dev/null || { apt-get update -q && apt-get install -y -q valgrind; }
	$(BIN)/python -m bench.instructions

# Redis memory per accepted sign-up, on a private redis-server of its own (~1 minute;
# REDIS_SIGNUPS, default 100000): the figures docs/capacity.md sizes RESULT_TTL and maxmemory by.
.PHONY: bench-redis
bench-redis: $(VENV)/.installed
	$(BIN)/python -m bench.redis_memory $(REDIS_SIGNUPS)

# Fault drills (not part of `make test`): private PostgreSQL, Redis, RabbitMQ nodes and a
# MongoDB stand-in on free ports, the real app against them, load, one fault at a time.
# DRILL_DURATION, DRILL_CLIENTS, DRILL_RATE, DRILL_ONLY and DRILL_DRAIN_TIMEOUT tune it.
.PHONY: drills
drills: $(VENV)/.installed
	$(BIN)/python -m drills
