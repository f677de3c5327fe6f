# django-concurrent-test: every target installs what it needs (Node packages from the lockfile,
# a .venv with pinned Python packages and the adapter installed editable, the built engine).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ENGINE_BUNDLE := python/django_concurrent_test/_engine/cli.mjs
ENGINE_SOURCES := $(shell find engine/src -name '*.ts') engine/build.mjs
DEMO_ENV := DJANGO_ENABLE_CONCURRENT=1 NO_TELEMETRY=1

.PHONY: all setup dist demo test test-fast test-engine test-python test-django42 test-django6 test-django-suite lint format bench clean system-deps

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
	@# This project's distribution was called django-concurrent-test before 0.2.0.
	$(PY) -m pip uninstall --quiet --yes django-concurrent-test 2>/dev/null || true
	$(PY) -m pip install --quiet --disable-pip-version-check --no-build-isolation -e .
	touch $@

demo: setup
	cd examples/bookstore && $(DEMO_ENV) ../../$(PY) manage.py test --benchmark

lint: setup
	$(VENV)/bin/ruff check python build_hook tests examples bench
	$(VENV)/bin/ruff format --check python build_hook tests examples bench
	$(VENV)/bin/mypy
	cd engine && npx tsc --noEmit -p . && npx prettier --check --log-level warn 'src/**/*.ts' 'test/**/*.ts' build.mjs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

format: setup
	$(VENV)/bin/ruff format python build_hook tests examples bench
	$(VENV)/bin/ruff check --fix python build_hook tests examples bench
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

# Engine tests: test files two at a time (the PostgreSQL and MySQL ones use different servers).
ENGINE_TEST := cd engine && node --import tsx --test --test-concurrency=2
# Python tests on two pytest-xdist workers, a test file never split (tests/conftest.py gives
# each worker its own database-name suffix and temporary directory).
PYTEST_XDIST := -n 2 --dist loadfile

test-engine: setup system-deps
	$(ENGINE_TEST) --test-reporter=spec test/*.test.ts

test-python: setup system-deps
	$(PY) -m pytest -rs -q --durations=15 $(PYTEST_XDIST)

test: system-deps lint test-engine test-python

# The fast lane, under 2 minutes: the engine's unit tests (not those of the database backends,
# which need the servers) and the Python tests that need no database server and run no example
# project (neither `integration` nor `slow`).
ENGINE_SERVER_TESTS := test/mysql-clone.test.ts test/mysql-repair.test.ts test/postgres-clone.test.ts test/snapshots.test.ts test/template-cache.test.ts
test-fast: setup system-deps
	$(ENGINE_TEST) --test-reporter=dot $(filter-out $(ENGINE_SERVER_TESTS),$(patsubst engine/%,%,$(wildcard engine/test/*.test.ts)))
	$(PY) -m pytest -rs -q -n 2 -m "not integration and not slow"

# A virtualenv for another Django (python, folder, its requirements file): the pinned packages,
# that Django, and this package editable (the old distribution name uninstalled first).
define django_venv
	$(1) -m venv $(2)
	$(2)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(2)/bin/python -m pip install --quiet --disable-pip-version-check -r $(3)
	$(2)/bin/python -m pip uninstall --quiet --yes django-concurrent-test 2>/dev/null || true
	$(2)/bin/python -m pip install --quiet --disable-pip-version-check --no-build-isolation -e .
	touch $(2)/.installed
endef

# The older LTS, Django 4.2 (CI runs this after `make test`): the integration tests where
# Django's own code differs between versions (test-database creation, flush, discovery, options,
# idioms). DJANGO42_SELECTION= (empty) runs every integration test.
DJANGO42_SELECTION ?= tests/test_parity.py tests/test_options.py tests/test_setup_effects.py tests/test_idioms.py tests/test_fast_flush.py
# On Python 3.12 (pyenv's when there is one), so CI covers 3.11 (5.2), 3.12 (4.2) and 3.13 (6.x).
PYTHON42 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) python3.12)
VENV42 := .venv-django42
$(VENV42)/.installed: requirements.txt requirements-django42.txt pyproject.toml
	$(call django_venv,$(PYTHON42),$(VENV42),requirements-django42.txt)

test-django42: $(VENV42)/.installed $(ENGINE_BUNDLE)
	$(VENV42)/bin/python -m pytest -rs -q -m integration $(PYTEST_XDIST) $(DJANGO42_SELECTION)

# The current Django 6.x, which needs Python >= 3.12 (CI runs this too): the integration tests
# that compare with Django's own runner and exercise its test options (the whole integration
# suite takes several times as long). DJANGO6_SELECTION= (empty) runs all of it.
DJANGO6_SELECTION ?= tests/test_parity.py tests/test_options.py tests/test_edges.py -k "not four_shards and not test_labels and not keepdb"
# A pyenv-installed 3.13 when there is one (its shim alone needs `pyenv local`), else PATH's.
PYTHON6 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) python3.13)
VENV6 := .venv-django6
$(VENV6)/.installed: requirements.txt requirements-django6.txt pyproject.toml
	$(call django_venv,$(PYTHON6),$(VENV6),requirements-django6.txt)

test-django6: $(VENV6)/.installed $(ENGINE_BUNDLE)
	$(VENV6)/bin/python -m pytest -rs -q $(PYTEST_XDIST) -m integration $(DJANGO6_SELECTION)

# Django's own test suite (the pinned version's sdist, cached in .cache/django-suite/): 48 apps
# under Django's --parallel 2 and under ours (2 workers), compared test by test on each of
# DJANGO_SUITE_DBS. DJANGO_SUITE_ARGS: more options (e.g. DJANGO_SUITE_ARGS="--apps basic").
DJANGO_SUITE_DBS ?= sqlite postgres
test-django-suite: setup
	$(PY) tests/django_suite/compare.py $(foreach db,$(DJANGO_SUITE_DBS),--db $(db)) \
	  $(if $(DJANGO_SUITE_ARGS),$(DJANGO_SUITE_ARGS),--min-tests 6000)

# Not part of `make test`. QUICK=1: one backend, 150 tests, N=2, one round, no sections. BENCH_ARGS:
# more options of bench/run.py (e.g. BENCH_ARGS="--backends sqlite --django-suite quick").
bench: setup
	$(PY) bench/run.py $(if $(QUICK),--quick,) $(BENCH_ARGS)

# The sdist and the wheel, each carrying the built engine (build_hook/dct_backend.py builds it).
dist: $(VENV)/.installed
	rm -rf dist
	$(PY) -m build --outdir dist .

clean:
	rm -rf $(VENV) $(VENV42) engine/node_modules $(dir $(ENGINE_BUNDLE))
