"""On MariaDB the concurrent runner gives, test by test, the outcomes of Django's own sequential
runner: clones are built through the engine's driver (no mysqldump), two aliases and a mirror."""

from __future__ import annotations

import re

import pytest

from conftest import server_databases
from helpers import BOOKSTORE, EDGECASES, run_concurrent, run_django

pytestmark = [pytest.mark.integration, pytest.mark.mariadb]
_baselines: dict[str, object] = {}


def baseline(project):
    if str(project) not in _baselines:
        _baselines[str(project)] = run_django(project, db="mariadb")
    return _baselines[str(project)]


def ran(output: str) -> str:
    match = re.search(r"^Ran (\d+) tests?", output, re.M)
    assert match, output[-2000:]
    return match.group(1)


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
@pytest.mark.parametrize("workers", [2, 4])
def test_bookstore_outcomes_match_django_on_mariadb(backend, workers):
    before = server_databases(backend)
    django = baseline(BOOKSTORE)
    assert django.returncode == 0, django.output[-3000:]
    ours = run_concurrent(BOOKSTORE, "--workers", str(workers), db=backend)
    assert ours.returncode == 0, ours.output[-3000:]
    assert len(django.outcomes) >= 100
    assert ours.outcomes == django.outcomes
    assert ran(ours.stderr) == ran(django.stderr)
    assert {e["slot"] for e in ours.of("workerReady")} == set(range(1, workers + 1))
    # Every worker had its own clone of both templates; the replica shared default's.
    slots = ours.of("clones")[0]["slots"]
    assert len({s["clones"]["default"]["name"] for s in slots}) == workers
    assert all(s["clones"]["replica"]["name"] == s["clones"]["default"]["name"] for s in slots)
    assert server_databases(backend) == before


@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
def test_failures_and_errors_match_django_on_mariadb(backend):
    django = baseline(EDGECASES)
    ours = run_concurrent(EDGECASES, "--workers", "2", db=backend)
    assert ours.returncode == 1
    assert ours.outcomes == django.outcomes
    assert ran(ours.stderr) == ran(django.stderr)
    summary = ours.stderr.strip().splitlines()
    assert (
        "FAILED (failures=4, errors=3, skipped=1, expected failures=1, unexpected successes=1)"
    ) in summary
