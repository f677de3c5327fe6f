"""Facts about the machine a benchmark ran on, and which database servers it can reach."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

BACKENDS = ("sqlite", "postgres", "mariadb")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError):
        pass
    return None


def server_version(backend: str) -> str | None:
    """The server's version string, or None when it cannot be reached."""
    try:
        if backend == "postgres":
            import psycopg

            dsn = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
            with psycopg.connect(dsn, connect_timeout=3) as conn:
                row = conn.execute("SHOW server_version").fetchone()
            return f"PostgreSQL {row[0]}" if row else "PostgreSQL"
        if backend == "mariadb":
            import pymysql

            conn = pymysql.connect(
                host="127.0.0.1", port=3306, user="root", password="", connect_timeout=3
            )
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT VERSION()")
                    row = cur.fetchone()
            finally:
                conn.close()
            return f"MariaDB {row[0]}" if row else "MariaDB"
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    except Exception:  # any failure to connect means: not usable here
        return None


def facts(backends: list[str]) -> dict[str, Any]:
    import django

    node = shutil.which("node")
    node_version = (
        subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
        if node
        else None
    )
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": _mem_total_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "node": node_version,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "databases": {b: server_version(b) for b in backends},
    }
