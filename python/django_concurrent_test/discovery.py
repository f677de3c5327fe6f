"""Discovery: Django's own ``DiscoverRunner.build_suite``, split into TestCase classes (the
engine's unit of work), and each class described as the protocol's ``discovered`` message lists
it (kind, source, databases, and whether it may be split or run before the databases exist).

The bridge discovers once for the run; a spawned worker rediscovers with the same options.
"""

from __future__ import annotations

import ast
import functools
import inspect
import itertools
import os
import sys
import unittest
from pathlib import Path
from typing import Any

from .messages import ClassKind, DiscoverRequest, DjangoOptions, TestClassInfo


def _kind(test_class: type) -> ClassKind:
    from django.test import LiveServerTestCase, SimpleTestCase, TestCase, TransactionTestCase

    kinds: tuple[tuple[type, ClassKind], ...] = (
        (LiveServerTestCase, "LiveServerTestCase"),
        (TestCase, "TestCase"),
        (TransactionTestCase, "TransactionTestCase"),
        (SimpleTestCase, "SimpleTestCase"),
    )
    for base, kind in kinds:
        if issubclass(test_class, base):
            return kind
    if issubclass(test_class, unittest.loader._FailedTest):  # type: ignore[attr-defined]
        return "FailedTest"
    return "unittest"


@functools.cache
def _class_nodes(path: str) -> dict[str, ast.ClassDef]:
    """Qualified class name -> its definition, parsing each module once (inspect re-parses
    per class)."""
    try:
        tree = ast.parse(Path(path).read_bytes(), path)
    except (OSError, SyntaxError, ValueError):
        return {}
    nodes: dict[str, ast.ClassDef] = {}

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                name = prefix + child.name
                nodes.setdefault(name, child)
                walk(child, name + ".")
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                walk(child, prefix + child.name + ".<locals>.")

    walk(tree, "")
    return nodes


def _class_node(test_class: type) -> ast.ClassDef | None:
    try:
        path = inspect.getsourcefile(test_class)
    except TypeError:
        return None
    return _class_nodes(path).get(test_class.__qualname__) if path else None


def _source(test_class: type) -> tuple[str | None, int | None]:
    try:
        path = inspect.getsourcefile(test_class)
    except TypeError:
        return None, None
    if not path:
        return None, None
    node = _class_nodes(path).get(test_class.__qualname__)
    return os.path.relpath(path, os.getcwd()), node.lineno if node else None


def make_runner(options: DjangoOptions) -> Any:
    from django.test.runner import DiscoverRunner

    return DiscoverRunner(
        pattern=options.get("pattern"),
        top_level=options.get("topLevel"),
        verbosity=options.get("verbosity", 1),
        interactive=options.get("interactive", False),
        failfast=options.get("failfast", False),
        keepdb=options.get("keepdb", False),
        reverse=options.get("reverse", False),
        debug_mode=options.get("debugMode", False),
        debug_sql=options.get("debugSql", False),
        tags=options.get("tags"),
        exclude_tags=options.get("excludeTags"),
        test_name_patterns=options.get("testNamePatterns"),
        buffer=options.get("buffer", False),
        timing=False,
        shuffle=options.get("shuffle", False),
    )


def build_groups(runner: Any, labels: list[str]) -> tuple[Any, list[unittest.TestSuite]]:
    """Django's own discovery, then the suite split into TestCase classes (the work unit)."""
    from django.test.utils import iter_test_cases

    runner.parallel = 0  # never let build_suite wrap the suite for Django's own pool
    suite = runner.build_suite(labels or None)
    groups = [
        unittest.TestSuite(list(tests))
        for _, tests in itertools.groupby(iter_test_cases(suite), type)
    ]
    return suite, groups


def discover_groups(request: DiscoverRequest, quiet: bool = False) -> list[unittest.TestSuite]:
    """Re-run discovery with the same options (spawned workers); output silenced."""
    from django.test.utils import setup_test_environment

    options = request["options"]
    if quiet:
        options = {**options, "verbosity": 0}
    runner = make_runner(options)
    setup_test_environment(debug=runner.debug_mode)
    return build_groups(runner, request["labels"])[1]


