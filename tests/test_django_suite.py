"""A few apps of Django's own test suite: under ours, test by test, the outcomes of Django's own
``--parallel 2`` (``make test-django-suite`` compares 48 apps)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers import REPO

pytestmark = pytest.mark.integration
COMPARE = REPO / "tests" / "django_suite" / "compare.py"


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_djangos_own_suite_gives_djangos_outcomes(backend):
    done = subprocess.run(
        [sys.executable, str(COMPARE), "--quick", "--db", backend, "--min-tests", "400"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "identical" in done.stdout
