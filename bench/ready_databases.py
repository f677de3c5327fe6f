"""Time to have N ready worker databases: ours vs Django's create_test_db + clone_test_db.

On the bookstore example (27 migrations, two aliases and a mirror), for SQLite, PostgreSQL and
MariaDB, N = 2, 4, 8, cold (nothing cached) and with a cache hit (a second --keepdb run; for
Django the same, which skips creating but still runs migrate and keeps its clones).

  ours:   from the run's event log, the "template" phase start to the "clones" phase end.
  Django: setup_databases(parallel=N) timed in-process (bench/support/django_setup_timer.py
          does exactly what DiscoverRunner.setup_databases does; MySQL clones use mysqldump).

Optional sections, for the PostgreSQL defaults (README, "Test databases"):
  --pg-strategy  CREATE DATABASE ... STRATEGY WAL_LOG vs FILE_COPY, N concurrent clones of a
                 small template (the bookstore's) and a large one (plus ~200 MB of rows).
  --pg-sync      a TransactionTestCase-heavy run with synchronous_commit on vs off on clones.

    .venv/bin/python bench/ready_databases.py [--repeat 3] [--workers 2,4,8]
        [--backends sqlite,postgres,mariadb] [--pg-strategy] [--pg-sync]

Prints a Markdown table and writes JSON to bench/results/ready-databases-<time>.json. Medians
of alternating runs; this machine has 2 cores shared with other work, so expect noise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "examples" / "bookstore"
RESULTS = REPO / "bench" / "results"
TIMER = REPO / "bench" / "support" / "django_setup_timer.py"
# Enough TestCase classes on both aliases that 8 workers each get a clone.
LABELS = ["catalog", "orders", "accounts", "inventory"]
SUFFIX = os.environ.get("EXAMPLE_DB_SUFFIX", "") + "_bench"


def env_for(db: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "EXAMPLE_DB": db,
        "EXAMPLE_DB_SUFFIX": SUFFIX,
        "DJANGO_ENABLE_CONCURRENT": "1",
        "NO_TELEMETRY": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(extra)
    return env


def cleanup(db: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "django_concurrent_test.cli",
            "cleanup",
            "--all",
            "--settings",
            "bookstore.settings",
            "--pythonpath",
            ".",
        ],
        cwd=PROJECT,
        env=env_for(db),
        capture_output=True,
        timeout=300,
        check=True,
    )


def ours(db: str, workers: int, keepdb: bool) -> float:
    """Seconds from the template phase's start to the clones phase's end, from the event log."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "events.jsonl"
        args = [sys.executable, "manage.py", "test", *LABELS, "--workers", str(workers)]
        proc = subprocess.run(
            args + (["--keepdb"] if keepdb else []),
            cwd=PROJECT,
            env=env_for(db, DJANGO_CONCURRENT_TEST_EVENT_LOG=str(log)),
            capture_output=True,
            text=True,
            timeout=900,
        )
        events = [json.loads(line) for line in log.read_text().splitlines()]
    if proc.returncode != 0:
        raise RuntimeError(f"our run failed ({db}, {workers}):\n{proc.stderr[-2000:]}")
    edges = {(e["phase"], e["edge"]): e["at"] for e in events if e["type"] == "phase"}
    ready = [len(s["clones"]) for s in next(e for e in events if e["type"] == "clones")["slots"]]
    assert len(ready) == workers, f"only {len(ready)} workers got clones"
    return (edges[("clones", "end")] - edges[("template", "start")]) / 1000


def django(db: str, workers: int, keepdb: bool) -> float:
    proc = subprocess.run(
        [sys.executable, str(TIMER), str(workers), "1" if keepdb else "0"],
        cwd=PROJECT,
        env=env_for(db, DJANGO_SETTINGS_MODULE="bookstore.settings", PYTHONPATH=str(PROJECT)),
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"Django's setup failed ({db}, {workers}):\n{proc.stderr[-2000:]}")
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["seconds"])


