"""Idioms of real projects give the outcomes Django's runner (or plain pytest) gives: settings
shapes Django accepts (tests/projects/idioms), a test raising KeyboardInterrupt, options Django
refuses, and a pytest-django project that shapes its own test database
(tests/projects/pytest_dbsetup), on real servers where the database matters."""

from __future__ import annotations

import subprocess

import pytest

from conftest import require_backend, server_databases
from helpers import PYTHON, REPO, _env, run_concurrent, run_django
from test_pytest_plugin import concurrent, run_pytest

pytestmark = pytest.mark.integration

IDIOMS = REPO / "tests" / "projects" / "idioms"
DBSETUP = REPO / "tests" / "projects" / "pytest_dbsetup"
SERVERS = [
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]
DISABLED = {"IDIOM_DISABLE_MIGRATIONS": "1"}
INTERRUPTING = "idiom.tests_interrupt.InterruptTests.test_interrupts"


def cleanup_templates(backend: str) -> None:
    """Drops the templates --keepdb kept (the cleanup command, as a user runs it)."""
    command = [PYTHON, "-m", "django_concurrent_test.cli", "cleanup", "--all"]
    subprocess.run(
        [*command, "--settings", "idiomsettings", "--pythonpath", "."],
        cwd=IDIOMS,
        env=_env(backend, DISABLED),
        capture_output=True,
        timeout=120,
        check=True,
    )


@pytest.mark.parametrize("backend", ["sqlite", *SERVERS], indirect=True)
def test_disable_migrations_idiom_runs_like_django(backend):
    """MIGRATION_MODULES as an object with __contains__/__getitem__ (None for every app)."""
    django = run_django(IDIOMS, "idiom.tests", db=backend, env=DISABLED)
    ours = run_concurrent(IDIOMS, "idiom.tests", "--workers", "2", db=backend, env=DISABLED)
    assert ours.returncode == django.returncode == 0, ours.output[-3000:]
    assert ours.outcomes == django.outcomes
    assert len(ours.outcomes) == 4


@pytest.mark.parametrize("backend", SERVERS, indirect=True)
def test_without_migrations_a_model_change_rebuilds_the_kept_template(backend):
    """Tables come from the models then: a changed model is a changed template, even when no
    file changed (the field depends on the environment here)."""
    before = server_databases(backend)
    try:
        first = run_concurrent(IDIOMS, "idiom.tests", "--keepdb", db=backend, env=DISABLED)
        assert first.returncode == 0, first.output[-3000:]
        again = run_concurrent(IDIOMS, "idiom.tests", "--keepdb", db=backend, env=DISABLED)
        reused = again.of("templates")[0]["templates"][0]
        assert again.returncode == 0 and reused["action"] == "reused", again.output[-3000:]
        changed_env = {**DISABLED, "IDIOM_EXTRA_FIELD": "1"}
        changed = run_concurrent(IDIOMS, "idiom.tests", "--keepdb", db=backend, env=changed_env)
        assert changed.returncode == 0, changed.output[-3000:]
        rebuilt = changed.of("templates")[0]["templates"][0]
        assert rebuilt["action"] == "built" and rebuilt["hash"] != reused["hash"]
        assert changed.outcomes["idiom.tests.ItemTests.test_extra_field_when_asked"] == ["success"]
    finally:
        cleanup_templates(backend)
    assert server_databases(backend) == before


def test_an_internal_error_says_so_and_is_no_test_failure():
    """A bug of ours (simulated: the project breaks our fingerprint code) exits 1 as Django
    does on an exception, with the traceback and a last line naming it an internal error."""
    run = run_concurrent(IDIOMS, "idiom.tests", env={"IDIOM_INTERNAL_ERROR": "1"})
    assert run.returncode == 1
    assert "Traceback (most recent call last)" in run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("django-concurrent-test: internal error while handling 'fingerprint'")
    assert "not a failure of your tests" in last
    assert "FAILED" not in run.output and "Ran " not in run.output


def test_a_keyboard_interrupt_from_a_test_stops_the_run_as_under_django():
    """unittest lets KeyboardInterrupt through: Django's runner stops at that test (exit 130,
    the rest not run). Ours names the test, never reports it passed, and stops too."""
    django = run_django(IDIOMS, "idiom.tests_interrupt", "-v", "2")
    # Python ends on an uncaught KeyboardInterrupt by SIGINT: a shell shows 130 for both.
    assert django.returncode == -2
    assert "raise KeyboardInterrupt" in django.stderr
    assert f"test_interrupts ({INTERRUPTING}) ... ok" not in django.stderr
    ours = run_concurrent(IDIOMS, "idiom.tests_interrupt", "--workers", "2")
    assert ours.returncode == 130, ours.output[-3000:]
    assert ours.outcomes[INTERRUPTING] == ["error"]
    assert f"ERROR: test_interrupts ({INTERRUPTING})" in ours.stderr
    assert f"Interrupted (KeyboardInterrupt raised by {INTERRUPTING})" in ours.stderr
    assert not any(e["type"] == "workerLost" for e in ours.events)  # no crash, no retry
    # The test after it in its class never ran, as under Django.
    later = "idiom.tests_interrupt.InterruptTests.test_zlast"
    assert later not in ours.outcomes and "test_zlast" not in django.stderr


def test_durations_is_accepted_or_refused_as_django_does():
    """Django offers --durations on Python 3.12+ only (argparse refuses it before)."""
    django = run_django(IDIOMS, "--durations", "2", "idiom.tests.PlainTests")
    ours = run_concurrent(IDIOMS, "--durations", "2", "idiom.tests.PlainTests")
    assert ours.returncode == django.returncode
    refused = "unrecognized arguments: --durations" in django.stderr
    assert refused == ("unrecognized arguments: --durations" in ours.stderr)
    assert refused == (django.returncode == 2)


def test_debug_left_unset_is_refused_saying_it_is_unset():
    run = run_concurrent(IDIOMS, "idiom.tests", env={"IDIOM_DEBUG_UNSET": "1"})
    assert run.returncode == 2
    assert run.stderr.splitlines()[-2:] == [
        "SecurityException: settings.DEBUG is not set in idiomsettings, so it is Django's "
        "default False, which looks like production settings",
        'Hint: use development/test settings, or set CONCURRENT_TEST_CONFIG["allow_debug_false"]'
        " = True (common for CI settings)",
    ]


@pytest.mark.postgres
def test_a_pytest_project_shaping_its_test_database_runs_as_under_pytest():
    """Its conftest creates the citext extension before the migrations (which need the type)
    and adds a row after: both happen to the template, once, as pytest-django does them."""
    require_backend("postgres")
    before = server_databases("postgres")
    plain = run_pytest(DBSETUP, db="postgres")
    assert plain.returncode == 0, plain.output[-3000:]
    xdist = run_pytest(DBSETUP, "-n", "2", db="postgres")
    ours = concurrent(DBSETUP, db="postgres")
    assert ours.returncode == 0, ours.output[-3000:]
    assert ours.outcomes == plain.outcomes == xdist.outcomes
    assert ours.summary == plain.summary == "6 passed"
    assert len({e["slot"] for e in ours.of("classStart")}) == 2
    assert server_databases("postgres") == before
