"""Benchmark section: a project with a long migration history.

The workload (workload.py, ``migrations_per_app=30``) has 300 migrations, 110 of them data
migrations (add a column, backfill it, drop it; touch the seed rows), ending in the same schema
as the standard workload. Cold runs only, where the history is paid: Django ``--parallel 2``
against ours, alternating, median of 3, on each backend of ``BENCH_BACKENDS`` (``BENCH_QUICK=1``:
one round, the first backend). Migrating the template is the "template: migrations" row of where
our time goes; a later template snapshot is to be measured against these figures.

    .venv/bin/python bench/many_migrations.py [--quick] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import contestants as cs
import report
import rounds
import workload as wl

HERE = Path(__file__).resolve().parent
MIGRATIONS_PER_APP = 30
SIZE = 150


def lineup() -> list[cs.Contestant]:
    return [
        cs.Contestant("django-par-2", "Django --parallel 2", "django", 2),
        cs.Contestant("ours-cold-2", "ours cold, 2 workers", "ours", 2),
    ]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--backends", default=os.environ.get("BENCH_BACKENDS") or "sqlite")
    args = p.parse_args(argv)
    quick = args.quick or os.environ.get("BENCH_QUICK") == "1"
    backends = [b for b in args.backends.split(",") if b][: 1 if quick else None]
    repeats = 1 if quick else 3
    path = wl.generate(
        HERE / "workloads" / f"migrations-s{SIZE}",
        tests=SIZE,
        migrations_per_app=MIGRATIONS_PER_APP,
    )
    summary = json.loads((path / "expected.json").read_text())["summary"]
    suffix = os.environ.get("EXAMPLE_DB_SUFFIX", "")
    out = Path(os.environ.get("BENCH_ARTIFACTS") or HERE / "workloads" / "artifacts" / "mig")
    runs = []
    for backend in backends:
        rounds.drop_bench_databases(backend, path)
        w = rounds.workload(path, backend, suffix)
        runs += rounds.measure(lineup(), w, repeats, out / f"migrations-{backend}", timeout=1200)
        rounds.drop_bench_databases(backend, path)
    rows = report.summarize(runs, {c.key: c.label for c in lineup()})
    print(
        f"### A long migration history: {summary['migrations']} migrations "
        f"({summary['data_migrations']} data migrations), {SIZE} tests\n"
    )
    print(f"Cold runs, {repeats} alternating round(s), medians.\n")
    cells = [(b, SIZE, 2) for b in backends]
    for backend in backends:
        print(report.contestant_table(rows, backend, SIZE, 2) + "\n")
    print(_goal_lines(rows, cells))
    target = os.environ.get("BENCH_SECTION_JSON")
    if target:
        Path(target).write_text(json.dumps({"summary": summary, "runs": runs, "rows": rows}))
    return 0


def _goal_lines(rows: list[dict[str, object]], cells: list[tuple[str, int, int]]) -> str:
    """Only the cold ratio goal: warm runs are not part of this section."""
    table = report.targets_table(rows, cells).splitlines()
    return "\n".join(line for line in table if "warm" not in line and "W/N" not in line)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
