# django-concurrent-test: every target installs what it needs (Node packages from the lockfile,
# a .venv with pinned Python packages and the adapter installed editable, the built engine).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ENGINE_BUNDLE := python/django_concurrent_test/_engine/cli.mjs
ENGINE_SOURCES := $(shell find engine/src -name '*.ts') engine/build.mjs
DEMO_ENV := DJANGO_ENABLE_CONCURRENT=1 NO_TELEMETRY=1

.PHONY: all setup demo test test-engine test-python test-django42 lint format bench clean system-deps

all: setup

setup: $(VENV)/.installed $(ENGINE_BUNDLE)

engine/node_modules/.installed: engine/package.json engine/package-lock.json
	cd engine && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(ENGINE_BUNDLE): engine/node_modules/.installed $(ENGINE_SOURCES)
	cd engine && node build.mjs

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-build-isolation -e .
	touch $@

demo: setup
	cd examples/bookstore && $(DEMO_ENV) ../../$(PY) manage.py test --benchmark

lint: setup
	$(VENV)/bin/ruff check python tests examples bench
	$(VENV)/bin/ruff format --check python tests examples bench
	$(VENV)/bin/mypy
	cd engine && npx tsc --noEmit -p . && npx prettier --check --log-level warn 'src/**/*.ts' 'test/**/*.ts' build.mjs

format: setup
	$(VENV)/bin/ruff format python tests examples bench
	$(VENV)/bin/ruff check --fix python tests examples bench
	cd engine && npx prettier --write --log-level warn 'src/**/*.ts' 'test/**/*.ts' build.mjs

# Debian packages the report tests need: xmllint (JUnit XSD validation, libxml2-utils) and
# chromium (the HTML report opened headless). Installed only when missing; the package lists are
# refreshed only when an install from the current lists fails.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-deps:
	@missing="$$(command -v xmllint >/dev/null || echo libxml2-utils) $$(command -v chromium >/dev/null || echo chromium)"; \
	if [ -n "$${missing// /}" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $(SUDO) apt-get install -y -qq $$missing >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing >/dev/null; }; \
	fi

test-engine: setup system-deps
	cd engine && node --import tsx --test --test-reporter=spec test/*.test.ts

test-python: setup system-deps
	$(PY) -m pytest -rs -q

test: system-deps lint test-engine test-python

# The integration tests again on Django 4.2 LTS (CI runs this after `make test`).
VENV42 := .venv-django42
$(VENV42)/.installed: requirements.txt requirements-django42.txt pyproject.toml
	$(PYTHON) -m venv $(VENV42)
	$(VENV42)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VENV42)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-django42.txt
	$(VENV42)/bin/python -m pip install --quiet --disable-pip-version-check --no-build-isolation -e .
	touch $@

test-django42: $(VENV42)/.installed $(ENGINE_BUNDLE)
	$(VENV42)/bin/python -m pytest -rs -q -m integration

# Not part of `make test`. QUICK=1: one backend, 150 tests, N=2, two rounds. BENCH_ARGS: more
# options of bench/run.py (e.g. BENCH_ARGS="--backends sqlite --sizes 300").
bench: setup
	$(PY) bench/run.py $(if $(QUICK),--quick,) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(VENV42) engine/node_modules $(dir $(ENGINE_BUNDLE))
