# ruff: noqa: RUF001  (the tables checked here use typographic dashes and the times sign)
"""The benchmark harness (bench/): the generated workload is what it claims to be, and a run's
time counts only when its per-test outcomes are right and it was really the contestant named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers import REPO

sys.path.insert(0, str(REPO / "bench"))

import contestants as cs
import measure
import ratios
import report
import run
import sections
import workload

SIZE = 150


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return workload.generate(tmp_path_factory.mktemp("bench") / "wl", tests=SIZE, seed=3)


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _workload(project: Path, expected: dict[str, dict[str, str]] | None = None) -> cs.Workload:
    manifest = json.loads((project / "expected.json").read_text())["tests"]
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return cs.Workload(project, "sqlite", SIZE, expected or manifest, sys.executable, env, "keepdb")


def test_workload_has_the_promised_shape_and_is_reproducible(project: Path, tmp_path: Path) -> None:
    summary = json.loads((project / "expected.json").read_text())["summary"]
    assert summary["tests"] == SIZE
    apps = [p.parent for p in project.glob("*/migrations")]
    assert len(apps) >= 8
    models = sum((a / "models.py").read_text().count("(models.Model):") for a in apps)
    migrations = [m for a in apps for m in (a / "migrations").glob("0*.py")]
    data_migrations = [m for m in migrations if "RunPython" in m.read_text()]
    assert (models, len(migrations), len(data_migrations)) == (60, 40, 10)
    all_models = "".join((a / "models.py").read_text() for a in apps)
    assert "ManyToManyField" in all_models and "models.Index(" in all_models
    assert all(summary["kinds"][k] > 0 for k in ("db", "ttc", "cpu", "io", "simple"))
    sizes = [len(v) for v in _classes(project).values()]
    assert max(sizes) >= 8 * min(sizes), "class sizes should be uneven"
    assert _files(workload.generate(tmp_path / "again", tests=SIZE, seed=3)) == _files(project)
    assert _files(workload.generate(tmp_path / "other", tests=SIZE, seed=4)) != _files(project)
    bigger = workload.generate(tmp_path / "bigger", tests=300, seed=3)
    assert json.loads((bigger / "expected.json").read_text())["summary"]["tests"] == 300


def _classes(project: Path) -> dict[str, list[str]]:
    classes: dict[str, list[str]] = {}
    for test_id in json.loads((project / "expected.json").read_text())["tests"]:
        classes.setdefault(test_id.rsplit(".", 1)[0], []).append(test_id)
    return classes


def test_workload_migrations_match_its_models(project: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_django_parallel_run_counts_with_its_figures(project: Path, tmp_path: Path) -> None:
    c = cs.Contestant("django-par-2", "Django --parallel 2", "django", 2)
    fig = cs.run(c, _workload(project), 0, tmp_path / "run", timeout=300)
    assert fig.counted, fig.problem
    assert fig.setup and fig.tests and fig.busy and fig.startup is not None
    assert fig.utilization is not None and 0 < fig.utilization <= 1
    assert fig.ideal is not None and fig.ideal < fig.wall
    assert fig.processes >= 3 and fig.peak_pss > 20 * 2**20  # parent and two workers


@pytest.mark.slow
def test_a_run_whose_outcomes_differ_does_not_count(project: Path, tmp_path: Path) -> None:
    manifest = json.loads((project / "expected.json").read_text())["tests"]
    first = next(t for t, e in manifest.items() if e["outcome"] == "success")
    wrong = {**manifest, first: {**manifest[first], "outcome": "failure"}}
    c = cs.Contestant("django-seq", "Django sequential", "django", 1)
    fig = cs.run(c, _workload(project, wrong), 0, tmp_path / "run", timeout=300)
    assert not fig.counted
    assert (
        fig.problem and first in fig.problem and "expected failure, got ['success']" in fig.problem
    )


@pytest.mark.slow
def test_pytest_xdist_outcomes_are_read_from_junit(project: Path, tmp_path: Path) -> None:
    c = cs.Contestant("pytest-xdist-2", "pytest -n 2", "pytest", 2)
    fig = cs.run(c, _workload(project), 0, tmp_path / "run", timeout=300)
    assert fig.counted, fig.problem
    assert fig.setup and fig.tests and fig.busy and fig.startup


@pytest.mark.slow
def test_ours_is_measured_from_its_event_log(project: Path, tmp_path: Path) -> None:
    c = cs.Contestant("ours-cold-2", "ours cold", "ours", 2)
    fig = cs.run(c, _workload(project), 0, tmp_path / "run", timeout=300)
    assert fig.counted, fig.problem
    assert fig.fallback is None
    assert {"template_migrations", "worker_start", "busy_ttc", "teardown"} <= set(fig.profile)
    assert fig.utilization is not None and 0 < fig.utilization <= 1


@pytest.mark.slow
def test_a_fallback_to_djangos_runner_is_marked_and_not_counted_as_ours(
    project: Path, tmp_path: Path
) -> None:
    c = cs.Contestant("ours-cold-1", "ours, 1 worker", "ours", 1)
    fig = cs.run(c, _workload(project), 0, tmp_path / "run", timeout=300)
    assert fig.fallback and "1 worker" in fig.fallback
    assert fig.problem is None  # its outcomes were still checked, through the recording result
    assert not fig.counted


def test_docs_block_is_rewritten_between_the_markers_only(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text(
        f"# Performance\nintro\n{report.DOC_BEGIN}\nold table\n{report.DOC_END}\nafter\n"
    )
    assert report.update_doc(doc, "| new | table |")
    text = doc.read_text()
    assert text.startswith("# Performance\nintro\n") and text.endswith(f"{report.DOC_END}\nafter\n")
    assert "| new | table |" in text and "old table" not in text
    plain = tmp_path / "plain.md"
    plain.write_text("no markers\n")
    assert not report.update_doc(plain, "x") and plain.read_text() == "no markers\n"


def test_sections_run_when_present_and_a_missing_or_failing_one_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "good.py").write_text(
        "import json, os\n"
        "print('### good section')\n"
        "open(os.environ['BENCH_SECTION_JSON'], 'w').write(json.dumps(os.environ['BENCH_QUICK']))\n"
    )
    (tmp_path / "bad.py").write_text(
        "import sys\nprint('it broke', file=sys.stderr)\nsys.exit(3)\n"
    )
    monkeypatch.setattr(sections, "HERE", tmp_path)
    good, bad, absent = sections.run_sections(
        ["good", "bad", "absent"], quick=True, backends=["sqlite"], workload=None,
        workload_size=None, out_dir=tmp_path / "out", timeout=60,
    )  # fmt: skip
    assert (good.status, good.markdown, good.data) == ("ok", "### good section", "1")
    assert bad.status == "failed" and "exit status 3" in bad.error and "it broke" in bad.error
    assert absent.status == "missing"


# --- Ratios, goals and tables (no servers, no runs) -------------------------------------------


def _fig(key: str, wall: float, *, differs: int = 0, size: int = 600, **extra: Any) -> Any:
    fig = cs.Figures(key, "postgres", size, 0, wall, counted=not differs, differs=differs, **extra)
    if differs:
        fig.problem = f"{differs} outcome(s) differ, first: x"
    return fig.as_dict()


LABELS = {c.key: c.label for c in cs.lineup([2], "cache", pytest_concurrent=False)}


def test_lineup_has_every_runners_cold_and_warm_mode() -> None:
    line = {c.key: c for c in cs.lineup([2], "cache", pytest_concurrent=False)}
    assert {ratios.mode_of(k) for k in line} == {"seq", "cold", "warm"}
    assert [k for k in line if ratios.mode_of(k) == "warm"] == [
        "django-keepdb-2",
        "pytest-reuse-2",
        "ours-warm-2",
    ]
    w = cs.Workload(Path("/nowhere"), "postgres", 150, {}, "python", {}, "cache")
    django, env = cs.command(line["django-keepdb-2"], w, Path("/tmp/out"))
    assert "--keepdb" in django and django[-2:] == ["--parallel", "2"]
    pytest_warm, env2 = cs.command(line["pytest-reuse-2"], w, Path("/tmp/out"))
    assert "--reuse-db" in pytest_warm and "--create-db" not in pytest_warm
    ours_cold, _ = cs.command(line["ours-cold-2"], w, Path("/tmp/out"))
    assert "--rebuild-templates" in ours_cold and "--keepdb" not in ours_cold
    # Each warm runner keeps its databases under a name of its own.
    assert len({env["BENCH_TEST_NAME_TAG"], env2["BENCH_TEST_NAME_TAG"], "warm"}) == 3


def test_ours_is_divided_by_the_best_competitor_of_the_same_mode() -> None:
    runs = [
        _fig("django-par-2", 10.0),
        _fig("pytest-xdist-2", 8.0),
        _fig("ours-cold-2", 6.0),
        _fig("django-keepdb-2", 4.0, differs=12),  # faster, but its outcomes are wrong
        _fig("pytest-reuse-2", 7.0),
        _fig("ours-warm-2", 5.0),
        _fig("django-seq", 20.0),
    ]
    rows = {r["contestant"]: r for r in report.summarize(runs, LABELS)}
    assert rows["ours-cold-2"]["base"] == "pytest-xdist-2"
    assert rows["ours-cold-2"]["ratio"] == pytest.approx(0.75)
    assert rows["ours-warm-2"]["base"] == "pytest-reuse-2"
    assert rows["ours-warm-2"]["ratio"] == pytest.approx(5 / 7)
    assert rows["django-par-2"]["ratio"] == pytest.approx(1.25)  # competitors: distance to best
    assert rows["django-seq"]["ratio"] is None
    assert rows["django-keepdb-2"]["wall"] is None and rows["django-keepdb-2"]["differ_wall"] == 4.0


def test_when_no_competitor_of_a_mode_counted_the_base_is_marked() -> None:
    runs = [
        _fig("django-keepdb-2", 4.0, differs=12),
        _fig("pytest-reuse-2", 3.0, differs=5),
        _fig("ours-warm-2", 3.3),
        _fig("django-par-2", 10.0),
        _fig("ours-cold-2", 9.0),
    ]
    rows = report.summarize(runs, LABELS)
    warm = report.find_row(rows, "postgres", 600, "ours-warm-2")
    assert warm and warm["base"] == "pytest-reuse-2" and warm["base_outcomes_ok"] is False
    table = report.contestant_table(rows, "postgres", 600, 2)
    assert "1.10×‡ (pytest -n 2 --reuse-db)" in table
    assert "‡ no competitor of this mode counted" in table
    assert "not counted: 12 outcomes differ (ran in 4.0)" in table
    verdict = next(v for v in ratios.verdicts(rows, "postgres", 600, 2) if "warm ≤" in v.goal)
    assert verdict.word == "MISS" and "outcomes differed" in verdict.note


def test_goals_say_pass_or_miss_at_their_limits() -> None:
    runs = [
        _fig("django-par-2", 10.0),
        _fig("ours-cold-2", 8.0, wn=7.0),  # exactly 0.80: PASS; 8.0 ≤ 7.0 + 1: PASS
        _fig("django-keepdb-2", 10.0),
        _fig("ours-warm-2", 8.6, wn=7.5),  # 0.86 > 0.85: MISS; 8.6 > 8.5: MISS
    ]
    got = {v.goal: v for v in ratios.verdicts(report.summarize(runs, LABELS), "postgres", 600, 2)}
    assert got["ours cold ≤ 0.80 × best cold competitor"].word == "PASS"
    assert got["ours cold wall ≤ W/N + 1 s"].word == "PASS"
    assert got["ours warm ≤ 0.85 × best warm competitor"].word == "MISS"
    assert got["ours warm wall ≤ W/N + 1 s"].word == "MISS"
    alone = report.summarize([_fig("ours-cold-2", 8.0)], LABELS)
    missing = ratios.verdicts(alone, "postgres", 600, 2)
    assert [v.word for v in missing] == ["–", "–"]  # nothing to compare with, no W/N


def test_tables_show_wn_memory_per_worker_and_rows_in_mode_order() -> None:
    mib = 2**20
    runs = [
        _fig("ours-warm-2", 5.0, wn=4.0, worker_pss=30 * mib, worker_pss_max=40 * mib),
        _fig("django-par-2", 10.0, wn=4.5, worker_pss=60 * mib, worker_pss_max=61 * mib),
        _fig("ours-cold-2", 6.0, wn=4.2, worker_pss=30 * mib, worker_pss_max=33 * mib),
        _fig("django-seq", 20.0, wn=9.0),
    ]
    rows = report.summarize(runs, LABELS)
    table = report.contestant_table(rows, "postgres", 600, 2)
    order = [line.split(" | ")[0].lstrip("| ") for line in table.splitlines()[2:]]
    assert order == [
        "Django sequential",
        "Django --parallel 2",
        "ours cold, 2 workers",
        "ours warm (cached template), 2 workers",
    ]
    ours = next(line for line in table.splitlines() if line.startswith("| ours cold"))
    assert "| 4.2 |" in ours and "/ 30 MiB (33 MiB)" in ours
    memory = report.memory_table(rows, [("postgres", 600, 2)])
    assert "| postgres, 600, 2 | 60 MiB | 30 MiB | 30 MiB | – | 0.50× |" in memory


def test_growth_table_gives_cost_per_test_and_per_added_test() -> None:
    runs = [
        _fig("ours-cold-2", 3.0, size=150),
        _fig("ours-cold-2", 6.0, size=600),
        _fig("ours-cold-2", 18.0, size=2400),
    ]
    table = report.growth_table(report.summarize(runs, LABELS), "postgres", [150, 600, 2400])
    assert "| 150 | 3.0 s, 20 ms/test |" in table
    assert "| 600 | 6.0 s, 10 ms/test (+7 ms per added test) |" in table
    assert "| 2400 | 18.0 s, 8 ms/test (+7 ms per added test) |" in table


def test_worker_memory_is_each_python_process_but_the_first() -> None:
    procs = {
        10: measure.ProcessPeak(1, "python", 60),
        11: measure.ProcessPeak(10, "node", 50),
        12: measure.ProcessPeak(10, "python", 30),
        13: measure.ProcessPeak(10, "python3.11", 20),
    }
    assert measure.worker_peaks(procs, root=10) == [20, 30]


def test_workload_variants_io_bound_and_a_long_migration_history(tmp_path: Path) -> None:
    io = workload.generate(tmp_path / "io", tests=40, seed=1, mix="io")
    kinds = {e["kind"] for e in json.loads((io / "expected.json").read_text())["tests"].values()}
    assert kinds == {"io"}
    long = workload.generate(tmp_path / "long", tests=40, seed=1, migrations_per_app=30)
    files = list(long.glob("*/migrations/0*.py"))
    data = [f for f in files if "RunPython" in f.read_text()]
    assert len(files) >= 300 and len(data) >= 100
    summary = json.loads((long / "expected.json").read_text())["summary"]
    assert (summary["migrations"], summary["data_migrations"]) == (len(files), len(data))
    proc = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=long,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr  # the history ends in the models
    with pytest.raises(ValueError):
        workload.generate(tmp_path / "bad", tests=40, migrations_per_app=3)


def test_sections_can_be_chosen_by_name() -> None:
    assert run._chosen_sections("auto", quick=True) == []
    assert run._chosen_sections("io_scaling,django_suite", quick=True) == [
        "io_scaling",
        "django_suite",
    ]
    assert run._chosen_sections("nosuch", quick=False) is None
    assert set(run._chosen_sections("auto", quick=False) or []) == set(sections.SECTIONS)


def test_only_our_own_or_unfinished_runs_make_the_benchmark_fail() -> None:
    competitor_wrong = _fig("django-keepdb-2", 4.0, differs=3)
    ours_wrong = _fig("ours-warm-2", 4.0, differs=3)
    timed_out = {**_fig("pytest-xdist-2", 300.0), "counted": False, "problem": "timed out"}
    fine = _fig("ours-cold-2", 6.0)
    assert run._failed_runs([competitor_wrong, fine]) == []
    assert run._failed_runs([competitor_wrong, ours_wrong, timed_out, fine]) == [
        ours_wrong,
        timed_out,
    ]
