"""A run that cannot be concurrent runs sequentially after the safety gate, in the runner's own
process as the only worker, and still writes every report: JUnit, HTML, the benchmark summary,
the timings store and the event log. An engine that cannot start stops the run with one line
(exit 2) before anything is created."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import server_databases
from helpers import EDGECASES, REPO, Run, run_concurrent
from test_pytest_plugin import EXAMPLE, run_pytest
from test_reports import junit_cases

pytestmark = pytest.mark.integration

# Outcomes of every kind, a class whose setUpClass fails, and a class on the database.
LABELS = ("edge.tests.OutcomeTests", "edge.tests.BrokenSetUpClassTests", "edge.tests.DatabaseTests")
PACKAGE = REPO / "python" / "django_concurrent_test"
SUFFIX = os.environ.get("EXAMPLE_DB_SUFFIX", "")
# DEBUG=False, no opt-in, a production-like name: what the gate must refuse on every path.
PRODUCTION_LIKE = {
    "DJANGO_SETTINGS_MODULE": "safety_settings",
    "SAFETY_DEBUG": "0",
    "SAFETY_CONFIG": json.dumps({"enabled": None}),
}
OTHER_VENDOR = {"ENGINE": "otherdb"}  # a backend whose vendor the engine cannot clone


def project_copy(tmp_path: Path) -> Path:
    return Path(
        shutil.copytree(
            EDGECASES,
            tmp_path / "edge",
            ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3", ".django-concurrent-test"),
        )
    )


def reports(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    junit, html = tmp_path / "junit.xml", tmp_path / "report.html"
    return junit, html, ["--junitxml", str(junit), "--html", str(html), "--benchmark"]


def reason_lines(run: Run) -> list[str]:
    return [line for line in run.output.splitlines() if "running sequentially" in line]


@pytest.fixture(scope="module")
def concurrent_cases(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str]:
    """What a JUnit consumer sees from a 2-worker run of the same tests."""
    junit = tmp_path_factory.mktemp("concurrent") / "junit.xml"
    run = run_concurrent(EDGECASES, *LABELS, "--workers", "2", "--junitxml", str(junit))
    assert run.returncode == 1 and reason_lines(run) == [], run.output[-2000:]
    return junit_cases(junit)


@pytest.mark.parametrize(
    ("args", "env", "reason"),
    [
        (["--workers", "1"], {}, "1 worker requested (command line)"),
        ([], {"DJANGO_TEST_WORKERS": "1"}, "1 worker requested (environment)"),
        (["--debug-mode", "--workers", "2"], {}, "--debug-mode runs in one process"),
        (
            ["--workers", "2"],
            {
                "DJANGO_SETTINGS_MODULE": "safety_settings",
                "SAFETY_DATABASES": json.dumps({"default": OTHER_VENDOR}),
            },
            'DATABASES["default"] uses othersql, which the engine cannot clone yet',
        ),
    ],
    ids=["workers-flag", "workers-env", "debug-mode", "unclonable-vendor"],
)
def test_a_sequential_run_writes_every_report(tmp_path, concurrent_cases, args, env, reason):
    project = project_copy(tmp_path)
    junit, html, report_args = reports(tmp_path)
    run = run_concurrent(project, *LABELS, *args, *report_args, env=env)
    assert run.returncode == 1, run.output[-3000:]
    assert reason_lines(run) == [f"django-concurrent-test: running sequentially: {reason}."]
    # Django printed the run itself, in its own format.
    assert "Ran 10 tests in" in run.stderr
    assert "FAILED (failures=3, errors=3, skipped=1" in run.stderr
    assert junit_cases(junit) == concurrent_cases
    page = html.read_text()
    assert "edge.tests.DatabaseTests" in page and "test_unexpected_success" in page
    assert "[CONCURRENT] Running 10 tests with 1 worker" in run.stdout
    # The one worker is the runner's own process, and the log says so like a pool's worker.
    assert {e["slot"] for e in run.of("classStart")} == {1}
    assert {e["slot"] for e in run.of("workerReady")} == {1}
    assert len(run.outcomes) == 11  # with "setUpClass (edge.tests.BrokenSetUpClassTests)"
    timings = json.loads((project / ".django-concurrent-test" / "timings.json").read_text())
    assert set(timings["classes"]) == set(LABELS)
    assert timings["classes"]["edge.tests.DatabaseTests"]["tests"] == 2


def test_pdb_runs_in_the_foreground_and_keeps_the_reports(tmp_path):
    junit, html, report_args = reports(tmp_path)
    # A passing test: pdb would wait for input at a failure.
    run = run_concurrent(
        EDGECASES, "edge.tests.OutcomeTests.test_passes", "--pdb", "--workers", "2", *report_args
    )
    assert run.returncode == 0, run.output[-2000:]
    assert reason_lines(run) == [
        "django-concurrent-test: running sequentially: --pdb needs a single process."
    ]
    assert junit_cases(junit) == {("edge.tests.OutcomeTests", "test_passes"): "passed"}
    assert html.exists()


def test_a_sequential_shard_runs_only_its_part(tmp_path):
    junit = tmp_path / "junit.xml"
    run = run_concurrent(EDGECASES, "edge", "--pdb", "--shard", "1/2", "--junitxml", str(junit))
    assert "running sequentially: --pdb needs a single process" in run.output
    shard = run.of("classStart")
    assert shard and {e["slot"] for e in shard} == {1}
    other = run_concurrent(EDGECASES, "edge", "--workers", "2", "--shard", "2/2")
    assert not {e["label"] for e in shard} & {e["label"] for e in other.of("classStart")}
    assert {case[0] for case in junit_cases(junit)} == {e["label"] for e in shard}


def test_options_without_meaning_in_one_process_are_named():
    run = run_concurrent(
        EDGECASES, "edge.tests.OutcomeTests.test_passes", "--workers", "1", "--timeout", "9"
    )
    assert run.returncode == 0
    assert "django-concurrent-test: --timeout does not apply to a sequential run." in run.stdout


# --- refusals: the gate first, always --------------------------------------------------------


def assert_refused(run: Run, error: str) -> None:
    assert run.returncode == 2, run.output[-2000:]
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(error) and lines[1].startswith("Hint: ")
    assert "running sequentially" not in run.output and "Traceback" not in run.output


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_production_like_settings_with_one_worker_are_refused(backend):
    before = server_databases(backend)
    databases = {"default": {"NAME": f"production{SUFFIX}"}}
    env = {**PRODUCTION_LIKE, "SAFETY_DATABASES": json.dumps(databases)}
    run = run_concurrent(EDGECASES, *LABELS, "--workers", "1", db=backend, opt_in=False, env=env)
    assert_refused(run, "SecurityException: ")
    assert server_databases(backend) == before


def test_production_like_settings_on_an_unclonable_vendor_are_refused(tmp_path):
    name, test_name = tmp_path / "production.sqlite3", tmp_path / "test_production.sqlite3"
    databases = {"default": {**OTHER_VENDOR, "NAME": str(name), "TEST": {"NAME": str(test_name)}}}
    env = {**PRODUCTION_LIKE, "SAFETY_DATABASES": json.dumps(databases)}
    run = run_concurrent(EDGECASES, *LABELS, opt_in=False, env=env)
    assert_refused(run, "SecurityException: ")
    assert list(tmp_path.iterdir()) == []


# --- an engine that cannot start ---------------------------------------------------------------


def test_no_usable_node_creates_no_sqlite_database(tmp_path):
    test_name = tmp_path / "test_edge.sqlite3"
    databases = {"default": {"TEST": {"NAME": str(test_name)}}}
    env = {
        "DJANGO_CONCURRENT_TEST_NODE": "/nonexistent/node",
        "DJANGO_SETTINGS_MODULE": "safety_settings",
        "SAFETY_DATABASES": json.dumps(databases),
    }
    run = run_concurrent(EDGECASES, *LABELS, "--workers", "1", env=env)
    assert_refused(run, "EngineUnavailable: DJANGO_CONCURRENT_TEST_NODE=/nonexistent/node")
    assert not test_name.exists()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_no_usable_node_leaves_the_server_untouched(backend):
    before = server_databases(backend)
    env = {"DJANGO_CONCURRENT_TEST_NODE": "/nonexistent/node"}
    run = run_concurrent(EDGECASES, *LABELS, "--workers", "1", db=backend, env=env)
    assert_refused(run, "EngineUnavailable: ")
    assert server_databases(backend) == before


def installed_copy(tmp_path: Path) -> Path:
    """The package tree as installed, in a directory of its own (put first on PYTHONPATH)."""
    shutil.copytree(
        PACKAGE, tmp_path / "pkg" / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path / "pkg"


def truncate_bundle(root: Path, *, digest_too: bool) -> None:
    bundle = root / PACKAGE.name / "_engine" / "cli.mjs"
    data = bundle.read_bytes()[:100_000]
    bundle.write_bytes(data)
    if digest_too:  # consistent with its digest: only loading it can tell
        bundle.with_name("cli.mjs.sha256").write_text(
            f"{hashlib.sha256(data).hexdigest()}  cli.mjs\n"
        )


@pytest.mark.parametrize("digest_too", [False, True], ids=["digest-mismatch", "fails-to-load"])
def test_a_damaged_bundle_is_one_line_and_exit_2(tmp_path, digest_too):
    root = installed_copy(tmp_path)
    truncate_bundle(root, digest_too=digest_too)
    test_name = tmp_path / "test_edge.sqlite3"
    env = {
        "PYTHONPATH": str(root),
        "DJANGO_SETTINGS_MODULE": "safety_settings",
        "SAFETY_DATABASES": json.dumps({"default": {"TEST": {"NAME": str(test_name)}}}),
    }
    run = run_concurrent(EDGECASES, *LABELS, env=env)
    assert_refused(run, "EngineUnavailable: the engine ")
    assert not test_name.exists()


def test_an_engine_that_ends_before_it_says_anything_is_engine_unavailable(tmp_path):
    node = tmp_path / "node"
    node.write_text(
        '#!/bin/sh\n[ "$1" = --version ] && { echo v20.0.0; exit 0; }\n'
        "echo 'node: crashed at start' >&2\nexit 1\n"
    )
    node.chmod(0o755)
    test_name = tmp_path / "test_edge.sqlite3"
    env = {
        "DJANGO_CONCURRENT_TEST_NODE": str(node),
        "DJANGO_SETTINGS_MODULE": "safety_settings",
        "SAFETY_DATABASES": json.dumps({"default": {"TEST": {"NAME": str(test_name)}}}),
    }
    run = run_concurrent(EDGECASES, *LABELS, env=env)
    assert run.returncode == 2, run.output[-2000:]
    assert run.stderr.splitlines()[-2:-1] == [
        "EngineUnavailable: the engine ended before it started (exit status 1)"
    ]
    assert run.stderr.splitlines()[-1].startswith("Hint: ")
    assert not test_name.exists()


def test_a_protocol_mismatch_is_engine_unavailable(tmp_path):
    root = installed_copy(tmp_path)
    protocol = root / PACKAGE.name / "protocol.py"
    text = protocol.read_text()
    assert "\nPROTOCOL_VERSION = " in text
    protocol.write_text(text.replace("\nPROTOCOL_VERSION = ", "\nPROTOCOL_VERSION = 90 + ", 1))
    run = run_concurrent(EDGECASES, *LABELS, env={"PYTHONPATH": str(root)})
    assert_refused(run, "EngineUnavailable: the Python adapter speaks protocol 9")


# --- pytest --concurrent ------------------------------------------------------------------------


def test_pytest_with_one_worker_runs_on_the_pool_and_writes_its_report(tmp_path):
    html = tmp_path / "report.html"
    run = run_pytest(EXAMPLE, "--concurrent", "--workers", "1", "--concurrent-html", str(html))
    assert run.returncode == 0, run.output[-2000:]
    assert "running sequentially" not in run.output
    assert {e["slot"] for e in run.of("classStart")} == {1}
    assert html.exists()


def test_pytest_refuses_engine_reports_it_cannot_write_in_its_own_loop(tmp_path):
    html = tmp_path / "report.html"
    run = run_pytest(EXAMPLE, "--concurrent", "--pdb", "--concurrent-html", str(html))
    assert run.returncode == 2, run.output[-2000:]
    assert (
        "ConfigError: --concurrent-html cannot be written: pytest runs this session in its own loop"
        in run.output
    )
    assert "Hint: drop --concurrent-html" in run.output
    assert not html.exists()
