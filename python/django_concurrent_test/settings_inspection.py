"""What the engine needs to know of the project's settings, read before the test environment
changes anything (DEBUG in particular), as plain JSON."""

from __future__ import annotations

from typing import Any

from .messages import SettingsInfo

_DATABASE_KEYS = ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT")
_TEST_KEYS = ("NAME", "MIRROR", "DEPENDENCIES", "CHARSET", "COLLATION", "TEMPLATE")


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def inspect_settings() -> SettingsInfo:
    from django.conf import settings
    from django.db import connections

    databases: dict[str, dict[str, Any]] = {}
    for alias in connections:
        connection = connections[alias]
        config = connection.settings_dict
        test = config.get("TEST") or {}
        databases[alias] = {
            **{key.lower(): _jsonable(config.get(key)) for key in _DATABASE_KEYS},
            "vendor": connection.vendor,
            "test": {key.lower(): _jsonable(test.get(key)) for key in _TEST_KEYS},
        }
    return {
        "debug": bool(settings.DEBUG),
        # DEBUG left out of the settings module is Django's default False: the refusal says so.
        "debugSet": settings.is_overridden("DEBUG"),
        "settingsModule": settings.SETTINGS_MODULE,
        "installedApps": list(settings.INSTALLED_APPS),
        "databases": databases,
        "concurrentTestConfig": _jsonable(getattr(settings, "CONCURRENT_TEST_CONFIG", None)),
    }
