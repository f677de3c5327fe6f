"""Benchmark section: scheduling and worker start.

1. An uneven suite (many small classes, a few big ones that discovery puts last): wall time of
   the test phase and the tail (first worker idle to last worker done) with Django's discovery
   order, with estimates from test counts (no stored timings) and with stored timings; Django's
   own --parallel on the same suite for reference.
2. Time from launch to the first test started: ours (fork, spawn) vs Django --parallel.
3. 1/2/4/8 workers on an I/O-bound suite (sleeps standing in for network calls) and on a
   CPU-bound suite. One worker means Django's sequential runner (the engine falls back to it).

Runs on its own (``.venv/bin/python bench/scheduling.py [--quick]``: Markdown on stdout, JSON in
bench/results/scheduling.json) or as a section of ``make bench`` (see bench/sections.py: it then
reads BENCH_QUICK, BENCH_BACKENDS and writes BENCH_SECTION_JSON). The suites are generated into
a temporary directory; SQLite unless BENCH_BACKENDS names postgres too (then the first-test
latency is measured on it as well). Medians of alternating repetitions; the machine may be
shared, so the numbers are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PYTHON = sys.executable

SETTINGS = """\
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "bench-only"
DEBUG = True
INSTALLED_APPS = [
    "django.contrib.contenttypes", "django.contrib.auth", "uneven", "iobound", "cpubound",
]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
TEST_RUNNER = "django_concurrent_test.runner.ConcurrentTestRunner"
CONCURRENT_TEST_CONFIG = {"enabled": True}
_suffix = os.environ.get("EXAMPLE_DB_SUFFIX", "")
if os.environ.get("EXAMPLE_DB") == "postgres":
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.postgresql", "NAME": "benchsched" + _suffix,
        "USER": "postgres", "HOST": "127.0.0.1", "PORT": "5432",
    }}
else:
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "bench.sqlite3",
    }}
"""

MANAGE = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsettings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""

# Every test notes when it started, so "launch to first test" is measured the same way for
# every runner (workers append to one file; short appends are atomic).
MARK = """\
import os
import time


class Marked:
    def setUp(self):
        super().setUp()
        path = os.environ.get("BENCH_STARTS")
        if path:
            with open(path, "a") as f:
                f.write(f"{time.time()}\\n")
"""


def _class(name: str, base: str, tests: int, body: str) -> str:
    methods = "".join(f"    def test_{i:02d}(self):\n        {body}\n\n" for i in range(tests))
    return f"class {name}(Marked, {base}):\n{methods}\n"


def generate(dest: Path) -> Path:
    """Writes the three suites' project into dest and returns it."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    (dest / "manage.py").write_text(MANAGE)
    (dest / "benchsettings.py").write_text(SETTINGS)
    (dest / "benchmark_marks.py").write_text(MARK)
    head = (
        "import time\n\nfrom django.test import SimpleTestCase, TestCase\n\n"
        "from benchmark_marks import Marked\n\n\n"
    )
    modules = {
        # Small classes first, big ones last: the order discovery gives them (alphabetical).
        ("uneven", "test_a_small"): "".join(
            _class(f"Small{i:02d}Tests", "TestCase", 2, "time.sleep(0.025)") for i in range(40)
        ),
        ("uneven", "test_m_medium"): "".join(
            _class(f"Medium{i}Tests", "TestCase", 5, "time.sleep(0.1)") for i in range(4)
        ),
        ("uneven", "test_z_big"): _class("HugeTests", "TestCase", 20, "time.sleep(0.25)")
        + _class("PureBigTests", "SimpleTestCase", 24, "time.sleep(0.1)"),
        ("iobound", "tests"): "".join(
            _class(f"Io{i:02d}Tests", "TestCase", 4, "time.sleep(0.05)") for i in range(24)
        ),
        ("cpubound", "tests"): "".join(
            _class(f"Cpu{i:02d}Tests", "TestCase", 4, "sum(i * i for i in range(300_000))")
            for i in range(24)
        ),
    }
    for (app, module), body in modules.items():
        (dest / app).mkdir(exist_ok=True)
        (dest / app / "__init__.py").write_text("")
        (dest / app / f"{module}.py").write_text(head + body)
    return dest


