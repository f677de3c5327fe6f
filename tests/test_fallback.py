"""When a run cannot be concurrent, Django's own runner runs it, with one line saying why."""

from __future__ import annotations

import pytest

from helpers import EDGECASES, run_concurrent, run_django

pytestmark = pytest.mark.integration
LABEL = "edge.tests.OutcomeTests"


def assert_sequential(run, reason: str) -> None:
    lines = [line for line in run.output.splitlines() if "running sequentially" in line]
    assert lines == [f"django-concurrent-test: running sequentially: {reason}."], run.output[-2000:]
    assert run.of("workerReady") == []


@pytest.mark.parametrize(
    ("args", "env", "reason"),
    [
        (["--workers", "1"], {}, "1 worker requested (command line)"),
        ([], {"DJANGO_TEST_WORKERS": "1"}, "1 worker requested (environment)"),
        (
            [],
            {"DJANGO_CONCURRENT_TEST_NODE": "/nonexistent/node"},
            "could not run /nonexistent/node --version",
        ),
        (["--pdb", "--workers", "2"], {}, "--pdb needs a single process"),
    ],
    ids=["workers-flag", "workers-env", "no-node", "pdb"],
)
def test_falls_back_with_one_line(args, env, reason):
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
    assert "Ran 8 tests" in ours.stderr


def test_safety_refusal_never_falls_back():
    ours = run_concurrent(
        EDGECASES, LABEL, "--workers", "1", opt_in=False, env={"DJANGO_ENABLE_CONCURRENT": "0"}
    )
    assert ours.returncode == 2
    assert "running sequentially" not in ours.output
    assert "SecurityException: concurrent testing is disabled" in ours.stderr
