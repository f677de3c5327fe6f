"""How long workers take to start: ours (fork from the warm bridge, and spawn) vs Django's
own fork-based --parallel pool, on the bookstore example (SQLite), N workers.

"Ready" means: from the moment the run asks for workers (after the test databases exist) until
the last worker can take a test. Ours: from the run's event log (phase "tests" start to the
last "workerReady"). Django's: a ParallelTestSuite subclass stamps CLOCK_MONOTONIC when the
pool is requested and when each worker's initializer finished (bench/support/timed_parallel.py).

    .venv/bin/python bench/worker_startup.py [--workers 2] [--repeat 5]
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "examples" / "bookstore"
LABELS = ["catalog", "orders"]


def ours(workers: int, start_method: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "events.jsonl"
        env = {
            **os.environ,
            "DJANGO_ENABLE_CONCURRENT": "1",
            "NO_TELEMETRY": "1",
            "EXAMPLE_DB": "sqlite",
            "DJANGO_CONCURRENT_TEST_EVENT_LOG": str(log),
        }
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "test",
                *LABELS,
                "--workers",
                str(workers),
                "--start-method",
                start_method,
                "-v",
                "0",
            ],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            check=False,
        )
        events = [json.loads(line) for line in log.read_text().splitlines()]
    requested = next(
        e["t"]
        for e in events
        if e["type"] == "phase" and e["phase"] == "tests" and e["edge"] == "start"
    )
    ready = max(e["t"] for e in events if e["type"] == "workerReady")
    return (ready - requested) / 1000


def django(workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        stamps = Path(tmp) / "stamps"
        env = {
            **os.environ,
            "EXAMPLE_DB": "sqlite",
            "WORKER_STARTUP_STAMPS": str(stamps),
            "PYTHONPATH": str(REPO / "bench" / "support"),
        }
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "test",
                *LABELS,
                "--parallel",
                str(workers),
                "--testrunner",
                "timed_parallel.TimedParallelRunner",
                "-v",
                "0",
            ],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            check=False,
        )
        rows = [line.split() for line in stamps.read_text().splitlines()]
    requested = min(float(t) for kind, t in rows if kind == "requested")
    ready = max(float(t) for kind, t in rows if kind == "ready")
    return ready - requested


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    contestants = {
        "Django --parallel (fork)": lambda: django(args.workers),
        "ours, fork from the bridge": lambda: ours(args.workers, "fork"),
        "ours, spawn": lambda: ours(args.workers, "spawn"),
    }
    samples: dict[str, list[float]] = {name: [] for name in contestants}
    for _ in range(args.repeat):  # alternate, so machine drift hits everyone alike
        for name, measure in contestants.items():
            samples[name].append(measure())
    baseline = statistics.median(samples["Django --parallel (fork)"])
    print(
        f"Workers ready, {args.workers} workers, median of {args.repeat} "
        f"(min-max), {time.strftime('%Y-%m-%d')}:\n"
    )
    print("| start | ready in | vs Django |")
    print("|---|---|---|")
    for name, values in samples.items():
        med = statistics.median(values)
        print(
            f"| {name} | {med * 1000:.0f} ms ({min(values) * 1000:.0f}-{max(values) * 1000:.0f})"
            f" | {med / baseline:.2f}x |"
        )


if __name__ == "__main__":
    main()
