"""A worker: one process on one clone, running the TestCase classes the engine hands it.

Forked from the bridge (the fast start: Django is set up and the suite imported already) or
spawned as ``python -m django_concurrent_test.worker`` (the portable start).

Supervision needs a little help from inside: a thread sends a heartbeat every second (so the
engine can tell a frozen interpreter from a slow test), and faulthandler writes every thread's
stack to a file on a fatal signal or when the engine sends SIGUSR1 before killing a worker that
ran out of time (so the report can say where the test was stuck).
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import signal
import sqlite3
import sys
import threading
import traceback
import unittest
from typing import IO, Any

from . import early_output
from .connection_flags import ConnectionFlags
from .counters import CounterReset
from .creation_effects import mark_backend_skips
from .messages import CloneSpec, Configure, FromWorker, Heartbeat, WorkerOptions
from .protocol import PROTOCOL_VERSION, Channel, ChannelClosed

# Exit status of a worker whose engine went away (its heartbeat could not be sent).
EXIT_ORPHANED = 70


class Worker:
    def __init__(
        self, channel: Channel, slot: int, groups: list[unittest.TestSuite] | None
    ) -> None:
        self.channel = channel
        self.slot = slot
        self.groups = groups
        self.options: WorkerOptions = {"buffer": False, "failfast": False, "debugSql": False}
        self._loaded_memory: set[str] = set()
        # Whether attach must redo what creating the test databases did to the bridge's process.
        self._replays_creation = True
        self._counters = CounterReset()
        self._flags = ConnectionFlags()
        # The heartbeat thread and the test thread share one socket: whole lines only.
        self._send_lock = threading.Lock()
        self._stopping = threading.Event()
        self._stack_file: IO[str] | None = None

    def send(self, message: FromWorker) -> None:
        with self._send_lock:
            self.channel.send(message)

    def serve(self) -> None:
        self.send(
            {
                "type": "hello",
                "role": "worker",
                "protocol": PROTOCOL_VERSION,
                "slot": self.slot,
                "pid": os.getpid(),
            }
        )
        try:
            while True:
                try:
                    message = self.channel.recv()
                except ChannelClosed:
                    return
                if message["type"] == "configure":
                    self.configure(message)
                elif message["type"] == "attach":
                    self.attach(
                        message["clones"],
                        message.get("serializedAliases", []),
                        message.get("serializedContents") or {},
                    )
                    self.send({"type": "attached", "slot": self.slot})
                elif message["type"] == "run":
                    self.run_class(int(message["classIndex"]), message.get("tests"))
                elif message["type"] == "stop":
                    self.close_connections()
                    return
        finally:
            self._stopping.set()
            early_output.release()

    def configure(self, message: Configure) -> None:
        supervision = message.get("supervision")
        if supervision:
            self._start_supervision(
                float(supervision["heartbeatSeconds"]), str(supervision["stackFile"])
            )
        self.options = message["options"]
        spawned = self.groups is None
        if self.groups is None:
            from .discovery import discover_groups

            self.groups = discover_groups(message["discover"], quiet=True)
        # Until attach (at once when the clones exist already; else it runs database-free
        # classes meanwhile), every connection still points at a configured database.
        _refuse_connections()
        if not message["clones"] and early_output.uses_databases(self.groups):
            # What tests print comes after Django's database lines.
            early_output.hold(message.get("heldOutput"))
        if spawned or not message["clones"]:
            # Not forked from a bridge that ran the checks already.
            _import_as_checks_do()
        if message["clones"]:
            # Forked after the databases exist: creation's effects on the process came along.
            self._replays_creation = spawned
            self.attach(message["clones"], message.get("serializedAliases", []))
        self.send({"type": "ready", "slot": self.slot})

    def attach(
        self,
        clones: dict[str, CloneSpec],
        serialized_aliases: list[str],
        serialized_contents: dict[str, str] | None = None,
    ) -> None:
        """Point every used alias at this worker's clone (mirrors share their primary's). An
        alias no test declared has no clone and stays refused: Django's guard stops its tests
        from using it, and nothing else may reach the database it is configured with."""
        early_output.release()
        from django.db import connections

        for alias, clone in clones.items():
            connection = connections[alias]
            connection.close()
            connection.__dict__.pop("connect", None)
            if clone.get("loadIntoMemoryFrom"):
                self._load_sqlite_into_memory(
                    connection, clone["name"], clone["loadIntoMemoryFrom"]
                )
            else:
                # Updated in place, as Django's own workers do, so threads see the clone too.
                connection.settings_dict["NAME"] = clone["name"]
            if self.options.get("debugSql"):
                connection.force_debug_cursor = True
        if self.options.get("fastFlush", True):
            from .fast_flush import install

            for alias in clones:
                install(connections[alias])
        given = serialized_contents or {}
        for alias in serialized_aliases:
            connection = connections[alias]
            if alias in given:
                connection._test_serialized_contents = given[alias]
            elif getattr(connection, "_test_serialized_contents", None) is None:
                connection._test_serialized_contents = connection.creation.serialize_db_to_string()
        if self._replays_creation:
            mark_backend_skips(clones)
        # One per database: mirrors share their primary's clone.
        databases = {clone["name"]: alias for alias, clone in reversed(clones.items())}
        # PostgreSQL sequences are put back before each class (MySQL/MariaDB: see counters.py).
        self._counters.attach([connections[alias] for alias in databases.values()])
        self._flags.attach([connections[alias] for alias in clones])

    def _start_supervision(self, interval: float, stack_path: str) -> None:
        # Kept open for the life of the process: faulthandler writes from a signal handler.
        self._stack_file = open(stack_path, "w")
        faulthandler.enable(file=self._stack_file, all_threads=True)
        if hasattr(faulthandler, "register"):  # not on Windows
            faulthandler.register(signal.SIGUSR1, file=self._stack_file, all_threads=True)
        thread = threading.Thread(
            target=self._heartbeat_loop,
            args=(interval,),
            name="django-concurrent-test-heartbeat",
            daemon=True,
        )
        thread.start()

    def _heartbeat_loop(self, interval: float) -> None:
        message: Heartbeat = {"type": "heartbeat", "slot": self.slot}
        while not self._stopping.wait(interval):
            try:
                self.send(message)
            except OSError:
                # The engine is gone: nobody will read results or stop this process.
                os._exit(EXIT_ORPHANED)

    def _load_sqlite_into_memory(self, connection: Any, memory_name: str, source: str) -> None:
        """Mirrors share their primary's memory name; the file is loaded only once."""
        target_db = sqlite3.connect(memory_name, uri=True)
        if memory_name not in self._loaded_memory:
            source_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            source_db.backup(target_db)
            source_db.close()
            self._loaded_memory.add(memory_name)
        connection.settings_dict["NAME"] = memory_name
        # Keep the shared-cache memory database alive until Django holds its own connection.
        connection.connect()
        target_db.close()

    def run_class(self, index: int, test_ids: list[str] | None = None) -> None:
        from .results import make_result

        assert self.groups is not None
        result = make_result(
            self.send,
            index,
            buffer=bool(self.options.get("buffer")),
            failfast=bool(self.options.get("failfast")),
            debug_sql=bool(self.options.get("debugSql")),
        )
        self.send({"type": "classStart", "classIndex": index, "slot": self.slot})
        # What earlier classes on this clone left in the counters must not decide this one's.
        self._counters.before_class()
        self._flags.before_class()
        tests = list(self.groups[index])
        if test_ids is not None:
            # One part of a split class, or the tests a crashed worker did not finish.
            wanted = set(test_ids)
            tests = [t for t in tests if isinstance(t, unittest.TestCase) and t.id() in wanted]
        try:
            unittest.TestSuite(tests).run(result)
        except KeyboardInterrupt:
            self._interrupted(result, index, tests)
            return
        self.send({"type": "classDone", "classIndex": index, "slot": self.slot})

    def _interrupted(self, result: Any, index: int, tests: list[Any]) -> None:
        """A KeyboardInterrupt from the suite ends Django's runner: tell the engine which test
        (or class fixture) raised it, then wait to be stopped; the class is not finished."""
        culprit = result.interrupted_by
        if culprit is None:
            # From setUpClass/setUpTestData or tearDownClass: the class itself is reported.
            label = f"{type(tests[0]).__module__}.{type(tests[0]).__qualname__}"
            where = "tearDownClass" if result.testsRun else "setUpClass"
            from .results import interrupt_traceback

            self.send(
                {
                    "type": "outcome",
                    "classIndex": index,
                    "test": label,
                    "description": f"{where} ({label})",
                    "outcome": "error",
                    "traceback": interrupt_traceback(traceback.format_exc()),
                }
            )
            culprit = label
        self.send(
            {"type": "keyboardInterrupt", "classIndex": index, "slot": self.slot, "test": culprit}
        )

    def close_connections(self) -> None:
        from django.db import connections

        connections.close_all()


