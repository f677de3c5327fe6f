"""When a run cannot be concurrent it runs sequentially: the engine decides (after the safety
gate) and says why in one line, then the runner's own process runs the suite as Django's runner
would, with Django's output, outcomes and exit status."""

from __future__ import annotations

import pytest

from helpers import EDGECASES, run_concurrent, run_django

pytestmark = pytest.mark.integration
LABEL = "edge.tests.OutcomeTests"


def assert_sequential(run, reason: str) -> None:
    lines = [line for line in run.output.splitlines() if "running sequentially" in line]
    assert lines == [f"django-concurrent-test: running sequentially: {reason}."], run.output[-2000:]
    # No worker pool: the runner's process is the only worker (slot 1).
    assert {e["slot"] for e in run.of("classStart")} == {1}


@pytest.mark.parametrize(
    ("args", "env", "reason"),
    [
        (["--workers", "1"], {}, "1 worker requested (command line)"),
        ([], {"DJANGO_TEST_WORKERS": "1"}, "1 worker requested (environment)"),
        (["--pdb", "--workers", "2"], {}, "--pdb needs a single process"),
    ],
    ids=["workers-flag", "workers-env", "pdb"],
)
def test_runs_sequentially_with_one_line(args, env, reason):
    if "--pdb" in args:
        # pdb would stop at the first failure and wait for input; run a passing test only.
        ours = run_concurrent(EDGECASES, "edge.tests.OutcomeTests.test_passes", *args, env=env)
        assert_sequential(ours, reason)
        assert ours.returncode == 0
        return
    ours = run_concurrent(EDGECASES, LABEL, *args, env=env)
    assert_sequential(ours, reason)
    django = run_django(EDGECASES, LABEL)
    assert ours.returncode == django.returncode == 1
    assert ours.outcomes == django.outcomes
    assert "Ran 8 tests" in ours.stderr


def test_safety_refusal_never_runs_sequentially():
    ours = run_concurrent(
        EDGECASES, LABEL, "--workers", "1", opt_in=False, env={"DJANGO_ENABLE_CONCURRENT": "0"}
    )
    assert ours.returncode == 2
    assert "running sequentially" not in ours.output
    assert "SecurityException: concurrent testing is disabled" in ours.stderr
    assert ours.events == []
