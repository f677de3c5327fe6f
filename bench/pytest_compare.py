"""pytest --concurrent against pytest-xdist on the pytest example (examples/pytest_project).

pytest-xdist with pytest-django migrates one test database per worker (each worker's
``django_db_setup``); ``pytest --concurrent`` migrates one template and clones it per worker.
This script runs both (and plain pytest) alternately, checks every run's per-item outcomes
against plain pytest's, and prints a Markdown table per backend with the migration cost per
worker made visible. The full figures go to bench/results/pytest-compare-<date-time>.json.

    .venv/bin/python bench/pytest_compare.py [--quick] [--backends sqlite,postgres]
        [--workers 2,4] [--repeats 3]

Set EXAMPLE_DB_SUFFIX when others share the database servers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EXAMPLE = REPO / "examples" / "pytest_project"
RESULTS = HERE / "results"
PYTHON = sys.executable
BASE_FIXTURE = "pytest_django.fixtures"  # pytest-django's django_db_setup: creates and migrates


@dataclass(frozen=True)
class Contestant:
    key: str
    label: str
    args: tuple[str, ...]
    workers: int
    ours: bool = False
    warm: bool = False  # --reuse-db, after a run that left the databases


@dataclass
class Figures:
    contestant: str
    backend: str
    rep: int
    wall: float
    ok: bool
    problem: str | None = None
    migrations_run: int = 0  # processes that created and migrated test databases
    migrating: float = 0.0  # seconds spent migrating, summed over those processes
    cloning: float | None = None  # ours: the clone phase
    worker_setup: float | None = None  # median per worker: its django_db_setup, all of it
    outcomes: dict[str, list[str]] = field(default_factory=dict)


def lineup(workers: list[int]) -> list[Contestant]:
    result = [Contestant("pytest", "pytest (one process)", (), 1)]
    for n in workers:
        result += [
            Contestant(f"xdist-{n}", f"pytest -n {n}", ("-n", str(n)), n),
            Contestant(
                f"ours-{n}",
                f"pytest --concurrent --workers {n}",
                ("--concurrent", "--workers", str(n)),
                n,
                ours=True,
            ),
        ]
    n = workers[0]
    result += [
        Contestant(
            f"xdist-{n}-reuse",
            f"pytest -n {n} --reuse-db (warm)",
            ("-n", str(n), "--reuse-db"),
            n,
            warm=True,
        ),
        Contestant(
            f"ours-{n}-reuse",
            f"pytest --concurrent --workers {n} --reuse-db (warm)",
            ("--concurrent", "--workers", str(n), "--reuse-db"),
            n,
            ours=True,
            warm=True,
        ),
    ]
    return result


def reachable(backend: str) -> str | None:
    """None when usable, else why not."""
    try:
        if backend == "postgres":
            import psycopg

            psycopg.connect(
                "host=127.0.0.1 user=postgres dbname=postgres", connect_timeout=3
            ).close()
        elif backend == "mariadb":
            import pymysql

            pymysql.connect(host="127.0.0.1", user="root", password="", connect_timeout=3).close()
    except Exception as exc:  # any failure to connect: not usable here
        return f"{type(exc).__name__}: {exc}"
    return None


def _env(backend: str, log: Path, events: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "DJANGO_SETTINGS_MODULE" and not k.startswith("PYTEST_")
    }
    env.update(
        {
            "EXAMPLE_DB": backend,
            "NO_TELEMETRY": "1",
            "PYTHONPATH": os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]),
            "PYTEST_COMPARE_LOG": str(log),
            "DJANGO_CONCURRENT_TEST_EVENT_LOG": str(events),
        }
    )
    return env


def pytest_run(
    backend: str, args: tuple[str, ...]
) -> tuple[
    subprocess.CompletedProcess[str], float, list[dict[str, Any]], list[dict[str, Any]], int
]:
    with tempfile.TemporaryDirectory() as tmp:
        log, events = Path(tmp) / "timings.jsonl", Path(tmp) / "events.jsonl"
        argv = [PYTHON, "-m", "pytest", "-q", "-p", "pytest_timing_plugin", *args]
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            cwd=EXAMPLE,
            env=_env(backend, log, events),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        out, err = proc.communicate(timeout=900)
        wall = time.perf_counter() - started
        read = lambda p: [json.loads(x) for x in p.read_text().splitlines()] if p.exists() else []  # noqa: E731
        done = subprocess.CompletedProcess(argv, proc.returncode, out, err)
        return done, wall, read(log), read(events), proc.pid


def _phase_seconds(events: list[dict[str, Any]], phase: str) -> float | None:
    edges = {e["edge"]: e["at"] for e in events if e["type"] == "phase" and e["phase"] == phase}
    if "start" in edges and "end" in edges:
        return (edges["end"] - edges["start"]) / 1000
    return None


def figures(
    c: Contestant, backend: str, rep: int, reference: dict[str, list[str]] | None
) -> Figures:
    proc, wall, log, events, main_pid = pytest_run(backend, c.args)
    outcomes: dict[str, list[str]] = {}
    for r in log:
        if r["type"] == "report" and r["pid"] == main_pid:
            outcomes.setdefault(r["nodeid"], []).append(r["outcome"])
    f = Figures(c.key, backend, rep, round(wall, 3), ok=True, outcomes=outcomes)
    if proc.returncode != 0:
        last = (proc.stdout.strip().splitlines() or [""])[-1].strip("= ")
        f.ok, f.problem = False, f"exit status {proc.returncode}: {last}"
    elif reference is not None and outcomes != reference:
        f.ok, f.problem = False, "per-item outcomes differ from plain pytest's"
    setups = [r for r in log if r["type"] == "django_db_setup"]
    # The outermost django_db_setup of each process (a project's override wraps the base one).
    outer: dict[int, float] = {}
    for r in setups:
        outer[r["pid"]] = max(outer.get(r["pid"], 0.0), r["seconds"])
    workers = [s for pid, s in outer.items() if pid != main_pid or c.workers == 1]
    f.worker_setup = round(statistics.median(workers), 3) if workers else None
    if c.ours:
        template = [t for e in events if e["type"] == "templates" for t in e["templates"]]
        built = [t for t in template if t.get("action") == "built"]
        f.migrations_run = 1 if built else 0  # the bridge migrates every template, once
        f.migrating = round(_phase_seconds(events, "template") or 0.0, 3) if built else 0.0
        f.cloning = _phase_seconds(events, "clones")
    else:
        base = [r for r in setups if r["module"] == BASE_FIXTURE]
        f.migrations_run = len(base)
        f.migrating = round(sum(r["seconds"] for r in base), 3)
    return f


def median_of(runs: list[Figures], name: str) -> float | None:
    values = [getattr(r, name) for r in runs if getattr(r, name) is not None]
    return round(statistics.median(values), 3) if values else None


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def table(backend: str, lineup_: list[Contestant], runs: list[Figures]) -> str:
    rows = [
        f"### {backend}",
        "",
        "| contestant | wall s (median) | processes migrating | migrating s (all processes) "
        "| cloning s | DB setup s per worker | outcomes |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for c in lineup_:
        mine = [r for r in runs if r.contestant == c.key and r.backend == backend]
        if not mine:
            continue
        ok = all(r.ok for r in mine)
        wall, migrating = median_of(mine, "wall"), median_of(mine, "migrating")
        cloning, setup = median_of(mine, "cloning"), median_of(mine, "worker_setup")
        rows.append(
            f"| {c.label} | {_num(wall)} | {mine[0].migrations_run} | {_num(migrating)} "
            f"| {_num(cloning)} | {_num(setup)} "
            f"| {'same as pytest' if ok else 'DIFFER: ' + str(mine[0].problem)[:70]} |"
        )
    rows += [
        "",
        "*processes migrating*: pytest-xdist creates and migrates the test databases in every "
        "worker (with --reuse-db Django's migrate still runs, finding nothing to apply); ours "
        "migrates one template per database in the main process (none when --reuse-db finds "
        "them in the cache), then clones them. *DB setup "
        "per worker*: the worker's whole `django_db_setup` (creation and migrations under "
        "xdist; under ours only the project's own override, the clone being ready), median "
        "over workers. A run whose outcomes differ from plain pytest's is not a fair time "
        "(pytest-django's --reuse-db keeps databases that transactional tests flushed, so data "
        "migrations' rows are gone in the next run; ours reuses the untouched template and "
        "clones it afresh).",
    ]
    return "\n".join(rows)


def cleanup(backend: str, workers: int) -> None:
    """Drop what --reuse-db runs kept (--create-db without --reuse-db rebuilds, then drops at
    the end): before the cold rounds, and after the warm ones."""
    for args in (
        ("-n", str(workers), "--create-db"),
        ("--concurrent", "--workers", str(workers), "--create-db"),
    ):
        pytest_run(backend, args)


def rounds(
    backend: str, contestants: list[Contestant], repeats: int, reference: dict[str, list[str]]
) -> list[Figures]:
    """Every contestant once per round, the order rotating so machine drift hits all alike."""
    runs = []
    for rep in range(repeats):
        shift = rep % len(contestants)
        for c in contestants[shift:] + contestants[:shift]:
            f = figures(c, backend, rep, reference)
            runs.append(f)
            print(
                f"{backend} {c.key} #{rep + 1}: {f.wall:.2f}s"
                f"{'' if f.ok else ' NOT COUNTED: ' + str(f.problem)}",
                file=sys.stderr,
            )
    return runs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="sqlite only, N=2, one round")
    p.add_argument("--backends", default=None, help="comma-separated (default sqlite,postgres)")
    p.add_argument("--workers", default=None, help="values of N (default 2,4)")
    p.add_argument("--repeats", type=int, default=None, help="alternating rounds (default 3)")
    args = p.parse_args(argv)
    backends = (args.backends or ("sqlite" if args.quick else "sqlite,postgres")).split(",")
    workers = [int(n) for n in (args.workers or ("2" if args.quick else "2,4")).split(",")]
    repeats = args.repeats or (1 if args.quick else 3)
    contestants = lineup(workers)
    runs: list[Figures] = []
    skipped: dict[str, str] = {}
    items = 0
    for backend in backends:
        why = reachable(backend)
        if why:
            skipped[backend] = why
            print(f"{backend}: skipped, server unreachable ({why})", file=sys.stderr)
            continue
        # Nothing kept from earlier runs: a kept template would make a cold run warm.
        cleanup(backend, workers[0])
        reference = figures(contestants[0], backend, 0, None).outcomes  # also warms caches
        items = len(reference)
        cold = [c for c in contestants if not c.warm]
        warm = [c for c in contestants if c.warm]
        runs += rounds(backend, cold, repeats, reference)
        for c in warm:  # leaves the databases the --reuse-db contestants start from
            pytest_run(backend, c.args)
        runs += rounds(backend, warm, repeats, reference)
        cleanup(backend, workers[0])
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y-%m-%d-%H%M")
    out = RESULTS / f"pytest-compare-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "suite": "examples/pytest_project",
                "cpus": os.cpu_count(),
                "repeats": repeats,
                "skipped": skipped,
                "contestants": [asdict(c) for c in contestants],
                "runs": [{k: v for k, v in asdict(r).items() if k != "outcomes"} for r in runs],
            },
            indent=1,
        )
    )
    print(
        "## pytest --concurrent vs pytest-xdist (examples/pytest_project, "
        f"{items} items, {os.cpu_count()} CPUs, "
        f"median of {repeats})\n"
    )
    for backend in backends:
        if backend not in skipped:
            print(table(backend, contestants, runs) + "\n")
    print(f"Figures: {out.relative_to(REPO)}")
    # Only our runs must match plain pytest: xdist's --reuse-db may not (see the table's note).
    return 0 if all(r.ok for r in runs if r.contestant.startswith(("ours", "pytest"))) else 1


if __name__ == "__main__":
    sys.exit(main())
