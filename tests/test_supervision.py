"""Worker supervision and scheduling, end to end: tests that hang, crash, freeze or kill their own
worker (tests/projects/misbehaving) are reported and survived; Ctrl-C and SIGTERM leave no
process and no database behind; classes are handed out longest-expected-first from stored
timings; the progress line is live on a terminal and plain elsewhere."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import server_databases
from helpers import OPT_IN, PYTHON, REPO, Run, _env, run_concurrent

pytestmark = pytest.mark.integration

MISBEHAVING = REPO / "tests" / "projects" / "misbehaving"
T = "misbehave.tests."
BYSTANDERS = [T + "GoodTests", T + "MoreGoodTests"]
BYSTANDER_TESTS = {
    T + "GoodTests.test_one",
    T + "GoodTests.test_two",
    T + "GoodTests.test_three",
    T + "MoreGoodTests.test_a",
    T + "MoreGoodTests.test_b",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh copy of the project: no stored timings from other runs change the plan."""
    return copy_project(tmp_path / "project")


def copy_project(dest: Path) -> Path:
    ignore = shutil.ignore_patterns(".django-concurrent-test", "*.sqlite3", "__pycache__")
    shutil.copytree(MISBEHAVING, dest, ignore=ignore)
    return dest


def traceback_of(run: Run, test: str) -> str:
    return "\n".join(
        e.get("traceback", "") for e in run.of("outcome") if (e.get("parent") or e["test"]) == test
    )


def assert_bystanders_pass(run: Run) -> None:
    for test in BYSTANDER_TESTS:
        assert run.outcomes.get(test) == ["success"], (test, run.output[-3000:])


def ran(run: Run) -> int:
    match = re.search(r"^Ran (\d+) tests?", run.stderr, re.M)
    assert match, run.output[-3000:]
    return int(match.group(1))


