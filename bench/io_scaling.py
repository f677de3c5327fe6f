# ruff: noqa: RUF001, RUF002  (the Markdown tables use typographic dashes and the times sign)
"""Benchmark section: many workers on few cores, on a suite that waits on I/O.

Every test of this workload (workload.py, ``mix="io"``) sleeps as a call to an external service
would, so workers beyond the core count still help. Django sequential, Django ``--parallel N``
and ours (cold) at N = 2, 4, 8 on SQLite, alternating, median of 3 (``BENCH_QUICK=1``: one
round, 150 tests). The goal printed: ours with 8 workers ≥ 3 × as fast as sequential. The
memory columns are the peak PSS of all processes and of the median worker.

    .venv/bin/python bench/io_scaling.py [--quick]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import contestants as cs
import report
import rounds
import workload as wl

HERE = Path(__file__).resolve().parent
WORKERS = (2, 4, 8)
SPEEDUP_GOAL = 3.0  # ours, 8 workers, against the sequential run


def lineup() -> list[cs.Contestant]:
    line = [cs.Contestant("django-seq", "Django sequential", "django", 1)]
    for n in WORKERS:
        line += [
            cs.Contestant(f"django-par-{n}", f"Django --parallel {n}", "django", n),
            cs.Contestant(f"ours-cold-{n}", f"ours, {n} workers", "ours", n),
        ]
    return line


def speedup_table(rows: list[dict[str, Any]], size: int) -> str:
    seq = report.find_row(rows, "sqlite", size, "django-seq")
    base = seq["wall"] if seq else None
    lines = [
        f"| sqlite, {size} I/O-bound tests | wall s, median (min–max) | W/N s "
        "| × faster than sequential | peak memory: all / per worker (max) | runs |",
        "|---|---|---|---|---|---|",
    ]
    for c in lineup():
        row = report.find_row(rows, "sqlite", size, c.key)
        if row is None:
            continue
        speed = f"{base / row['wall']:.2f}×" if base and row["wall"] else "–"
        lines.append(
            f"| {row['label']} | {report.wall_cell(row)} | {report.secs(row.get('wn'))} | {speed} "
            f"| {report.memory_cell(row)} | {row['counted']}/{row['runs']} |"
        )
    return "\n".join(lines)


def verdict(rows: list[dict[str, Any]], size: int, cores: int) -> str:
    seq = report.find_row(rows, "sqlite", size, "django-seq")
    ours = report.find_row(rows, "sqlite", size, f"ours-cold-{WORKERS[-1]}")
    goal = f"ours, {WORKERS[-1]} workers on {cores} cores ≥ {SPEEDUP_GOAL:.0f}× sequential"
    if not seq or not ours or not seq["wall"] or not ours["wall"]:
        return f"Goal: {goal}: – (not measured)."
    speed = seq["wall"] / ours["wall"]
    word = "PASS" if speed >= SPEEDUP_GOAL else "MISS"
    return f"Goal: {goal}: {speed:.2f}× (wall), **{word}**."


def main(argv: list[str]) -> int:
    quick = "--quick" in argv or os.environ.get("BENCH_QUICK") == "1"
    size, repeats = (150, 1) if quick else (300, 3)
    path = wl.generate(HERE / "workloads" / f"io-s{size}", tests=size, mix="io")
    suffix = os.environ.get("EXAMPLE_DB_SUFFIX", "")
    w = rounds.workload(path, "sqlite", suffix)
    out = Path(os.environ.get("BENCH_ARTIFACTS") or HERE / "workloads" / "artifacts" / "io")
    runs = rounds.measure(lineup(), w, repeats, out / "io_scaling", timeout=600)
    rows = report.summarize(runs, {c.key: c.label for c in lineup()})
    cores = os.cpu_count() or 1
    print(f"### Many workers on {cores} cores: an I/O-bound suite ({size} tests, SQLite)\n")
    print(f"{repeats} alternating round(s), medians.\n")
    print(speedup_table(rows, size) + "\n")
    print(verdict(rows, size, cores))
    target = os.environ.get("BENCH_SECTION_JSON")
    if target:
        Path(target).write_text(json.dumps({"size": size, "runs": runs, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
