"""The template cache, clone slots and orphans, on real servers: a second run with unchanged
migrations runs none, an edited migration rebuilds, a run killed with SIGKILL leaves nothing
behind once the next run (or the cleanup command) has looked, and a failed copy fails the run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import server_databases
from helpers import BOOKSTORE, OPT_IN, PYTHON, REPO, _env, run_concurrent

pytestmark = pytest.mark.integration
TEMPLATING = REPO / "tests" / "projects" / "templating"
SERVERS = [
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]
ALL = ["sqlite", *SERVERS]


def cleanup(project: Path, db: str, *args: str, env: dict[str, str] | None = None) -> str:
    """`django-concurrent-test cleanup` as a user runs it from the project."""
    proc = subprocess.run(
        [
            PYTHON,
            "-m",
            "django_concurrent_test.cli",
            "cleanup",
            "--settings",
            settings_of(project),
            "--pythonpath",
            ".",
            *args,
        ],
        cwd=project,
        env=_env(db, env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


def settings_of(project: Path) -> str:
    return {"templating": "shelfsettings", "bookstore": "bookstore.settings"}.get(
        project.name, "shelfsettings"
    )


def templates(run: Any) -> dict[str, dict[str, Any]]:
    return {t["alias"]: t for t in run.of("templates")[0]["templates"]}


@pytest.mark.parametrize("backend", ALL, indirect=True)
def test_a_second_run_with_unchanged_migrations_migrates_nothing(backend):
    before = server_databases(backend)
    try:
        first = run_concurrent(TEMPLATING, "--keepdb", "--workers", "2", db=backend)
        assert first.returncode == 0, first.output[-3000:]
        built = templates(first)["default"]
        assert built["action"] == "built" and built["migrations"] >= 3
        second = run_concurrent(TEMPLATING, "--keepdb", "--workers", "2", db=backend)
        assert second.returncode == 0, second.output[-3000:]
        reused = templates(second)["default"]
        # From the run's own report: Django's migrate never ran.
        assert reused["action"] == "reused" and reused["migrations"] == 0
        assert reused["name"] == built["name"] and reused["hash"] == built["hash"]
        assert "Using cached test database for alias 'default'" in second.stderr
        assert second.outcomes == first.outcomes
        if backend != "sqlite":
            assert built["name"] in server_databases(backend)
    finally:
        cleanup(TEMPLATING, backend, "--all")
    assert server_databases(backend) == before


def clone_names(run: Any, slots: set[int] | None = None) -> set[str]:
    """The run's clone names (only those of the given worker slots, when given)."""
    return {
        spec["name"]
        for slot in run.of("clones")[0]["slots"]
        if slots is None or slot["slot"] in slots
        for spec in slot["clones"].values()
    }


def slots_that_committed(run: Any) -> set[int]:
    """The worker slots that ran a TransactionTestCase (which workers take them varies)."""
    return {e["slot"] for e in run.of("classStart") if "Committing" in e["label"]}


@pytest.mark.parametrize("backend", [SERVERS[0]], indirect=True)
def test_a_stale_kept_clone_is_dropped_beside_the_tests_not_before_them(backend):
    """PostgreSQL: kept clones the TransactionTestCase classes wrote to cannot be reused: the next
    run takes other numbers at once and drops the stale ones in the background, leaving none."""
    before = server_databases(backend)
    try:
        first = run_concurrent(TEMPLATING, "--keepdb", "--workers", "2", db=backend)
        assert first.returncode == 0, first.output[-3000:]
        second = run_concurrent(TEMPLATING, "--keepdb", "--workers", "2", db=backend)
        assert second.returncode == 0, second.output[-3000:]
        assert second.outcomes == first.outcomes
        stale, new = clone_names(first, slots_that_committed(first)), clone_names(second)
        assert stale and len(new) == 2 and not stale & new
        on_server = server_databases(backend)
        assert new <= on_server  # kept for the next run
        assert not stale & on_server  # the stale ones were dropped by the end of the run
    finally:
        cleanup(TEMPLATING, backend, "--all")
    assert server_databases(backend) == before


