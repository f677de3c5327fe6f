"""The benchmark harness (bench/): the generated workload is what it claims to be, and a run's
time counts only when its per-test outcomes are right and it was really the contestant named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO

sys.path.insert(0, str(REPO / "bench"))

import contestants as cs
import report
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
