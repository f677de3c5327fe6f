# ruff: noqa: RUF001  (the Markdown tables use typographic dashes and the times sign)
"""From the runs to the figures people read: medians with min-max, ratios to Django --parallel N,
the reference ratios, where our time goes, and the docs section."""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

DOC_BEGIN = "<!-- bench:results:begin (written by `make bench`; edits here are overwritten) -->"
DOC_END = "<!-- bench:results:end -->"

# (backend, contestant family key, baseline key, at most this ratio), N = 2 at the target size.
TARGET_SIZE = 600
TARGETS = [
    ("postgres", "ours-cold-2", "django-par-2", 0.9),
    ("mariadb", "ours-cold-2", "django-par-2", 0.8),
    ("postgres", "ours-warm-2", "django-par-2", 0.75),
    ("mariadb", "ours-warm-2", "django-par-2", 0.75),
    ("sqlite", "ours-cold-2", "django-par-2", 0.85),
    ("sqlite", "ours-warm-2", "django-par-2", 0.85),
    ("sqlite", "ours-warm-2", "pytest-xdist-2", 0.6),
    ("postgres", "ours-warm-2", "pytest-xdist-2", 0.6),
    ("mariadb", "ours-warm-2", "pytest-xdist-2", 0.6),
]

PROFILE_ROWS = [
    ("python_and_django_start", "Python start-up and django.setup() (before the runner's clock)"),
    ("engine_start_and_handshake", "Node engine start and bridge handshake"),
    ("discovery", "test discovery (bridge)"),
    ("template_migrations", "template: migrations + post_migrate (Django's create_test_db)"),
    ("clones", "cloning the template per worker"),
    ("worker_start", "worker start (last worker ready; overlaps the template build)"),
    ("tests_during_setup", "tests run while the databases were made, worker-seconds"),
    ("busy_ttc", "TransactionTestCase classes (flushes), summed over workers"),
    ("ttc_outside_tests", "of which outside the tests: flushes + post_migrate, summed"),
    ("busy_db", "TestCase classes (setUpTestData + tests), summed"),
    ("busy_io", "I/O-bound classes (sleeps), summed"),
    ("busy_cpu", "CPU-bound classes, summed"),
    ("busy_simple", "SimpleTestCase classes, summed"),
    ("per_class_overhead", "all class time outside tests (setUpClass, flushes, transport)"),
    ("class_round_trip_ms", "hand-out and result transport per class, ms (fixture-free classes)"),
    ("scheduling_tail", "scheduling tail (first worker idle → last worker done)"),
    ("teardown", "teardown (stop workers, drop clones and template)"),
]


