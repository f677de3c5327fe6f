"""Test databases by the engine's plan: Django migrates the templates the engine asks it to
build (into the empty database the engine created and recorded), and only points connections
at the ones the engine found complete in its cache. Mirrors and same-signature aliases follow
Django's own rules; serialization for serialized_rollback happens here, once, as Django does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from typing import Any

from .creation_effects import mark_backend_skips
from .messages import TemplateStep

#: PRAGMA application_id of a finished SQLite template ("DCT1"): the engine reads it back.
SQLITE_COMPLETE_APPLICATION_ID = 0x44435431


@contextmanager
def _receiving(signal: Any, receiver: Callable[..., None], uid: str) -> Any:
    """``receiver`` connected to ``signal`` while the block runs."""
    signal.connect(receiver, weak=False, dispatch_uid=uid)
    try:
        yield
    finally:
        signal.disconnect(dispatch_uid=uid)


def _count_migrations(counts: dict[str, int]) -> Any:
    """Counts migrations applied per alias, from the plan Django passes to pre_migrate."""
    from django.db.models.signals import pre_migrate

    def receiver(sender: Any, using: str = "default", plan: Any = None, **kwargs: Any) -> None:
        counts[using] = max(counts.get(using, 0), len(plan or []))

    return _receiving(pre_migrate, receiver, "django_concurrent_test.count")


def _sqlite_unsynced(alias: str) -> Any:
    """SQLite syncs the file at every commit, and every migration commits: a template that a
    crash interrupts is never recovered but built again (it is recorded complete only at the
    end), so it is migrated with ``synchronous=OFF``. The journal stays, in memory, so a failing
    migration still rolls back; neither setting is stored in the file, so clones keep SQLite's
    defaults."""
    from django.db.backends.signals import connection_created

    def unsynced(sender: Any, connection: Any, **kwargs: Any) -> None:
        if connection.alias == alias:
            connection.connection.execute("PRAGMA synchronous = OFF")
            connection.connection.execute("PRAGMA journal_mode = MEMORY")

    return _receiving(connection_created, unsynced, f"django_concurrent_test.unsynced.{alias}")


def _build(connection: Any, name: str, verbosity: int, log: Callable[[str], None]) -> None:
    """Django's own create_test_db into the database the engine made (hence keepdb=True)."""
    from django.conf import settings

    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    if verbosity >= 1:
        shown = f"'{connection.alias}'" + (f" ('{name}')" if verbosity >= 2 else "")
        log(f"Creating test database for alias {shown}...")
    creation = connection.creation
    # Silences only Django's "Using existing test database" line; migrate output stays.
    creation.log = lambda message: None
    sqlite = connection.vendor == "sqlite"
    try:
        with _sqlite_unsynced(connection.alias) if sqlite else nullcontext():
            creation.create_test_db(
                verbosity=verbosity, autoclobber=True, keepdb=True, serialize=False
            )
    finally:
        del creation.log
    if sqlite:
        connection.close()  # the next connection has SQLite's defaults again
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA application_id = {SQLITE_COMPLETE_APPLICATION_ID}")
    settings.DATABASES[connection.alias]["NAME"] = name


def _reuse(connection: Any, name: str, verbosity: int, log: Callable[[str], None]) -> None:
    """A complete template from the cache: point the connection at it, run nothing."""
    from django.conf import settings

    if verbosity >= 1:
        shown = f"'{connection.alias}'" + (f" ('{name}')" if verbosity >= 2 else "")
        log(f"Using cached test database for alias {shown}...")
    connection.close()
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    settings.DATABASES[connection.alias]["NAME"] = name
    connection.settings_dict["NAME"] = name
    # What create_test_db would have done to the process, without building anything.
    mark_backend_skips([connection.alias])


def setup_planned(
    plan: dict[str, TemplateStep],
    aliases: set[str],
    serialized: set[str],
    verbosity: int,
    debug_sql: bool,
) -> tuple[list[Any], dict[str, int]]:
    """Like django.test.utils.setup_databases(parallel=0), building or reusing per ``plan``.

    Returns Django's old_config (for teardown_databases) and the migrations applied per alias.
    """
    from django.db import connections
    from django.test.utils import get_unique_databases_and_mirrors

    def log(message: str) -> None:
        sys.stderr.write(message + "\n")

    test_databases, mirrored_aliases = get_unique_databases_and_mirrors(aliases)
    old_names = []
    to_serialize = []
    applied: dict[str, int] = {}
    with _count_migrations(applied):
        for db_name, group in test_databases.values():
            first_alias = None
            for alias in group:
                connection = connections[alias]
                old_names.append((connection, db_name, first_alias is None))
                if first_alias is None:
                    first_alias = alias
                    step = plan[alias]
                    if step["action"] == "build":
                        _build(connection, step["name"], verbosity, log)
                    else:
                        _reuse(connection, step["name"], verbosity, log)
                    if alias in serialized:
                        to_serialize.append(connection)
                else:
                    connection.creation.set_as_test_mirror(connections[first_alias].settings_dict)
    for alias, mirror_alias in mirrored_aliases.items():
        connections[alias].creation.set_as_test_mirror(connections[mirror_alias].settings_dict)
    # Serialized once all databases exist, as Django 5.x does (routing may span aliases).
    for connection in to_serialize:
        connection._test_serialized_contents = connection.creation.serialize_db_to_string()
    if debug_sql:
        for alias in connections:
            connections[alias].force_debug_cursor = True
    return old_names, {alias: applied.get(alias, 0) for alias in plan}
