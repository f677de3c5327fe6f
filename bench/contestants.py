"""The contestants: how each one is started on the workload, and what its run's figures are.

Every figure comes from the contestant's own reports (Django's and our ``--timing`` output, our
event log, the recording runner, pytest's JUnit file and the workload's small pytest plugin), so
no contestant runs differently because it is being measured beyond writing those reports.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from measure import Measured, run_measured, worker_peaks
from outcomes import from_event_log, from_junit, from_record, mismatches, read_event_log

FALLBACK_MARK = "django-concurrent-test: running sequentially:"
OPT_IN = {"DJANGO_ENABLE_CONCURRENT": "1", "NO_TELEMETRY": "1"}


@dataclass(frozen=True)
class Contestant:
    key: str  # stable id in results, e.g. "ours-warm-2"
    label: str  # what the tables show
    family: str  # django | pytest | ours | pytest-concurrent
    workers: int  # 1 for the sequential ones
    warm: bool = False


@dataclass
class Figures:
    """One run of one contestant. Times in seconds; None where the contestant cannot tell."""

    contestant: str
    backend: str
    size: int
    rep: int
    wall: float
    counted: bool  # outcomes checked equal, exit status as expected, no fallback
    problem: str | None = None
    fallback: str | None = None
    startup: float | None = None  # before the runner's own clock starts
    setup: float | None = None  # databases ready (ours: templates + clones + worker start)
    tests: float | None = None
    teardown: float | None = None
    rest: float | None = None  # wall - start-up - setup - tests - teardown (discovery, exit, ...)
    busy: float | None = None  # summed per-class (or per-item) time workers spent on tests
    test_sum: float | None = None  # summed per-test durations
    utilization: float | None = None
    ideal: float | None = None  # setup + busy / N
    overlap: float | None = None  # ours: seconds workers ran tests before the databases were ready
    wn: float | None = None  # W/N: summed per-test durations / workers, the ideal wall time
    differs: int = 0  # tests whose outcomes differ from the expected ones
    peak_pss: int = 0
    processes: int = 0
    worker_pss: int = 0  # median of the workers' own peak PSS (bytes); 0: no worker processes
    worker_pss_max: int = 0
    main_pss: int = 0  # the command's own process (bridge, Django's or pytest's main process)
    profile: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def lineup(workers: list[int], warm_mode: str, pytest_concurrent: bool) -> list[Contestant]:
    """Every contestant once; the sequential ones do not depend on N. Each warm contestant is
    its runner's own way of reusing test databases, measured on its second run."""
    warm_label = "ours warm (cached template)" if warm_mode == "cache" else "ours warm (--keepdb)"
    result = [
        Contestant("django-seq", "Django sequential", "django", 1),
        Contestant("pytest-seq", "pytest sequential", "pytest", 1),
    ]
    for n in workers:
        result += [
            Contestant(f"django-par-{n}", f"Django --parallel {n}", "django", n),
            Contestant(f"pytest-xdist-{n}", f"pytest -n {n} --create-db", "pytest", n),
            Contestant(
                f"django-keepdb-{n}", f"Django --parallel {n} --keepdb", "django", n, warm=True
            ),
            Contestant(f"pytest-reuse-{n}", f"pytest -n {n} --reuse-db", "pytest", n, warm=True),
            Contestant(f"ours-cold-{n}", f"ours cold, {n} workers", "ours", n),
            Contestant(f"ours-warm-{n}", f"{warm_label}, {n} workers", "ours", n, warm=True),
        ]
        if pytest_concurrent:
            result.append(
                Contestant(
                    f"pytest-concurrent-{n}",
                    f"pytest --concurrent --workers {n}",
                    "pytest-concurrent",
                    n,
                )
            )
    return result


# Each warm contestant keeps its test databases under its own name (BENCH_TEST_NAME_TAG, read by
# the workload's settings), so no other contestant drops or reuses them.
WARM_TAGS = {"django": "djwarm", "pytest": "pywarm", "ours": "warm"}


@dataclass
class Workload:
    path: Path
    backend: str
    size: int
    expected: dict[str, dict[str, str]]
    python: str
    base_env: dict[str, str]
    warm_mode: str  # "cache" (template cache) or "keepdb"