_CLASS_FIXTURES = ("setUpClass", "tearDownClass", "setUpTestData")
_FRAMEWORK_MODULES = ("django.test.testcases", "unittest.case", "builtins")


def _splittable(test_class: type, databases: set[str]) -> bool:
    """Whether the class's tests may run in parts on different workers: it uses no database and
    has no class-level fixture of its own, so each part sets itself up exactly as the whole."""
    from django.test import TransactionTestCase

    if databases or issubclass(test_class, TransactionTestCase):
        return False
    if issubclass(test_class, unittest.loader._FailedTest):  # type: ignore[attr-defined]
        return False
    return not any(
        name in vars(klass)
        for klass in test_class.__mro__
        if klass.__module__ not in _FRAMEWORK_MODULES
        for name in _CLASS_FIXTURES
    )


def _before_databases(test_class: type, databases: set[str]) -> bool:
    """Whether the class may run before the test databases exist. Django's SimpleTestCase
    refuses every query from setUpClass (after super()) until its class cleanups; code outside
    that guard could reach a database, and before the clones exist that would be the configured
    one. So: a SimpleTestCase without databases, no module fixtures, and its own setUpClass /
    tearDownClass (if any) begin / end with the super() call."""
    from django.test import SimpleTestCase, TransactionTestCase

    from .creation_effects import creation_decorates_tests

    if databases or not issubclass(test_class, SimpleTestCase):
        return False
    if creation_decorates_tests():
        # Creating the test databases decorates test classes (Django's own suite).
        return False
    if issubclass(test_class, TransactionTestCase):
        return False
    module = sys.modules.get(test_class.__module__)
    if module is None or any(hasattr(module, f) for f in ("setUpModule", "tearDownModule")):
        return False
    for klass in test_class.__mro__:
        if klass.__module__ in _FRAMEWORK_MODULES or klass.__module__.startswith("django."):
            continue
        for name, first in (("setUpClass", True), ("tearDownClass", False)):
            if name in vars(klass) and not _calls_super_at(klass, name, first):
                return False
    return True


def _calls_super_at(klass: type, name: str, first: bool) -> bool:
    """Whether the class's own method's first (or last) statement is ``super().<name>()``."""
    node = _class_node(klass)
    definitions = [
        child
        for child in (node.body if node else [])
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and child.name == name
    ]
    if not definitions:
        return False  # defined some other way (assigned, generated): cannot tell
    body = list(definitions[-1].body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    if not body:
        return False
    statement = body[0] if first else body[-1]
    call = statement.value if isinstance(statement, ast.Expr) else None
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == name
        and isinstance(call.func.value, ast.Call)
        and isinstance(call.func.value.func, ast.Name)
        and call.func.value.func.id == "super"
    )


def describe_group(index: int, group: unittest.TestSuite) -> TestClassInfo:
    from django.db import connections

    tests: list[Any] = list(group)
    test_class = type(tests[0])
    databases = getattr(tests[0], "databases", None) or set()
    if databases == "__all__":
        databases = set(connections)
    path, line = _source(test_class)
    return {
        "index": index,
        "label": f"{test_class.__module__}.{test_class.__qualname__}",
        "kind": _kind(test_class),
        "file": path,
        "line": line,
        "databases": sorted(databases),
        "serializedRollback": bool(getattr(tests[0], "serialized_rollback", False)),
        "splittable": _splittable(test_class, set(databases)),
        "beforeDatabases": _before_databases(test_class, set(databases)),
        "tests": [{"id": t.id(), "description": _describe(t)} for t in tests],
    }


def _describe(test: Any) -> str:
    """unittest's own description: str(test) plus the docstring's first line."""
    return str(unittest.TextTestResult.getDescription(_Describer, test))  # type: ignore[arg-type]


class _Describer:
    """Lets unittest's own getDescription run without a result object."""

    descriptions = True
