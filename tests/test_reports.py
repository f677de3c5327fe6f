"""Reports for CI and for people, checked the way their readers use them: the JUnit XML against
the junit-10 schema and through a real consumer library (junitparser), the HTML report in
headless Chromium, the benchmark summary as printed, and CI shards (--shard=i/N) run for real
and merged back with ``merge-reports``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from conftest import server_databases
from helpers import EDGECASES, PYTHON, REPO, Run, run_concurrent

pytestmark = pytest.mark.integration

SHARDSUITE = REPO / "tests" / "projects" / "shardsuite"
XSD = REPO.parent / "shared" / "data" / "junit-10.xsd"
BROWSER_CHECK = REPO / "engine" / "test" / "support" / "html-report-browser-check.mjs"
SUMMARY = re.compile(
    r"^\[CONCURRENT\] Running (\d+) tests? with (\d+) workers?\n"
    r"\[CONCURRENT\] Tests completed in (\d+\.\d)s \((\d+)% (faster|slower) than sequential, "
    r"(estimated|measured)\)\n"
    r"\[CONCURRENT\] Worker utilization: (\d+)%\n"
    r"\[CONCURRENT\] Database operations: (\d+) clones?"
    r"(?:, (\d+) in-memory cop(?:y|ies) loaded by the workers)?, (\d+) errors?\n"
    r"\[CONCURRENT\] Breakdown: discovery \d+\.\ds, template \d+\.\ds, clones \d+\.\ds, "
    r"worker start \d+\.\ds, tests \d+\.\ds, teardown \d+\.\ds$",
    re.M,
)


def xmllint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["xmllint", "--noout", "--schema", str(XSD), str(path)], capture_output=True, text=True
    )


def copy_project(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
    return dest


def junit_cases(path: Path) -> dict[tuple[str, str], str]:
    """(classname, name) -> what a JUnit consumer sees: passed, failure, error or skipped:TYPE."""
    cases: dict[tuple[str, str], str] = {}
    for suite in JUnitXml.fromfile(str(path)):
        for case in suite:
            kinds = [
                "failure"
                if isinstance(r, Failure)
                else "error"
                if isinstance(r, Error)
                else f"skipped:{r.type}"
                if isinstance(r, Skipped)
                else type(r).__name__
                for r in case.result
            ]
            key = (case.classname, case.name)
            assert key not in cases, f"{key} reported twice"
            cases[key] = ",".join(kinds) or "passed"
    return cases


def merge_reports(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "django_concurrent_test.cli", "merge-reports", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def open_in_chromium(report: Path, screenshot: Path, search: str) -> dict:
    proc = subprocess.run(
        ["node", str(BROWSER_CHECK), str(report), str(screenshot)],
        cwd=REPO / "engine",
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SEARCH": search},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_junit_xml_validates_and_reads_back_as_the_run_reported(tmp_path):
    report = tmp_path / "junit.xml"
    run = run_concurrent(
        EDGECASES, "edge.tests", "--workers", "2", "--buffer", "--junitxml", str(report)
    )
    assert run.returncode == 1
    assert f"JUnit XML report written to {report}" in run.stderr
    lint = xmllint(report)
    assert lint.returncode == 0, lint.stderr

    cases = junit_cases(report)
    ours = run.outcomes
    expected = {
        "edge.tests.OutcomeTests.test_passes": "passed",
        "edge.tests.OutcomeTests.test_fails": "failure",
        "edge.tests.OutcomeTests.test_errors": "error",
        "edge.tests.OutcomeTests.test_unpicklable": "error",
        "edge.tests.OutcomeTests.test_skipped": "skipped:skip",
        # unittest-xml-reporting's mapping: a skip of type XFAIL, an error of type
        # UnexpectedSuccess.
        "edge.tests.OutcomeTests.test_expected_failure": "skipped:XFAIL",
        "edge.tests.OutcomeTests.test_unexpected_success": "error",
        "edge.tests.OutputTests.test_prints_and_fails": "failure",
        "edge.tests.OutputTests.test_prints_and_passes": "passed",
        "edge.tests.DatabaseTests.test_reads": "passed",
        "edge.tests.DatabaseTests.test_query_then_fail": "failure",
        "edge.tests.TransactionTests.test_writes": "passed",
    }
    for test_id, seen in expected.items():
        classname, name = test_id.rsplit(".", 1)
        assert cases[(classname, name)] == seen, test_id
        assert test_id in ours
    # A failing subtest is its own test case; a setUpClass error is named for the fixture.
    assert cases[("edge.tests.OutcomeTests", "test_subtests (i=3)")] == "failure"
    assert cases[("edge.tests.BrokenSetUpClassTests", "setUpClass")] == "error"
    assert len(cases) == len(expected) + 2

    suites = {s.name: s for s in JUnitXml.fromfile(str(report))}
    outcome_suite = suites["edge.tests.OutcomeTests"]
    assert (
        outcome_suite.tests,
        outcome_suite.failures,
        outcome_suite.errors,
        outcome_suite.skipped,
    ) == (8, 2, 3, 2)
    failing = next(c for c in outcome_suite if c.name == "test_fails")
    failure = failing.result[0]
    assert failure.type == "AssertionError"
    assert failure.message.startswith("'left' != 'right'")
    assert 'self.assertEqual("left", "right")' in failure.text  # the full traceback
    xfail = next(c for c in outcome_suite if c.name == "test_expected_failure").result[0]
    assert xfail.message == "expected failure: 1 != 2"

    # --buffer output sits inside the test case it came from; the slot is the one that ran it.
    output = next(c for c in suites["edge.tests.OutputTests"] if c.name == "test_prints_and_fails")
    assert output.system_out == "FAILING-TEST-OUTPUT\n"
    slots: dict[str, set[str]] = {}
    for event in run.of("classStart"):  # a class split across workers has several
        slots.setdefault(event["label"], set()).add(str(event["slot"]))
    root = ET.parse(report).getroot()
    for suite in root.iter("testsuite"):
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        assert set(props["worker"].split(",")) == slots[suite.get("name")]
        assert suite.get("hostname") and suite.get("timestamp")
        assert suite.get("file") == "edge/tests.py"


def test_html_report_in_chromium(tmp_path):
    report = tmp_path / "report.html"
    run = run_concurrent(
        EDGECASES, "edge.tests", "--workers", "2", "--buffer", "--html", str(report)
    )
    assert run.returncode == 1 and report.exists()
    workers = len({e["slot"] for e in run.of("workerReady")})
    assert workers == 2
    shot = tmp_path / "report.png"
    seen = open_in_chromium(report, shot, search="boom from test_errors")
    assert seen["consoleErrors"] == []
    assert seen["requests"] == [], "the report must not load anything"
    assert seen["timelineRows"] == workers
    assert [label.split(" · ")[0] for label in seen["timelineLabels"]] == ["worker 1", "worker 2"]
    assert seen["bars"] == len(run.of("classStart"))
    assert seen["failedBars"] >= 4 and seen["failMarks"] >= 1, seen
    assert seen["allShown"] == 14
    assert seen["withoutPassed"] == 14 - 4  # unticking "passed" hides the four passing tests
    assert seen["problemsOnly"] == 8
    assert sorted(seen["problemOutcomes"]) == ["error", "failure", "unexpectedSuccess"]
    assert seen["searched"] == 1  # the one test whose traceback says it
    assert shot.stat().st_size > 20_000


def test_benchmark_summary_numbers_and_a_measured_sequential_baseline(tmp_path):
    project = copy_project(SHARDSUITE, tmp_path / "project")
    first = run_concurrent(project, "--workers", "2", "--benchmark")
    match = SUMMARY.search(first.stdout)
    assert match, first.stdout
    tests, workers, _wall, _pct, _direction, how, utilization, clones, in_memory, errors = (
        match.groups()
    )
    assert int(tests) == 49 and f"Ran {tests} tests" in first.stderr
    assert int(workers) == 2 and how == "estimated"
    assert 50 <= int(utilization) <= 100
    # SQLite in memory: no clone on disk; each worker loads its own copy of the template.
    assert (int(clones), in_memory, int(errors)) == (0, "2", 0)
    assert "[CONCURRENT] Slowest classes:" in first.stdout
    assert re.search(
        r"^\[CONCURRENT\]\s+0\.\ds  timed\.tests\.AlphaTests \(6 tests, worker \d\)$",
        first.stdout,
        re.M,
    )

    sequential = run_concurrent(project, "--workers", "1", "--benchmark")
    assert "running sequentially: 1 worker requested" in sequential.output
    stored = re.search(r"\[CONCURRENT\] Sequential run: (\d+\.\d)s for 49 tests", sequential.stdout)
    assert stored, sequential.output[-2000:]
    second = run_concurrent(project, "--workers", "2", "--benchmark")
    match = SUMMARY.search(second.stdout)
    assert match and match.group(6) == "measured", second.stdout
    expected = round(100 * (1 - float(match.group(3)) / float(stored.group(1))))
    assert abs(int(match.group(4)) - abs(expected)) <= 3  # rounding of the printed seconds


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_reports_on_postgres_count_the_clones(tmp_path, backend):
    report = tmp_path / "junit.xml"
    before = server_databases(backend)
    run = run_concurrent(
        EDGECASES, "--workers", "2", "--benchmark", "--junitxml", str(report), db=backend
    )
    assert run.returncode == 1
    match = SUMMARY.search(run.stdout)
    assert match, run.output[-3000:]
    assert (match.group(8), match.group(9), match.group(10)) == ("2", None, "0")
    assert xmllint(report).returncode == 0
    assert junit_cases(report)[("edge.tests.DatabaseTests", "test_reads")] == "passed"
    assert server_databases(backend) == before


# --- CI sharding -------------------------------------------------------------------------


def run_shard(base: Path, where: Path, shard: str) -> tuple[Run, Path]:
    """One CI machine: its own checkout (a copy with the same timings file) running one shard."""
    project = copy_project(base, where)
    run = run_concurrent(
        project,
        "--workers",
        "2",
        "--shard",
        shard,
        "--junitxml",
        "junit.xml",
        "--html",
        "report.html",
    )
    return run, project


def class_seconds(report: Path) -> dict[str, float]:
    return {
        s.get("name"): float(s.get("time")) for s in ET.parse(report).getroot().iter("testsuite")
    }


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    """An unsharded run, its class durations stored as timings, then N = 1..5 shards of it."""
    tmp = tmp_path_factory.mktemp("shards")
    base = copy_project(SHARDSUITE, tmp / "base")
    whole = run_concurrent(
        base, "--workers", "2", "--junitxml", "junit.xml", "--html", "report.html"
    )
    assert whole.returncode == 1, whole.output[-3000:]
    seconds = class_seconds(base / "junit.xml")
    tests = Counter(tid.rsplit(".", 1)[0] for tid in whole.outcomes)
    stored = {
        label: {
            "seconds": s,
            "tests": tests[label],
            "runs": 1,
            "updated": "2026-01-01T00:00:00+00:00",
        }
        for label, s in seconds.items()
    }
    # The run stored its own timings; replace them with exactly what its report says.
    (base / ".django-concurrent-test").mkdir(exist_ok=True)
    (base / ".django-concurrent-test" / "timings.json").write_text(
        json.dumps({"version": 1, "classes": stored})
    )
    jobs = [(n, i) for n in range(1, 6) for i in range(1, n + 1)]
    # One after another, as separate CI machines would: runs side by side on this 2-core
    # machine would slow each other down and blur the measured shard durations.
    shards = {(n, i): run_shard(base, tmp / f"shard-{n}-{i}", f"{i}/{n}") for n, i in jobs}
    return whole, seconds, shards, tmp


def test_every_test_runs_exactly_once_for_1_to_5_shards(sharded):
    whole, _seconds, shards, _tmp = sharded
    everything = Counter(whole.outcomes)
    for n in range(1, 6):
        runs = [shards[(n, i)][0] for i in range(1, n + 1)]
        started = Counter(e["test"] for run in runs for e in run.of("testStart"))
        assert started == Counter(e["test"] for e in whole.of("testStart")), n
        outcomes: dict[str, list[str]] = {}
        for run in runs:
            for test_id, seen in run.outcomes.items():
                assert test_id not in outcomes, f"{test_id} ran in two shards of {n}"
                outcomes[test_id] = seen
        assert outcomes == whole.outcomes and set(everything) == set(outcomes)
        # Every shard of one CI run computed the same plan, and said which part it ran.
        plans = {re.search(r"Shard \d+/\d+: .*\(plan (\w+)\)", run.stderr).group(1) for run in runs}
        assert len(plans) == 1, plans
        # A class is never split between shards.
        shard_of: dict[str, int] = {}
        for i, run in enumerate(runs):
            for label in {e["label"] for e in run.of("classStart")}:
                assert shard_of.setdefault(label, i) == i, f"{label} in two shards of {n}"


def ideal_split(seconds: list[float], n: int) -> float:
    """No split of whole classes can beat an even share, nor the longest class."""
    return max(sum(seconds) / n, max(seconds))


def test_shard_durations_are_within_10_percent_of_the_ideal_split(sharded):
    _whole, stored, shards, _tmp = sharded
    for n in range(2, 6):
        measured = [class_seconds(shards[(n, i)][1] / "junit.xml") for i in range(1, n + 1)]
        # As planned, from the stored timings every shard read.
        planned = [sum(stored[label] for label in part) for part in measured]
        assert max(planned) <= ideal_split(list(stored.values()), n) * 1.10, (n, planned)
        # As run: each shard's classes, timed on its own machine. Class times wobble by tens of
        # milliseconds when this 2-core machine is busy, hence the 0.1 s allowance.
        work = [sum(part.values()) for part in measured]
        every_class = [s for part in measured for s in part.values()]
        assert max(work) <= ideal_split(every_class, n) * 1.10 + 0.1, (n, work)


def test_merging_three_shards_gives_the_unsharded_run(sharded, tmp_path):
    _whole, _seconds, shards, tmp = sharded
    parts = [shards[(3, i)][1] for i in range(1, 4)]
    merged = tmp_path / "merged"
    proc = merge_reports(
        *[str(p / name) for p in parts for name in ("junit.xml", "report.html")],
        *[
            str(p / ".django-concurrent-test" / "shards" / f"timings-{i}-of-3.json")
            for i, p in enumerate(parts, 1)
        ],
        "--junitxml",
        str(merged / "junit.xml"),
        "--html",
        str(merged / "report.html"),
        "--timings",
        str(merged / "timings.json"),
    )
    assert proc.returncode == 0, proc.stderr
    assert xmllint(merged / "junit.xml").returncode == 0
    assert junit_cases(merged / "junit.xml") == junit_cases(tmp / "base" / "junit.xml")
    root = ET.parse(merged / "junit.xml").getroot()
    unsharded = ET.parse(tmp / "base" / "junit.xml").getroot()
    for attr in ("tests", "failures", "errors"):
        assert root.get(attr) == unsharded.get(attr), attr
    timings = json.loads((merged / "timings.json").read_text())
    assert set(timings["classes"]) == set(class_seconds(tmp / "base" / "junit.xml"))

    seen = open_in_chromium(merged / "report.html", tmp_path / "merged.png", search="AlphaTests")
    assert seen["consoleErrors"] == [] and seen["requests"] == []
    assert seen["timelineRows"] == 6, seen["timelineLabels"]  # 3 shards x 2 workers
    assert seen["timelineLabels"][0].startswith("shard 1/3 · worker 1")
    assert seen["searched"] == 6  # AlphaTests' six tests

    # A shard given twice (or a missing one) is reported, not silently merged.
    again = merge_reports(
        str(parts[0] / "junit.xml"),
        str(parts[0] / "junit.xml"),
        "--junitxml",
        str(tmp_path / "bad.xml"),
    )
    assert again.returncode == 1
    assert "the shards overlap" in again.stderr and "shard 2/3 is missing" in again.stderr


def test_shard_option_errors_are_one_line_and_exit_2(tmp_path):
    project = copy_project(SHARDSUITE, tmp_path / "project")
    bad = run_concurrent(project, "--shard", "4/3")
    assert bad.returncode == 2
    assert '--shard must be i/N with 1 <= i <= N (e.g. 2/4), not "4/3"' in bad.stderr
    assert "Traceback" not in bad.output
    # A sequential shard (one worker: the runner's own process) runs only its part.
    one = run_concurrent(project, "--workers", "1", "--shard", "1/2")
    assert "running sequentially: 1 worker requested" in one.output
    assert {e["slot"] for e in one.of("classStart")} == {1}
    assert 0 < len(one.outcomes) < 49
