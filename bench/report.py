# ruff: noqa: RUF001  (the Markdown tables use typographic dashes and the times sign)
"""From the runs to the figures people read: medians with min-max, each ratio to the best
competitor of the same mode (ratios.py), PASS/MISS against the goals, memory per worker, how cost
grows with the suite, where our time goes, and the docs section."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ratios import attach_ratios, mode_of, prefix_of, verdicts, workers_of

DOC_BEGIN = "<!-- bench:results:begin (written by `make bench`; edits here are overwritten) -->"
DOC_END = "<!-- bench:results:end -->"

# The contestants of the cost-growth series (N = 2 at every size).
GROWTH_KEYS = ("django-par-2", "pytest-xdist-2", "ours-cold-2", "ours-warm-2")
# The order of a table's rows: sequential, then cold, then warm.
ROW_ORDER = (
    "django-seq",
    "pytest-seq",
    "django-par",
    "pytest-xdist",
    "ours-cold",
    "pytest-concurrent",
    "django-keepdb",
    "pytest-reuse",
    "ours-warm",
)

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
    """One row per (backend, size, contestant): medians over counted runs; then the ratios."""
    groups: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for r in runs:
        groups.setdefault((r["backend"], r["size"], r["contestant"]), []).append(r)
    rows = [
        _row(backend, size, key, group, labels) for (backend, size, key), group in groups.items()
    ]
    attach_ratios(rows)
    return rows


def _row(
    backend: str, size: int, key: str, group: list[dict[str, Any]], labels: dict[str, str]
) -> dict[str, Any]:
    counted = [r for r in group if r["counted"]]
    walls = [r["wall"] for r in counted]
    fallback = next((r["fallback"] for r in group if r["fallback"]), None)
    problem = next((r["problem"] for r in group if r["problem"]), None)
    shown = counted or [r for r in group if r["fallback"] and not r["problem"]]
    # Runs that ran to the end but whose outcomes differ: their time is shown, never counted.
    differed = [r for r in group if not r["counted"] and r.get("differs")]

    def med(name: str, rows: list[dict[str, Any]] = shown) -> float | None:
        return median(r.get(name) for r in rows)

    profile_keys = {k for r in counted for k in r.get("profile", {})}
    return {
        "backend": backend,
        "size": size,
        "contestant": key,
        "label": labels.get(key, key),
        "mode": mode_of(key),
        "runs": len(group),
        "counted": len(counted),
        "wall": median(walls),
        "wall_min": min(walls, default=None),
        "wall_max": max(walls, default=None),
        "fallback_wall": med("wall") if not counted and fallback else None,
        "differ_wall": median(r["wall"] for r in differed),
        "differs": median(r["differs"] for r in differed),
        **{
            k: med(k)
            for k in ("setup", "tests", "teardown", "rest", "startup", "busy", "utilization")
        },
        **{k: med(k) for k in ("ideal", "peak_pss", "worker_pss", "worker_pss_max")},
        "wn": med("wn") or _wn_of(shown, key),
        "main_pss": med("main_pss"),
        "fallback": fallback,
        "problem": problem if not counted else None,
        "profile": {k: median(r["profile"].get(k) for r in counted) for k in sorted(profile_keys)},
    }


def _wn_of(runs: list[dict[str, Any]], key: str) -> float | None:
    """W/N from the summed per-test time, for results stored before W/N was."""
    total = median(r.get("test_sum") for r in runs)
    return total / (workers_of(key) or 1) if total else None


def find_row(
    rows: list[dict[str, Any]], backend: str, size: int, key: str
) -> dict[str, Any] | None:
    return next(
        (r for r in rows if (r["backend"], r["size"], r["contestant"]) == (backend, size, key)),
        None,
    )


def secs(v: float | None, digits: int = 1) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _mem(v: float | None) -> str:
    return "–" if not v else f"{v / 1024 / 1024:.0f} MiB"


def _order(key: str) -> int:
    prefix = prefix_of(key)
    return ROW_ORDER.index(prefix) if prefix in ROW_ORDER else len(ROW_ORDER)


def wall_cell(row: dict[str, Any]) -> str:
    if row["wall"] is not None:
        return f"**{secs(row['wall'])}** ({secs(row['wall_min'])}–{secs(row['wall_max'])})"
    if row["fallback"]:
        return f"fell back to Django's sequential runner: {secs(row['fallback_wall'])}"
    if row.get("differ_wall") is not None:
        return (
            f"not counted: {row['differs']:.0f} outcomes differ (ran in {secs(row['differ_wall'])})"
        )
    return f"not counted: {row['problem']}"


def _ratio_cell(row: dict[str, Any]) -> str:
    if row["mode"] == "seq":
        return "–"
    if row["wall"] is None and row["fallback"]:
        return "not ours"
    if row.get("ratio") is None:
        return "–"
    mark = "" if row.get("base_outcomes_ok", True) else "‡"
    best = "best" if row["contestant"] == row.get("base") else row.get("base_label") or "?"
    return f"{row['ratio']:.2f}×{mark} ({best})"


def memory_cell(row: dict[str, Any]) -> str:
    total = _mem(row["peak_pss"])
    if not row.get("worker_pss"):
        return total
    return f"{total} / {_mem(row['worker_pss'])} ({_mem(row['worker_pss_max'])})"


def contestant_table(rows: list[dict[str, Any]], backend: str, size: int, n: int) -> str:
    mine = [
        r
        for r in rows
        if (r["backend"], r["size"]) == (backend, size)
        and (workers_of(r["contestant"]) in (None, n))
    ]
    lines = [
        f"| {backend}, {size} tests, N = {n} | mode | wall s, median (min–max) | W/N s "
        "| × best competitor of its mode | start-up / setup / tests / teardown / rest s "
        "| utilization | peak memory: all / per worker (max) | runs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in sorted(mine, key=lambda r: _order(r["contestant"])):
        split = " / ".join(secs(row[k]) for k in ("startup", "setup", "tests", "teardown", "rest"))
        util = f"{row['utilization'] * 100:.0f}%" if row["utilization"] is not None else "–"
        lines.append(
            f"| {row['label']} | {row['mode']} | {wall_cell(row)} | {secs(row.get('wn'))} "
            f"| {_ratio_cell(row)} | {split} | {util} | {memory_cell(row)} "
            f"| {row['counted']}/{row['runs']} |"
        )
    if any(r.get("base_outcomes_ok") is False for r in mine):
        lines += [
            "",
            "‡ no competitor of this mode counted: the base is the fastest one that ran to the "
            "end, its outcomes differing from the workload's.",
        ]
    return "\n".join(lines)


def targets_table(rows: list[dict[str, Any]], cells: list[tuple[str, int, int]]) -> str:
    """PASS/MISS of every goal (ratios.py) at each (backend, size, N) measured."""
    lines = [
        "| backend | tests | N | goal | measured | result | against |",
        "|---|---|---|---|---|---|---|",
    ]
    for backend, size, n in cells:
        for v in verdicts(rows, backend, size, n):
            result = v.word if v.passed is None else f"**{v.word}**"
            lines.append(
                f"| {backend} | {size} | {n} | {v.goal} | {v.value} | {result} | {v.note} |"
            )
    return "\n".join(lines) if len(lines) > 2 else "No goal could be evaluated."


def memory_table(rows: list[dict[str, Any]], cells: list[tuple[str, int, int]]) -> str:
    """The median worker's own peak PSS: ours against Django's --parallel workers."""
    lines = [
        "| backend, tests, N | Django --parallel N | ours cold | ours warm | pytest -n N "
        "| ours cold ÷ Django | main process: Django / ours |",
        "|---|---|---|---|---|---|---|",
    ]
    for backend, size, n in cells:
        got = {
            p: find_row(rows, backend, size, f"{p}-{n}")
            for p in ("django-par", "ours-cold", "ours-warm", "pytest-xdist")
        }
        per = {p: (r or {}).get("worker_pss") for p, r in got.items()}
        if not any(per.values()):
            continue
        ratio = (
            f"{per['ours-cold'] / per['django-par']:.2f}×"
            if per["ours-cold"] and per["django-par"]
            else "–"
        )
        main = " / ".join(_mem((got[p] or {}).get("main_pss")) for p in ("django-par", "ours-cold"))
        cells_text = " | ".join(_mem(per[p]) for p in got)
        lines.append(f"| {backend}, {size}, {n} | {cells_text} | {ratio} | {main} |")
    return "\n".join(lines) if len(lines) > 2 else "No per-worker memory was measured."


def growth_table(rows: list[dict[str, Any]], backend: str, sizes: list[int]) -> str:
    """Wall time, cost per test and the marginal cost per added test at each size (N = 2): a
    linear cost keeps the marginal figure flat."""
    keys = [k for k in GROWTH_KEYS if any(find_row(rows, backend, s, k) for s in sizes)]
    if not keys:
        return ""
    labels = {r["contestant"]: r["label"] for r in rows}
    lines = [
        f"| {backend}: tests | " + " | ".join(labels[k] for k in keys) + " |",
        "|---|" + "---|" * len(keys),
    ]
    for i, size in enumerate(sizes):
        cells = []
        for k in keys:
            row = find_row(rows, backend, size, k)
            if not row or row["wall"] is None:
                cells.append("–")
                continue
            cell = f"{row['wall']:.1f} s, {1000 * row['wall'] / size:.0f} ms/test"
            prev = find_row(rows, backend, sizes[i - 1], k) if i else None
            if prev and prev["wall"] is not None:
                marginal = 1000 * (row["wall"] - prev["wall"]) / (size - sizes[i - 1])
                cell += f" ({marginal:+.0f} ms per added test)"
            cells.append(cell)
        lines.append(f"| {size} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


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
        cells = [secs(r["profile"].get(key), 2) for r in ours]
        if any(c != "–" for c in cells):
            lines.append(f"| {what} | " + " | ".join(cells) + " |")
    lines.append("| **wall** | " + " | ".join(f"**{secs(r['wall'], 2)}**" for r in ours) + " |")
    return "\n".join(lines)


def machine_line(machine: dict[str, Any]) -> str:
    dbs = ", ".join(v for v in machine["databases"].values() if v)
    load = " / ".join(str(x) for x in machine.get("load_average_at_start", []))
    return (
        f"{machine['cores']} cores ({machine['cpu']}), {machine['memory_gib']} GiB, "
        f"Linux {machine['kernel']}; Python {machine['python']}, Django {machine['django']}, "
        f"Node {machine['node']}; {dbs}. Load average at start: {load}."
    )


def _cells(rows: list[dict[str, Any]], cfg: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [
        (backend, size, n)
        for backend in cfg["backends"]
        for size in cfg["sizes"]
        for n in cfg["workers"]
        if any(find_row(rows, backend, size, f"{p}-{n}") for p in ROW_ORDER[2:])
    ]


def markdown(result: dict[str, Any]) -> str:
    rows = result["summary"]
    cfg = result["config"]
    cells = _cells(rows, cfg)
    parts = [
        f"Benchmark of {result['date']} ({'quick' if cfg['quick'] else 'full'} run: "
        f"{cfg['repeats']} alternating runs per contestant, medians; workload seed {cfg['seed']}"
        + (f"; only {', '.join(cfg['only'])}" if cfg.get("only") else "")
        + ").",
        "",
        f"Machine: {machine_line(result['machine'])}",
        "",
        f"Warm means: {result['warm_mode_note']}",
    ]
    for note in result.get("notes", []):
        parts += ["", note]
    parts += ["", "#### Goals", "", targets_table(rows, cells)]
    for backend, size, n in cells:
        parts += [
            "",
            f"#### {backend}, {size} tests, {n} workers",
            "",
            contestant_table(rows, backend, size, n),
        ]
    parts += ["", "#### Memory per worker (median worker's peak PSS)", ""]
    parts += [memory_table(rows, cells)]
    growth = cfg.get("growth") or []
    if growth:
        sizes = sorted({*cfg["sizes"], *growth})
        tables = [t for b in cfg["backends"] if (t := growth_table(rows, b, sizes))]
        parts += ["", "#### How cost grows with the suite (N = 2, medians)", ""]
        parts += ["\n\n".join(tables)]
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
