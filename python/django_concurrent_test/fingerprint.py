"""The template fingerprint: a hash of everything that decides a test database's schema and rows.

A template whose name carries the same hash as this run's fingerprint can be cloned without
running a single migration. The hash covers the migration files and the code they call, the
order of INSTALLED_APPS, the alias's ENGINE/TEST/OPTIONS settings, the routers and post_migrate
receivers (they decide which tables and rows each alias gets), the Django version and this
package's version. Only digests leave this module, never file contents or passwords.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
import sys
import weakref
from collections.abc import Callable, Collection, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from . import __version__

#: OPTIONS keys that carry credentials or client-side files: never part of the hash.
_SECRET_OPTION_WORDS = ("pass", "ssl", "cert", "key", "service", "read_default")


def _digest(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _file_digest(path: str | None) -> str:
    if not path:
        return "unknown"
    try:
        return _digest(Path(path).read_bytes())
    except OSError:
        return "unreadable"


def _source_of(obj: Any) -> str | None:
    """The file a function, class or module is defined in (None for builtins)."""
    target = inspect.unwrap(obj) if callable(obj) else obj
    try:
        return inspect.getsourcefile(target) or inspect.getfile(target)
    except TypeError:
        module = sys.modules.get(getattr(target, "__module__", "") or "")
        return getattr(module, "__file__", None)


def _sources(objects: Iterable[Any]) -> dict[str, str]:
    """Digest of each distinct source file among the objects, keyed by module name."""
    found: dict[str, str] = {}
    for obj in objects:
        path = _source_of(obj)
        if path:
            module = getattr(obj, "__module__", None) or getattr(obj, "__name__", path)
            found[str(module)] = _file_digest(path)
    return dict(sorted(found.items()))


def _migration_parts() -> dict[str, Any]:
    """Every migration file on disk, and the files of the code its RunPython operations call."""
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations.special import RunPython

    loader = MigrationLoader(None, ignore_no_migrations=True)
    files: dict[str, str] = {}
    called: list[Callable[..., Any]] = []
    for (app_label, name), migration in sorted(loader.disk_migrations.items()):
        module = sys.modules.get(type(migration).__module__)
        files[f"{app_label}.{name}"] = _file_digest(getattr(module, "__file__", None))
        for operation in migration.operations:
            if isinstance(operation, RunPython):
                called.extend(f for f in (operation.code, operation.reverse_code) if callable(f))
    return {
        "files": files,
        "code": _sources(called),
        "migratedApps": sorted(loader.migrated_apps),
    }


def _migration_modules() -> dict[str, str | None]:
    """Each app's migrations module as Django resolves it: MIGRATION_MODULES may be any object
    with ``__contains__``/``__getitem__`` (the "DisableMigrations" idiom), None disables an app's
    migrations, and an app it does not name uses ``<app>.migrations``."""
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    found: dict[str, str | None] = {}
    for config in apps.get_app_configs():
        module, _explicit = MigrationLoader.migrations_module(config.label)
        found[config.label] = None if module is None else str(module)
    return found


def _unmigrated_models(migrated_apps: Collection[str], all_apps: bool) -> dict[str, Any]:
    """Apps without migrations get tables from their models (migrate --run-syncdb): their
    models' definitions decide the schema, wherever the code that defines them lives."""
    from django.apps import apps

    configs = [
        config
        for config in apps.get_app_configs()
        if config.models_module is not None and (all_apps or config.label not in migrated_apps)
    ]
    models = [model for config in configs for model in config.get_models(include_auto_created=True)]
    field_types = {type(field) for model in models for field in model._meta.local_fields}
    field_types |= {type(field) for model in models for field in model._meta.local_many_to_many}
    return {
        "modules": _sources(config.models_module for config in configs),
        "state": {model._meta.label: _model_state(model) for model in models},
        # A custom field's db_type() decides its column, and its code is in no migration.
        "fieldCode": _sources(t for t in field_types if not t.__module__.startswith("django.")),
    }


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _stable(make: Callable[[], Any]) -> str:
    """How makemigrations would write a value; else its repr without memory addresses (a
    value no migration could hold, or one that cannot even be taken apart)."""
    from django.db.migrations.writer import MigrationWriter

    try:
        value = make()
    except Exception as exc:  # e.g. a manager that cannot deconstruct: its error is stable
        return f"{type(exc).__name__}: {exc}"
    try:
        return str(MigrationWriter.serialize(value)[0])
    except Exception:  # any value a model may hold; only its text matters here
        return _ADDRESS.sub("", repr(value))


