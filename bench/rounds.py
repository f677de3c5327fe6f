"""Running a lineup of contestants on one workload: the environment every run starts from, what
the installed runner offers, alternating rounds (each warm contestant primed by one unmeasured
run), and dropping the workload's test databases. Used by run.py and the sections."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import contestants as cs


def base_env(suffix: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_CONCURRENT_TEST_EVENT_LOG",
            "DJANGO_TEST_WORKERS",
            "DJANGO_TEST_PROCESSES",
        )
    }
    env["EXAMPLE_DB_SUFFIX"] = suffix
    return env


def warm_mode(path: Path, backend: str, env: dict[str, str]) -> str:
    """'cache' once the engine has a template cache (--rebuild-templates), else 'keepdb'."""
    out = subprocess.run(
        [sys.executable, "manage.py", "test", "--help"],
        cwd=path,
        env={**env, "EXAMPLE_DB": backend},
        capture_output=True,
        text=True,
    )
    return "cache" if "--rebuild-templates" in out.stdout else "keepdb"


def has_pytest_concurrent(path: Path, backend: str, env: dict[str, str]) -> bool:
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"],
        cwd=path,
        env={**env, "EXAMPLE_DB": backend},
        capture_output=True,
        text=True,
    )
    return "--concurrent" in out.stdout


def workload(path: Path, backend: str, suffix: str) -> cs.Workload:
    """A generated workload (workload.py) ready to be run on ``backend``."""
    manifest = json.loads((path / "expected.json").read_text())
    env = base_env(suffix)
    size = manifest["summary"]["requested"]
    mode = warm_mode(path, backend, env)
    return cs.Workload(path, backend, size, manifest["tests"], sys.executable, env, mode)


def measure(
    line: list[cs.Contestant], w: cs.Workload, repeats: int, out: Path, timeout: float
) -> list[dict[str, Any]]:
    runs = []
    primed: set[str] = set()
    for rep in range(repeats):
        order = line[rep % len(line) :] + line[: rep % len(line)]
        if rep % 2:
            order.reverse()
        for c in order:
            if c.warm and c.key not in primed:
                # One unmeasured run so "warm" has something to be warm from: what is measured
                # is each runner's second run.
                cs.run(c, w, -1, out / f"{c.key}-prime", timeout)
                primed.add(c.key)
            fig = cs.run(c, w, rep, out / f"{c.key}-r{rep}", timeout)
            runs.append(fig.as_dict())
            status = (
                "ok"
                if fig.counted
                else f"FALLBACK ({fig.fallback})"
                if fig.fallback
                else f"NOT COUNTED: {fig.problem}"
            )
            wn = f"{fig.wn:6.2f}s" if fig.wn else "      -"
            print(
                f"[{w.backend} {w.size} r{rep}] {c.key:<22} {fig.wall:7.2f}s  W/N {wn}  "
                f"peak {fig.peak_pss / 2**20:5.0f} MiB  {status}",
                file=sys.stderr,  # progress, not results: a section's stdout is its Markdown
                flush=True,
            )
    return runs


def drop_bench_databases(backend: str, path: Path) -> list[str]:
    """Drop the workload's test databases (names start with test_<its database name>) and
    return their names. Only names the workload's own settings produce are ever touched."""
    if backend == "sqlite":
        key = hashlib.sha256(f"{path}\0benchproj.settings".encode()).hexdigest()[:12]
        shutil.rmtree(
            Path(tempfile.gettempdir()) / "django-concurrent-test" / key, ignore_errors=True
        )
        return []
    settings_text = (path / "benchproj" / "settings.py").read_text()
    stem = settings_text.split('NAME = "', 1)[1].split('"', 1)[0]
    prefix = f"test_{stem}{os.environ.get('EXAMPLE_DB_SUFFIX', '')}"
    names = [n for n in server_databases(backend) if n == prefix or n.startswith(prefix + "_")]
    for name in names:
        drop_database(backend, name)
    return names


def server_databases(backend: str) -> list[str]:
    if backend == "postgres":
        import psycopg

        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres") as conn:
            return [r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()]
    import pymysql

    conn = pymysql.connect(host="127.0.0.1", user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW DATABASES")
            return [r[0] for r in cur.fetchall()]
    finally:
        conn.close()


def drop_database(backend: str, name: str) -> None:
    if backend == "postgres":
        import psycopg
        from psycopg import sql

        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        return
    import pymysql

    conn = pymysql.connect(host="127.0.0.1", user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS `{}`".format(name.replace("`", "``")))
    finally:
        conn.close()
