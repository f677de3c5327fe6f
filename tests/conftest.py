"""Which database servers the integration tests can use. With CI=true every server is
required: a missing one fails the run instead of skipping quietly."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

CI = os.environ.get("CI", "").lower() == "true"
_reachable: dict[str, str | None] = {}
_skipped_backends: set[str] = set()


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
    _skipped_backends.add(backend)
    pytest.skip(f"{backend.upper()} SERVER UNREACHABLE, ITS TESTS ARE SKIPPED: {why}")


@pytest.fixture
def backend(request: Any) -> Iterator[str]:
    name: str = request.param
    require_backend(name)
    yield name


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for name in sorted(_skipped_backends):
        terminalreporter.write_sep(
            "!", f"{name.upper()} TESTS WERE SKIPPED: server unreachable", red=True, bold=True
        )


def server_databases(backend: str) -> set[str]:
    """Names of this checkout's test databases on a server now (for leftover checks);
    EXAMPLE_DB_SUFFIX keeps concurrent checkouts on one server apart."""
    suffix = os.environ.get("EXAMPLE_DB_SUFFIX", "")
    return {name for name in _server_databases(backend) if suffix in name}


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
