# Sendbridge: two commands.
#   make run   set everything up and serve the demo on http://127.0.0.1:5000
#   make test  set everything up and run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := run
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test bench lint services chromium clean

# Python packages (runtime and test) into .venv; redone when pyproject.toml changes. The
# example third-party plugin goes in last, as a vendor's would (its own package and entry
# point), so the tests prove it installs and loads (issue #5 item 6).
$(VENV)/.installed: pyproject.toml plugins/example_vendor/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps -e plugins/example_vendor
	touch $@

# Front-end packages, exactly as locked.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: $(VENV)/.installed node_modules/.installed
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi demo seed
	DEMO_MODE=$${DEMO_MODE:-1} $(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

# Start PostgreSQL and Redis on 127.0.0.1 if they are not answering (never stops them).
services:
	@pg_isready -h 127.0.0.1 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@pg_isready -h 127.0.0.1 -t 30 -q
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no
	@redis-cli -h 127.0.0.1 ping >/dev/null

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(VENV)/.installed
	$(BIN)/lint-imports

test: $(VENV)/.installed node_modules/.installed services chromium lint
	$(BIN)/pytest
	SENDBRIDGE_TEST_DB=sqlite $(BIN)/pytest -m smoke

bench: $(VENV)/.installed services
	@for b in benchmarks/*.py; do [ "$$(basename $$b)" = "__init__.py" ] || $(BIN)/python $$b || exit 1; done

clean:
	rm -rf var artifacts .pytest_cache .hypothesis .import_linter_cache
