"""``pytest --concurrent`` on pytest-django projects: item by item the outcomes of plain pytest
and of pytest-xdist, pytest's own output and exit statuses, pytest-django's options, and
nothing left behind."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import server_databases
from helpers import PYTHON, REPO, SUPPORT

pytestmark = pytest.mark.integration

EXAMPLE = REPO / "examples" / "pytest_project"
EDGE = REPO / "tests" / "projects" / "pytest_edge"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# The edge project's plain-pytest summary (its tests fail and misbehave on purpose).
EDGE_SUMMARY = "7 failed, 18 passed, 1 skipped, 1 xfailed, 1 xpassed, 1 warning, 2 errors"
_LEAKY_ENV = (
    "DJANGO_SETTINGS_MODULE",
    "PYTEST_ADDOPTS",
    "PYTEST_XDIST_WORKER",
    "PYTEST_XDIST_WORKER_COUNT",
    "PYTEST_CURRENT_TEST",
)


@dataclass
class PytestRun:
    returncode: int
    stdout: str
    stderr: str
    outcomes: dict[str, list[str]]
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def summary(self) -> str:
        """pytest's last line without the duration: "53 passed, 1 skipped"."""
        last = self.stdout.strip().splitlines()[-1]
        return re.sub(r" in [\d.]+s( \(.*\))?", "", last.strip("= "))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]


def run_pytest(
    project: Path,
    *args: str,
    db: str = "sqlite",
    opt_in: bool = True,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> PytestRun:
    with tempfile.TemporaryDirectory() as tmp:
        record, log = Path(tmp) / "outcomes.json", Path(tmp) / "events.jsonl"
        full_env = {k: v for k, v in os.environ.items() if k not in _LEAKY_ENV}
        full_env.update(
            {
                "EXAMPLE_DB": db,
                "PYTHONPATH": os.pathsep.join([str(SUPPORT), full_env.get("PYTHONPATH", "")]),
                "RECORD_PYTEST_OUTCOMES": str(record),
                "DJANGO_CONCURRENT_TEST_EVENT_LOG": str(log),
                **({"NO_TELEMETRY": "1"} if opt_in else {"NO_TELEMETRY": ""}),
                **(env or {}),
            }
        )
        proc = subprocess.run(
            [PYTHON, "-m", "pytest", "-p", "pytest_recorder", *args],
            cwd=project,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        outcomes = json.loads(record.read_text())["outcomes"] if record.exists() else {}
        events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return PytestRun(proc.returncode, proc.stdout, proc.stderr, outcomes, events)


def concurrent(project: Path, *args: str, **kwargs: Any) -> PytestRun:
    return run_pytest(project, "--concurrent", "--workers", "2", *args, **kwargs)


_plain: dict[tuple[str, str], PytestRun] = {}


def plain(project: Path, db: str = "sqlite") -> PytestRun:
    """Plain pytest (the plugin loaded but not asked), once per project and backend."""
    key = (str(project), db)
    if key not in _plain:
        _plain[key] = run_pytest(project, db=db)
    return _plain[key]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_example_outcomes_match_plain_pytest_and_xdist(backend):
    before = server_databases(backend)
    baseline = plain(EXAMPLE, backend)
    assert baseline.returncode == 0, baseline.output[-3000:]
    xdist = run_pytest(EXAMPLE, "-n", "2", db=backend)
    ours = concurrent(EXAMPLE, db=backend)
    assert ours.returncode == 0, ours.output[-3000:]
    assert len(baseline.outcomes) >= 50
    assert ours.outcomes == baseline.outcomes
    assert xdist.outcomes == baseline.outcomes
    assert ours.summary == baseline.summary == "53 passed, 1 skipped, 1 xfailed"
    assert "2 workers, each on its own clone of the test databases" in ours.stdout
    # One migrated template per database, cloned for each worker; both workers ran groups.
    assert [t["alias"] for t in ours.of("templates")[0]["templates"]] == ["default", "ledger"]
    assert {e["slot"] for e in ours.of("workerReady")} == {1, 2}
    assert len({e["slot"] for e in ours.of("classStart")}) == 2
    assert server_databases(backend) == before


def test_failures_print_as_pytest_prints_them():
    junit = Path(tempfile.mkdtemp()) / "junit.xml"
    baseline = plain(EDGE)
    ours = concurrent(EDGE, "--junitxml", str(junit))
    assert baseline.returncode == ours.returncode == 1
    assert ours.outcomes == baseline.outcomes
    assert ours.summary == baseline.summary == EDGE_SUMMARY
    out = ours.stdout
    # Failure sections with pytest's assertion rewriting, captured output and the summary.
    assert "    def test_assertion_is_rewritten():\n>       assert add(1, 1) == 3" in out
    assert "E       assert 2 == 3\nE        +  where 2 = add(1, 1)" in out
    assert "ERROR at setup of test_setup_error" in out
    assert "ERROR at teardown of test_teardown_error" in out
    assert "Captured stdout call" in out and "captured stdout of a failing test" in out
    assert "UserWarning: an edge-case warning" in out
    short = sorted(line for line in out.splitlines() if line.startswith(("FAILED ", "ERROR ")))
    assert short == sorted(
        line for line in baseline.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))
    )
    # pytest's own --junitxml, written by the main process from the forwarded reports.
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("29", "7", "2")


