"""Each of Django's test options changes what runs the way it does under Django's own runner."""

from __future__ import annotations

import os
import sys

import django
import pytest

from conftest import require_backend, server_databases
from helpers import BOOKSTORE, EDGECASES, class_order, run_concurrent, run_django

pytestmark = pytest.mark.integration


def same_tests(args: list[str], project=EDGECASES) -> None:
    ours = run_concurrent(project, "--workers", "2", *args)
    django = run_django(project, *args)
    assert set(ours.outcomes) == set(django.outcomes), (args, ours.output[-2000:])
    assert ours.outcomes == django.outcomes
    assert ours.outcomes, "the selection must not be empty"


@pytest.mark.parametrize(
    "labels",
    [
        ["catalog"],
        ["catalog.tests.test_models"],
        ["orders", "accounts"],
        ["./reports"],
    ],
    ids=["app", "module", "two-apps", "directory"],
)
def test_labels(labels):
    same_tests(labels, BOOKSTORE)


def test_class_and_method_labels():
    same_tests(["edge.tests.OutcomeTests", "edge.tests.DatabaseTests.test_reads"])


def test_k_pattern():
    same_tests(["-k", "prints", "-k", "test_reads"])


def test_tag_and_exclude_tag():
    same_tests(["--tag", "db"])
    same_tests(["--exclude-tag", "db"])


@pytest.mark.parametrize("args", [["--reverse"], ["--shuffle", "1234"]], ids=["reverse", "shuffle"])
def test_order_options_hand_out_classes_in_djangos_order(args):
    ours = run_concurrent(EDGECASES, "--workers", "2", *args)
    django = run_django(EDGECASES, *args)
    assert ours.outcomes == django.outcomes
    expected = [c for c in class_order(django) if not c.startswith("unittest.")]
    handed = [c for c in ours.handed_out if c in expected]
    assert handed == expected
    if args[0] == "--shuffle":
        assert "Used shuffle seed: 1234 (given)" in ours.stdout
        plain = run_concurrent(EDGECASES, "--workers", "2")
        assert plain.handed_out != ours.handed_out


def test_failfast_stops_handing_out_work():
    full = run_concurrent(EDGECASES, "--workers", "2")
    ours = run_concurrent(EDGECASES, "--workers", "2", "--failfast")
    assert ours.returncode == 1
    assert 0 < len(ours.of("classStart")) < len(full.of("classStart"))
    assert "FAILED" in ours.stderr


def test_buffer_shows_output_only_for_failures():
    plain = run_concurrent(EDGECASES, "edge.tests.OutputTests", "--workers", "2")
    assert "PASSING-TEST-OUTPUT" in plain.output
    buffered = run_concurrent(EDGECASES, "edge.tests.OutputTests", "--workers", "2", "--buffer")
    assert "PASSING-TEST-OUTPUT" not in buffered.output
    assert "Stdout:\nFAILING-TEST-OUTPUT" in buffered.stderr
    stops = {e["test"]: e for e in buffered.of("testStop")}
    assert (
        stops["edge.tests.OutputTests.test_prints_and_fails"]["stdout"] == "FAILING-TEST-OUTPUT\n"
    )


def test_verbosity():
    quiet = run_concurrent(EDGECASES, "edge.tests.DatabaseTests", "--workers", "2", "-v", "0")
    assert "... ok" not in quiet.stderr and "Found" not in quiet.stdout
    assert "Ran 2 tests" in quiet.stderr
    loud = run_concurrent(EDGECASES, "edge.tests.DatabaseTests", "--workers", "2", "-v", "2")
    assert "test_reads (edge.tests.DatabaseTests.test_reads) ... ok" in loud.stderr


def test_debug_sql_prints_the_failing_tests_queries():
    ours = run_concurrent(EDGECASES, "edge.tests.DatabaseTests", "--workers", "2", "--debug-sql")
    section = ours.stderr.split("FAIL: test_query_then_fail", 1)[1]
    assert "needle-in-sql" in section


def test_timing_and_durations():
    # Django offers --durations from 5.0 on Python 3.12+ only (test_idioms checks the refusal).
    offered = sys.version_info >= (3, 12) and django.VERSION >= (5, 0)
    durations = ["--durations", "3"] if offered else []
    ours = run_concurrent(
        EDGECASES, "edge.tests.DatabaseTests", "--workers", "2", "--timing", *durations
    )
    assert "Total database setup took" in ours.stderr
    assert ("Slowest test durations" in ours.stderr) == bool(durations)


@pytest.mark.postgres
def test_keepdb_keeps_the_template_and_reuses_it():
    require_backend("postgres")
    before = server_databases("postgres")
    suffix = os.environ.get("EXAMPLE_DB_SUFFIX", "")
    args = ("edge.tests.DatabaseTests", "--workers", "2", "--keepdb")
    first = run_concurrent(EDGECASES, *args, db="postgres")
    try:
        assert first.returncode == 1
        kept = server_databases("postgres") - before
        template = first.of("templates")[0]["templates"][0]["name"]
        assert template.startswith(f"test_edgecases{suffix}_") and template in kept
        second = run_concurrent(EDGECASES, *args, "-v", "2", db="postgres")
        assert "Using cached test database for alias 'default'" in second.stderr
        assert second.of("templates")[0]["templates"][0]["migrations"] == 0
        assert second.outcomes == first.outcomes
    finally:
        # A run without --keepdb destroys the kept databases, as Django's does.
        third = run_concurrent(
            EDGECASES, "edge.tests.DatabaseTests", "--workers", "2", "--noinput", db="postgres"
        )
        assert third.returncode == 1
    assert server_databases("postgres") == before
