"""pytest-django's database setup under ``pytest --concurrent``.

Registered as a plugin only when ``--concurrent`` is given (before collection, so items see
it). Its ``django_db_setup`` overrides pytest-django's. The main process runs the project's
whole ``django_db_setup`` chain (conftest overrides, the session fixtures they request) once,
when the engine asks for the templates: at its bottom, where pytest-django would create the
test databases, this fixture builds the engine's templates instead, so whatever the project
does to its test database before or after creation is in the template, and in every clone.
Workers are forked after that and inherit the chain's values: it never runs again there.
Anywhere else (the sequential fallback) it is pytest-django's own fixture, unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import pytest

_state: dict[str, Any] = {"worker": False, "build": None}


@contextmanager
def building_templates(build: Callable[[], None]) -> Iterator[None]:
    """While the main process resolves the chain, its bottom builds the templates."""
    _state["build"] = build
    try:
        yield
    finally:
        _state["build"] = None


def enter_worker() -> None:
    """Called in a forked worker once its connections point at its clones."""
    _state["worker"] = True


def in_worker() -> bool:
    return bool(_state["worker"])


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest, django_test_environment: None, django_db_blocker: Any
) -> Iterator[None]:
    # The same fixtures as pytest-django's own django_db_setup, so they are set up in the same
    # order (the test environment first). Not django_db_modify_db_settings: the engine names
    # the test databases (its safety gate checked those names).
    build = _state["build"]
    if build is not None:
        with django_db_blocker.unblock():
            build()
    elif not in_worker():
        # The sequential fallback: pytest-django's own fixture, one level up.
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
