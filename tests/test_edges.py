"""Edges a user meets: an unreadable protocol line, shards run one after another in one
checkout, a sequential baseline from another backend, Django's "Ran N tests in X" clock, and a
Python whose multiprocessing defaults to forkserver. Each runs the real engine."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import require_backend
from helpers import BOOKSTORE, EDGECASES, PYTHON, REPO, Run, run_concurrent

pytestmark = pytest.mark.integration

ENGINE = REPO / "python" / "django_concurrent_test" / "_engine" / "cli.mjs"
PACKAGE = REPO / "python" / "django_concurrent_test"
NODE = shutil.which("node") or "node"


def copy_project(source: Path, dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.sqlite3", ".django-concurrent-test")
    shutil.copytree(source, dest, ignore=ignore)
    return dest


# --- An unreadable line ends the run ------------------------------------------------------

FAKE_BRIDGE = """#!{python}
# Stands in for `python -m django_concurrent_test.bridge`: says hello with a number JSON has no
# spelling for (what json.dumps writes for float("inf")), then waits until the engine hangs up.
import os
os.write(3, b'{{"type":"hello","role":"bridge","protocol":2,"timeout":Infinity}}\\n')
while os.read(3, 65536):
    pass
"""


def test_an_unparseable_line_ends_the_run_with_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text(FAKE_BRIDGE.format(python=sys.executable))
    fake.chmod(0o755)
    env = {**os.environ, "DJANGO_ENABLE_CONCURRENT": "1", "NO_TELEMETRY": "1"}
    # A hang would end in TimeoutExpired: the engine must not wait for a message it dropped.
    proc = subprocess.run(
        [NODE, str(ENGINE), "run", "--python", str(fake)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr == (
        "django-concurrent-test: the Python process sent a line that is not a JSON message, so"
        ' the run cannot go on: "{\\"type\\":\\"hello\\",\\"role\\":\\"bridge\\",\\"protocol\\":2,'
        '\\"timeout\\":Infinity}"\n'
    )


def test_the_adapter_never_writes_a_line_json_cannot_read(tmp_path: Path) -> None:
    """float("inf") in the settings travels as "inf" and is refused by name (exit 2)."""
    proc = subprocess.run(
        [PYTHON, "manage.py", "test", "--workers", "2"],
        cwd=EDGECASES,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "safety_settings",
            "SAFETY_CONFIG": json.dumps({"timeout": float("inf")}),
            "DJANGO_ENABLE_CONCURRENT": "1",
            "NO_TELEMETRY": "1",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(
        'ConfigError: CONCURRENT_TEST_CONFIG["timeout"] must be number, not "inf"\n'
    )


# --- Shards of one run agree --------------------------------------------------------------

SHARD_LINE = re.compile(
    r"^Shard (\d+)/(\d+): \d+ of \d+ classes, \d+ tests, about ([\d.]+)s expected "
    r"\(plan (\w+)\)\.$",
    re.M,
)
LIST_TESTS = """
import django
from django.test.runner import DiscoverRunner
from django.test.utils import iter_test_cases
django.setup()
print("\\n".join(t.id() for t in iter_test_cases(DiscoverRunner(verbosity=0).build_suite([]))))
"""


def all_test_ids(project: Path) -> set[str]:
    env = {**os.environ, "EXAMPLE_DB": "sqlite", "DJANGO_SETTINGS_MODULE": "bookstore.settings"}
    proc = subprocess.run(
        [PYTHON, "-c", LIST_TESTS], cwd=project, env=env, capture_output=True, text=True, check=True
    )
    return set(proc.stdout.split())


def shard_round(project: Path, order: list[int]) -> dict[int, Run]:
    """The four shards of one CI run, one after another in the given order, in one checkout."""
    runs = {}
    for i in order:
        runs[i] = run_concurrent(
            project, "--workers", "2", "--shard", f"{i}/4", "--junitxml", f"reports/shard-{i}.xml"
        )
        assert runs[i].returncode == 0, runs[i].output[-3000:]
    return runs


def check_round(runs: dict[int, Run], everything: set[str]) -> list[float]:
    """Every test ran once in one of the shards, all planned alike; returns the planned seconds."""
    started = Counter(test for run in runs.values() for test in run.outcomes)
    assert set(started) == everything
    assert [t for t, n in started.items() if n > 1] == []
    lines = {int(m[0]): m for run in runs.values() for m in SHARD_LINE.findall(run.stderr)}
    assert sorted(lines) == [1, 2, 3, 4]
    assert len({m[3] for m in lines.values()}) == 1, "the shards planned differently"
    return [float(lines[i][2]) for i in range(1, 5)]


def merge(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            PYTHON,
            "-m",
            "django_concurrent_test.cli",
            "merge-reports",
            "reports",
            ".django-concurrent-test/shards",
            "--junitxml",
            "merged.xml",
            "--timings",
            ".django-concurrent-test/timings.json",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_four_shards_in_one_checkout_plan_alike_and_merge_their_timings(tmp_path: Path) -> None:
    project = copy_project(BOOKSTORE, tmp_path / "bookstore")
    everything = all_test_ids(project)
    assert len(everything) > 100
    timings = project / ".django-concurrent-test" / "timings.json"

    # A first CI run: no timings yet. No shard changes the input the others plan from.
    check_round(shard_round(project, [3, 1, 4, 2]), everything)
    assert not timings.exists()
    shard_files = sorted((project / ".django-concurrent-test" / "shards").iterdir())
    assert [f.name for f in shard_files] == [f"timings-{i}-of-4.json" for i in range(1, 5)]
    merged = merge(project)
    assert merged.returncode == 0, merged.stderr
    stored = json.loads(timings.read_text())["classes"]
    assert {t.rsplit(".", 1)[0] for t in everything} <= set(stored)

    # The next CI run plans from the merged timings, in whatever order its shards run.
    before = timings.read_bytes()
    planned = check_round(shard_round(project, [2, 4, 1, 3]), everything)
    assert timings.read_bytes() == before
    mean = sum(planned) / len(planned)
    assert max(planned) <= 1.15 * mean, planned
    assert merge(project).returncode == 0


def test_merge_reports_refuses_what_it_cannot_read_with_a_hint(tmp_path: Path) -> None:
    (tmp_path / "shards").mkdir()
    (tmp_path / "shards" / "timings-1-of-2.json").write_text("{not json")
    proc = subprocess.run(
        [
            PYTHON,
            "-m",
            "django_concurrent_test.cli",
            "merge-reports",
            "shards",
            "--timings",
            "t.json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        "MergeError: shards/timings-1-of-2.json is not JSON\n"
        "Hint: give the shards' --junitxml and --html reports and their"
        " .django-concurrent-test/shards/ timings files, or the directories holding them\n"
    )
    assert not (tmp_path / "t.json").exists()


# --- The sequential baseline belongs to its backend ---------------------------------------

BENCHMARK = re.compile(r"than sequential, (estimated|measured)\)")


@pytest.mark.postgres
def test_a_sqlite_baseline_is_not_used_for_a_postgres_run(tmp_path: Path) -> None:
    require_backend("postgres")
    project = copy_project(EDGECASES, tmp_path / "edgecases")
    args = ("edge.tests.DatabaseTests", "--benchmark")
    sequential = run_concurrent(project, *args, "--workers", "1")
    assert "[CONCURRENT] Sequential run:" in sequential.stdout, sequential.output[-2000:]
    on_postgres = run_concurrent(project, *args, "--workers", "2", db="postgres")
    assert BENCHMARK.findall(on_postgres.stdout) == ["estimated"], on_postgres.stdout
    on_sqlite = run_concurrent(project, *args, "--workers", "2")
    assert BENCHMARK.findall(on_sqlite.stdout) == ["measured"], on_sqlite.stdout


# --- "Ran N tests in X" is Django's clock --------------------------------------------------


def test_ran_line_counts_from_the_databases_being_ready() -> None:
    run = run_concurrent(EDGECASES, "--workers", "2")
    match = re.search(r"^Ran (\d+) tests in (\d+\.\d{3})s$", run.stderr, re.M)
    assert match, run.stderr[-2000:]
    edges = {(e["phase"], e["edge"]): e["at"] for e in run.of("phase")}
    # The workers start before the databases are made; Django's clock starts after them.
    assert edges[("tests", "start")] < edges[("clones", "end")]
    expected = (edges[("tests", "end")] - edges[("clones", "end")]) / 1000
    assert abs(float(match.group(2)) - expected) <= 0.002  # the log rounds to milliseconds


# --- Workers start the same whatever multiprocessing's default ----------------------------

FORKSERVER_DEFAULT = """import multiprocessing
multiprocessing.set_start_method("forkserver", force=True)  # Python 3.14's default on Linux
"""


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_workers_start_alike_when_multiprocessing_defaults_to_forkserver(
    start_method: str, tmp_path: Path
) -> None:
    (tmp_path / "sitecustomize.py").write_text(FORKSERVER_DEFAULT)
    args = ("edge.tests", "--workers", "2", "--start-method", start_method)
    reference = run_concurrent(EDGECASES, *args)
    python_path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    forkserver = run_concurrent(EDGECASES, *args, env={"PYTHONPATH": python_path})
    assert forkserver.returncode == reference.returncode == 1  # edge cases fail on purpose
    assert forkserver.outcomes == reference.outcomes


def test_the_package_never_starts_processes_through_multiprocessing() -> None:
    """Workers are os.fork() children of the bridge or processes the engine spawns: no start
    method of multiprocessing is involved, so its default cannot change how they start."""
    users = [
        path.name
        for path in PACKAGE.rglob("*.py")
        if re.search(r"^\s*(import|from)\s+multiprocessing", path.read_text(), re.M)
    ]
    assert users == []
