# ruff: noqa: RUF001  (the Markdown tables use typographic dashes)
"""`make bench`: our runner against Django's (sequential and --parallel N) and pytest-django
(sequential and pytest-xdist -n N), on a generated workload, on every reachable backend.

Each contestant runs ``--repeats`` times, the contestants alternating within one invocation (the
order rotates every round) so machine drift hits all of them alike. A run counts only when its
per-test outcomes equal the workload's expected outcomes. Results go to
bench/results/<date-time>.json and .md; a full run also rewrites the marked block of
bench/results/README.md (the latest results, linked from the docs). `make bench QUICK=1`:
one backend, one size, N = 2, two rounds.

    .venv/bin/python bench/run.py [--quick] [--backends postgres,sqlite] [--sizes 600]
        [--workers 2,4] [--repeats 3] [--growth-sizes 150,300,1200] [--only ours,django-par]
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import contestants as cs  # noqa: E402
import machine  # noqa: E402
import report  # noqa: E402
import sections  # noqa: E402
import workload as wl  # noqa: E402

REPO = HERE.parent
WORKLOADS = HERE / "workloads"  # gitignored: generated projects and per-run artifacts
RESULTS = HERE / "results"
DOC = RESULTS / "README.md"
GROWTH_KEYS = ("django-par-2", "pytest-xdist-2", "ours-cold-2", "ours-warm-2")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="one backend, one size, N=2, two rounds")
    p.add_argument("--backends", help="comma-separated: sqlite,postgres,mariadb (default: all)")
    p.add_argument("--sizes", help="workload sizes for the full matrix (default 600; quick 150)")
    p.add_argument(
        "--growth-sizes",
        help="extra sizes for the cost-growth series at N=2 "
        "(default 150,300,1200; none in quick mode; 'none' to skip)",
    )
    p.add_argument("--workers", help="values of N (default 2,4; quick 2)")
    p.add_argument("--repeats", type=int, help="alternating rounds (default 3; quick 2)")
    p.add_argument("--seed", type=int, default=1, help="workload seed (default 1)")
    p.add_argument("--only", help="comma-separated contestant key prefixes, e.g. ours,django-par")
    p.add_argument(
        "--sections",
        choices=["auto", "yes", "no"],
        default="auto",
        help="run the extra sections of bench/sections.py (auto: not in quick mode)",
    )
    p.add_argument(
        "--docs",
        choices=["auto", "yes", "no"],
        default="auto",
        help="rewrite bench/results/README.md's results block (auto: full runs only)",
    )
    p.add_argument(
        "--render",
        metavar="RESULT_JSON",
        help="measure nothing: print the tables of a stored result "
        "(with --docs yes, also put them in bench/results/README.md)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        help="seconds one run may take before it is stopped (default 1800; quick 300)",
    )
    return p.parse_args(argv)


def _csv(value: str | None, default: list[Any], cast: Any = str) -> list[Any]:
    if not value:
        return default
    if value == "none":
        return []
    return [cast(v.strip()) for v in value.split(",") if v.strip()]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.render:
        return render(Path(args.render), write_docs=args.docs == "yes")
    reachable = [b for b in machine.BACKENDS if machine.server_version(b)]
    unreachable = [b for b in machine.BACKENDS if b not in reachable]
    if args.quick:
        default_backends = ["postgres"] if "postgres" in reachable else ["sqlite"]
    else:
        default_backends = reachable
    backends = _csv(args.backends, default_backends)
    for b in backends:
        if b not in machine.BACKENDS:
            print(f"bench: unknown backend {b!r}: use {', '.join(machine.BACKENDS)}")
            return 2
        if b not in reachable:
            print(f"bench: the {b} server is unreachable; start it or leave it out of --backends")
            return 2
    sizes = _csv(args.sizes, [150] if args.quick else [600], int)
    growth = [] if args.quick else _csv(args.growth_sizes, [150, 300, 1200], int)
    growth = [s for s in growth if s not in sizes]
    workers = _csv(args.workers, [2] if args.quick else [2, 4], int)
    repeats = args.repeats or (2 if args.quick else 3)
    only = _csv(args.only, [])
    timeout = args.timeout or (300 if args.quick else 1800)
    run_sections = args.sections == "yes" or (args.sections == "auto" and not args.quick)
    write_docs = args.docs == "yes" or (args.docs == "auto" and not args.quick)

    stamp = datetime.now().strftime("%Y-%m-%d-%H%M")
    artifacts = WORKLOADS / "artifacts" / stamp
    suffix = os.environ.get("EXAMPLE_DB_SUFFIX", "")
    notes: list[str] = []
    if unreachable and not args.backends:
        notes.append(f"**Not measured: {', '.join(unreachable)} (server unreachable).**")
    facts = machine.facts(backends)
    print(
        f"bench: {len(backends)} backend(s) {backends}, sizes {sizes} (+ growth {growth}), "
        f"N {workers}, {repeats} rounds; artifacts in {artifacts}",
        flush=True,
    )
    started = time.perf_counter()
    runs: list[dict[str, Any]] = []
    labels: dict[str, str] = {}
    warm_mode = "keepdb"
    pytest_concurrent = False
    workload_paths: dict[int, Path] = {}
    for size in [*sizes, *growth]:
        workload_paths[size] = _generate(size, args.seed)
    for backend in backends:
        for size in [*sizes, *growth]:
            path = workload_paths[size]
            base_env = _base_env(suffix)
            warm_mode = _warm_mode(path, backend, base_env)
            pytest_concurrent = _has_pytest_concurrent(path, backend, base_env)
            line = cs.lineup(workers if size in sizes else [2], warm_mode, pytest_concurrent)
            if size not in sizes:
                line = [c for c in line if c.key in GROWTH_KEYS]
            if only:
                line = [c for c in line if any(c.key.startswith(o) for o in only)]
            labels.update({c.key: c.label for c in line})
            expected = json.loads((path / "expected.json").read_text())["tests"]
            w = cs.Workload(path, backend, size, expected, sys.executable, base_env, warm_mode)
            _drop_bench_databases(backend, path)
            runs += _measure(line, w, repeats, artifacts / f"{backend}-{size}", timeout)
            leftovers = _drop_bench_databases(backend, path)
            stray = [n for n in leftovers if not re.search(r"_warm(_[0-9a-f]{6,})?(_\d+)?$", n)]
            if stray:
                notes.append(f"Leftover databases after {backend} {size}: {', '.join(stray)}.")
    warm_note = (
        "a template-cache hit: `--keepdb` runs reuse the kept, migrated template whose "
        "migrations hash matches (each warm run's event log is checked: no template built)"
        if warm_mode == "cache"
        else "`--keepdb` on a kept test database (the template cache of issue 3 is not in "
        "this build yet); cold runs build the template from migrations"
    )
    result: dict[str, Any] = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "config": {
            "quick": args.quick,
            "backends": backends,
            "sizes": sizes,
            "growth": growth,
            "workers": workers,
            "repeats": repeats,
            "seed": args.seed,
            "only": only,
        },
        "machine": {**facts, "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "warm_mode": warm_mode,
        "warm_mode_note": warm_note,
        "pytest_concurrent": pytest_concurrent,
        "workloads": {
            str(s): json.loads((p / "expected.json").read_text())["summary"]
            for s, p in workload_paths.items()
        },
        "labels": labels,
        "runs": runs,
        "notes": notes,
    }
    result["summary"] = report.summarize(runs, labels)
    if run_sections:
        size = 600 if 600 in workload_paths else sizes[0]
        found = sections.run_sections(
            list(sections.SECTIONS),
            quick=args.quick,
            backends=backends,
            workload=workload_paths.get(size),
            workload_size=size,
            out_dir=artifacts,
            timeout=3600,
        )
        result["sections"] = [vars(s) for s in found]
    result["seconds"] = round(time.perf_counter() - started, 1)
    text = report.markdown(result)
    if growth:
        text += "\n" + growth_markdown(result["summary"], backends, sorted([*sizes, *growth]))
    RESULTS.mkdir(exist_ok=True)
    name = f"{stamp}{'-quick' if args.quick else ''}"
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / f"{name}.md").write_text(text)
    print("\n" + text)
    print(f"bench: wrote bench/results/{name}.json and .md in {result['seconds']:.0f}s")
    if write_docs:
        if report.update_doc(DOC, text):
            print("bench: rewrote the results block of bench/results/README.md")
        else:
            print("bench: bench/results/README.md has no results markers; left it alone")
    uncounted = [r for r in runs if not r["counted"] and not r["fallback"]]
    return 1 if uncounted else 0


def render(path: Path, write_docs: bool) -> int:
    result = json.loads(path.read_text())
    result["summary"] = report.summarize(result["runs"], result["labels"])
    text = report.markdown(result)
    growth = result["config"].get("growth") or []
    if growth:
        sizes = sorted([*result["config"]["sizes"], *growth])
        text += "\n" + growth_markdown(result["summary"], result["config"]["backends"], sizes)
    print(text)
    if write_docs and not report.update_doc(DOC, text):
        print("bench: bench/results/README.md has no results markers; left it alone")
        return 1
    return 0


def growth_markdown(rows: list[dict[str, Any]], backends: list[str], sizes: list[int]) -> str:
    parts = ["#### How cost grows (N = 2, wall s, medians)", ""]
    for backend in backends:
        keys = [
            k
            for k in GROWTH_KEYS
            if any(r["contestant"] == k and r["backend"] == backend for r in rows)
        ]
        labels = {r["contestant"]: r["label"] for r in rows}
        parts += [
            f"| {backend}: tests | " + " | ".join(labels[k] for k in keys) + " |",
            "|---|" + "---|" * len(keys),
        ]
        for size in sizes:
            cells = []
            for k in keys:
                row = next(
                    (
                        r
                        for r in rows
                        if (r["backend"], r["size"], r["contestant"]) == (backend, size, k)
                    ),
                    None,
                )
                cells.append("–" if not row or row["wall"] is None else f"{row['wall']:.1f}")
            parts.append(f"| {size} | " + " | ".join(cells) + " |")
        parts.append("")
    return "\n".join(parts)


def _generate(size: int, seed: int) -> Path:
    path = wl.generate(WORKLOADS / f"s{size}-seed{seed}", tests=size, seed=seed)
    compileall.compile_dir(str(path), quiet=1)  # no contestant pays for compiling it first
    return path


def _base_env(suffix: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_CONCURRENT_TEST_EVENT_LOG",
            "DJANGO_TEST_WORKERS",
            "DJANGO_TEST_PROCESSES",
        )
    }
    env["EXAMPLE_DB_SUFFIX"] = suffix
    return env


def _warm_mode(path: Path, backend: str, env: dict[str, str]) -> str:
    """'cache' once the engine has a template cache (--rebuild-templates), else 'keepdb'."""
    out = subprocess.run(
        [sys.executable, "manage.py", "test", "--help"],
        cwd=path,
        env={**env, "EXAMPLE_DB": backend},
        capture_output=True,
        text=True,
    )
    return "cache" if "--rebuild-templates" in out.stdout else "keepdb"


def _has_pytest_concurrent(path: Path, backend: str, env: dict[str, str]) -> bool:
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"],
        cwd=path,
        env={**env, "EXAMPLE_DB": backend},
        capture_output=True,
        text=True,
    )
    return "--concurrent" in out.stdout


def _measure(
    line: list[cs.Contestant], w: cs.Workload, repeats: int, out: Path, timeout: float
) -> list[dict[str, Any]]:
    runs = []
    primed = False
    for rep in range(repeats):
        order = line[rep % len(line) :] + line[: rep % len(line)]
        if rep % 2:
            order.reverse()
        for c in order:
            if c.warm and not primed:
                # One unmeasured run so "warm" has something to be warm from.
                cs.run(c, w, -1, out / f"{c.key}-prime", timeout)
                primed = True
            fig = cs.run(c, w, rep, out / f"{c.key}-r{rep}", timeout)
            runs.append(fig.as_dict())
            status = (
                "ok"
                if fig.counted
                else f"FALLBACK ({fig.fallback})"
                if fig.fallback
                else f"NOT COUNTED: {fig.problem}"
            )
            print(
                f"[{w.backend} {w.size} r{rep}] {c.key:<22} {fig.wall:7.2f}s  "
                f"peak {fig.peak_pss / 2**20:5.0f} MiB  {status}",
                flush=True,
            )
    return runs


def _drop_bench_databases(backend: str, path: Path) -> list[str]:
    """Drop the workload's test databases (names start with test_<its database name>) and
    return their names. Only names the workload's own settings produce are ever touched."""
    if backend == "sqlite":
        key = hashlib.sha256(f"{path}\0benchproj.settings".encode()).hexdigest()[:12]
        shutil.rmtree(
            Path(tempfile.gettempdir()) / "django-concurrent-test" / key, ignore_errors=True
        )
        return []
    settings_text = (path / "benchproj" / "settings.py").read_text()
    stem = settings_text.split('NAME = "', 1)[1].split('"', 1)[0]
    prefix = f"test_{stem}{os.environ.get('EXAMPLE_DB_SUFFIX', '')}"
    names = [n for n in _server_databases(backend) if n == prefix or n.startswith(prefix + "_")]
    for name in names:
        _drop(backend, name)
    return names


def _server_databases(backend: str) -> list[str]:
    if backend == "postgres":
        import psycopg

        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres") as conn:
            return [r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()]
    import pymysql

    conn = pymysql.connect(host="127.0.0.1", user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW DATABASES")
            return [r[0] for r in cur.fetchall()]
    finally:
        conn.close()


def _drop(backend: str, name: str) -> None:
    if backend == "postgres":
        import psycopg
        from psycopg import sql

        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        return
    import pymysql

    conn = pymysql.connect(host="127.0.0.1", user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS `{}`".format(name.replace("`", "``")))
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
