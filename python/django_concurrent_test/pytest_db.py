"""pytest-django's database setup under ``pytest --concurrent``.

Registered as a plugin only when ``--concurrent`` is given (before collection, so items see
it). Its ``django_db_setup`` overrides pytest-django's: in a worker the test databases are the
engine's clones of one migrated template, so there is nothing to create; anywhere else (the
sequential fallback) it is pytest-django's own fixture, unchanged. A project's own
``django_db_setup`` in a conftest still wraps it, and runs once per worker on its clone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import pytest

_state = {"worker": False}


def enter_worker() -> None:
    """Called in a forked worker once its connections point at its clones."""
    _state["worker"] = True


def in_worker() -> bool:
    return _state["worker"]


@pytest.fixture(scope="session")
def django_db_setup(request: pytest.FixtureRequest) -> Iterator[None]:
    if not in_worker():
        # One level up: pytest-django's own fixture creates the test databases.
        request.getfixturevalue("django_db_setup")
    yield


def _blocker(config: pytest.Config) -> Any:
    try:
        from pytest_django.plugin import blocking_manager_key

        return config.stash.get(blocking_manager_key, None)
    except ImportError:  # pytest-django < 4.9 kept one module-level blocker
        from pytest_django import plugin

        return getattr(plugin, "_blocking_manager", None)


@contextmanager
def database_access(config: pytest.Config) -> Iterator[None]:
    """Lift pytest-django's block on database access (it blocks outside db tests)."""
    blocker = _blocker(config)
    with blocker.unblock() if blocker is not None else nullcontext():
        yield