@pytest.mark.parametrize("backend", [SERVERS[1]], indirect=True)
def test_a_kept_clone_tests_wrote_to_is_repaired_in_place(backend):
    """MySQL/MariaDB: the next run puts the rows of kept clones the TransactionTestCase classes
    wrote to back to the template's, in place: same clones, the seeded rows back, same outcomes
    (the project's tests read the rows its data migration seeded)."""
    before = server_databases(backend)
    try:
        first = run_concurrent(TEMPLATING, "--keepdb", "--workers", "2", db=backend)
        assert first.returncode == 0, first.output[-3000:]
        assert slots_that_committed(first)
        for _ in range(2):
            again = run_concurrent(TEMPLATING, "--keepdb", "--workers", "2", db=backend)
            assert again.returncode == 0, again.output[-3000:]
            assert again.outcomes == first.outcomes
            assert clone_names(again) == clone_names(first)
            made = again.of("clones")[0]["made"]
            assert made["clones"] == 0 and made["reused"] + made["repaired"] == 2
            assert made["repaired"] >= 1
    finally:
        cleanup(TEMPLATING, backend, "--all")
    assert server_databases(backend) == before


def test_rebuild_templates_migrates_again_and_v2_shows_the_hash():
    try:
        first = run_concurrent(TEMPLATING, "--keepdb", "--workers", "2")
        again = run_concurrent(
            TEMPLATING, "--keepdb", "--workers", "2", "--rebuild-templates", "-v", "2"
        )
        assert again.returncode == 0, again.output[-3000:]
        rebuilt = templates(again)["default"]
        assert rebuilt["action"] == "built" and rebuilt["migrations"] >= 3
        assert rebuilt["hash"] == templates(first)["default"]["hash"]
        assert f"(hash {rebuilt['hash']}, built" in again.stderr
    finally:
        cleanup(TEMPLATING, "sqlite", "--all")


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)], indirect=True
)
def test_editing_a_migration_rebuilds_and_drops_the_stale_template(backend, tmp_path):
    before = server_databases(backend)
    project = tmp_path / "templating"
    shutil.copytree(TEMPLATING, project, ignore=shutil.ignore_patterns("__pycache__"))
    try:
        first = run_concurrent(project, "--keepdb", "--workers", "2", db=backend)
        assert first.returncode == 0, first.output[-3000:]
        seed = project / "shelf" / "migrations" / "0002_seed.py"
        seed.write_text(seed.read_text().replace('"poetry"]', '"poetry", "memoir"]'))
        second = run_concurrent(project, "--keepdb", "--workers", "2", db=backend)
        assert second.returncode == 0, second.output[-3000:]
        old, new = templates(first)["default"], templates(second)["default"]
        assert new["action"] == "built" and new["migrations"] >= 3
        assert new["hash"] != old["hash"] and new["name"] != old["name"]
        dropped = {d["name"] for e in second.of("dropped") for d in e["databases"] if d["dropped"]}
        assert old["name"] in dropped
        if backend == "sqlite":
            assert not Path(old["name"]).exists() and Path(new["name"]).exists()
        else:
            on_server = server_databases(backend)
            assert new["name"] in on_server
            assert not [name for name in on_server if name.startswith(old["name"])]
    finally:
        cleanup(project, backend, "--all")
    assert server_databases(backend) == before