def _setups(project: Path, *args: str) -> tuple[PytestRun, list[list[str]]]:
    """A run with every fixture setup logged: (scope, name, pid) per setup."""
    log = Path(tempfile.mkdtemp()) / "scopes.log"
    run = run_pytest(project, *args, env={"SCOPE_LOG": str(log)})
    return run, [line.split() for line in log.read_text().splitlines()]


def test_fixture_scopes_match_plain_pytest():
    files = ("notes_tests/check_scopes.py", "notes_tests/check_classes.py")
    baseline, plain_setups = _setups(EDGE, *files)
    ours, our_setups = _setups(EDGE, "--concurrent", "--workers", "2", *files)
    assert baseline.returncode == ours.returncode == 1  # NoteTests.test_fails

    def counts(setups: list[list[str]], scope: str) -> Counter[str]:
        return Counter(name for kind, name, _pid in setups if kind == scope)

    # Class fixtures run as often as under plain pytest (TestSecond twice: pytest-django runs
    # its db test before the rest). A module using a module fixture is one group, so its
    # fixture runs once; plain pytest sets it up again after other modules' db tests.
    assert counts(our_setups, "class") == counts(plain_setups, "class")
    assert counts(our_setups, "class")["TestPlainClass"] == 1
    assert counts(our_setups, "module") == {"check_scopes": 1}
    # Session fixtures run once in every worker.
    session_pids = [pid for scope, _name, pid in our_setups if scope == "session"]
    assert len(session_pids) == len(set(session_pids)) == 2
    labels = {e["label"] for e in ours.of("classStart")}
    assert "notes_tests/check_scopes.py" in labels
    assert "notes_tests/check_classes.py::TestPlainClass" in labels


def test_exitfirst_and_maxfail_stop_the_run():
    first = concurrent(EDGE, "-x")
    assert first.returncode == 1
    assert "stopping after" in first.stdout
    failed = sum("call:failed" in o or "setup:failed" in o for o in first.outcomes.values())
    assert 1 <= failed <= 3  # a failure per busy worker at most, give or take one in flight
    assert len(first.outcomes) < 29
    three = concurrent(EDGE, "--maxfail", "3")
    assert three.returncode == 1
    assert "stopping after" in three.stdout
    assert len(three.outcomes) < 29