def ready_databases(backends: list[str], workers: list[int], repeat: int) -> list[dict[str, Any]]:
    rows = []
    for db in backends:
        for n in workers:
            samples: dict[str, list[float]] = {
                k: [] for k in ("ours cold", "django cold", "ours hit", "django hit")
            }
            for _ in range(repeat):
                # Alternate contestants so drift on this shared machine hits both alike.
                cleanup(db)
                samples["ours cold"].append(ours(db, n, keepdb=False))
                samples["django cold"].append(django(db, n, keepdb=False))
                ours(db, n, keepdb=True)  # warm our cache
                samples["ours hit"].append(ours(db, n, keepdb=True))
                django(db, n, keepdb=True)  # Django's keepdb: its test databases now exist
                samples["django hit"].append(django(db, n, keepdb=True))
                cleanup(db)
                django(db, n, keepdb=False)  # drops Django's kept test databases again
            row = {
                "backend": db,
                "workers": n,
                **{k: round(statistics.median(v), 3) for k, v in samples.items()},
                "samples": samples,
            }
            rows.append(row)
            print(
                f"  {db} N={n}: " + ", ".join(f"{k} {row[k]:.2f}s" for k in samples),
                file=sys.stderr,
            )
    return rows


def pg_strategy(workers: list[int], repeat: int) -> list[dict[str, Any]]:
    """Concurrent CREATE DATABASE ... TEMPLATE with each strategy, small and large template."""
    import psycopg

    def admin() -> Any:
        return psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True)

    # The small template: ours for the bookstore, kept by a --keepdb run.
    cleanup("postgres")
    ours("postgres", 2, keepdb=True)
    with admin() as conn:
        small = conn.execute(
            "SELECT datname FROM pg_database WHERE datname ~ %s",
            [f"^test_bookstore{SUFFIX}_[0-9a-f]{{10}}$"],
        ).fetchone()[0]
        large = f"test_bench_large{SUFFIX}"
        conn.execute(f'DROP DATABASE IF EXISTS "{large}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{large}" TEMPLATE "{small}"')
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={large}", autocommit=True) as c:
        c.execute(
            "CREATE TABLE filler AS SELECT g AS id, md5(g::text) || repeat('x', 120) AS pad "
            "FROM generate_series(1, 1200000) g"
        )
    rows = []
    try:
        for template in (small, large):
            with admin() as conn:
                size = conn.execute("SELECT pg_database_size(%s)", [template]).fetchone()[0]
            for n in workers:
                times: dict[str, list[float]] = {"wal_log": [], "file_copy": []}
                for _ in range(repeat):
                    for strategy in times:
                        times[strategy].append(_clone_all(admin, template, n, strategy))
                rows.append(
                    {
                        "template": "large" if template == large else "small",
                        "size_mb": round(size / 2**20),
                        "workers": n,
                        **{k: round(statistics.median(v), 3) for k, v in times.items()},
                        "samples": times,
                    }
                )
                print(
                    f"  pg {rows[-1]['template']} N={n}: wal_log {rows[-1]['wal_log']:.2f}s, "
                    f"file_copy {rows[-1]['file_copy']:.2f}s",
                    file=sys.stderr,
                )
    finally:
        with admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{large}" WITH (FORCE)')
        cleanup("postgres")
    return rows


def _clone_all(admin: Any, template: str, n: int, strategy: str) -> float:
    names = [f"test_bench_clone{SUFFIX}_{i + 1}" for i in range(n)]
    errors: list[BaseException] = []

    def clone(name: str) -> None:
        try:
            with admin() as conn:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY {strategy}')
        except BaseException as exc:  # reported after the timing
            errors.append(exc)

    threads = [threading.Thread(target=clone, args=(name,)) for name in names]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    with admin() as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if errors:
        raise errors[0]
    return seconds


