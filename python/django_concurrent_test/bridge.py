"""The bridge: the engine's hands inside Django for everything but running tests.

It inspects settings, discovers tests (Django's own DiscoverRunner.build_suite), builds the
template test databases with Django's own creation code, forks workers from its warm process
and tears the templates down. Under ``manage.py test`` the runner's own process is the bridge;
``npx django-concurrent-test`` spawns ``python -m django_concurrent_test.bridge``.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import inspect
import itertools
import json
import os
import select
import signal
import sys
import unittest
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .internal_errors import bridge_traceback
from .protocol import PROTOCOL_VERSION, Channel, ChannelClosed, Message
from .settings_inspection import inspect_settings

SYS_PATH_ENV = "DJANGO_CONCURRENT_TEST_SYS_PATH"


def prepare_python_path() -> None:
    """Give spawned Python processes the sys.path of the process that launched the run."""
    extra = os.environ.get(SYS_PATH_ENV)
    if extra:
        for entry in reversed(json.loads(extra)):
            if entry not in sys.path:
                sys.path.insert(0, entry)


def _kind(test_class: type) -> str:
    from django.test import LiveServerTestCase, SimpleTestCase, TestCase, TransactionTestCase

    for kind in (LiveServerTestCase, TestCase, TransactionTestCase, SimpleTestCase):
        if issubclass(test_class, kind):
            return str(kind.__name__)
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


def make_runner(options: dict[str, Any]) -> Any:
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


def discover_groups(request: Message, quiet: bool = False) -> list[unittest.TestSuite]:
    """Re-run discovery with the same options (spawned workers); output silenced."""
    from django.test.utils import setup_test_environment

    options = dict(request["options"])
    if quiet:
        options["verbosity"] = 0
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


def describe_group(index: int, group: unittest.TestSuite) -> Message:
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


class Bridge:
    def __init__(
        self,
        channel: Channel,
        runner: Any = None,
        labels: list[str] | None = None,
        runner_options: dict[str, Any] | None = None,
        engine_pid: int | None = None,
    ) -> None:
        self.channel = channel
        self.engine_pid = engine_pid
        self.runner = runner
        self.labels = labels
        self.runner_options = runner_options
        self.groups: list[unittest.TestSuite] = []
        self.old_config: Any = None
        self.databases: dict[str, bool] = {}
        self.children: dict[int, int] = {}
        self.torn_down = False
        #: pytest --concurrent: the engine handed the loop back to pytest, for this reason.
        self.fallback_reason: str | None = None
        #: Whether the engine sent anything: if it ends before that, it never started.
        self.engine_spoke = False
        #: Templates came from the engine's plan: teardown restores names and drops nothing.
        self.engine_owns_databases = False

    def hello(self) -> None:
        import django

        self.channel.send(
            {
                "type": "hello",
                "role": "bridge",
                "protocol": PROTOCOL_VERSION,
                "pid": os.getpid(),
                "python": sys.executable,
                "pythonVersion": list(sys.version_info[:2]),
                "sysPath": [p for p in sys.path if p],
                "djangoVersion": django.get_version(),
                "cwd": os.getcwd(),
                "settings": inspect_settings(),
                "runnerOptions": self.runner_options,
                "labels": self.labels,
            }
        )

    @contextlib.contextmanager
    def forwarding_signals(self) -> Iterator[None]:
        """Ctrl-C and SIGTERM go to the engine, which stops the workers and drops the clones
        before anything exits (a terminal signals the whole process group, so the engine may
        get a signal twice at once; it counts that as one)."""

        def forward(signum: int, _frame: Any) -> None:
            if self.engine_pid:
                try:
                    os.kill(self.engine_pid, signum)
                except OSError:
                    pass

        previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def serve(self) -> None:
        """Answer the engine until it says teardown/shutdown or goes away."""
        with self.forwarding_signals():
            self._serve()

    def _serve(self) -> None:
        try:
            try:
                self.hello()
            except OSError:
                return  # the engine died at once (its exit status tells the launcher why)
            while True:
                self._reap_children()
                if not self.channel.has_buffered():
                    ready, _, _ = select.select([self.channel], [], [], 0.2)
                    if not ready:
                        continue
                try:
                    message = self.channel.recv()
                except ChannelClosed:
                    break
                self.engine_spoke = True
                if not self._dispatch(message):
                    break
        finally:
            if not self.torn_down:
                # The engine vanished mid-run: its workers have no one left to report to.
                for pid in self.children:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
            self._reap_children(block=True)
            if not self.torn_down and self.old_config is not None:
                # The engine vanished mid-run: still leave no template behind.
                self._teardown({"keepdb": False, "quiet": True})

    def _dispatch(self, message: Message) -> bool:
        kind = message["type"]
        handlers = {
            "discover": self._discover,
            "fingerprint": self._fingerprint,
            "setupDatabases": self._setup_databases,
            "forkWorkers": self._fork_workers,
            "runSequential": self._run_sequential,
            "teardown": self._teardown,
        }
        if kind == "shutdown":
            return False
        if kind == "fallback":
            self.fallback_reason = str(message["reason"])
            return False
        handler = handlers.get(kind)
        if handler is None:
            self.channel.send(
                {
                    "type": "error",
                    "phase": kind,
                    "message": f"unknown message type {kind!r}",
                    "traceback": "",
                }
            )
            return True
        try:
            handler(message)
        except Exception as exc:
            self.channel.send(
                {
                    "type": "error",
                    "phase": kind,
                    "message": f"{type(exc).__name__}: {exc}",
                    "traceback": bridge_traceback(kind, exc),
                }
            )
        return bool(kind != "teardown")

    def _discover(self, message: Message) -> None:
        from django.test.utils import setup_test_environment

        runner = self.runner if self.runner is not None else make_runner(message["options"])
        self.runner = runner
        setup_test_environment(debug=runner.debug_mode)
        suite, self.groups = build_groups(runner, message["labels"])
        self.databases = runner.get_databases(suite)
        self.channel.send(
            {
                "type": "discovered",
                "classes": [describe_group(i, g) for i, g in enumerate(self.groups)],
                "databases": sorted(self.databases),
                "serializedAliases": sorted(a for a, s in self.databases.items() if s),
                "shuffleSeed": runner.shuffle_seed,
            }
        )

    def _fingerprint(self, message: Message) -> None:
        from .fingerprint import fingerprint

        self.channel.send({"type": "fingerprinted", "groups": fingerprint(message["aliases"])})

    def _setup_databases(self, message: Message) -> None:
        from django.db import connections
        from django.test.utils import setup_databases

        for alias, name in message.get("testNames", {}).items():
            connections[alias].settings_dict.setdefault("TEST", {})["NAME"] = name
        serialized = {a for a, s in self.databases.items() if s}
        migrations: dict[str, int] = {}
        if "plan" in message:
            from .template_setup import setup_planned

            # The engine made (or found) every template and drops them itself.
            self.engine_owns_databases = True
            self.old_config, migrations = setup_planned(
                message["plan"],
                set(self.databases),
                serialized,
                self.runner.verbosity,
                self.runner.debug_sql,
            )
        else:
            self.old_config = setup_databases(
                self.runner.verbosity,
                self.runner.interactive,
                keepdb=bool(message.get("keepdb")),
                debug_sql=self.runner.debug_sql,
                parallel=0,
                aliases=self.databases,
                serialized_aliases=serialized,
            )
        self.runner.run_checks(self.databases)
        primaries = {conn.alias for conn, _old, destroy in self.old_config if destroy}
        aliases = {}
        for alias in connections:
            connection = connections[alias]
            aliases[alias] = {
                "name": str(connection.settings_dict["NAME"]),
                "vendor": connection.vendor,
                "primary": alias in primaries,
                "used": alias in self.databases,
            }
        # A PostgreSQL template must have no open sessions while it is cloned.
        connections.close_all()
        # Workers forked before this point (or spawned) get these with their clones instead of
        # serializing their own copy.
        contents = {
            alias: connections[alias]._test_serialized_contents
            for alias in sorted(serialized)
            if getattr(connections[alias], "_test_serialized_contents", None) is not None
        }
        self.channel.send(
            {
                "type": "databasesReady",
                "aliases": aliases,
                "migrations": migrations,
                "serialized": contents,
            }
        )

    def _fork_workers(self, message: Message) -> None:
        from django.db import connections

        from .worker import run_forked

        # Workers may be forked before the templates exist (they run database-free classes
        # meanwhile): no connection of this process may be shared with them.
        connections.close_all()
        sys.stdout.flush()
        sys.stderr.flush()
        for slot in message["slots"]:
            pid = os.fork()
            if pid == 0:
                self.channel.close()
                run_forked(message["socketPath"], int(slot), self.groups)
            self.children[pid] = int(slot)
            self.channel.send({"type": "forked", "slot": slot, "pid": pid})

    def _run_sequential(self, message: Message) -> None:
        from .sequential import own_signals, run_sequential

        wanted = message.get("classes")
        indexes = range(len(self.groups)) if wanted is None else [int(i) for i in wanted]
        with own_signals():
            failures = run_sequential(
                self.runner,
                self.groups,
                list(indexes),
                self.databases,
                self.channel.send,
                int(message["slot"]),
            )
        self.torn_down = True  # Django's own teardown ran
        self.channel.send({"type": "sequentialDone", "failures": failures})

    def _teardown(self, message: Message) -> None:
        from django.test.utils import teardown_databases, teardown_test_environment

        self._reap_children(block=True)
        if self.old_config is not None:
            verbosity = 0 if message.get("quiet") else self.runner.verbosity
            if self.engine_owns_databases:
                # The engine drops (or keeps) the templates; Django's lines still read the same.
                action = "Preserving" if message.get("keepdb") else "Destroying"
                for connection, _old_name, destroy in self.old_config if verbosity >= 1 else ():
                    if destroy:
                        alias = connection.alias
                        sys.stderr.write(f"{action} test database for alias '{alias}'...\n")
                verbosity = 0
            teardown_databases(
                self.old_config,
                verbosity=verbosity,
                keepdb=bool(message.get("keepdb")) or self.engine_owns_databases,
            )
            self.old_config = None
        try:
            teardown_test_environment()
        except AttributeError:
            pass  # discovery never ran, so there is nothing to restore
        self.torn_down = True
        if not message.get("quiet"):
            self.channel.send({"type": "tornDown"})

    def _reap_children(self, block: bool = False) -> None:
        # Only our own forks: under manage.py this process also owns the engine's Popen.
        for pid in list(self.children):
            try:
                done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
            except ChildProcessError:
                self.children.pop(pid, None)
                continue
            if done == 0:
                continue
            slot = self.children.pop(pid)
            code = os.waitstatus_to_exitcode(status)
            try:
                self.channel.send(
                    {
                        "type": "workerExited",
                        "slot": slot,
                        "pid": pid,
                        "code": code if code >= 0 else None,
                        "signal": -code if code < 0 else None,
                    }
                )
            except OSError:
                pass


def main() -> None:
    """Entry point for the engine's CLI mode: the channel is inherited as fd 3."""
    prepare_python_path()
    import django

    django.setup()
    channel = Channel.from_fd(int(os.environ.get("DJANGO_CONCURRENT_TEST_BRIDGE_FD", "3")))
    # The engine spawned this process: it is the parent.
    Bridge(channel, engine_pid=os.getppid()).serve()


if __name__ == "__main__":
    main()
