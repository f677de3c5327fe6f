"""Django's own test suite under Django's ``--parallel 2`` and under ours, compared test by test.

Downloads the pinned Django sdist into ``.cache/django-suite/`` (once), runs its
``tests/runtests.py`` on the chosen apps with both runners on each database, and prints every
test whose outcomes differ. Exit status 1 on any difference, or when the run was smaller than
the minimum asked for.

    python tests/django_suite/compare.py --db sqlite --db postgres
    python tests/django_suite/compare.py --db sqlite --apps basic queries
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CACHE = ROOT / ".cache" / "django-suite"
Env = Mapping[str, str] | None

# Apps of Django's suite that both runners run; both aliases (default, other) are used by
# multiple_database, admin_views, auth_tests, contenttypes_tests, fixtures, migrations, ...
FULL_APPS = [
    "admin_changelist",
    "admin_checks",
    "admin_filters",
    "admin_inlines",
    "admin_views",
    "aggregation",
    "aggregation_regress",
    "annotations",
    "auth_tests",
    "backends",
    "basic",
    "bulk_create",
    "cache",
    "contenttypes_tests",
    "custom_lookups",
    "db_functions",
    "defer_regress",
    "delete",
    "delete_regress",
    "expressions",
    "expressions_window",
    "fixtures",
    "fixtures_regress",
    "forms_tests",
    "generic_relations",
    "get_or_create",
    "introspection",
    "lookup",
    "many_to_many",
    "many_to_one",
    "migrations",
    "model_fields",
    "model_forms",
    "model_formsets",
    "model_inheritance",
    "multiple_database",
    "ordering",
    "prefetch_related",
    "queries",
    "schema",
    "select_for_update",
    "select_related",
    "serializers",
    "test_runner",
    "test_utils",
    "transactions",
    "update",
    "validation",
]
# Tests that assert how long something took: on a loaded machine either runner may fail them.
# Their differences are shown but do not fail the comparison.
TIMED = {"serializers.test_deserialization.TestDeserializer.test_crafted_xml_performance"}
# A quick subset for `make test`: both aliases, TestCase and TransactionTestCase, backend skips.
QUICK_APPS = ["basic", "backends", "multiple_database", "transactions", "select_for_update"]


@dataclass
class Outcomes:
    by_test: dict[str, list[str]]
    returncode: int
    seconds: float
    tail: str


def django_version() -> str:
    import django

    return django.get_version()


def suite_dir() -> Path:
    """Django's ``tests/`` folder of the installed version, downloaded and unpacked once."""
    version = django_version()
    target = CACHE / f"django-{version}" / "tests"
    if (target / "runtests.py").exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    sdist = CACHE / f"django-{version}.tar.gz"
    if not sdist.exists():
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"),
                *("--disable-pip-version-check", "--no-binary", ":all:", f"Django=={version}"),
                *("-d", str(CACHE)),
            ],
            check=True,
        )
    prefix = f"django-{version}/tests/"
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(prefix)]
        archive.extractall(CACHE, members=members, filter="data")
    return target


