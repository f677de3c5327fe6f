# ruff: noqa: RUF001  (the Markdown tables use typographic dashes and the times sign)
"""Benchmark section: Django's own test suite as a second workload.

Runs Django's ``tests/runtests.py`` through tests/django_suite/compare.py (the same download,
settings and app set as `make test-django-suite`; ``BENCH_DJANGO_SUITE=quick`` or ``--apps quick``:
its quick subset) under Django's ``--parallel 2`` and ours with 2 workers, each cold and warm
(``--keepdb``, measured on the second run), on SQLite and PostgreSQL, alternating, median of
``--repeats`` (3; ``BENCH_QUICK=1``: one round, one backend). A run's time counts when its
per-test outcomes equal those of Django's cold run. Ours of each mode is divided by Django's of
the same mode; the goals are those of ratios.py (cold ≤ 0.80, warm ≤ 0.85).

    .venv/bin/python bench/django_suite.py [--quick] [--apps quick|full] [--backends sqlite]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import rounds
from ratios import RATIO_GOALS

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "django_suite"))

import compare  # noqa: E402

Runner = Callable[..., compare.Outcomes]


@dataclass(frozen=True)
class Entry:
    key: str
    label: str
    mode: str  # cold | warm
    run: Runner
    options: tuple[str, ...] = ()
    tag: str = ""  # appended to EXAMPLE_DB_SUFFIX: a warm runner's kept databases are its own


KEEPDB = ("--keepdb",)
ENTRIES = (
    Entry("django-cold", "Django --parallel 2", "cold", compare.run_django),
    Entry("ours-cold", "ours, 2 workers", "cold", compare.run_ours),
    Entry("django-warm", "Django --parallel 2 --keepdb", "warm", compare.run_django, KEEPDB, "dw"),
    Entry("ours-warm", "ours --keepdb, 2 workers", "warm", compare.run_ours, KEEPDB, "ow"),
)


@dataclass
class SuiteRun:
    key: str
    backend: str
    rep: int
    seconds: float
    tests: int
    returncode: int
    differs: int  # tests whose outcomes differ from Django's cold run (timed tests left out)
    first_difference: str = ""

    @property
    def counted(self) -> bool:
        return self.tests > 0 and self.differs == 0


def _run(entry: Entry, tests: Path, backend: str, apps: list[str], suffix: str) -> Any:
    env = {"EXAMPLE_DB_SUFFIX": suffix + entry.tag}
    return entry.run(tests, backend, apps, list(entry.options), env)


def measure(
    tests: Path, backend: str, apps: list[str], repeats: int, suffix: str
) -> list[SuiteRun]:
    runs: list[SuiteRun] = []
    reference: dict[str, list[str]] | None = None
    primed: set[str] = set()
    for rep in range(repeats):
        order = list(ENTRIES[rep % len(ENTRIES) :] + ENTRIES[: rep % len(ENTRIES)])
        if reference is None:  # Django's cold run first: the outcomes every other run must match
            order.sort(key=lambda e: e.key != "django-cold")
        for entry in order:
            if entry.mode == "warm" and entry.key not in primed:
                _run(entry, tests, backend, apps, suffix)
                primed.add(entry.key)
            got = _run(entry, tests, backend, apps, suffix)
            if reference is None:
                reference = got.by_test
            diff = [
                line
                for line in compare.differences(reference, got.by_test)
                if line.split(":")[0].strip() not in compare.TIMED
            ]
            run = SuiteRun(entry.key, backend, rep, got.seconds, len(got.by_test), got.returncode,
                           len(diff), diff[0].strip() if diff else "")  # fmt: skip
            runs.append(run)
            print(
                f"[suite {backend} r{rep}] {entry.key:<12} {run.seconds:7.1f}s "
                f"{run.tests} tests, {run.differs} differ",
                file=sys.stderr,  # progress; stdout is the section's Markdown
                flush=True,
            )
    return runs


def _median(runs: list[SuiteRun], key: str, backend: str) -> float | None:
    walls = [r.seconds for r in runs if (r.key, r.backend) == (key, backend) and r.counted]
    return statistics.median(walls) if walls else None


def table(runs: list[SuiteRun], backend: str) -> str:
    lines = [
        f"| {backend} | mode | wall s, median (min–max) | tests | × Django of its mode | runs |",
        "|---|---|---|---|---|---|",
    ]
    for entry in ENTRIES:
        mine = [r for r in runs if (r.key, r.backend) == (entry.key, backend)]
        if not mine:
            continue
        good = [r.seconds for r in mine if r.counted]
        wall = _median(runs, entry.key, backend)
        django = _median(runs, f"django-{entry.mode}", backend)
        if wall is None:
            bad = mine[0]
            cell = f"not counted: {bad.differs} tests differ ({bad.first_difference[:80]})"
        else:
            cell = f"**{wall:.1f}** ({min(good):.1f}–{max(good):.1f})"
        ratio = f"{wall / django:.2f}×" if wall and django else "–"
        lines.append(
            f"| {entry.label} | {entry.mode} | {cell} | {mine[0].tests} | {ratio} "
            f"| {len(good)}/{len(mine)} |"
        )
    return "\n".join(lines)


def goals(runs: list[SuiteRun], backends: list[str]) -> str:
    lines = []
    for backend in backends:
        for mode, limit in RATIO_GOALS.items():
            ours, django = (_median(runs, f"{who}-{mode}", backend) for who in ("ours", "django"))
            what = f"{backend}: ours {mode} ≤ {limit:.2f} × Django {mode}"
            if ours is None or django is None:
                lines.append(f"- {what}: – (no counted runs)")
                continue
            word = "PASS" if ours / django <= limit else "MISS"
            lines.append(f"- {what}: {ours / django:.2f}×, **{word}**")
    return "\n".join(lines)


def cleanup(backend: str, tests: Path, suffix: str) -> None:
    """Drop what the warm runs kept (the cold runs drop their own databases)."""
    if backend == "sqlite":
        key = hashlib.sha256(f"{tests}\0dct_suite_settings".encode()).hexdigest()[:12]
        shutil.rmtree(Path(tempfile.gettempdir()) / "django-concurrent-test" / key, True)
        return
    tags = "|".join(e.tag for e in ENTRIES if e.tag)
    kept = re.compile(rf"^test_djsuite_(default|other){re.escape(suffix)}({tags})(_.*)?$")
    for name in rounds.server_databases(backend):
        if kept.match(name):
            rounds.drop_database(backend, name)


def _int(value: str | None) -> int | None:
    return int(value) if value else None


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument(
        "--apps", choices=["quick", "full"], default=os.environ.get("BENCH_DJANGO_SUITE")
    )
    p.add_argument("--backends", default=os.environ.get("BENCH_BACKENDS") or "sqlite,postgres")
    rounds_env = os.environ.get("BENCH_DJANGO_SUITE_REPEATS")
    p.add_argument("--repeats", type=int, default=_int(rounds_env))
    args = p.parse_args(argv)
    quick = args.quick or os.environ.get("BENCH_QUICK") == "1"
    apps = (
        compare.QUICK_APPS
        if (args.apps or ("quick" if quick else "full")) == "quick"
        else compare.FULL_APPS
    )
    backends = [b for b in args.backends.split(",") if b in ("sqlite", "postgres")]
    backends = (backends or ["sqlite"])[: 1 if quick else None]
    repeats = args.repeats or (1 if quick else 3)
    suffix = os.environ.get("EXAMPLE_DB_SUFFIX", "")
    tests = compare.suite_dir()
    runs: list[SuiteRun] = []
    for backend in backends:
        cleanup(backend, tests, suffix)
        try:
            runs += measure(tests, backend, apps, repeats, suffix)
        finally:
            cleanup(backend, tests, suffix)
    subset = "quick subset" if apps == compare.QUICK_APPS else "`make test-django-suite`'s apps"
    version = compare.django_version()
    print(f"### Django's own test suite (Django {version}, {len(apps)} apps: the {subset})\n")
    print(f"{repeats} alternating round(s), medians; warm: each runner's second --keepdb run.\n")
    for backend in backends:
        print(table(runs, backend) + "\n")
    print(goals(runs, backends))
    target = os.environ.get("BENCH_SECTION_JSON")
    if target:
        data = {"apps": apps, "runs": [asdict(r) for r in runs]}
        Path(target).write_text(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
