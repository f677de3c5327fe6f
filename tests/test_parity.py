"""The concurrent runner gives, test by test, the outcomes Django's own sequential runner gives."""

from __future__ import annotations

import re

import pytest

from conftest import server_databases
from helpers import BOOKSTORE, EDGECASES, run_concurrent, run_django

pytestmark = pytest.mark.integration
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
_baselines: dict[tuple[str, str], object] = {}


def baseline(project, db):
    key = (str(project), db)
    if key not in _baselines:
        _baselines[key] = run_django(project, db=db)
    return _baselines[key]


def ran(output: str) -> str:
    match = re.search(r"^Ran (\d+) tests?", output, re.M)
    assert match, output[-2000:]
    return match.group(1)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("workers", [2, 4])
def test_bookstore_outcomes_match_django(backend, workers):
    before = server_databases(backend)
    django = baseline(BOOKSTORE, backend)
    assert django.returncode == 0, django.output[-3000:]
    ours = run_concurrent(BOOKSTORE, "--workers", str(workers), db=backend)
    assert ours.returncode == 0, ours.output[-3000:]
    assert len(django.outcomes) >= 100
    assert ours.outcomes == django.outcomes
    assert ran(ours.stderr) == ran(django.stderr)
    assert {e["slot"] for e in ours.of("workerReady")} == set(range(1, workers + 1))
    # Work really was spread: more than one worker ran classes.
    assert len({e["slot"] for e in ours.of("classStart")}) > 1
    assert server_databases(backend) == before


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_failures_and_errors_match_django_and_exit_1(backend):
    django = baseline(EDGECASES, backend)
    ours = run_concurrent(EDGECASES, "--workers", "2", db=backend)
    assert ours.returncode == 1
    assert ours.outcomes == django.outcomes
    assert ran(ours.stderr) == ran(django.stderr)
    summary = ours.stderr.strip().splitlines()
    assert (
        "FAILED (failures=4, errors=3, skipped=1, expected failures=1, unexpected successes=1)"
        in summary
    )


def test_tracebacks_are_reported_like_django():
    ours = run_concurrent(EDGECASES, "--workers", "2")
    err = ours.stderr
    assert "ERROR: test_errors (edge.tests.OutcomeTests.test_errors)" in err
    assert 'raise ValueError("boom from test_errors")' in err
    assert "FAIL: test_fails (edge.tests.OutcomeTests.test_fails)" in err
    assert "AssertionError: 'left' != 'right'" in err
    assert "ERROR: setUpClass (edge.tests.BrokenSetUpClassTests)" in err
    assert "RuntimeError: setUpClass exploded" in err
    assert "FAIL: test_subtests (edge.tests.OutcomeTests.test_subtests) (i=3)" in err
    assert "UNEXPECTED SUCCESS: test_unexpected_success" in err


def test_unpicklable_exception_is_reported_not_fatal():
    ours = run_concurrent(EDGECASES, "edge.tests.OutcomeTests", "--workers", "2")
    assert "ERROR: test_unpicklable (edge.tests.OutcomeTests.test_unpicklable)" in ours.stderr
    assert "UnpicklableError: cannot be pickled" in ours.stderr
    assert ours.outcomes["edge.tests.OutcomeTests.test_unpicklable"] == ["error"]
    # The rest of the class still ran and reported.
    assert ours.outcomes["edge.tests.OutcomeTests.test_passes"] == ["success"]