def _start_slow_run(db: str, log: Path) -> subprocess.Popen[str]:
    env = _env(db, {**OPT_IN, "SHELF_SLEEP": "120", "DJANGO_CONCURRENT_TEST_EVENT_LOG": str(log)})
    return subprocess.Popen(
        [PYTHON, "manage.py", "test", "--workers", "2"],
        cwd=TEMPLATING,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def _kill_once_workers_run(proc: subprocess.Popen[str], log: Path) -> None:
    """Kill the whole run once both workers use their clones (so template and clones exist)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        if sum(e["type"] == "workerAttached" for e in events) == 2:
            break
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.2)
    else:
        pytest.fail("the workers never became ready")
    os.killpg(proc.pid, signal.SIGKILL)  # the runner, its engine and every worker at once
    proc.wait(timeout=30)


def _orphaned_pool_dirs() -> list[str]:
    """The engine's pool folders (its pid in the name) whose engine is gone, in the temporary
    directory the runs were given (conftest.py sets TMPDIR after tempfile may have cached one)."""
    return [
        entry.name
        for entry in Path(os.environ.get("TMPDIR") or tempfile.gettempdir()).glob("dct-*-*")
        if entry.name.split("-")[1].isdigit() and not _running(entry.name.split("-")[1])
    ]


def _running(pid: str) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status  # a zombie has exited


@pytest.mark.parametrize("backend", SERVERS, indirect=True)
def test_a_run_killed_with_sigkill_leaves_no_orphans_after_the_next_run(backend, tmp_path):
    before = server_databases(backend)
    _kill_once_workers_run(_start_slow_run(backend, tmp_path / "a.jsonl"), tmp_path / "a.jsonl")
    orphans = server_databases(backend) - before
    assert len(orphans) == 3, orphans  # the template and two clones, nobody left to drop them
    assert _orphaned_pool_dirs()  # the workers' socket and files: nobody left to remove them
    after = run_concurrent(TEMPLATING, "--workers", "2", db=backend)
    assert after.returncode == 0, after.output[-3000:]
    assert server_databases(backend) == before
    assert _orphaned_pool_dirs() == []

    # And `cleanup` does the same without a run.
    _kill_once_workers_run(_start_slow_run(backend, tmp_path / "b.jsonl"), tmp_path / "b.jsonl")
    assert len(server_databases(backend) - before) == 3
    report = cleanup(TEMPLATING, backend)
    assert report.count("dropped ") >= 3 and "is gone" in report
    assert server_databases(backend) == before
    assert _orphaned_pool_dirs() == []


@pytest.mark.mariadb
@pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
def test_a_copy_error_on_one_clone_fails_the_run_and_leaves_no_clone(backend):
    """A real failure on one clone only: a user that may create clone 2 but not insert into it."""
    import pymysql

    before = server_databases(backend)
    user, password = "dct_limited" + os.environ.get("EXAMPLE_DB_SUFFIX", ""), "limited-pw"
    root = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
    try:
        # A first run only learns the template's name (the user is not part of the hash).
        first = run_concurrent(TEMPLATING, "--workers", "2", db=backend)
        assert first.returncode == 0, first.output[-3000:]
        template = templates(first)["default"]["name"]
        test_name = template.rsplit("_", 1)[0]  # Django's own test name, as the safety check plans
        with root.cursor() as cursor:
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")
            cursor.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
            # Everything on the project's test databases (as the privilege check advises),
            # except INSERT on clone 2: the more specific grant is the one the server applies.
            escaped = template.replace("_", "\\_")
            cursor.execute(
                f"GRANT ALL ON `{test_name.replace('_', chr(92) + '_')}%`.* TO '{user}'@'%'"
            )
            cursor.execute(
                f"GRANT CREATE, DROP, ALTER, SELECT ON `{escaped}\\_2`.* TO '{user}'@'%'"
            )
        limited = {"EXAMPLE_DB_USER": user, "EXAMPLE_DB_PASSWORD": password}
        # The limited user builds the template itself (so it may read its routines back).
        failed = run_concurrent(TEMPLATING, "--workers", "2", db=backend, env=limited)
        assert failed.returncode == 1, failed.output[-3000:]
        assert (
            f'DatabaseTemplateException: could not copy "{template}" into "{template}_2" '
            "(copying the rows of"
        ) in failed.stderr
        assert "INSERT command denied" in failed.stderr
        assert not failed.of("workerAttached")  # no worker got a half-made database
        assert server_databases(backend) == before  # nor the clone made, nor the template
    finally:
        with root.cursor() as cursor:
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        root.close()
        cleanup(TEMPLATING, backend, "--all")
    assert server_databases(backend) == before


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_two_aliases_and_a_mirror_get_two_templates_and_the_mirror_shares_a_clone(backend):
    before = server_databases(backend)
    ours = run_concurrent(
        BOOKSTORE, "inventory.tests.AllDatabasesTests", "--workers", "2", db=backend
    )
    assert ours.returncode == 0, ours.output[-3000:]
    assert sorted(templates(ours)) == ["default", "other"]
    for slot in ours.of("clones")[0]["slots"]:
        clones = slot["clones"]
        assert clones["replica"]["name"] == clones["default"]["name"]
        assert clones["other"]["name"] != clones["default"]["name"]
        assert clones["default"]["name"].startswith(templates(ours)["default"]["name"] + "_")
    assert server_databases(backend) == before