def command(c: Contestant, w: Workload, out: Path) -> tuple[list[str], dict[str, str]]:
    env = {**w.base_env, "EXAMPLE_DB": w.backend}
    manage = [w.python, "manage.py", "test", "--noinput", "--timing"]
    if c.warm:
        env["BENCH_TEST_NAME_TAG"] = WARM_TAGS[c.family]
    if c.family == "django":
        env["BENCH_RECORD"] = str(out / "record.json")
        argv = [*manage, "--testrunner", "bench_support.runners.RecordingRunner"]
        argv += ["--keepdb"] if c.warm else []
        return argv + (["--parallel", str(c.workers)] if c.workers > 1 else []), env
    if c.family == "pytest":
        env["BENCH_TIMING_DIR"] = str(out / "timing")
        (out / "timing").mkdir(parents=True, exist_ok=True)
        db = "--reuse-db" if c.warm else "--create-db"
        argv = [w.python, "-m", "pytest", "-q", db, f"--junitxml={out / 'junit.xml'}"]
        return argv + (["-n", str(c.workers)] if c.workers > 1 else []), env
    env.update(OPT_IN)
    env["DJANGO_CONCURRENT_TEST_EVENT_LOG"] = str(out / "events.jsonl")
    if c.family == "pytest-concurrent":
        argv = [
            w.python,
            "-m",
            "pytest",
            "-q",
            "--concurrent",
            "--workers",
            str(c.workers),
            f"--junitxml={out / 'junit.xml'}",
        ]
        return argv, env
    env["BENCH_RECORD"] = str(out / "record.json")  # written only if it falls back
    argv = [
        *manage,
        "--testrunner",
        "bench_support.runners.RecordingConcurrentRunner",
        "--workers",
        str(c.workers),
    ]
    if c.warm:
        # --keepdb keeps the template for the next run (with the template cache, a run reuses
        # it when its migrations hash matches); its own test name keeps cold runs off it.
        argv.append("--keepdb")
    elif w.warm_mode == "cache":
        argv.append("--rebuild-templates")
    return argv, env


def run(c: Contestant, w: Workload, rep: int, out: Path, timeout: float) -> Figures:
    argv, env = command(c, w, out)
    m = run_measured(argv, w.path, env, out, timeout=timeout)
    fig = Figures(
        c.key,
        w.backend,
        w.size,
        rep,
        m.wall,
        counted=False,
        peak_pss=m.peak_pss,
        processes=m.peak_processes,
    )
    _memory(c, m, fig)
    try:
        got = _parse(c, w, m, out, fig)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        fig.problem = f"could not read the run's reports: {type(exc).__name__}: {exc}"
        return fig
    fig.problem = _check(c, w, m, got, fig)
    fig.counted = fig.problem is None and fig.fallback is None
    (out / "figures.json").write_text(json.dumps(fig.as_dict(), indent=1))
    return fig


def _check(
    c: Contestant, w: Workload, m: Measured, got: dict[str, list[str]] | None, fig: Figures
) -> str | None:
    if m.timed_out:
        return "timed out"
    if got is None:
        return f"no per-test outcomes (exit status {m.returncode}){_last_error(m.stderr)}"
    diff = mismatches(w.expected, got)
    if diff:
        fig.differs = len(diff)
        return f"{len(diff)} outcome(s) differ, first: {diff[0]}"
    if m.returncode != 0:
        return f"exit status {m.returncode} although every outcome matched"
    if c.warm and w.warm_mode == "cache" and fig.profile.get("templates_built", 0) > 0:
        return "a warm run built its template instead of reusing the cached one"
    return None


