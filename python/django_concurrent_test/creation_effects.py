"""What Django's test-database creation does to the runner's process besides the database.

Workers forked before the databases exist (or spawned) miss whatever ``create_test_db`` changed
in the process afterwards. Connection names are set at attach; this replays the rest that a
worker can redo without touching a database: the skips and expected failures a backend declares
for Django's own test suite (``mark_expected_failures_and_skips``, which Django applies, to test
classes, only when ``RUNNING_DJANGOS_TEST_SUITE`` is set).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

DJANGO_SUITE_ENV = "RUNNING_DJANGOS_TEST_SUITE"


def creation_decorates_tests() -> bool:
    """Django's own condition for decorating test classes while it creates a test database."""
    return os.environ.get(DJANGO_SUITE_ENV) == "true"


def mark_backend_skips(aliases: Iterable[str]) -> None:
    """As ``create_test_db`` does, once per backend (the decorations are per vendor's features)."""
    if not creation_decorates_tests():
        return
    from django.db import connections

    done: set[type] = set()
    for alias in aliases:
        connection = connections[alias]
        if type(connection.features) in done:
            continue
        done.add(type(connection.features))
        connection.creation.mark_expected_failures_and_skips()