class DatabasesNotReady(RuntimeError):
    pass


def _refuse_connection(*_args: Any, **_kwargs: Any) -> None:
    raise DatabasesNotReady(
        "django-concurrent-test: this connection has no test database in this worker (its "
        "clone does not exist yet, or no test declared this alias)"
    )


# What an alias's NAME says until attach: no server has such a database, and SQLite cannot
# create a file in a directory that does not exist. Connections another thread makes from the
# settings (the override below is per connection object) fail on it too.
NO_DATABASE_YET = {
    "sqlite": "/nonexistent/django-concurrent-test/no-test-database-yet.sqlite3",
    "sqlite-memory": "file:django_concurrent_test_no_test_database_yet?mode=memory",
    "other": "django_concurrent_test_no_test_database_yet",
}


def _refuse_connections() -> None:
    """No connection may open before attach points it at a clone: its NAME is still the
    configured (not a test) database. Django's SimpleTestCase guard blocks queries too; this
    also covers code outside that guard, and threads."""
    from django.db import connections

    for alias in connections:
        connection = connections[alias]
        connection.close()
        setattr(connection, "connect", _refuse_connection)  # noqa: B010 (an instance override)
        connection.settings_dict["NAME"] = _no_database_yet(connection)


def _no_database_yet(connection: Any) -> str:
    if connection.vendor != "sqlite":
        return NO_DATABASE_YET["other"]
    # An in-memory test database is in memory before attach too (is_in_memory_db() says so, as
    # in Django's runner); a stray connection to it finds an empty database, nothing on disk.
    test_name = connection.settings_dict.get("TEST", {}).get("NAME") or ":memory:"
    if connection.creation.is_in_memory_db(test_name):
        return NO_DATABASE_YET["sqlite-memory"]
    return NO_DATABASE_YET["sqlite"]


