"""pytest plugin (loaded by the workload's conftest): when BENCH_TIMING_DIR is set, each pytest
process (the controller and every xdist worker) writes when its test database setup and teardown
ran and how long each test took, as <dir>/<worker>.json. Outcomes come from --junitxml."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

_DIR = os.environ.get("BENCH_TIMING_DIR")
_marks: dict[str, float] = {}
_durations: dict[str, float] = {}


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Generator[None, None, None]:
    if not _DIR or fixturedef.argname != "django_db_setup":
        yield
        return
    _marks["db_setup_start"] = time.time()
    yield
    _marks["db_setup_end"] = time.time()
    # Finalizers run last-in first-out: this one runs just before the fixture's own teardown.
    fixturedef.addfinalizer(lambda: _marks.setdefault("db_teardown_start", time.time()))


def pytest_fixture_post_finalizer(fixturedef: Any, request: Any) -> None:
    if _DIR and fixturedef.argname == "django_db_setup" and "db_teardown_start" in _marks:
        _marks["db_teardown_end"] = time.time()


def pytest_runtest_logreport(report: Any) -> None:
    if _DIR and not hasattr(report, "node"):  # a worker's own reports, not relayed ones
        _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration


def pytest_sessionstart(session: Any) -> None:
    if _DIR:
        _marks["session_start"] = time.time()


def pytest_unconfigure(config: Any) -> None:
    if not _DIR:
        return
    _marks["end"] = time.time()
    setup = _marks.get("db_setup_end", 0.0) - _marks.get("db_setup_start", 0.0)
    payload = {"worker": _worker(), "marks": _marks, "durations": _durations, "db_setup": setup}
    Path(_DIR, f"{_worker()}.json").write_text(json.dumps(payload))
