"""Fixtures shared by the whole suite, at session scope.

Under ``pytest --concurrent`` every worker process runs session fixtures once, except the
``django_db_setup`` chain: it runs once in the main process, into the template every worker's
clone is copied from (as it runs once under plain ``pytest``). The counters below let tests
check that a fixture ran exactly once in the process that runs them.
"""

import os

import pytest
from django.core.management import call_command

from shelf.testing import count_setup


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The common pytest-django pattern: load reference data once the test database exists."""
    with django_db_blocker.unblock():
        call_command("loaddata", "featured_authors", verbosity=0)
    count_setup("django_db_setup")


@pytest.fixture(scope="session")
def process_run():
    """A session-scoped resource: one per process that runs tests."""
    count_setup("process_run")
    return {"pid": os.getpid()}
