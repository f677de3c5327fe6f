"""Template snapshots on real projects: a run on a fresh server restores each template from the
snapshot file the last run saved instead of migrating, and its tests come out as before; a
damaged snapshot is ignored with one line, the run migrates as without it and saves a new one;
snapshots are off unless asked for, and ``cleanup --all`` removes them."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import server_databases
from helpers import BOOKSTORE, PYTHON, REPO, Run, _env, run_concurrent

pytestmark = pytest.mark.integration
TEMPLATING = REPO / "tests" / "projects" / "templating"
ALL = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]
SNAPSHOTS = {"DJANGO_CONCURRENT_TEST_SNAPSHOTS": "1"}
HEADER_SIZE = 1024  # engine/src/databases/snapshots.ts


def copy_project(source: Path, tmp_path: Path) -> Path:
    """The project in tmp_path: its snapshots folder is this test's alone."""
    project = tmp_path / source.name
    shutil.copytree(
        source,
        project,
        ignore=shutil.ignore_patterns("__pycache__", ".django-concurrent-test", "*.sqlite3"),
    )
    return project


def snapshot_files(project: Path) -> list[Path]:
    folder = project / ".django-concurrent-test" / "snapshots"
    return sorted(folder.iterdir()) if folder.exists() else []


def templates(run: Run) -> dict[str, dict[str, Any]]:
    return {t["alias"]: t for t in run.of("templates")[0]["templates"]}


def payload_is_whole(file: Path) -> bool:
    """What a user can check by hand: the payload's sha256 is the one the header states."""
    data = file.read_bytes()
    manifest = json.loads(data[:HEADER_SIZE])
    return bool(hashlib.sha256(data[HEADER_SIZE:]).hexdigest() == manifest["sha256"])


@pytest.mark.parametrize("backend", ALL, indirect=True)
def test_a_fresh_server_restores_the_snapshot_instead_of_migrating(backend, tmp_path):
    before = server_databases(backend)
    project = copy_project(BOOKSTORE, tmp_path)
    first = run_concurrent(project, "--workers", "2", db=backend, env=SNAPSHOTS)
    assert first.returncode == 0, first.output[-3000:]
    built = templates(first)
    assert {t["action"] for t in built.values()} == {"built"}
    assert {t.get("snapshot") for t in built.values()} == {"saved"}
    assert len(snapshot_files(project)) == len(built) == 2
    # Without --keepdb the run dropped its templates: the next run meets a server that has none,
    # as a new CI job's database service does.
    assert server_databases(backend) == before
    second = run_concurrent(project, "--workers", "2", "-v", "2", db=backend, env=SNAPSHOTS)
    assert second.returncode == 0, second.output[-3000:]
    restored = templates(second)
    for alias, template in restored.items():
        assert template["action"] == "reused" and template["migrations"] == 0, template
        assert template["snapshot"] == "restored" and template["hash"] == built[alias]["hash"]
        assert f"Restoring test database for alias '{alias}' from the snapshot" in second.stderr
    assert "Applying " not in second.output  # Django's migrate never ran
    # serialized_rollback, the mirror and the second alias included: the same outcome per test.
    assert second.outcomes == first.outcomes
    assert server_databases(backend) == before


@pytest.mark.parametrize("backend", ALL, indirect=True)
def test_a_damaged_snapshot_is_ignored_with_one_line_and_replaced(backend, tmp_path):
    before = server_databases(backend)
    project = copy_project(TEMPLATING, tmp_path)
    first = run_concurrent(project, "--workers", "2", db=backend, env=SNAPSHOTS)
    assert first.returncode == 0, first.output[-3000:]
    [snapshot] = snapshot_files(project)
    data = bytearray(snapshot.read_bytes())
    data[HEADER_SIZE + len(data[HEADER_SIZE:]) // 2] ^= 0xFF
    snapshot.write_bytes(bytes(data))
    second = run_concurrent(project, "--workers", "2", db=backend, env=SNAPSHOTS)
    assert second.returncode == 0, second.output[-3000:]
    why = [line for line in second.stderr.splitlines() if "snapshot" in line]
    assert why == [
        f"Ignoring the snapshot .django-concurrent-test/snapshots/{snapshot.name}: "
        "its checksum does not match; migrating instead."
    ], second.stderr
    rebuilt = templates(second)["default"]
    assert rebuilt["action"] == "built" and rebuilt["migrations"] >= 3
    assert rebuilt["snapshot"] == "saved"
    assert second.outcomes == first.outcomes
    assert snapshot_files(project) == [snapshot] and payload_is_whole(snapshot)
    assert server_databases(backend) == before


def test_snapshots_are_off_unless_asked_for_and_cleanup_all_removes_them(tmp_path):
    project = copy_project(TEMPLATING, tmp_path)
    plain = run_concurrent(project, "--workers", "2")
    assert plain.returncode == 0, plain.output[-3000:]
    assert "snapshot" not in templates(plain)["default"] and snapshot_files(project) == []
    on = run_concurrent(project, "--workers", "2", env=SNAPSHOTS)
    assert on.returncode == 0 and len(snapshot_files(project)) == 1
    command = ["cleanup", "--all", "--settings", "shelfsettings", "--pythonpath", "."]
    proc = subprocess.run(
        [PYTHON, "-m", "django_concurrent_test.cli", *command],
        cwd=project,
        env=_env("sqlite", None),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "the template snapshots" in proc.stderr
    assert snapshot_files(project) == []
    assert (project / ".django-concurrent-test" / "timings.json").exists()  # timings stay