def _env(db: str, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    paths = [str(HERE), str(ROOT / "tests" / "support"), env.get("PYTHONPATH", "")]
    env.update(
        {
            "DJANGO_SUITE_DB": db,
            "PYTHONPATH": os.pathsep.join(p for p in paths if p),
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
    )
    return env


def _runtests(
    tests: Path, db: str, apps: list[str], extra: dict[str, str], options: Sequence[str] = ()
) -> tuple[int, str, float]:
    command = [sys.executable, "runtests.py", "--settings=dct_suite_settings", "--noinput"]
    command += ["--parallel", "2", *options, *apps]
    started = time.monotonic()
    done = subprocess.run(command, cwd=tests, env=_env(db, extra), capture_output=True, text=True)
    return done.returncode, (done.stdout + done.stderr)[-4000:], time.monotonic() - started


def run_django(
    tests: Path, db: str, apps: list[str], options: Sequence[str] = (), env: Env = None
) -> Outcomes:
    """``options``: more runtests.py options (e.g. --keepdb); ``env``: more environment."""
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "outcomes.json"
        extra = {
            **(env or {}),
            "DJANGO_SUITE_RUNNER": "recording_runner.RecordingRunner",
            "RECORD_OUTCOMES": str(record),
        }
        code, tail, seconds = _runtests(tests, db, apps, extra, options)
        recorded = json.loads(record.read_text())["outcomes"] if record.exists() else {}
    return Outcomes({k: sorted(v) for k, v in recorded.items()}, code, seconds, tail)


def outcomes_from_events(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Test id -> sorted outcomes, as the recording runner keeps them (subtests fold in)."""
    result: dict[str, list[str]] = {}
    for event in events:
        if event["type"] == "testStart":
            result.setdefault(event["test"], [])
        if event["type"] == "outcome":
            result.setdefault(event.get("parent") or event["test"], []).append(event["outcome"])
    return {k: sorted(v) for k, v in result.items()}


def run_ours(
    tests: Path, db: str, apps: list[str], options: Sequence[str] = (), env: Env = None
) -> Outcomes:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "events.jsonl"
        extra = {
            **(env or {}),
            "DJANGO_ENABLE_CONCURRENT": "1",
            "NO_TELEMETRY": "1",
            "DJANGO_TEST_WORKERS": "2",
            "DJANGO_CONCURRENT_TEST_EVENT_LOG": str(log),
        }
        code, tail, seconds = _runtests(tests, db, apps, extra, options)
        lines = log.read_text().splitlines() if log.exists() else []
    events = [json.loads(line) for line in lines if line.strip()]
    return Outcomes(outcomes_from_events(events), code, seconds, tail)


def differences(django: dict[str, list[str]], ours: dict[str, list[str]]) -> list[str]:
    lines = []
    for test in sorted(set(django) | set(ours)):
        theirs, mine = django.get(test), ours.get(test)
        if theirs != mine:
            lines.append(f"  {test}: django={theirs or 'not run'} ours={mine or 'not run'}")
    return lines


def untimed(lines: list[str]) -> list[str]:
    """The differences that count: not those of tests that time themselves."""
    timed = [line for line in lines if line.split(":")[0].strip() in TIMED]
    for line in timed:
        print(f"   timing-dependent, not counted:{line}")
    return [line for line in lines if line not in timed]


def compare(tests: Path, db: str, apps: list[str], min_tests: int) -> bool:
    print(f"== {db}: {len(apps)} apps", flush=True)
    django = run_django(tests, db, apps)
    ours = run_ours(tests, db, apps)
    print(
        f"   Django --parallel 2: {len(django.by_test)} tests in {django.seconds:.0f} s; "
        f"ours (2 workers): {len(ours.by_test)} tests in {ours.seconds:.0f} s"
    )
    ok = True
    for name, run in (("Django", django), ("ours", ours)):
        if not run.by_test:
            print(f"   {name} recorded no outcomes (exit {run.returncode}):\n{run.tail}")
            ok = False
    diff = untimed(differences(django.by_test, ours.by_test))
    if diff:
        print(f"   {len(diff)} tests differ:")
        print("\n".join(diff))
        ok = False
    if len(django.by_test) < min_tests:
        print(f"   only {len(django.by_test)} tests ran; at least {min_tests} expected")
        ok = False
    print(f"   {'identical' if ok else 'DIFFERENT'}", flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", choices=["sqlite", "postgres", "mariadb"])
    parser.add_argument("--apps", nargs="+", help=f"default: {len(FULL_APPS)} apps")
    parser.add_argument("--quick", action="store_true", help=f"only {' '.join(QUICK_APPS)}")
    parser.add_argument("--min-tests", type=int, default=0)
    args = parser.parse_args(argv)
    apps = args.apps or (QUICK_APPS if args.quick else FULL_APPS)
    tests = suite_dir()
    results = [compare(tests, db, apps, args.min_tests) for db in args.db or ["sqlite"]]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
