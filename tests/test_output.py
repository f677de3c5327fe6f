"""What a user reads: what tests print comes after Django's lines about creating the test
databases (workers run database-free classes while those are made), and a test writing a great
deal under --buffer is reported whole."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from helpers import BOOKSTORE, OPT_IN, PYTHON, REPO, _env

pytestmark = pytest.mark.integration
PRINTING = REPO / "tests" / "projects" / "printing"
MARKERS = [
    "MARKER-print-stdout",
    "MARKER-print-stderr",
    "MARKER-fd-1",
    "MARKER-fd-2",
    "MARKER-more-stdout",
    "MARKER-database",
]
EARLY_CLASSES = {"printer.tests.PrintingTests", "printer.tests.MorePrintingTests"}


def run_merged(
    *args: str, db: str = "sqlite", env: dict[str, str] | None = None, timeout: float = 300
) -> tuple[int, str, list[dict[str, Any]]]:
    """`manage.py test` with stdout and stderr on one pipe, as a terminal shows them."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "events.jsonl"
        proc = subprocess.run(
            [PYTHON, "manage.py", "test", *args],
            cwd=PRINTING,
            env=_env(db, {**OPT_IN, **(env or {}), "DJANGO_CONCURRENT_TEST_EVENT_LOG": str(log)}),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return proc.returncode, proc.stdout, events


def started_before_clones(events: list[dict[str, Any]]) -> set[str]:
    ready = next(
        e["t"]
        for e in events
        if e["type"] == "phase" and e["phase"] == "clones" and e["edge"] == "end"
    )
    return {e["label"] for e in events if e["type"] == "classStart" and e["t"] < ready}


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_what_tests_print_comes_after_the_database_lines(backend: str, start_method: str) -> None:
    code, output, events = run_merged(
        "printer.tests",
        "-v",
        "2",
        "--workers",
        "2",
        "--start-method",
        start_method,
        db=backend,
        # Long enough that the database-free classes certainly run while it migrates.
        env={"PRINTING_MIGRATION_PAUSE": "3"},
    )
    assert code == 0, output[-3000:]
    assert EARLY_CLASSES <= started_before_clones(events), output
    lines = output.splitlines()
    last_creating = max(i for i, line in enumerate(lines) if "Creating test database" in line)
    assert not [line for line in lines if "Applying" in line and "MARKER" in line], output
    assert re.search(r"Applying printer\.0001_initial\.\.\. OK$", output, re.MULTILINE), output
    for marker in MARKERS:
        # Each exactly once (nothing held is lost or written twice), after every database line.
        assert output.count(marker) == 1, (marker, output)
        assert first_line_with(marker, lines) > last_creating, (marker, output)


def test_what_a_test_printed_before_crashing_its_worker_is_not_lost() -> None:
    """The crash comes before the worker attached, while its output was still held."""
    code, output, events = run_merged(
        "printer.tests_crash",
        "printer.tests.DatabaseTests",
        "--workers",
        "2",
        env={"PRINTING_MIGRATION_PAUSE": "3"},
    )
    assert code == 1, output[-3000:]
    assert "printer.tests_crash.PrintThenCrashTests" in started_before_clones(events), output
    lines = output.splitlines()
    last_creating = max(i for i, line in enumerate(lines) if "Creating test database" in line)
    for marker in ("MARKER-crash-stdout", "MARKER-crash-fd-2"):
        # Once for the crash and once for its retry on a fresh worker, which crashes again.
        assert output.count(marker) == 2, (marker, output)
        assert first_line_with(marker, lines) > last_creating, (marker, output)


def test_a_run_without_databases_prints_as_it_goes() -> None:
    """No database to wait for: what a test prints is not held to the end of the run."""
    code, output, _ = run_merged("printer.tests.PrintingTests", "-v", "2", "--workers", "2")
    assert code == 0, output[-3000:]
    lines = output.splitlines()
    ran = next(i for i, line in enumerate(lines) if line.startswith("Ran 3 tests"))
    for marker in ["MARKER-print-stdout", "MARKER-print-stderr", "MARKER-fd-1", "MARKER-fd-2"]:
        assert first_line_with(marker, lines) < ran, (marker, output)


def first_line_with(text: str, lines: list[str]) -> int:
    # A worker's output and the engine's share the terminal: a line may hold both.
    return next(i for i, line in enumerate(lines) if text in line)


BULK = {"BULK_OUTPUT_MB": "20"}  # 10 MB on stdout and 10 MB on stderr, in one test
BULK_BYTES = 10 << 20


@pytest.mark.parametrize("fails", [False, True])
def test_megabytes_under_buffer_are_reported_whole(fails: bool, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    env = {**BULK, **({"BULK_OUTPUT_FAIL": "1"} if fails else {})}
    code, output, _ = run_merged(
        "printer.tests_bulk", "--buffer", "--workers", "2", "--junitxml", str(junit), env=env
    )
    assert code == (1 if fails else 0), output[-3000:]
    assert "Ran 2 tests" in output
    report = ET.parse(junit).getroot()
    case = report.find(".//testcase[@name='test_bulk']")
    assert case is not None
    if fails:
        assert "FAILED (failures=1)" in output
        # unittest's report of a buffered failure: the traceback, then everything it wrote.
        failure = output[output.index("FAIL: test_bulk") :]
        assert "AssertionError: BULK-FAILED" in failure
        stdout = failure[failure.index("\nStdout:\n") : failure.index("\nStderr:\n")]
        assert stdout.count("x" * 1023) == BULK_BYTES // 1024 and "BULK-END-stdout" in stdout
        failed = case.find("failure")
        assert failed is not None and "BULK-FAILED" in f"{failed.get('message')} {failed.text}"
    else:
        # As under Django's runner: a passing test's buffered output is not shown.
        assert "OK" in output.splitlines() and "x" * 1023 not in output
        assert case.find("failure") is None
    # The report keeps what the test wrote, whole.
    assert "BULK-END-stdout" in case.findtext("system-out", "")
    assert len(case.findtext("system-err", "")) == BULK_BYTES


def test_a_pytest_test_writing_megabytes_is_reported_whole() -> None:
    """pytest --concurrent relays each report to the main pytest process over the protocol."""
    env = _env("sqlite", {**OPT_IN, **BULK, "BULK_OUTPUT_FAIL": "1"})
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    proc = subprocess.run(
        [PYTHON, "-m", "pytest", "--concurrent", "--workers", "2"],
        cwd=PRINTING,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    output = proc.stdout
    assert proc.returncode == 1, output[-3000:]
    assert re.search(r"= 1 failed, 1 passed in ", output), output[-3000:]
    assert "AssertionError: BULK-FAILED" in output
    captured = output[output.index("Captured stdout call") :]
    assert captured.count("x" * 1023) >= BULK_BYTES // 1024 and "BULK-END-stdout" in captured


def test_a_runner_killed_with_sigkill_does_not_end_in_ok():
    """The engine outlives a runner killed with SIGKILL: it stops the workers, drops the clones
    and says the run was cut short, never OK."""
    proc = subprocess.Popen(
        [PYTHON, "manage.py", "test", "--workers", "2"],
        cwd=BOOKSTORE,
        env=_env("sqlite", OPT_IN),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen = ""
    while "Cloning test database" not in seen:
        line = proc.stdout.readline()
        assert line, seen
        seen += line
    proc.stdout.read(3)  # three tests have finished
    proc.kill()
    proc.wait(timeout=30)
    rest = proc.stdout.read()  # until the engine, the pipe's last writer, is gone
    summary = rest.splitlines()
    assert "the Python process driving the run went away; stopping." in rest
    assert "OK" not in summary and not any(line.startswith("OK (") for line in summary)
    assert any(line.startswith("FAILED (interrupted") for line in summary), rest[-2000:]
