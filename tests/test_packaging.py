"""The way a user gets it: a wheel built from the repository, installed into a fresh
virtualenv with Django, runs an example project concurrently with no checkout on the path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import EDGECASES, OPT_IN, REPO

pytestmark = pytest.mark.integration


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)


def test_wheel_installs_and_runs_a_project(tmp_path: Path):
    wheels = tmp_path / "wheels"
    built = run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(REPO),
        ]
    )
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(wheels.glob("django_concurrent_test-*.whl"))
    venv = tmp_path / "venv"
    assert run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    py = venv / "bin" / "python"
    import django

    installed = run(
        [
            str(py),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(wheel),
            f"Django=={django.get_version()}",
        ]
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    project = tmp_path / "project"
    shutil.copytree(EDGECASES, project, ignore=shutil.ignore_patterns("*.sqlite3", "__pycache__"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(OPT_IN)
    env["EXAMPLE_DB"] = "sqlite"
    # -s -E: no user site, no PYTHON* variables; only manage.py's own directory is added.
    result = run(
        [
            str(py),
            "-s",
            "-E",
            "manage.py",
            "test",
            "edge.tests.DatabaseTests",
            "edge.tests.OutcomeTests",
            "--workers",
            "2",
        ],
        cwd=project,
        env=env,
    )
    assert "Ran 10 tests" in result.stderr, result.stderr[-3000:]
    assert result.returncode == 1
    where = run(
        [str(py), "-I", "-c", "import django_concurrent_test as m; print(m.__file__)"], cwd=tmp_path
    )
    assert str(venv) in where.stdout
    assert str(REPO) not in where.stdout


def test_command_line_runs_a_project_from_its_root():
    env = {**os.environ, **OPT_IN, "EXAMPLE_DB": "sqlite"}
    cli = Path(sys.executable).parent / "django-concurrent-test"
    result = run(
        [
            str(cli),
            "--settings=edgesettings",
            "edge.tests.DatabaseTests",
            "--workers",
            "2",
            "-v",
            "2",
        ],
        cwd=EDGECASES,
        env=env,
    )
    assert result.returncode == 1
    assert "test_reads (edge.tests.DatabaseTests.test_reads) ... ok" in result.stderr
    assert "FAILED (failures=1)" in result.stderr