def _import_as_checks_do() -> None:
    """Django runs the system checks before any test, and they import the URLconf, middleware,
    admin and the like. A worker started before the bridge ran them must import the same, or a
    test running under ``available_apps`` would be the first to import (say) the auth
    middleware, and fail. The bridge's own checks decide the run; these are silent."""
    from django.core.checks import registry

    # One by one: a check that cannot run before the databases exist (one that asks a backend
    # feature of a refused connection) must not keep the later ones (URLs) from importing.
    for check in registry.registry.get_checks(include_deployment_checks=False):
        try:
            check(app_configs=None, databases=None)
        except Exception:  # a check failing here fails in the bridge too
            pass


def _die_with_parent() -> None:
    """Linux: have the kernel kill this worker when the process that started it dies, even if
    this interpreter is frozen and its heartbeat cannot notice."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _ignore_interrupts() -> None:
    # Ctrl-C reaches the whole process group; the engine decides what happens to workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_forked(socket_path: str, slot: int, groups: list[unittest.TestSuite]) -> None:
    """Body of a forked worker; never returns."""
    code = 0
    try:
        _ignore_interrupts()
        # The bridge forwards SIGTERM to the engine; a worker simply ends on it.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _die_with_parent()
        Worker(Channel.connect(socket_path), slot, groups).serve()
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main(argv: list[str] | None = None) -> None:
    _ignore_interrupts()
    _die_with_parent()
    parser = argparse.ArgumentParser(prog="python -m django_concurrent_test.worker")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--slot", type=int, required=True)
    args = parser.parse_args(argv)
    from .python_path import prepare_python_path

    prepare_python_path()
    import django

    django.setup()
    Worker(Channel.connect(args.socket), args.slot, None).serve()


if __name__ == "__main__":
    main()
