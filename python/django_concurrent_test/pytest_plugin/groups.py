"""Collected pytest items, split into the groups the engine schedules (its "classes").

A group is what one worker runs in one go, so fixtures whose scope is a group boundary run
once per group:

- a module whose items use a module- or package-scoped fixture stays one group;
- otherwise each test class is a group, and the module's plain functions form one group per
  kind of database use (pytest-django's order: ``db``, then ``transaction=True``, then none),
  so the queue keeps pytest-django's "transactional tests last" order.

Groups are listed in the order of their first item in pytest's own order, and items keep that
order within their group.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from ..messages import ClassKind, TestClassInfo

# pytest-django's run order for database use: plain db, transactional, none.
ORDER_DB, ORDER_TRANSACTIONAL, ORDER_NONE = 0, 1, 2
_ORDER_NAMES = {ORDER_DB: "db", ORDER_TRANSACTIONAL: "transactional", ORDER_NONE: "no db"}
_WIDE_SCOPES = frozenset({"module", "package"})


@dataclass
class DjangoDbMark:
    """The arguments of ``@pytest.mark.django_db``, with pytest-django's defaults."""

    transaction: bool = False
    reset_sequences: bool = False
    databases: Any = None
    serialized_rollback: bool = False
    available_apps: Any = None


def django_db_mark(item: pytest.Item) -> DjangoDbMark | None:
    marker = item.get_closest_marker("django_db")
    return None if marker is None else DjangoDbMark(*marker.args, **marker.kwargs)


def _django_test_class(item: pytest.Item) -> Any:
    from django.test import TransactionTestCase

    cls = getattr(item, "cls", None)
    return cls if isinstance(cls, type) and issubclass(cls, TransactionTestCase) else None


def db_order(item: pytest.Item) -> int:
    """Where pytest-django puts the item: db tests, then transactional ones, then the rest."""
    from django.test import TestCase

    cls = _django_test_class(item)
    if cls is not None:
        return ORDER_DB if issubclass(cls, TestCase) else ORDER_TRANSACTIONAL
    mark = django_db_mark(item)
    fixtures = getattr(item, "fixturenames", ())
    if (mark and (mark.transaction or mark.reset_sequences)) or (
        "transactional_db" in fixtures or "live_server" in fixtures
    ):
        return ORDER_TRANSACTIONAL
    return ORDER_DB if mark is not None or "db" in fixtures else ORDER_NONE


def item_databases(item: pytest.Item) -> tuple[set[str], bool]:
    """The aliases the item uses, and whether it needs them serialized (serialized_rollback)."""
    from django.db import DEFAULT_DB_ALIAS, connections

    cls = _django_test_class(item)
    fixtures = getattr(item, "fixturenames", ())
    if cls is not None:
        databases, serialized = cls.databases, bool(cls.serialized_rollback)
    else:
        mark = django_db_mark(item)
        if mark is not None:
            databases, serialized = mark.databases, bool(mark.serialized_rollback)
        elif {"db", "transactional_db", "live_server"} & set(fixtures):
            databases, serialized = None, "django_db_serialized_rollback" in fixtures
        else:
            return set(), False
    if databases is None:
        return {DEFAULT_DB_ALIAS}, serialized
    if databases == "__all__":
        return set(connections), serialized
    return set(databases), serialized


def _uses_wide_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return True  # cannot tell: keep the module whole, which is always correct
    for name in info.names_closure:
        definitions = info.name2fixturedefs.get(name)
        if definitions and definitions[-1].scope in _WIDE_SCOPES:
            return True
    return False


def _module_id(item: pytest.Item) -> str:
    module = item.getparent(pytest.Module)
    if module is not None:
        return module.nodeid
    return item.parent.nodeid if item.parent is not None else item.nodeid


def _outer_class_id(item: pytest.Item) -> str | None:
    for node in item.listchain():
        if isinstance(node, pytest.Class):
            return node.nodeid
    return None


@dataclass
class Group:
    key: tuple[str, str | None, int | None]
    label: str
    items: list[pytest.Item] = field(default_factory=list)

    def databases(self) -> tuple[set[str], bool]:
        aliases: set[str] = set()
        serialized = False
        for item in self.items:
            used, needs_serialized = item_databases(item)
            aliases |= used
            serialized = serialized or (needs_serialized and bool(used))
        return aliases, serialized

    def kind(self) -> ClassKind:
        """The Django test class this group resembles (the engine estimates timings by kind)."""
        order = min(db_order(item) for item in self.items)
        if any(db_order(item) == ORDER_TRANSACTIONAL for item in self.items):
            return "TransactionTestCase"
        return "TestCase" if order == ORDER_DB else "SimpleTestCase"

    def describe(self, index: int) -> TestClassInfo:
        """The group as the engine's protocol describes a unit of work."""
        aliases, serialized = self.databases()
        path, line, _ = self.items[0].location
        return {
            "index": index,
            "label": self.label,
            "kind": self.kind(),
            "file": path,
            "line": None if line is None else line + 1,
            "databases": sorted(aliases),
            "serializedRollback": serialized,
            "tests": [{"id": item.nodeid, "description": item.nodeid} for item in self.items],
        }


def group_items(items: Sequence[pytest.Item]) -> list[Group]:
    whole: dict[str, bool] = {}
    for item in items:
        module = _module_id(item)
        whole[module] = whole.get(module, False) or _uses_wide_fixture(item)
    groups: dict[tuple[str, str | None, int | None], Group] = {}
    function_orders: dict[str, set[int]] = {}
    for item in items:
        module = _module_id(item)
        class_id = None if whole[module] else _outer_class_id(item)
        order = None if whole[module] or class_id is not None else db_order(item)
        key = (module, class_id, order)
        if key not in groups:
            groups[key] = Group(key, class_id or module)
        groups[key].items.append(item)
        if order is not None:
            function_orders.setdefault(module, set()).add(order)
    for (module, _, order), group in groups.items():
        if order is not None and len(function_orders[module]) > 1:
            group.label = f"{module} [{_ORDER_NAMES[order]}]"
    return list(groups.values())


def all_databases(groups: Iterable[Group]) -> dict[str, bool]:
    """Alias -> needs serializing, over every group (Django's get_databases shape)."""
    result: dict[str, bool] = {}
    for group in groups:
        for item in group.items:
            used, serialized = item_databases(item)
            for alias in used:
                result[alias] = result.get(alias, False) or serialized
    return result
