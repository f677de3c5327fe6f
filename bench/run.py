"""`make bench`: our runner against Django's (sequential, --parallel N, --parallel N --keepdb)
and pytest-django's (sequential, -n N --create-db, -n N --reuse-db), cold and warm, on a generated
workload, on every reachable backend; ours of each mode against the best competitor of that mode
(ratios.py), with PASS/MISS against the goals.

Each contestant runs ``--repeats`` times, the contestants alternating within one invocation (the
order rotates every round) so machine drift hits all of them alike; every warm contestant first
has one unmeasured run to be warm from. A run counts only when its per-test outcomes equal the
workload's expected outcomes. Results go to bench/results/<date-time>.json and .md; a full run
also rewrites the marked block of bench/results/README.md (the latest results, linked from the
docs). `make bench QUICK=1`: one backend, one size, N = 2, one round.

    .venv/bin/python bench/run.py [--quick] [--backends postgres,sqlite] [--sizes 600]
        [--workers 2,4] [--repeats 3] [--growth-sizes 150,2400] [--only ours,django-par]
        [--sections yes|no|auto|django_suite,io_scaling] [--django-suite quick|full]
        [--django-suite-repeats 1]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import contestants as cs  # noqa: E402
import machine  # noqa: E402
import ratios  # noqa: E402
import report  # noqa: E402
import rounds  # noqa: E402
import sections  # noqa: E402
import workload as wl  # noqa: E402
from report import GROWTH_KEYS  # noqa: E402

REPO = HERE.parent
WORKLOADS = HERE / "workloads"  # gitignored: generated projects and per-run artifacts
RESULTS = HERE / "results"
DOC = RESULTS / "README.md"
# What kept databases of the warm contestants are called (contestants.WARM_TAGS), clones and
# pytest-xdist's per-worker copies included: left by design until the end, then dropped.
OURS_PREFIXES = {p for prefixes in ratios.OURS.values() for p in prefixes}
KEPT = re.compile(r"_(warm|djwarm|pywarm)(_[0-9a-f]{6,})?(_\d+|_gw\d+)?$")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="one backend, one size, N=2, one round")
    p.add_argument("--backends", help="comma-separated: sqlite,postgres,mariadb (default: all)")
    p.add_argument("--sizes", help="workload sizes for the full matrix (default 600; quick 150)")
    p.add_argument(
        "--growth-sizes",
        help="extra sizes for the cost-growth series at N=2 "
        "(default 150,2400; none in quick mode; 'none' to skip)",
    )
    p.add_argument("--workers", help="values of N (default 2,4; quick 2)")
    p.add_argument("--repeats", type=int, help="alternating rounds (default 3; quick 1)")
    p.add_argument("--seed", type=int, default=1, help="workload seed (default 1)")
    p.add_argument("--only", help="comma-separated contestant key prefixes, e.g. ours,django-par")
    p.add_argument(
        "--sections",
        default="auto",
        help="run the extra sections of bench/sections.py: auto (not in quick mode), yes, no, "
        f"or a comma-separated list of names ({', '.join(sections.SECTIONS)})",
    )
    p.add_argument(
        "--django-suite",
        choices=["quick", "full"],
        help="the apps of Django's own suite its section runs: the quick subset or those of "
        "`make test-django-suite` (default: full; quick in quick mode)",
    )
    p.add_argument(
        "--django-suite-repeats",
        type=int,
        help="rounds of Django's own suite (default: --repeats; each full round takes minutes)",
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
    growth = [] if args.quick else _csv(args.growth_sizes, [150, 2400], int)
    growth = [s for s in growth if s not in sizes]
    workers = _csv(args.workers, [2] if args.quick else [2, 4], int)
    repeats = args.repeats or (1 if args.quick else 3)
    only = _csv(args.only, [])
    timeout = args.timeout or (300 if args.quick else 1800)
    chosen = _chosen_sections(args.sections, args.quick)
    if chosen is None:
        print(f"bench: unknown section in --sections {args.sections!r}")
        return 2
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
            base_env = rounds.base_env(suffix)
            warm_mode = rounds.warm_mode(path, backend, base_env)
            pytest_concurrent = rounds.has_pytest_concurrent(path, backend, base_env)
            line = cs.lineup(workers if size in sizes else [2], warm_mode, pytest_concurrent)
            if size not in sizes:
                line = [c for c in line if c.key in GROWTH_KEYS]
            if only:
                line = [c for c in line if any(c.key.startswith(o) for o in only)]
            labels.update({c.key: c.label for c in line})
            expected = json.loads((path / "expected.json").read_text())["tests"]
            w = cs.Workload(path, backend, size, expected, sys.executable, base_env, warm_mode)
            rounds.drop_bench_databases(backend, path)
            runs += rounds.measure(line, w, repeats, artifacts / f"{backend}-{size}", timeout)
            leftovers = rounds.drop_bench_databases(backend, path)
            stray = [n for n in leftovers if not KEPT.search(n)]
            if stray:
                notes.append(f"Leftover databases after {backend} {size}: {', '.join(stray)}.")
    ours_warm = (
        "ours `--keepdb` is a template-cache hit (the kept, migrated template whose migrations "
        "hash matches; each warm run's event log is checked: no template built)"
        if warm_mode == "cache"
        else "ours `--keepdb` reuses its kept test databases (this build has no template cache)"
    )
    warm_note = (
        "the second run of each runner's own reuse of test databases, after one unmeasured "
        "run: Django `--parallel N --keepdb`, `pytest -n N --reuse-db`; "
        f"{ours_warm}. Cold: databases made from migrations (ours `--rebuild-templates`, "
        "pytest `--create-db`). On SQLite Django and pytest-django test in memory, so their warm "
        "runs have nothing to keep."
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
    if chosen:
        size = 600 if 600 in workload_paths else sizes[0]
        os.environ["BENCH_DJANGO_SUITE"] = args.django_suite or ("quick" if args.quick else "full")
        os.environ["BENCH_DJANGO_SUITE_REPEATS"] = str(args.django_suite_repeats or repeats)
        found = sections.run_sections(
            chosen,
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
    return 1 if _failed_runs(runs) else 0


def _failed_runs(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs that did not count and should have: any of ours, and competitors' runs that did not
    run to the end. A competitor whose outcomes differ is that runner's own behaviour (a kept
    database without its data-migration rows), shown as such, not a failure of the benchmark."""
    return [
        r
        for r in runs
        if not r["counted"]
        and not r["fallback"]
        and (ratios.prefix_of(r["contestant"]) in OURS_PREFIXES or not r.get("differs"))
    ]


def render(path: Path, write_docs: bool) -> int:
    result = json.loads(path.read_text())
    result["summary"] = report.summarize(result["runs"], result["labels"])
    text = report.markdown(result)
    print(text)
    if write_docs and not report.update_doc(DOC, text):
        print("bench: bench/results/README.md has no results markers; left it alone")
        return 1
    return 0


def _chosen_sections(value: str, quick: bool) -> list[str] | None:
    """The sections --sections names (None: an unknown name)."""
    if value == "auto":
        return [] if quick else list(sections.SECTIONS)
    if value in ("yes", "no"):
        return list(sections.SECTIONS) if value == "yes" else []
    names = _csv(value, [])
    return names if all(n in sections.SECTIONS for n in names) else None


def _generate(size: int, seed: int) -> Path:
    path = wl.generate(WORKLOADS / f"s{size}-seed{seed}", tests=size, seed=seed)
    compileall.compile_dir(str(path), quiet=1)  # no contestant pays for compiling it first
    return path


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