def pg_sync(repeat: int) -> dict[str, Any]:
    """The TransactionTestCase classes of the bookstore, clones with synchronous_commit on/off."""
    labels = [
        "catalog.tests.test_transactions",
        "orders.tests.OrderPlacementTransactionTests",
        "inventory.tests.InventoryTransactionTests",
    ]
    times: dict[str, list[float]] = {"on": [], "off": []}
    with tempfile.TemporaryDirectory() as tmp:
        for value, flag in (("on", "True"), ("off", "False")):
            Path(tmp, f"bench_sync_{value}.py").write_text(
                "from bookstore.settings import *  # noqa: F403\n"
                f"CONCURRENT_TEST_CONFIG = {{'postgres_synchronous_commit': {flag}}}\n"
            )
        for _ in range(repeat):
            for value in times:
                log = Path(tmp) / "events.jsonl"
                proc = subprocess.run(
                    [
                        sys.executable,
                        "manage.py",
                        "test",
                        *labels,
                        "--workers",
                        "2",
                        "--settings",
                        f"bench_sync_{value}",
                    ],
                    cwd=PROJECT,
                    capture_output=True,
                    text=True,
                    timeout=900,
                    env=env_for(
                        "postgres", PYTHONPATH=tmp, DJANGO_CONCURRENT_TEST_EVENT_LOG=str(log)
                    ),
                )
                if proc.returncode != 0:
                    raise RuntimeError(proc.stderr[-2000:])
                edges = {
                    (e["phase"], e["edge"]): e["at"]
                    for e in map(json.loads, log.read_text().splitlines())
                    if e["type"] == "phase"
                }
                times[value].append((edges[("tests", "end")] - edges[("tests", "start")]) / 1000)
    return {**{k: round(statistics.median(v), 3) for k, v in times.items()}, "samples": times}


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "## Time to N ready worker databases (seconds, median; noisy shared 2-core machine)",
        "",
        "| backend | N | ours cold | Django cold | ours cache hit | Django --keepdb |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["ready"]:
        lines.append(
            f"| {r['backend']} | {r['workers']} | {r['ours cold']:.2f} | "
            f"{r['django cold']:.2f} | {r['ours hit']:.2f} | {r['django hit']:.2f} |"
        )
    if result.get("pgStrategy"):
        lines += [
            "",
            "## PostgreSQL clone strategy (N concurrent clones, seconds, median)",
            "",
            "| template | size | N | WAL_LOG | FILE_COPY |",
            "|---|---:|---:|---:|---:|",
        ]
        for r in result["pgStrategy"]:
            lines.append(
                f"| {r['template']} | {r['size_mb']} MB | {r['workers']} | "
                f"{r['wal_log']:.2f} | {r['file_copy']:.2f} |"
            )
    if result.get("pgSync"):
        s = result["pgSync"]
        lines += [
            "",
            "## TransactionTestCase classes on PostgreSQL clones (tests phase, s)",
            "",
            "| synchronous_commit on | off |",
            "|---:|---:|",
            f"| {s['on']:.2f} | {s['off']:.2f} |",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", default="2,4,8")
    parser.add_argument("--backends", default="sqlite,postgres,mariadb")
    parser.add_argument("--pg-strategy", action="store_true")
    parser.add_argument("--pg-sync", action="store_true")
    args = parser.parse_args(argv)
    workers = [int(n) for n in args.workers.split(",")]
    result: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "repeat": args.repeat,
        "loadavg": os.getloadavg(),
        "ready": ready_databases(args.backends.split(","), workers, args.repeat),
    }
    if args.pg_strategy:
        result["pgStrategy"] = pg_strategy(workers, args.repeat)
    if args.pg_sync:
        result["pgSync"] = pg_sync(args.repeat)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"ready-databases-{time.strftime('%Y-%m-%d-%H%M')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result))
    print(f"(JSON: {out.relative_to(REPO)})", file=sys.stderr)


if __name__ == "__main__":
    main()