def alive(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_hanging_test_times_out_and_the_run_goes_on(project):
    started = time.monotonic()
    run = run_concurrent(
        project, T + "HangTests", *BYSTANDERS, "--workers", "2", "--timeout", "2", timeout=120
    )
    assert time.monotonic() - started < 60
    assert run.returncode == 1, run.output[-3000:]
    assert run.outcomes[T + "HangTests.test_a_hangs"] == ["error"]
    hung = traceback_of(run, T + "HangTests.test_a_hangs")
    assert hung.startswith("WorkerTimeout: misbehave.tests.HangTests ran for ")
    assert "past the 2s timeout" in hung and "test_a_hangs had been running for" in hung
    # Where it hung, from the worker's own stack.
    assert "in test_a_hangs" in hung
    assert run.outcomes[T + "HangTests.test_b_never_starts"] == ["error"]
    assert traceback_of(run, T + "HangTests.test_b_never_starts").startswith("NotRun: ")
    assert_bystanders_pass(run)
    assert ran(run) == 7
    assert re.search(r"Worker problems \(1\):\n  worker \d \(pid \d+\) timed out", run.stderr)
    [lost] = run.of("workerLost")
    assert lost["kind"] == "timeout" and lost["test"] == T + "HangTests.test_a_hangs"
    # A fresh worker took the same slot (or there was nothing left for it to do).
    ready = [e["slot"] for e in run.of("workerReady")]
    assert len(ready) in (2, 3) and set(ready) == {1, 2}
    assert not [e["pid"] for e in run.of("workerReady") if alive(e["pid"])]
    # Never both progress styles; nothing at all in a short run off a terminal.
    assert "\x1b[" not in run.output and "Progress:" not in run.output


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_crashing_workers_are_survived_and_reported(project, start_method):
    labels = [T + "ExitTests", T + "SigkillTests", T + "SegfaultTests", *BYSTANDERS]
    run = run_concurrent(
        project, *labels, "--workers", "2", "--start-method", start_method, timeout=180
    )
    assert run.returncode == 1, run.output[-3000:]
    exited = traceback_of(run, T + "ExitTests.test_a_exits")
    assert exited.startswith("WorkerCrash: the worker process exited with status 1 while running ")
    killed = traceback_of(run, T + "SigkillTests.test_a_sigkills_itself")
    assert "was killed by signal SIGKILL" in killed
    segfault = traceback_of(run, T + "SegfaultTests.test_segfaults")
    assert "was killed by signal SIGSEGV" in segfault
    assert "Segmentation fault" in segfault and "in test_segfaults" in segfault
    # Each crash was retried once on a fresh worker, and crashed again.
    for test in (exited, killed, segfault):
        assert "(on the retry after an earlier crash)" in test
    assert run.stderr.count("retried on a fresh worker: crashed again") == 3
    for test in (T + "ExitTests.test_b_after_exit", T + "SigkillTests.test_b_after_sigkill"):
        assert run.outcomes[test] == ["error"]
        assert traceback_of(run, test).startswith("NotRun: the worker crashed")
    assert_bystanders_pass(run)
    assert ran(run) == 10  # every selected test once, retries not counted twice
    assert "FAILED (errors=5)" in run.stderr
    pids = [e["pid"] for e in run.of("workerReady")]
    assert len(pids) > 2 and not [pid for pid in pids if alive(pid)]


def test_a_crash_whose_retry_passes_is_reported_and_does_not_fail_the_run(project, tmp_path):
    labels = [T + "FlakyCrashTests", *BYSTANDERS]
    env = {"MISBEHAVE_MARKERS": str(tmp_path)}
    run = run_concurrent(project, *labels, "--workers", "2", env=env)
    assert run.returncode == 0, run.output[-3000:]
    for name in ("test_a_passes", "test_b_crashes_once", "test_c_passes"):
        assert run.outcomes[T + "FlakyCrashTests." + name] == ["success"]
    assert_bystanders_pass(run)
    assert ran(run) == 8
    assert re.search(
        r"worker \d \(pid \d+\) crashed: the worker process exited with status 1 while running "
        r"misbehave.tests.FlakyCrashTests.test_b_crashes_once; retried on a fresh worker: passed",
        run.stderr,
    )
    assert [e["result"] for e in run.of("retryDone")] == ["passed"]

    (tmp_path / "crashed-once").unlink()
    no_retry = run_concurrent(
        project, *labels, "--workers", "2", env={**env, "MISBEHAVE_CRASH_RETRIES": "0"}
    )
    assert no_retry.returncode == 1
    assert traceback_of(no_retry, T + "FlakyCrashTests.test_b_crashes_once").startswith(
        "WorkerCrash: "
    )
    assert no_retry.outcomes[T + "FlakyCrashTests.test_c_passes"] == ["error"]
    assert "retried" not in no_retry.stderr


def test_heartbeat_tells_a_frozen_worker_from_a_slow_one(project):
    # The timeout is 12 s, so a worker without a heartbeat for 6 s counts as frozen.
    run = run_concurrent(
        project,
        T + "FreezeTests",
        T + "SlowButAliveTests",
        "--workers",
        "2",
        "--timeout",
        "12",
        env={"MISBEHAVE_SLOW": "7"},
    )
    assert run.returncode == 1, run.output[-3000:]
    # Slower than the heartbeat limit, but responding: left alone.
    assert run.outcomes[T + "SlowButAliveTests.test_slow"] == ["success"]
    frozen = traceback_of(run, T + "FreezeTests.test_freezes")
    assert frozen.startswith("WorkerTimeout: no heartbeat for ")
    assert "the process is frozen" in frozen
    [lost] = run.of("workerLost")
    assert lost["kind"] == "hung" and lost["elapsed"] < 11


def test_a_worker_that_cannot_start_fails_the_run_fast(project):
    before = server_databases("sqlite")
    started = time.monotonic()
    run = run_concurrent(
        project,
        *BYSTANDERS,
        "--workers",
        "2",
        "--start-method",
        "spawn",
        env={"MISBEHAVE_BROKEN_WORKER": "1"},
        timeout=120,
    )
    assert time.monotonic() - started < 60
    assert run.returncode == 1
    assert "ImportError: misbehaving settings refuse to load in a worker" in run.stderr
    assert re.search(
        r"^WorkerStartError: worker \d could not start: its process exited", run.stderr, re.M
    )
    assert "Ran " not in run.stderr
    # Not respawned: at most one start failure per slot.
    assert len([e for e in run.of("workerLost") if e["kind"] == "startFailure"]) <= 2
    assert server_databases("sqlite") == before


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_class_cut_short_outside_a_transaction_gets_its_slot_fresh_clones(backend, project):
    before = server_databases(backend)
    checks = [T + f"CleanCheck{i}Tests" for i in range(1, 5)]
    # BlockerTests holds one worker for 4.5 s, so the clean checks wait for the crashed slot's
    # fresh worker: without fresh clones they would find the row the crashed class left.
    run = run_concurrent(
        project,
        T + "BlockerTests",
        T + "DirtyCrashTests",
        *checks,
        "--workers",
        "2",
        db=backend,
        env={"MISBEHAVE_CRASH_RETRIES": "0"},
    )
    assert run.returncode == 1, run.output[-3000:]
    assert run.outcomes[T + "DirtyCrashTests.test_writes_then_dies"] == ["error"]
    for check in checks:
        assert run.outcomes[check + ".test_clean"] == ["success"], run.output[-3000:]
    [lost] = run.of("workerLost")
    after = [e for e in run.of("classStart") if e["slot"] == lost["slot"] and e["t"] > lost["t"]]
    assert after, "no class ran on the crashed slot afterwards; the test proves nothing"
    assert server_databases(backend) == before


# --- interrupts -------------------------------------------------------------------------------


def session_members(sid: int) -> list[int]:
    """Live processes of a session (the run's whole process tree started in it)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def engine_pid(runner_pid: int) -> int:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if ppid == runner_pid and b"cli.mjs" in cmdline:
            return int(entry.name)
    raise AssertionError("the engine process was not found")


def events_of(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def wait_for(log: Path, kind: str, timeout: float = 90) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists():
            events = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
            if any(e["type"] == kind for e in events):
                return events
        time.sleep(0.05)
    raise AssertionError(f"no {kind} event within {timeout}s")


SLOW = [T + "SlowTests", T + "SlowTests2", T + "SlowTests3", T + "SlowTests4", T + "SlowDbTests"]


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.parametrize("target", ["group", "engine"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_leaves_no_process_and_no_database(backend, project, target, sig):
    before = server_databases(backend)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "events.jsonl"
        env = _env(backend, {**OPT_IN, "DJANGO_CONCURRENT_TEST_EVENT_LOG": str(log)})
        proc = subprocess.Popen(
            [PYTHON, "manage.py", "test", *SLOW, "--workers", "2"],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, like a terminal's job
        )
        try:
            # Once a test ran on the clones (database-free ones may finish before they exist).
            attached = wait_for(log, "workerAttached")
            since = min(e["t"] for e in attached if e["type"] == "workerAttached")
            deadline = time.monotonic() + 90
            while not any(e["type"] == "testStop" and e["t"] > since for e in events_of(log)):
                assert time.monotonic() < deadline, "no test ran on the clones"
                time.sleep(0.05)
            events = events_of(log)
            workers = [e["pid"] for e in events if e["type"] == "workerReady"]
            if target == "group":
                os.killpg(proc.pid, sig)  # what a terminal's Ctrl-C does
            else:
                os.kill(engine_pid(proc.pid), sig)
            _, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        events = [json.loads(line) for line in log.read_text().splitlines()]
    assert proc.returncode == (130 if sig == signal.SIGINT else 143), stderr[-3000:]
    assert f"Interrupted ({sig.name}): stopping workers and dropping clones" in stderr
    assert re.search(r"^Interrupted: \d+ class(es were| was) cut short", stderr, re.M)
    match = re.search(r"^Ran (\d+) tests?", stderr, re.M)
    # The signal can land after the last test but before its class's teardown: all 18 then ran.
    assert match and int(match.group(1)) <= 18, stderr[-3000:]
    assert workers and not [pid for pid in workers if alive(pid)]
    assert session_members(proc.pid) == []
    assert server_databases(backend) == before
    assert "Traceback" not in stderr


# --- scheduling ------------------------------------------------------------------------------


ORDER = [T + n for n in ("OrderATests", "OrderBTests", "OrderCTests", "OrderDTests")]
ORDER_E = T + "OrderEFixtureTests"


def stored(seconds: float, tests: int) -> dict[str, Any]:
    return {"seconds": seconds, "tests": tests, "runs": 1, "updated": "2025-01-01T00:00:00Z"}


def test_hand_out_order_follows_stored_timings(project):
    timings = project / ".django-concurrent-test" / "timings.json"

    # No stored timings yet: estimates from test counts; the run stores what it measured.
    first = run_concurrent(project, *ORDER, ORDER_E, "--workers", "2")
    assert first.returncode == 0, first.output[-3000:]
    data = json.loads(timings.read_text())
    assert data["version"] == 1
    assert set(data["classes"]) == {*ORDER, ORDER_E}
    assert data["classes"][T + "OrderDTests"]["tests"] == 6  # parts of a split class add up

    timings.write_text(
        json.dumps(
            {
                "version": 1,
                "classes": {
                    T + "OrderATests": stored(1, 1),
                    T + "OrderBTests": stored(3, 1),
                    T + "OrderCTests": stored(
                        9, 1
                    ),  # the longest class that writes outside a transaction
                    T + "OrderDTests": stored(10, 6),  # no database, no class fixture: split
                    ORDER_E: stored(12, 2),  # has a setUpClass of its own: stays whole
                    T + "Unrelated": stored(5, 5),
                },
            }
        )
    )
    run = run_concurrent(project, *ORDER, ORDER_E, "--workers", "2")
    assert run.returncode == 0, run.output[-3000:]
    # Longest first; every TestCase before the TransactionTestCase (Django's guarantee);
    # the splittable class in two parts of half its time.
    expected = [
        ORDER_E,
        T + "OrderBTests",
        T + "OrderATests",
        T + "OrderCTests",
        T + "OrderDTests",
        T + "OrderDTests",
    ]
    [plan] = run.of("plan")
    assert plan["order"] == "expected"
    assert [i["label"] for i in plan["items"]] == expected
    # Handed out in that order, except that the classes needing no database (D, E) may go
    # first, while the databases are being made.
    assert sorted(run.handed_out) == sorted(expected)
    with_databases = [T + "OrderBTests", T + "OrderATests", T + "OrderCTests"]
    assert [label for label in run.handed_out if label in with_databases] == with_databases
    assert [i["part"] for i in plan["items"] if i["label"] == T + "OrderDTests"] == [
        {"number": 1, "of": 2},
        {"number": 2, "of": 2},
    ]
    merged = json.loads(timings.read_text())["classes"]
    assert merged[T + "Unrelated"]["seconds"] == 5  # merged, not overwritten
    assert merged[T + "OrderATests"]["runs"] == 2

    # An order asked for is kept (--reverse, --shuffle): discovery order, classes whole.
    reverse = run_concurrent(project, *ORDER, ORDER_E, "--workers", "2", "--reverse")
    [plan] = reverse.of("plan")
    assert plan["order"] == "discovery"
    assert reverse.handed_out == [i["label"] for i in plan["items"]]
    assert sorted(reverse.handed_out) == sorted([*ORDER, ORDER_E])


# --- progress --------------------------------------------------------------------------------


def test_progress_is_a_live_line_on_a_terminal(project):
    env = _env("sqlite", {**OPT_IN})
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [
            PYTHON,
            "manage.py",
            "test",
            T + "SlowTests",
            T + "SlowTests2",
            *BYSTANDERS,
            "--workers",
            "2",
        ],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=secondary,
    )
    os.close(secondary)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([primary], [], [], 60)
            if not ready:
                break
            try:
                data = os.read(primary, 65536)
            except OSError:  # the terminal closed
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(primary)
        proc.wait(timeout=60)
    out = b"".join(chunks).decode()
    assert proc.returncode == 0, out[-3000:]
    assert "\r\x1b[2K" in out
    assert re.search(r"\[\s*\d+/13\] · \d+:\d\d", out)
    assert "Progress:" not in out
    # When the line goes away the dots are written out whole, as Django prints them.
    assert "\r\x1b[2K.............\r\n" in out


def test_progress_is_plain_lines_off_a_terminal(project):
    run = run_concurrent(
        project,
        T + "SlowTests",
        T + "SlowTests2",
        T + "SlowTests3",
        "--workers",
        "2",
        env={"DJANGO_CONCURRENT_TEST_PROGRESS_INTERVAL": "0.5"},
    )
    assert run.returncode == 0, run.output[-3000:]
    lines = re.findall(
        r"^Progress: (\d+)/12 tests \(\d+%\), 0 failed, \d+:\d\d elapsed", run.stderr, re.M
    )
    assert len(lines) >= 2
    assert [int(n) for n in lines] == sorted(int(n) for n in lines)
    assert "\x1b[" not in run.output
