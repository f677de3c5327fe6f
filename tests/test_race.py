"""Race-condition simulation: the worked example (examples/raceconditions) on real servers, and
RaceConditionMiddleware / race() / @replayable driven in fresh Django processes."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from conftest import server_databases
from helpers import PYTHON, REPO, SUPPORT, run_concurrent

RACECONDITIONS = REPO / "examples" / "raceconditions"
PROBE = SUPPORT / "race_probe.py"
SEED_ENV = "DJANGO_CONCURRENT_TEST_RACE_SEED"
VERBOSE_LINE = re.compile(r"^(test_\w+) \(([\w.]+)\)\s*\.\.\. (.+)$", re.M)
SEEDED = "counters.tests.SeededRunsTests."
CONCURRENT = "counters.tests.ConcurrentHitTests."


def verbose_outcomes(output: str) -> dict[str, str]:
    """Test id -> outcome word from -v 2 output (the engine's console and Django's alike)."""
    return {test_id: outcome.strip() for _, test_id, outcome in VERBOSE_LINE.findall(output)}


def probe(scenario: str, race: dict, seed: str | None = None) -> tuple[dict, str]:
    env = {k: v for k, v in os.environ.items() if k not in (SEED_ENV, "DJANGO_SETTINGS_MODULE")}
    if seed is not None:
        env[SEED_ENV] = seed
    proc = subprocess.run(
        [PYTHON, str(PROBE), scenario, json.dumps(race)],
        cwd=SUPPORT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


# --- The worked example ----------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
    indirect=True,
)
def test_example_catches_the_bug_in_19_of_20_runs_and_the_fixes_pass_20_of_20(backend):
    before = server_databases(backend)
    run = run_concurrent(RACECONDITIONS, "-v", "2", "--workers", "2", db=backend)
    assert run.returncode == 0, run.output[-4000:]
    outcomes = verbose_outcomes(run.stderr)
    assert outcomes == {
        "counters.tests.SequentialHitTests.test_every_hit_is_counted": "ok",
        "counters.tests.SequentialHitTests.test_show": "ok",
        # The race test a developer writes: the buggy view fails it (expectedFailure) ...
        CONCURRENT + "test_read_modify_write_counts_concurrent_hits": "expected failure",
        # ... and both fixes pass it.
        CONCURRENT + "test_select_for_update_counts_concurrent_hits": "ok",
        CONCURRENT + "test_f_expression_counts_concurrent_hits": "ok",
        # 20 seeded races per view in one process: >= 19 of 20 lose hits before the fix,
        # 20 of 20 (one subtest per seed) count every hit after either fix.
        SEEDED + "test_read_modify_write_loses_hits_in_at_least_19_of_20_seeded_runs": "ok",
        SEEDED + "test_select_for_update_counts_every_hit_in_20_of_20_seeded_runs": "ok",
        SEEDED + "test_f_expression_counts_every_hit_in_20_of_20_seeded_runs": "ok",
    }, run.stderr[-4000:]
    assert "OK (expected failures=1)" in run.stderr
    # The example's own suite ran under the concurrent runner: two workers on two clones, the
    # threads of each race test on their worker's clone.
    assert {e["slot"] for e in run.of("workerReady")} == {1, 2}
    assert server_databases(backend) == before


@pytest.mark.integration
@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
    indirect=True,
)
def test_example_race_tests_work_under_pytest_django(backend):
    env = {
        **os.environ,
        "EXAMPLE_DB": backend,
        "DJANGO_SETTINGS_MODULE": "raceconditions.settings",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop(SEED_ENV, None)
    proc = subprocess.run(
        [PYTHON, "-m", "pytest", "-v", "-p", "pytest_django", "counters/test_with_pytest.py"],
        cwd=RACECONDITIONS,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "test_read_modify_write_counts_concurrent_hits XFAIL" in proc.stdout
    assert "test_f_expression_counts_concurrent_hits PASSED" in proc.stdout
    assert "1 passed, 1 xfailed" in proc.stdout


@pytest.mark.integration
def test_example_on_sqlite_skips_the_race_tests_saying_why():
    run = run_concurrent(RACECONDITIONS, "-v", "2", "--workers", "2")
    assert run.returncode == 0, run.output[-3000:]
    outcomes = verbose_outcomes(run.stderr)
    assert outcomes["counters.tests.SequentialHitTests.test_every_hit_is_counted"] == "ok"
    race_tests = {k: v for k, v in outcomes.items() if k.startswith((SEEDED, CONCURRENT))}
    assert len(race_tests) == 6
    for outcome in race_tests.values():
        assert outcome.startswith('skipped "SQLite locks the whole database'), outcome


# --- The middleware, race() and @replayable ---------------------------------------------------

ALWAYS = {"only_in_race": False, "probability": 1.0}


def test_middleware_is_inert_outside_tests_and_says_so_once():
    # Outside the test environment, even the most aggressive settings inject nothing.
    result, stderr = probe("outside", {**ALWAYS, "max_delay": 1.0})
    assert [r["status"] for r in result["responses"]] == ["200 OK", "200 OK"]
    # No execute wrapper during the view, no delay recorded, no time spent sleeping.
    assert [r["body"]["wrappers"] for r in result["responses"]] == [0, 0]
    assert result["delays"] == 0
    assert result["elapsed"] < 0.5
    # Two WSGI handlers loaded the middleware; the refusal is said once.
    lines = [line for line in stderr.splitlines() if "RaceConditionMiddleware" in line]
    assert lines == [
        "django-concurrent-test: RaceConditionMiddleware is inactive: Django's test environment "
        "is not set up, and race-condition delays are only ever injected while tests run."
    ]


def test_middleware_delays_the_view_and_every_query_of_covered_paths_in_tests():
    result, stderr = probe("inside", {**ALWAYS, "max_delay": 0.005, "exclude_paths": ["^/skip/"]})
    assert "inactive" not in stderr
    # /q/ ran its queries under the middleware's execute wrapper; the excluded path did not.
    assert result["bodies"] == [{"wrappers": 1}, {"wrappers": 0}]
    assert result["delays"] == [
        ["main", "view", "/q/"],
        ["main", "before query", "SELECT 1"],
        ["main", "after query", "SELECT 1"],
        ["main", "before query", "SELECT 2"],
        ["main", "after query", "SELECT 2"],
    ]


def test_only_race_threads_get_delays_by_default():
    result, _ = probe("delays_seen", {"probability": 1.0, "max_delay": 0.005, "seed": 3})
    assert result["main"] == []  # sequential requests: nothing to race, no delays
    assert [len(r) for r in result["racers"]] == [5, 5, 5, 5]


def test_requests_get_the_middlewares_delays_and_callables_the_race_helpers():
    result, _ = probe("race_kinds", {"probability": 1.0, "exclude_paths": ["^/skip/"]})
    request = ["view", "before query", "after query", "before query", "after query"]
    assert result["covered"] == [request, request]
    assert result["excluded"] == [[], []]  # the middleware's path filters hold in races too
    assert result["callable"] == [["before query", "after query"]] * 2
    assert result["switchedOff"] == [[], []]


def test_same_seed_gives_the_same_delays_in_another_process():
    race = {**ALWAYS, "max_delay": 0.005, "seed": 42}
    first, _ = probe("delays_seen", race)
    again, _ = probe("delays_seen", race)
    other, _ = probe("delays_seen", {**race, "seed": 43})
    assert (first["seed"], first["seedSource"]) == (42, "settings")
    assert len(first["main"]) == 15 and [len(r) for r in first["racers"]] == [5, 5, 5, 5]
    assert all(0 < d[1] <= 0.005 for d in first["main"])
    # Same seed: the same delay, to the nanosecond, at the same point of every thread.
    assert again["main"] == first["main"] and again["racers"] == first["racers"]
    # Another seed: other delays; and each racer has its own stream.
    assert other["main"] != first["main"] and other["racers"] != first["racers"]
    assert len({json.dumps(r) for r in first["racers"]}) == 4


def test_a_random_seed_can_be_replayed_from_the_environment():
    race = {**ALWAYS, "max_delay": 0.005}
    first, _ = probe("delays_seen", race)
    assert first["seedSource"] == "random"
    replay, _ = probe("delays_seen", race, seed=str(first["seed"]))
    assert replay["seedSource"] == "environment"
    assert (replay["main"], replay["racers"]) == (first["main"], first["racers"])
    # The environment wins over the settings' seed.
    pinned, _ = probe("delays_seen", {**race, "seed": 1}, seed=str(first["seed"]))
    assert (pinned["seed"], pinned["racers"]) == (first["seed"], first["racers"])


def test_a_failing_replayable_test_reports_the_seed_to_replay_it():
    result, stderr = probe("failing_test", {"max_delay": 0.001}, seed="987")
    assert result["testsRun"] == 3
    assert sorted(result["failures"]) == ["test_explicit_seed_fails", "test_fails"]
    note = f"Race-condition simulation seed: 987 (replay: {SEED_ENV}=987)"
    assert result["failures"]["test_fails"].endswith(f"AssertionError: 1 != 2\n{note}\n")
    assert result["failures"]["test_explicit_seed_fails"].endswith(
        f"AssertionError: boom\n{note}; race() also ran with explicit seeds 1234\n"
    )
    # The note is what the runner prints; the wrapper's own frame is not.
    assert note in stderr
    assert "replay.py" not in result["failures"]["test_fails"]


def test_race_refuses_to_run_inside_a_transaction():
    result, _ = probe("race_in_transaction", {})
    assert result["error"].startswith("race() was called inside a transaction on 'default'")
    assert "Use TransactionTestCase" in result["error"]


def test_invalid_race_settings_are_one_clear_error():
    result, _ = probe("bad_config", {"probability": 2})
    assert result["error"] == (
        'CONCURRENT_TEST_CONFIG["race"]["probability"] must be a number from 0 to 1, not 2'
    )
    result, _ = probe("bad_config", {"max_delay_ms": 20})
    assert result["error"].startswith(
        'CONCURRENT_TEST_CONFIG["race"]: unknown key "max_delay_ms" (known keys: enabled, seed,'
    )
