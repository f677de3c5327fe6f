"""What creating the test databases does to the runner's process holds in every worker, and a
class's outcome does not depend on the counters that earlier classes on its worker advanced."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import server_databases
from helpers import REPO, run_concurrent, run_django

pytestmark = pytest.mark.integration
PROJECT = REPO / "tests" / "projects" / "setupeffects"
ALL_BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]
SERVERS = ALL_BACKENDS[1:]
CREATION = "effects.test_creation"
DECLARED = f"{CREATION}.DeclaredByBackendTests"


@pytest.fixture
def djangos_suite(monkeypatch: pytest.MonkeyPatch) -> None:
    """Django's runner applies a backend's declarations under this variable only."""
    monkeypatch.setenv("RUNNING_DJANGOS_TEST_SUITE", "true")


def django_outcomes(backend: str) -> dict[str, list[str]]:
    run = run_django(PROJECT, CREATION, db=backend)
    assert run.returncode == 0, run.output[-3000:]
    return run.outcomes


@pytest.mark.parametrize("backend", ALL_BACKENDS, indirect=True)
def test_skips_a_backend_declares_hold_in_workers(backend, djangos_suite):
    before = server_databases(backend)
    django = django_outcomes(backend)
    assert django[f"{DECLARED}.test_skipped_by_backend"] == ["skip"]
    assert django[f"{DECLARED}.test_expected_failure_by_backend"] == ["expectedFailure"]
    # Twice: the second run reuses the cached template instead of creating a database.
    for _ in range(2):
        ours = run_concurrent(PROJECT, CREATION, "--workers", "2", db=backend)
        assert ours.returncode == 0, ours.output[-3000:]
        assert ours.outcomes == django
    assert server_databases(backend) == before


def test_in_memory_sqlite_is_in_memory_before_the_databases_exist():
    ours = run_concurrent(PROJECT, f"{CREATION}.InMemoryTests", "--workers", "2")
    assert ours.returncode == 0, ours.output[-3000:]
    assert ours.outcomes == {
        f"{CREATION}.InMemoryTests.test_in_memory_as_in_djangos_runner": ["success"]
    }


@pytest.mark.parametrize("backend", [ALL_BACKENDS[1]], indirect=True)
def test_hard_coded_pk_passes_after_classes_that_advanced_the_counters(backend, tmp_path: Path):
    """PostgreSQL's sequences are put back before each class. One worker is held until the Step
    classes finish, so all four run on the other, in discovery order: Step1 and Step3 advance the
    counters Step2 and Step3 hard-code, Step3's flush re-creates content types and permissions
    (new ids) before Step4 inserts one."""
    before = server_databases(backend)
    done = tmp_path / "steps-done"
    ours = run_concurrent(
        PROJECT,
        "effects.tests",
        "--workers",
        "2",
        db=backend,
        env={
            "DJANGO_CONCURRENT_TEST_ORDER": "discovery",
            "EFFECTS_DONE_FILE": str(done),
        },
    )
    assert ours.returncode == 0, ours.output[-3000:]
    steps = [e for e in ours.of("classStart") if ".Step" in e["label"]]
    assert [e["label"].rsplit(".", 1)[-1] for e in steps] == [
        "Step1InsertingTests",
        "Step2HardCodedPkTests",
        "Step3CommittingTests",
        "Step4AfterFlushTests",
    ]
    assert len({e["slot"] for e in steps}) == 1
    assert {o for outcomes in ours.outcomes.values() for o in outcomes} == {"success"}
    assert server_databases(backend) == before


@pytest.mark.parametrize("backend", ALL_BACKENDS, indirect=True)
def test_hard_coded_pk_passes_as_under_django_whatever_our_order(backend, tmp_path: Path):
    """Django runs the hard-coded class first; ours would run the inserting class before it on
    the same worker. Both runners give every test the same outcome, twice (the second run plans
    from the timings the first stored). The inserting class also leaves a connection flag on that
    the hard-coded class must find off."""
    label = "effects.test_order"
    django = run_django(PROJECT, label, db=backend)
    assert django.returncode == 0, django.output[-3000:]
    before = server_databases(backend)
    for attempt in range(2):
        done = tmp_path / f"done-{attempt}"
        ours = run_concurrent(
            PROJECT, label, "--workers", "2", db=backend, env={"ORDER_DONE_FILE": str(done)}
        )
        assert ours.returncode == 0, ours.output[-3000:]
        assert ours.outcomes == django.outcomes
    assert server_databases(backend) == before


def test_receivers_a_migration_connects_hold_in_workers():
    """Workers start before the databases; a receiver the migrations connect exists only in the
    process that migrated. Those early workers hand their slots to fresh forks that have it."""
    label = "effects.test_receivers"
    django = run_django(PROJECT, label)
    assert django.returncode == 0, django.output[-3000:]
    ours = run_concurrent(PROJECT, label, "--workers", "2", "--rebuild-templates")
    assert ours.returncode == 0, ours.output[-3000:]
    assert ours.outcomes == django.outcomes
    assert set(ours.outcomes) == {
        f"{label}.EarlyTests.test_runs_while_the_databases_are_made",
        f"{label}.ReceiverTests.test_the_migrations_receiver_answers",
        f"{label}.OtherReceiverTests.test_the_migrations_receiver_answers_here_too",
    }
    [fresh] = ours.of("freshWorkers")
    assert fresh["receivers"] == ["effects.receivers.answer"]