RAN = re.compile(r"^Ran (\d+) tests? in ([\d.]+)s", re.M)


def run_once(
    project: Path,
    labels: list[str],
    *,
    runner: str,
    workers: int,
    db: str,
    order: str | None = None,
    start_method: str | None = None,
) -> dict[str, Any]:
    """One run; returns wall seconds, test-phase seconds, first-test latency and the tail."""
    with tempfile.TemporaryDirectory() as tmp:
        starts = Path(tmp) / "starts"
        log = Path(tmp) / "events.jsonl"
        env = {
            **os.environ,
            "EXAMPLE_DB": db,
            "BENCH_STARTS": str(starts),
            "DJANGO_ENABLE_CONCURRENT": "1",
            "NO_TELEMETRY": "1",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        if runner == "django":
            args = ["--testrunner", "django.test.runner.DiscoverRunner", "--parallel", str(workers)]
        else:
            args = ["--workers", str(workers)]
            env["DJANGO_CONCURRENT_TEST_EVENT_LOG"] = str(log)
            if order:
                env["DJANGO_CONCURRENT_TEST_ORDER"] = order
            if start_method:
                args += ["--start-method", start_method]
        launched = time.time()
        proc = subprocess.run(
            [PYTHON, "manage.py", "test", *labels, *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        wall = time.time() - launched
        if proc.returncode != 0:
            raise RuntimeError(f"{runner} run failed ({proc.returncode}): {proc.stderr[-1500:]}")
        match = RAN.search(proc.stderr)
        first = min(float(x) for x in starts.read_text().split()) if starts.exists() else None
        tail = _tail(log) if log.exists() else None
    return {
        "wall": round(wall, 3),
        "tests": float(match.group(2)) if match else None,
        "first_test": round(first - launched, 3) if first else None,
        "tail": tail,
    }


def _tail(log: Path) -> float | None:
    """Seconds from the first worker running out of work to the last one finishing."""
    last: dict[int, int] = {}
    for line in log.read_text().splitlines():
        event = json.loads(line)
        if event["type"] == "classDone":
            last[event["slot"]] = max(last.get(event["slot"], 0), event["t"])
    if len(last) < 2:
        return None
    return round((max(last.values()) - min(last.values())) / 1000, 3)


def median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return round(statistics.median(values), 3) if values else None


def timings_file(project: Path) -> Path:
    return project / ".django-concurrent-test" / "timings.json"


def bench_scheduling(project: Path, repeats: int, workers: int) -> dict[str, Any]:
    labels = ["uneven"]
    keys = ("discovery", "estimates", "stored", "django")
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in keys}

    def ours(**kw: Any) -> dict[str, Any]:
        return run_once(project, labels, runner="ours", workers=workers, db="sqlite", **kw)

    for _ in range(repeats):
        timings_file(project).unlink(missing_ok=True)
        runs["discovery"].append(ours(order="discovery"))
        timings_file(project).unlink(missing_ok=True)
        runs["estimates"].append(ours())
        # That run stored its timings: the next one plans from them.
        runs["stored"].append(ours())
        runs["django"].append(
            run_once(project, labels, runner="django", workers=workers, db="sqlite")
        )
    return {k: summary(v, ("tests", "tail", "wall")) for k, v in runs.items()}


def summary(runs: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    return {**{k: median(runs, k) for k in keys}, "runs": runs}


def bench_first_test(project: Path, repeats: int, backends: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for db in backends:
        runs: dict[str, list[dict[str, Any]]] = {
            "ours (fork)": [],
            "ours (spawn)": [],
            "django --parallel": [],
        }
        for _ in range(repeats):
            runs["ours (fork)"].append(
                run_once(project, ["iobound"], runner="ours", workers=2, db=db)
            )
            runs["ours (spawn)"].append(
                run_once(
                    project, ["iobound"], runner="ours", workers=2, db=db, start_method="spawn"
                )
            )
            runs["django --parallel"].append(
                run_once(project, ["iobound"], runner="django", workers=2, db=db)
            )
        result[db] = {
            k: {"first_test": median(v, "first_test"), "wall": median(v, "wall"), "runs": v}
            for k, v in runs.items()
        }
    return result


def bench_workers(project: Path, repeats: int, counts: list[int]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for suite in ("iobound", "cpubound"):
        runs: dict[int, list[dict[str, Any]]] = {n: [] for n in counts}
        for _ in range(repeats):
            for n in counts:
                runs[n].append(run_once(project, [suite], runner="ours", workers=n, db="sqlite"))
        result[suite] = {str(n): summary(v, ("tests", "wall")) for n, v in runs.items()}
    return result


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def markdown(data: dict[str, Any]) -> str:
    out = [
        "### Scheduling and worker start",
        "",
        f"{data['machine']}; {data['repeats']} repetition(s), medians; SQLite unless stated. "
        "The machine is shared with other work, so expect 10-20 % noise.",
        "",
        f"**Uneven suite** (11.4 s of sleeps: 40 small and 4 medium TestCases, then a 5 s "
        "TestCase and a 2.4 s SimpleTestCase that discovery puts last; "
        f"{data['scheduling_workers']} workers, so 5.7 s is the floor). *Tail*: first worker out "
        "of work to last worker done.",
        "",
        "| order | tests phase (s) | tail (s) | wall (s) |",
        "|---|---|---|---|",
    ]
    names = {
        "discovery": "ours, Django's discovery order",
        "estimates": "ours, no stored timings (estimates)",
        "stored": "ours, stored timings",
        "django": "Django --parallel",
    }
    for key, row in data["scheduling"].items():
        out.append(
            f"| {names[key]} | {fmt(row['tests'])} | {fmt(row['tail'])} | {fmt(row['wall'])} |"
        )
    out += [
        "",
        "**Launch to first test started** (I/O-bound suite, 2 workers).",
        "",
        "| backend | runner | first test (s) | wall (s) |",
        "|---|---|---|---|",
    ]
    for db, rows in data["first_test"].items():
        for runner, row in rows.items():
            out.append(f"| {db} | {runner} | {fmt(row['first_test'])} | {fmt(row['wall'])} |")
    out += [
        "",
        f"**Workers** ({data['cpus']} CPUs; 1 worker = Django's sequential runner, which the "
        "engine falls back to). Test phase seconds (wall in brackets).",
        "",
    ]
    counts = list(next(iter(data["workers"].values())).keys())
    heads = [f"{n} worker{'s' if n != '1' else ''}" for n in counts]
    out += ["| suite | " + " | ".join(heads) + " |", "|---|" + "---|" * len(counts)]
    for suite, rows in data["workers"].items():
        label = {"iobound": "I/O-bound (sleeps)", "cpubound": "CPU-bound (loops)"}[suite]
        cells = [f"{fmt(rows[n]['tests'])} ({fmt(rows[n]['wall'])})" for n in counts]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", default=bool(os.environ.get("BENCH_QUICK")))
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    wanted = os.environ.get("BENCH_BACKENDS", "sqlite").split(",")
    backends = [b for b in wanted if b in ("sqlite", "postgres")]
    counts = [1, 2, 4] if args.quick else [1, 2, 4, 8]
    with tempfile.TemporaryDirectory() as tmp:
        project = generate(Path(tmp) / "project")
        data: dict[str, Any] = {
            "machine": f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
            "cpus": os.cpu_count(),
            "repeats": repeats,
            "scheduling_workers": 2,
            "scheduling": bench_scheduling(project, repeats, 2),
            "first_test": bench_first_test(project, repeats, backends or ["sqlite"]),
            "workers": bench_workers(project, repeats, counts),
        }
    print(markdown(data))
    target = os.environ.get("BENCH_SECTION_JSON") or str(HERE / "results" / "scheduling.json")
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    Path(target).write_text(json.dumps(data, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
