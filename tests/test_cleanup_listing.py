"""What `django-concurrent-test cleanup` says: each database once, with what happens to it, and a
work directory reported removed only when there was one to remove."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import server_databases
from helpers import PYTHON, REPO, _env, run_concurrent

pytestmark = pytest.mark.integration
PRINTING = REPO / "tests" / "projects" / "printing"
SETTINGS = ["--settings", "printsettings", "--pythonpath", "."]


def cleanup(db: str, *args: str) -> str:
    proc = subprocess.run(
        [PYTHON, "-m", "django_concurrent_test.cli", "cleanup", *SETTINGS, *args],
        cwd=PRINTING,
        env=_env(db, None),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


def kept_databases(db: str) -> tuple[str, set[str]]:
    """Runs with --keepdb: the template it kept, with its clones."""
    run = run_concurrent(PRINTING, "printer.tests", "--keepdb", "--workers", "2", db=db)
    assert run.returncode == 0, run.output[-3000:]
    template: str = run.of("templates")[0]["templates"][0]["name"]
    clones = {c["name"] for slot in run.of("clones")[0]["slots"] for c in slot["clones"].values()}
    return template, {template, *clones}


def lines_naming(name: str, output: str) -> list[str]:
    # The whole name: a template's name is the start of its clones' names.
    return [line for line in output.splitlines() if re.search(rf"{re.escape(name)}(?!\w)", line)]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_cleanup_all_lists_each_database_once_with_its_fate(backend: str) -> None:
    before = server_databases(backend)
    template, names = kept_databases(backend)
    try:
        plain = cleanup(backend, "--dry-run")
        dry = cleanup(backend, "--all", "--dry-run")
        done = cleanup(backend, "--all", "-v", "2")
        again = cleanup(backend, "--all", "-v", "2")
    finally:
        cleanup(backend, "--all")
    if backend != "sqlite":
        assert len(names) == 3
        for name in names:
            # Without --all a kept database stays; with it, it goes: one line each time.
            assert lines_naming(name, plain) == [f"cleanup: left {name}: kept for reuse (--keepdb)"]
            assert [line.split(":")[1] for line in lines_naming(name, dry)] == [
                f" would drop {name}"
            ], dry
            assert [line.split(":")[1] for line in lines_naming(name, done)] == [
                f" dropped {name}"
            ], done
        assert server_databases(backend) == before
    else:
        # SQLite: the kept files live in the project's cache folder, which goes as a whole.
        cache = Path(template).parent
        assert not cache.exists()
        assert f"would remove {cache}: the SQLite template cache" in dry, dry
        assert lines_naming(str(cache), done) == [
            f"cleanup: removed {cache}: the SQLite template cache"
        ], done
    # Nothing is left: nothing is reported removed or dropped the second time.
    assert "removed" not in again and "dropped" not in again, again
    assert "nothing to drop" in again