def _field_parts(field: Any) -> Any:
    return field.deconstruct()[1:]  # the name is the key already


def _model_state(model: Any) -> dict[str, Any]:
    """The model as the migration autodetector sees it: fields, options, bases, managers."""
    from django.db.migrations.state import ModelState

    state = ModelState.from_model(model)
    return {
        "fields": {name: _stable(partial(_field_parts, f)) for name, f in state.fields.items()},
        "options": _stable(lambda: state.options),
        "bases": _stable(lambda: state.bases),
        "managers": {name: _stable(m.deconstruct) for name, m in state.managers},
    }


def _receivers(signal: Any) -> list[Any]:
    found = []
    for entry in signal.receivers:
        receiver = entry[1]
        if isinstance(receiver, weakref.ReferenceType):
            receiver = receiver()
        if receiver is not None:
            found.append(receiver)
    return found


def _shared_parts() -> dict[str, Any]:
    import django
    from django.conf import settings
    from django.db import router
    from django.db.models.signals import post_migrate

    migrations = _migration_parts()
    caches = {
        name: config.get("LOCATION")
        for name, config in sorted(getattr(settings, "CACHES", {}).items())
        if "DatabaseCache" in str(config.get("BACKEND", ""))
    }
    return {
        "django": django.get_version(),
        "package": __version__,
        "installedApps": [str(app) for app in settings.INSTALLED_APPS],
        "migrationModules": _migration_modules(),
        "migrations": migrations,
        "unmigratedModels": _unmigrated_models(migrations["migratedApps"], all_apps=False),
        "routers": _sources(type(r) for r in router.routers),
        "postMigrate": _sources(_receivers(post_migrate)),
        "databaseCaches": caches,
        "defaultAutoField": str(getattr(settings, "DEFAULT_AUTO_FIELD", "")),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _alias_parts(primary: str, aliases: list[str]) -> dict[str, Any]:
    from django.db import connections

    config = connections[primary].settings_dict
    options = {
        k: v
        for k, v in (config.get("OPTIONS") or {}).items()
        if not any(word in k.lower() for word in _SECRET_OPTION_WORDS)
    }
    parts: dict[str, Any] = {
        "aliases": aliases,
        "engine": config.get("ENGINE"),
        "test": _jsonable(config.get("TEST") or {}),
        "options": _jsonable(options),
        "testName": connections[primary].creation._get_test_db_name(),
    }
    if (config.get("TEST") or {}).get("MIGRATE") is False:
        parts["models"] = _unmigrated_models((), all_apps=True)
    return parts


def _hash(parts: dict[str, Any]) -> str:
    return _digest(json.dumps(parts, sort_keys=True, separators=(",", ":")))


def code_digests(objects: Iterable[Any]) -> dict[str, str]:
    """Digests of the files the objects are defined in (for parts the caller adds)."""
    return _sources(objects)


def fingerprint(
    aliases: Collection[str], extra: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """One entry per test database to build (Django's signatures): its aliases and hash;
    ``extra`` adds parts that only the caller knows of (pytest's fixtures)."""
    from django.db import connections
    from django.test.utils import get_unique_databases_and_mirrors

    test_databases, mirrored = get_unique_databases_and_mirrors(set(aliases))
    shared = {**_shared_parts(), **(extra or {})}
    groups = []
    for _name, group_aliases in test_databases.values():
        primary = group_aliases[0]
        connection = connections[primary]
        parts = {**shared, "database": _alias_parts(primary, list(group_aliases))}
        test_name = connection.creation._get_test_db_name()
        in_memory = connection.vendor == "sqlite" and connection.creation.is_in_memory_db(test_name)
        groups.append(
            {
                "alias": primary,
                "aliases": list(group_aliases),
                "mirrors": sorted(a for a, target in mirrored.items() if target in group_aliases),
                "vendor": connection.vendor,
                "testName": str(test_name),
                "inMemory": bool(in_memory),
                "hash": _hash(parts),
                # Digests per part, so -v 3 can show what changed between two runs.
                "parts": {key: _hash({key: value}) for key, value in parts.items()},
            }
        )
    return groups