def median(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def summarize(runs: list[dict[str, Any]], labels: dict[str, str]) -> list[dict[str, Any]]:
    """One row per (backend, size, contestant): medians over counted runs."""
    groups: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for r in runs:
        groups.setdefault((r["backend"], r["size"], r["contestant"]), []).append(r)
    rows = []
    for (backend, size, key), group in groups.items():
        counted = [r for r in group if r["counted"]]
        walls = [r["wall"] for r in counted]
        fallback = next((r["fallback"] for r in group if r["fallback"]), None)
        problem = next((r["problem"] for r in group if r["problem"]), None)
        shown = counted or [r for r in group if r["fallback"] and not r["problem"]]

        def med(name: str, rows: list[dict[str, Any]] = shown) -> float | None:
            return median(r[name] for r in rows)

        profile_keys = {k for r in counted for k in r.get("profile", {})}
        rows.append(
            {
                "backend": backend,
                "size": size,
                "contestant": key,
                "label": labels.get(key, key),
                "runs": len(group),
                "counted": len(counted),
                "wall": median(walls),
                "wall_min": min(walls, default=None),
                "wall_max": max(walls, default=None),
                "fallback_wall": med("wall") if not counted and fallback else None,
                "setup": med("setup"),
                "tests": med("tests"),
                "teardown": med("teardown"),
                "rest": med("rest"),
                "startup": med("startup"),
                "busy": med("busy"),
                "utilization": med("utilization"),
                "ideal": med("ideal"),
                "peak_pss": med("peak_pss"),
                "fallback": fallback,
                "problem": problem if not counted else None,
                "profile": {
                    k: median(r["profile"].get(k) for r in counted) for k in sorted(profile_keys)
                },
            }
        )
    for row in rows:
        n = _workers(row["contestant"])
        base = _find(rows, row["backend"], row["size"], f"django-par-{n or 2}")
        row["ratio"] = (
            (row["wall"] / base["wall"]) if base and base["wall"] and row["wall"] else None
        )
    return rows


def _workers(key: str) -> int | None:
    found = re.search(r"-(\d+)$", key)
    return int(found.group(1)) if found else None


def _find(rows: list[dict[str, Any]], backend: str, size: int, key: str) -> dict[str, Any] | None:
    return next(
        (r for r in rows if (r["backend"], r["size"], r["contestant"]) == (backend, size, key)),
        None,
    )


def _s(v: float | None, digits: int = 1) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _mem(v: float | None) -> str:
    return "–" if not v else f"{v / 1024 / 1024:.0f} MiB"


def contestant_table(rows: list[dict[str, Any]], backend: str, size: int, n: int) -> str:
    keys = [
        "django-seq",
        "pytest-seq",
        f"django-par-{n}",
        f"pytest-xdist-{n}",
        f"ours-cold-{n}",
        f"ours-warm-{n}",
        f"pytest-concurrent-{n}",
    ]
    lines = [
        f"| {backend}, {size} tests, N = {n} | wall s, median (min–max) | × Django --parallel {n} "
        "| start-up / setup / tests / teardown / rest s | utilization | peak memory "
        "| ideal s (we are +) | runs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key in keys:
        row = _find(rows, backend, size, key)
        if row is None:
            continue
        if row["wall"] is not None:
            wall = f"**{_s(row['wall'])}** ({_s(row['wall_min'])}–{_s(row['wall_max'])})"
            ratio = f"{row['ratio']:.2f}×" if row["ratio"] else "–"
        elif row["fallback"]:
            wall = f"fell back to Django's sequential runner: {_s(row['fallback_wall'])}"
            ratio = "not ours"
        else:
            wall, ratio = f"not counted: {row['problem']}", "–"
        split = " / ".join(_s(row[k]) for k in ("startup", "setup", "tests", "teardown", "rest"))
        util = f"{row['utilization'] * 100:.0f}%" if row["utilization"] is not None else "–"
        ideal = "–"
        if row["ideal"] is not None and row["wall"] is not None and _workers(key):
            ideal = f"{_s(row['ideal'])} (+{_s(row['wall'] - row['ideal'])})"
        lines.append(
            f"| {row['label']} | {wall} | {ratio} | {split} | {util} | "
            f"{_mem(row['peak_pss'])} | {ideal} | {row['counted']}/{row['runs']} |"
        )
    return "\n".join(lines)


def targets_table(rows: list[dict[str, Any]]) -> str:
    sizes = sorted({r["size"] for r in rows})
    size = TARGET_SIZE if TARGET_SIZE in sizes else (sizes[-1] if sizes else TARGET_SIZE)
    lines = [
        f"| reference ratio (N = 2, {size} tests) | ratio | result |",
        "|---|---|---|",
    ]
    for backend, key, base_key, limit in TARGETS:
        row, base = _find(rows, backend, size, key), _find(rows, backend, size, base_key)
        if row is None or base is None:
            continue
        what = f"{backend}: {row['label']} ≤ {limit}× {base['label']}"
        if row["wall"] is None or base["wall"] is None:
            why = "fell back to Django's runner" if row["fallback"] else "no counted runs"
            lines.append(f"| {what} | – | not measured ({why}) |")
            continue
        ratio = row["wall"] / base["wall"]
        verdict = "within" if ratio <= limit else "**above**"
        if size != TARGET_SIZE:
            verdict += f" (at {size} tests, not {TARGET_SIZE})"
        lines.append(f"| {what} | {ratio:.2f}× | {verdict} |")
    return "\n".join(lines) if len(lines) > 2 else "No reference ratio could be evaluated."


def profile_table(rows: list[dict[str, Any]]) -> str:
    ours = [r for r in rows if r["contestant"].startswith("ours-") and r["counted"]]
    if not ours:
        return "No counted run of ours to profile."
    head = (
        "| where our time goes (medians, s) | "
        + " | ".join(f"{r['backend']} {r['size']}: {r['label']}" for r in ours)
        + " |"
    )
    lines = [head, "|---|" + "---|" * len(ours)]
    for key, what in PROFILE_ROWS:
        cells = [_s(r["profile"].get(key), 2) for r in ours]
        if any(c != "–" for c in cells):
            lines.append(f"| {what} | " + " | ".join(cells) + " |")
    lines.append("| **wall** | " + " | ".join(f"**{_s(r['wall'], 2)}**" for r in ours) + " |")
    return "\n".join(lines)


def machine_line(machine: dict[str, Any]) -> str:
    dbs = ", ".join(v for v in machine["databases"].values() if v)
    load = " / ".join(str(x) for x in machine.get("load_average_at_start", []))
    return (
        f"{machine['cores']} cores ({machine['cpu']}), {machine['memory_gib']} GiB, "
        f"Linux {machine['kernel']}; Python {machine['python']}, Django {machine['django']}, "
        f"Node {machine['node']}; {dbs}. Load average at start: {load}."
    )


def markdown(result: dict[str, Any]) -> str:
    rows = result["summary"]
    cfg = result["config"]
    parts = [
        f"Benchmark of {result['date']} ({'quick' if cfg['quick'] else 'full'} run: "
        f"{cfg['repeats']} alternating runs per contestant; workload seed {cfg['seed']}"
        + (f"; only {', '.join(cfg['only'])}" if cfg.get("only") else "")
        + ").",
        "",
        f"Machine: {machine_line(result['machine'])}",
        "",
        f"Warm means: {result['warm_mode_note']}",
    ]
    for note in result.get("notes", []):
        parts += ["", note]
    parts += ["", "#### Reference ratios", "", targets_table(rows)]
    for backend in cfg["backends"]:
        for size in cfg["sizes"]:
            for n in cfg["workers"]:
                if _find(rows, backend, size, f"django-par-{n}") is None:
                    continue
                parts += [
                    "",
                    f"#### {backend}, {size} tests, {n} workers",
                    "",
                    contestant_table(rows, backend, size, n),
                ]
    parts += ["", "#### Where our time goes", "", profile_table(rows)]
    for section in result.get("sections", []):
        if section["status"] == "ok":
            parts += ["", section["markdown"]]
        elif section["status"] != "skipped":
            parts += ["", f"Section `{section['name']}`: {section['status']} ({section['error']})."]
    return "\n".join(parts) + "\n"


def update_doc(path: Path, body: str) -> bool:
    """Replace the marked results block in ``path``; False if the markers are missing."""
    text = path.read_text() if path.exists() else ""
    if DOC_BEGIN not in text or DOC_END not in text:
        return False
    head, rest = text.split(DOC_BEGIN, 1)
    _, tail = rest.split(DOC_END, 1)
    path.write_text(f"{head}{DOC_BEGIN}\n\n{body.strip()}\n\n{DOC_END}{tail}")
    return True
