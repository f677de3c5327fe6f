"""Extra benchmark sections written for other features, run by `make bench` when they exist.

A section is a script ``bench/<name>.py`` listed in SECTIONS. The contract, kept small so a
section can also be run on its own (``.venv/bin/python bench/<name>.py``):

- it prints its result as Markdown on stdout (a heading of level 3 or below, tables, notes);
- it may write machine-readable figures as JSON to the path in ``BENCH_SECTION_JSON``;
- it reads its options from the environment: ``BENCH_QUICK=1`` (keep it short),
  ``BENCH_BACKENDS`` (comma-separated: sqlite, postgres, mariadb), ``BENCH_WORKLOAD`` (the path of
  a generated workload project of ``BENCH_WORKLOAD_SIZE`` tests it may use, see workload.py),
  ``EXAMPLE_DB_SUFFIX`` (append it to every server database it creates), ``BENCH_ARTIFACTS``
  (a folder for its runs' output), ``BENCH_DJANGO_SUITE`` (``quick`` or ``full``: the apps of
  Django's own suite to run), ``BENCH_DJANGO_SUITE_REPEATS`` (its rounds);
- exit status 0; anything else is reported as a failed section, and the benchmark goes on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent
# name -> what it shows (the issue it belongs to).
SECTIONS = {
    "ready_databases": "time to N ready worker databases, ours vs Django",
    "scheduling": "stored timings, first-test latency, worker counts",
    "worker_startup": "worker start: fork from the bridge, spawn, Django's pool",
    "pytest_compare": "pytest --concurrent vs pytest-xdist",
    "io_scaling": "N = 2, 4, 8 on an I/O-bound suite: ours and Django against sequential",
    "many_migrations": "a 300-migration history, cold: ours vs Django --parallel 2",
    "django_suite": "Django's own test suite, cold and warm: ours vs Django --parallel 2",
}
# Sections that take longer than run_sections' timeout (Django's suite: minutes per run).
TIMEOUTS = {"django_suite": 6 * 3600.0}


def _argv(name: str, quick: bool, backends: list[str]) -> list[str]:
    """Command-line options for the sections that take them instead of (or besides) the
    environment."""
    if name == "pytest_compare":
        own = [b for b in backends if b in ("sqlite", "postgres")] or ["sqlite"]
        return [*(["--quick"] if quick else []), "--backends", ",".join(own)]
    if name == "worker_startup":
        return ["--repeat", "2" if quick else "5"]
    return []


@dataclass
class SectionResult:
    name: str
    status: str  # ok | failed | missing | skipped
    seconds: float = 0.0
    markdown: str = ""
    data: Any = None
    error: str = ""


def _run_section(
    argv: list[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Runs one section: stdout (its Markdown) kept; stderr (its progress) shown as it comes,
    and kept too, so a failed section can be reported with its last lines."""
    with subprocess.Popen(
        argv, env=env, cwd=HERE.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        out: list[str] = []
        err: list[str] = []

        def pump(stream: IO[str], into: list[str], echo: bool) -> None:
            for line in stream:
                into.append(line)
                if echo:
                    sys.stderr.write(line)
                    sys.stderr.flush()

        assert proc.stdout is not None and proc.stderr is not None
        readers = [
            threading.Thread(target=pump, args=(proc.stdout, out, False), daemon=True),
            threading.Thread(target=pump, args=(proc.stderr, err, True), daemon=True),
        ]
        for reader in readers:
            reader.start()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        for reader in readers:
            reader.join()
    return subprocess.CompletedProcess(argv, proc.returncode, "".join(out), "".join(err))


def run_sections(
    names: list[str],
    *,
    quick: bool,
    backends: list[str],
    workload: Path | None,
    workload_size: int | None,
    out_dir: Path,
    timeout: float,
) -> list[SectionResult]:
    results = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        script = HERE / f"{name}.py"
        if not script.exists():
            results.append(SectionResult(name, "missing", error=f"bench/{name}.py not written yet"))
            continue
        json_path = out_dir / f"section-{name}.json"
        env = {
            **os.environ,
            "BENCH_QUICK": "1" if quick else "",
            "BENCH_BACKENDS": ",".join(backends),
            "BENCH_SECTION_JSON": str(json_path),
            "BENCH_WORKLOAD": str(workload or ""),
            "BENCH_WORKLOAD_SIZE": str(workload_size or ""),
            "BENCH_ARTIFACTS": str(out_dir / name),
        }
        print(f"-- section {name}: running bench/{name}.py", flush=True)
        start = time.perf_counter()
        try:
            proc = _run_section(
                [sys.executable, str(script), *_argv(name, quick, backends)],
                env,
                TIMEOUTS.get(name, timeout),
            )
        except subprocess.TimeoutExpired:
            results.append(
                SectionResult(
                    name,
                    "failed",
                    time.perf_counter() - start,
                    error=f"timed out after {TIMEOUTS.get(name, timeout):.0f}s",
                )
            )
            continue
        seconds = time.perf_counter() - start
        data = None
        if json_path.exists():
            try:
                data = json.loads(json_path.read_text())
            except json.JSONDecodeError as exc:
                data = {"unreadable": str(exc)}
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
            results.append(
                SectionResult(
                    name,
                    "failed",
                    seconds,
                    proc.stdout,
                    data,
                    f"exit status {proc.returncode}: {' | '.join(tail)}",
                )
            )
            continue
        results.append(SectionResult(name, "ok", seconds, proc.stdout.strip(), data))
    return results