def test_selection_and_exit_status_when_nothing_is_collected():
    ours = concurrent(EDGE, "-k", "parametrized or passes")
    assert ours.outcomes == run_pytest(EDGE, "-k", "parametrized or passes").outcomes
    assert ours.summary == "1 failed, 3 passed, 25 deselected"
    marked = concurrent(EDGE, "-m", "slow")
    assert list(marked.outcomes) == ["notes_tests/check_outcomes.py::test_marked_slow"]
    assert marked.returncode == 0
    nothing = concurrent(EDGE, "-k", "no_such_test")
    assert nothing.returncode == run_pytest(EDGE, "-k", "no_such_test").returncode == 5


def test_safety_refusal_exits_2_with_one_clear_line():
    refused = concurrent(EDGE, opt_in=False)
    assert refused.returncode == 2
    assert "SecurityException: NO_TELEMETRY=1 is required" in refused.stderr
    assert refused.outcomes == {}
    assert run_pytest(EDGE, "--concurrent", "-n", "2").returncode == 4  # pytest's usage error


def test_without_concurrent_the_plugin_changes_nothing():
    baseline = plain(EXAMPLE)
    without = run_pytest(EXAMPLE, "-p", "no:django_concurrent_test")
    assert without.outcomes == baseline.outcomes
    assert [
        re.sub(r"[\d.]+s", "", line)
        for line in without.stdout.splitlines()
        if "plugins:" not in line
    ] == [
        re.sub(r"[\d.]+s", "", line)
        for line in baseline.stdout.splitlines()
        if "plugins:" not in line
    ]
    assert baseline.of("discovered") == []  # the engine never ran


def test_a_crashed_worker_fails_its_item_and_the_rest_still_runs():
    ours = concurrent(
        EDGE, "notes_tests/check_crash.py", "notes_tests/check_scopes.py", env={"CRASH_WORKER": "1"}
    )
    assert ours.returncode == 1
    crashed = "notes_tests/check_crash.py::test_crashes_the_worker"
    assert ours.outcomes[crashed] == ["call:failed"]
    assert "the worker process exited with status 13" in ours.stdout
    assert ours.outcomes["notes_tests/check_crash.py::test_before_crash"][1] == "call:passed"
    assert all(o[1] == "call:passed" for k, o in ours.outcomes.items() if "check_scopes" in k)
    assert "Worker problems (1)" in ours.stdout


def test_no_migrations_keeps_its_meaning():
    baseline = run_pytest(EXAMPLE, "--no-migrations")
    ours = concurrent(EXAMPLE, "--no-migrations")
    # Without migrations the seeded genres are missing: the same tests fail both ways.
    assert baseline.returncode == ours.returncode == 1
    assert ours.outcomes == baseline.outcomes
    [templates] = ours.of("templates")
    assert [t["migrations"] for t in templates["templates"]] == [0, 0]


@pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_reuse_db_and_create_db(backend):
    before = server_databases(backend)
    baseline = plain(EXAMPLE, backend)

    def actions(run: PytestRun) -> list[str]:
        assert run.returncode == 0, run.output[-3000:]
        assert run.outcomes == baseline.outcomes
        return [t["action"] for t in run.of("templates")[0]["templates"]]

    assert set(actions(concurrent(EXAMPLE, "--reuse-db", db=backend))) <= {"built", "reused"}
    # The kept template is reused without a migration, and the clones start from it afresh:
    # the transactional tests of the previous run flushed theirs (a database pytest-django's
    # own --reuse-db would hand back without the data migrations' rows).
    second = concurrent(EXAMPLE, "--reuse-db", db=backend)
    assert actions(second) == ["reused", "reused"]
    assert [t["migrations"] for t in second.of("templates")[0]["templates"]] == [0, 0]
    assert server_databases(backend) - before, "--reuse-db keeps the templates"
    # --create-db migrates anew even though kept templates match; without --reuse-db nothing
    # is kept afterwards.
    assert actions(concurrent(EXAMPLE, "--create-db", db=backend)) == ["built", "built"]
    assert server_databases(backend) == before
