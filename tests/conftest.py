"""Which database servers the integration tests can use. With CI=true every server is
required: a missing one fails the run instead of skipping quietly.

Under pytest-xdist (``make test-python`` runs ``-n 2``) each worker process gets its own
database-name suffix and its own temporary directory, so two workers never share a test database,
a kept template, a SQLite template file or the reach of a ``cleanup --all``."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CI = os.environ.get("CI", "").lower() == "true"
_reachable: dict[str, str | None] = {}
_skipped_backends: set[str] = set()
_UNREACHABLE = "SERVER UNREACHABLE, ITS TESTS ARE SKIPPED"


def _isolate_xdist_worker() -> None:
    """Runs when this conftest is imported: in each xdist worker, before any test module reads
    EXAMPLE_DB_SUFFIX. The worker id (gw0, gw1, ...) is appended to the suffix already set; the
    engine's work root (os.tmpdir()) moves to a directory of the worker's own."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    suffix = os.environ.get("EXAMPLE_DB_SUFFIX", "")
    if not suffix.endswith(f"_{worker}"):
        suffix = f"{suffix}_{worker}"
        os.environ["EXAMPLE_DB_SUFFIX"] = suffix
    # Short: the workers' Unix sockets live below it.
    tmp = Path(tempfile.gettempdir()) / f"dct{suffix}"
    tmp.mkdir(mode=0o700, exist_ok=True)
    os.environ["TMPDIR"] = str(tmp)


_isolate_xdist_worker()


def _probe(backend: str) -> str | None:
    """None when reachable, else why not."""
    try:
        if backend == "postgres":
            import psycopg

            psycopg.connect(
                "host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3
            ).close()
        elif backend == "mariadb":
            import pymysql

            pymysql.connect(
                host="127.0.0.1", port=3306, user="root", password="", connect_timeout=3
            ).close()
    except Exception as exc:  # any failure to connect means: not usable here
        return f"{type(exc).__name__}: {exc}"
    return None


def require_backend(backend: str) -> None:
    if backend == "sqlite":
        return
    if backend not in _reachable:
        _reachable[backend] = _probe(backend)
    why = _reachable[backend]
    if why is None:
        return
    if CI:
        pytest.fail(f"{backend} is required when CI=true but is unreachable: {why}")
    pytest.skip(f"{backend.upper()} {_UNREACHABLE}: {why}")


@pytest.fixture
def backend(request: Any) -> Iterator[str]:
    name: str = request.param
    require_backend(name)
    yield name


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collects the backends skipped as unreachable from the reports themselves: under xdist
    they arrive here in the controller, which prints the summary."""
    if report.skipped:
        found = re.search(rf"(\w+) {_UNREACHABLE}", str(report.longrepr))
        if found:
            _skipped_backends.add(found.group(1).lower())


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for name in sorted(_skipped_backends):
        terminalreporter.write_sep(
            "!", f"{name.upper()} TESTS WERE SKIPPED: server unreachable", red=True, bold=True
        )


def server_databases(backend: str) -> set[str]:
    """Names of this checkout's test databases on a server now (for leftover checks);
    EXAMPLE_DB_SUFFIX keeps concurrent checkouts on one server apart."""
    suffix = os.environ.get("EXAMPLE_DB_SUFFIX", "")
    # Not another xdist worker's: pytest-django appends its own worker id to a nested
    # `pytest -n 2`'s names (test_x_gw0_gw1 belongs to gw0, not to gw1).
    own = re.compile(r"(?<!_gw\d)" + re.escape(suffix))
    return {name for name in _server_databases(backend) if own.search(name)}


def _server_databases(backend: str) -> set[str]:
    if backend == "postgres":
        import psycopg

        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres") as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'test%'"
            ).fetchall()
        return {r[0] for r in rows}
    if backend == "mariadb":
        import pymysql

        conn = pymysql.connect(host="127.0.0.1", user="root", password="")
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW DATABASES LIKE 'test%'")
                return {r[0] for r in cur.fetchall()}
        finally:
            conn.close()
    return set()