def _memory(c: Contestant, m: Measured, fig: Figures) -> None:
    main = m.processes.get(m.pid)
    fig.main_pss = main.peak_pss if main else 0
    workers = worker_peaks(m.processes, m.pid) if c.workers > 1 else []
    if workers:
        fig.worker_pss = workers[len(workers) // 2]
        fig.worker_pss_max = workers[-1]


def _last_error(stderr: str) -> str:
    """The last line that names an error, so a table cell says why a run did not count."""
    for line in reversed(stderr.strip().splitlines()):
        if re.search(r"(Error|Exception|error:|refus)", line):
            return f": {line.strip()[:160]}"
    return ""


def _num(pattern: str, text: str) -> float | None:
    found = re.findall(pattern, text)
    return float(found[-1]) if found else None


def _parse(
    c: Contestant, w: Workload, m: Measured, out: Path, fig: Figures
) -> dict[str, list[str]] | None:
    if c.family == "pytest":
        return _parse_pytest(c, m, out, fig)
    if c.family == "django":
        return _parse_django(c, m, out, fig)
    if FALLBACK_MARK in m.output:
        reason = m.output.split(FALLBACK_MARK, 1)[1].splitlines()[0].strip()
        fig.fallback = reason.rstrip(".") or "unknown reason"
        return _parse_django(c, m, out, fig)
    events = read_event_log(out / "events.jsonl")
    if c.family == "pytest-concurrent":
        junit = out / "junit.xml"
        got = from_junit(junit) if junit.exists() else (from_event_log(events) or None)
    else:
        got = from_event_log(events) or None
    _figures_from_events(c, w, m, events, fig)
    return got


def _parse_django(
    c: Contestant, m: Measured, out: Path, fig: Figures
) -> dict[str, list[str]] | None:
    text = m.output
    total = _num(r"Total run took ([\d.]+)s", text)
    fig.setup = _num(r"Total database setup took ([\d.]+)s", text)
    fig.teardown = _num(r"Total database teardown took ([\d.]+)s", text)
    fig.tests = _num(r"Ran \d+ tests? in ([\d.]+)s", text)
    if total is not None:
        fig.startup = max(0.0, m.wall - total)
    record = out / "record.json"
    if not record.exists():
        return None
    got, data = from_record(record)
    fig.test_sum = sum(data.get("durations", {}).values())
    spans = data.get("classSpans") or {}
    fig.busy = sum(spans.values()) if spans else (fig.tests if c.workers == 1 else None)
    _derive(c, fig, workers=1 if fig.fallback else c.workers)
    return got


def _figures_from_events(
    c: Contestant, w: Workload, m: Measured, events: list[dict[str, Any]], fig: Figures
) -> None:
    text = m.output
    total = _num(r"Total run took ([\d.]+)s", text)
    discovery = _num(r"Total discovery took ([\d.]+)s", text) or 0.0
    template = _num(r"Creating templates took ([\d.]+)s", text)
    cloning = _num(r"Cloning took ([\d.]+)s", text)
    fig.tests = _num(r"Total tests took ([\d.]+)s", text)
    fig.teardown = _num(r"Total database teardown took ([\d.]+)s", text)
    if total is not None:
        fig.startup = max(0.0, m.wall - total)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_type.setdefault(e["type"], []).append(e)
    spans = _class_spans(by_type.get("classStart", []), by_type.get("classDone", []))
    fig.busy = sum(spans.values()) / 1000 if spans else None
    fig.test_sum = sum(e.get("duration", 0.0) for e in by_type.get("testStop", []))
    # The workers start with the test phase, before the templates: they run database-free
    # classes while the databases are made. So: setup is templates + clones (the databases'
    # critical path), tests is what follows, and the overlap is the test phase before that.
    edges = {(e["phase"], e["edge"]): e["t"] / 1000 for e in by_type.get("phase", [])}
    worker_start = None
    if ("tests", "start") in edges and by_type.get("workerReady"):
        worker_start = max(e["t"] for e in by_type["workerReady"]) / 1000 - edges["tests", "start"]
    if template is not None and cloning is not None:
        fig.setup = template + cloning
    if fig.tests is not None and ("clones", "end") in edges and ("tests", "end") in edges:
        fig.overlap = max(0.0, edges["clones", "end"] - edges["tests", "start"])
        fig.tests = edges["tests", "end"] - edges["clones", "end"]
    early_busy = None
    if ("clones", "end") in edges:
        ready_t = edges["clones", "end"] * 1000
        early = _class_spans(
            by_type.get("classStart", []),
            [e for e in by_type.get("classDone", []) if e["t"] <= ready_t],
        )
        early_busy = sum(early.values()) / 1000
    last_done: dict[int, float] = {}
    for e in by_type.get("classDone", []):
        last_done[e["slot"]] = max(last_done.get(e["slot"], 0.0), e["t"])
    kind_busy: dict[str, float] = {}
    kind_tests: dict[str, float] = {}  # the same, counting only time inside the tests
    kind_classes: dict[str, int] = {}
    test_time: dict[str, float] = {}
    for e in by_type.get("testStop", []):
        label = e["test"].rsplit(".", 1)[0]
        test_time[label] = test_time.get(label, 0.0) + e.get("duration", 0.0)
    for label, span in spans.items():
        kind = _kind(label)
        kind_busy[kind] = kind_busy.get(kind, 0.0) + span / 1000
        kind_tests[kind] = kind_tests.get(kind, 0.0) + test_time.get(label, 0.0)
        kind_classes[kind] = kind_classes.get(kind, 0) + 1
    # Classes with no fixtures of their own: what their span has beyond their tests is the cost
    # of handing a class out and streaming its results back.
    plain = [k for k in ("simple", "cpu") if kind_classes.get(k)]
    transport = None
    if plain:
        extra = sum(kind_busy[k] - kind_tests[k] for k in plain)
        transport = 1000 * extra / sum(kind_classes[k] for k in plain)
    reports = [t for e in by_type.get("templates", []) for t in e.get("templates", [])]
    built = sum(1 for t in reports if t.get("action") == "built")
    engine_start = None
    if by_type.get("discovered"):
        engine_start = by_type["discovered"][0]["t"] / 1000 - discovery
    profile = {
        "python_and_django_start": fig.startup,
        "engine_start_and_handshake": engine_start,
        "discovery": discovery,
        "template_migrations": template,
        "clones": cloning,
        "worker_start": worker_start,  # from the test phase's start (overlaps the setup)
        "tests_during_setup": early_busy,  # worker-seconds of classes done before the clones
        "tests_phase": fig.tests,  # from the databases being ready to the last result
        "scheduling_tail": (max(last_done.values()) - min(last_done.values())) / 1000
        if len(last_done) > 1
        else None,
        "per_class_overhead": (fig.busy - fig.test_sum) if fig.busy is not None else None,
        "ttc_outside_tests": kind_busy["ttc"] - kind_tests["ttc"] if "ttc" in kind_busy else None,
        "class_round_trip_ms": transport,
        "teardown": fig.teardown,
        "templates_built": float(built) if reports and "action" in reports[0] else None,
    }
    profile.update({f"busy_{kind}": round(v, 3) for kind, v in sorted(kind_busy.items())})
    fig.profile = {k: round(v, 3) for k, v in profile.items() if v is not None}
    _derive(c, fig, workers=c.workers)


def _kind(label: str) -> str:
    """The workload's kind of test from a class label: <app>.tests.test_<kind>.<Class>."""
    parts = label.split(".")
    return parts[2].removeprefix("test_") if len(parts) >= 4 else "?"


def _class_spans(starts: list[dict[str, Any]], dones: list[dict[str, Any]]) -> dict[str, float]:
    """Milliseconds each class kept its worker busy. A class handed out while its worker was
    still busy with the previous one (a prefetch) counts from when that one finished, so the
    spans of one worker never overlap."""
    started = {e["classIndex"]: e["t"] for e in starts}
    spans: dict[str, float] = {}
    free_at: dict[int, float] = {}
    for e in sorted(dones, key=lambda e: e["t"]):
        if e["classIndex"] not in started:
            continue
        begin = max(started[e["classIndex"]], free_at.get(e["slot"], 0.0))
        spans[e["label"]] = spans.get(e["label"], 0.0) + max(0.0, e["t"] - begin)
        free_at[e["slot"]] = e["t"]
    return spans


def _parse_pytest(
    c: Contestant, m: Measured, out: Path, fig: Figures
) -> dict[str, list[str]] | None:
    marks: list[dict[str, float]] = []
    busy = 0.0
    for path in sorted((out / "timing").glob("*.json")):
        data = json.loads(path.read_text())
        mk = data["marks"]
        if "db_setup_start" not in mk:
            continue  # the xdist controller: runs no tests
        marks.append(mk)
        busy += sum(data["durations"].values())
        busy -= mk.get("db_setup_end", 0.0) - mk["db_setup_start"]
        if "db_teardown_end" in mk:
            busy -= mk["db_teardown_end"] - mk["db_teardown_start"]
    if marks:
        first_setup = min(mk["db_setup_start"] for mk in marks)
        setup_end = max(mk.get("db_setup_end", first_setup) for mk in marks)
        fig.startup = first_setup - m.started_at
        fig.setup = setup_end - first_setup
        downs = [mk for mk in marks if "db_teardown_end" in mk]
        if downs:
            # The last worker to finish its tests ends the test phase; a worker that finished
            # earlier tears its database down while the others still run tests.
            down_start = max(mk["db_teardown_start"] for mk in downs)
            fig.teardown = max(0.0, max(mk["db_teardown_end"] for mk in downs) - down_start)
            fig.tests = down_start - setup_end
        fig.busy = busy
        fig.test_sum = busy
    _derive(c, fig, workers=c.workers)
    junit = out / "junit.xml"
    return from_junit(junit) if junit.exists() else None


def _derive(c: Contestant, fig: Figures, workers: int) -> None:
    parts = (fig.startup, fig.setup, fig.tests, fig.teardown)
    if all(p is not None for p in parts):
        fig.rest = fig.wall - sum(p for p in parts if p is not None)
    running = (fig.tests or 0.0) + (fig.overlap or 0.0)
    if fig.busy is not None and running:
        fig.utilization = min(1.0, fig.busy / (workers * running))
    if fig.busy is not None and fig.setup is not None:
        fig.ideal = fig.setup + fig.busy / workers
    if fig.test_sum:
        fig.wn = fig.test_sum / workers
