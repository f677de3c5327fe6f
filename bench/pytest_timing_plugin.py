"""A pytest plugin for bench/pytest_compare.py: how long each process spent in each
``django_db_setup`` fixture (pytest-django's own one migrates; a project's override wraps it),
and each item's reports, written as JSON lines to $PYTEST_COMPARE_LOG.

Loaded with ``-p pytest_timing_plugin``; under pytest-xdist every worker loads it too, which is
the point: each xdist worker migrates its own test database inside ``django_db_setup``.
"""

import json
import os
import time

import pytest


def _write(record):
    path = os.environ.get("PYTEST_COMPARE_LOG")
    if path:
        with open(path, "a") as log:  # one short line per write: appends do not interleave
            log.write(json.dumps({"pid": os.getpid(), **record}) + "\n")


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    if fixturedef.argname != "django_db_setup":
        return (yield)
    started = time.perf_counter()
    try:
        return (yield)
    finally:
        _write(
            {
                "type": "django_db_setup",
                "module": getattr(fixturedef.func, "__module__", "?"),
                "seconds": round(time.perf_counter() - started, 4),
            }
        )


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        outcome = f"{report.when}:{report.outcome}{':xfail' if hasattr(report, 'wasxfail') else ''}"
        _write({"type": "report", "nodeid": report.nodeid, "outcome": outcome})
