"""What Django's test-database creation does to the runner's process besides the database.

Workers forked before the databases exist (or spawned) miss whatever ``create_test_db`` changed
in the process afterwards. Connection names are set at attach; this replays the rest that a
worker can redo without touching a database: the skips and expected failures a backend declares
for Django's own test suite (``mark_expected_failures_and_skips``, which Django applies, to test
classes, only when ``RUNNING_DJANGOS_TEST_SUITE`` is set). Signal receivers the project connects
while the databases are made cannot be replayed: they are reported, and the engine forks fresh
workers, which have them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

DJANGO_SUITE_ENV = "RUNNING_DJANGOS_TEST_SUITE"
# Packages whose receivers are not the project's (see project_receivers_connected).
NOT_THE_PROJECTS = {"django", __name__.split(".")[0]}


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


@contextmanager
def project_receivers_connected() -> Iterator[list[str]]:
    """The project's signal receivers connected or disconnected while the block runs (by a
    migration or a ``post_migrate`` receiver), as ``module.name``. Workers forked before the
    block ran do not have them, so the engine replaces those workers with fresh forks.

    Django's own receivers and ours are left out: migrate connects ``setting_changed`` for
    every historical model it renders, and the translation reloader; tests never depend on those.
    """
    from django.dispatch import Signal

    changed: list[str] = []
    connect, disconnect = Signal.connect, Signal.disconnect

    def note(receiver: object) -> None:
        if receiver is None:  # disconnected by dispatch_uid: whose it is cannot be told
            return
        module = str(getattr(receiver, "__module__", None) or "")
        if module.split(".")[0] not in NOT_THE_PROJECTS:
            name = getattr(receiver, "__qualname__", None) or type(receiver).__qualname__
            changed.append(f"{module}.{name}")

    def recording_connect(self: Signal, receiver: Any, *args: Any, **kwargs: Any) -> None:
        note(receiver)
        connect(self, receiver, *args, **kwargs)

    def recording_disconnect(self: Signal, receiver: Any = None, *args: Any, **kwargs: Any) -> bool:
        note(receiver)
        return bool(disconnect(self, receiver, *args, **kwargs))

    Signal.connect = recording_connect
    Signal.disconnect = recording_disconnect
    try:
        yield changed
    finally:
        Signal.connect = connect
        Signal.disconnect = disconnect
