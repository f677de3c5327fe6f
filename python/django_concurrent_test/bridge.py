"""The bridge: the engine's hands inside Django for everything but running tests.

It answers the engine's requests: settings inspection (in its hello), discovery (discovery.py),
the template fingerprint, building the template test databases with Django's own creation code,
forking workers from its warm process, a sequential run, and tearing the templates down. Under
``manage.py test`` the runner's own process is the bridge; ``npx django-concurrent-test``
spawns ``python -m django_concurrent_test.bridge``.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import unittest
from collections.abc import Iterator
from typing import Any

from .creation_effects import project_receivers_connected
from .discovery import build_groups, describe_group, make_runner
from .internal_errors import bridge_traceback
from .messages import (
    AliasState,
    DiscoverRequest,
    FingerprintRequest,
    ForkWorkers,
    Received,
    RunnerOptions,
    RunSequential,
    SetupDatabases,
    Teardown,
)
from .protocol import PROTOCOL_VERSION, Channel, ChannelClosed
from .python_path import prepare_python_path
from .settings_inspection import inspect_settings


class Bridge:
    def __init__(
        self,
        channel: Channel,
        runner: Any = None,
        labels: list[str] | None = None,
        runner_options: RunnerOptions | None = None,
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
                self._tear_down(keepdb=False, quiet=True)

    def _dispatch(self, message: Received) -> bool:
        """Answer one request; False: the engine is done with this bridge."""
        kind = message["type"]
        if message["type"] == "shutdown":
            return False
        if message["type"] == "fallback":
            self.fallback_reason = str(message["reason"])
            return False
        try:
            handled = self._handle(message)
        except Exception as exc:
            self.channel.send(
                {
                    "type": "error",
                    "phase": kind,
                    "message": f"{type(exc).__name__}: {exc}",
                    "traceback": bridge_traceback(kind, exc),
                }
            )
            handled = True
        if not handled:
            self.channel.send(
                {
                    "type": "error",
                    "phase": kind,
                    "message": f"unknown message type {kind!r}",
                    "traceback": "",
                }
            )
        return bool(kind != "teardown")

    def _handle(self, message: Received) -> bool:
        """Run the request's handler; False: this bridge has none for it."""
        if message["type"] == "discover":
            self._discover(message)
        elif message["type"] == "fingerprint":
            self._fingerprint(message)
        elif message["type"] == "setupDatabases":
            self._setup_databases(message)
        elif message["type"] == "forkWorkers":
            self._fork_workers(message)
        elif message["type"] == "runSequential":
            self._run_sequential(message)
        elif message["type"] == "teardown":
            self._teardown(message)
        else:
            return False
        return True

    def _discover(self, message: DiscoverRequest) -> None:
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

    def _fingerprint(self, message: FingerprintRequest) -> None:
        from .fingerprint import fingerprint

        self.channel.send({"type": "fingerprinted", "groups": fingerprint(message["aliases"])})

    def _setup_databases(self, message: SetupDatabases) -> None:
        from django.db import connections
        from django.test.utils import setup_databases

        for alias, name in message.get("testNames", {}).items():
            connections[alias].settings_dict.setdefault("TEST", {})["NAME"] = name
        serialized = {a for a, s in self.databases.items() if s}
        migrations: dict[str, int] = {}
        with project_receivers_connected() as receivers:
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
        aliases: dict[str, AliasState] = {}
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
                "receivers": sorted(set(receivers)),
            }
        )

    def _fork_workers(self, message: ForkWorkers) -> None:
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

    def _run_sequential(self, message: RunSequential) -> None:
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

    def _teardown(self, message: Teardown) -> None:
        self._tear_down(keepdb=bool(message.get("keepdb")), quiet=False)

    def _tear_down(self, keepdb: bool, quiet: bool) -> None:
        """The templates (unless the engine owns them) and the test environment; quiet: the
        engine is gone, nothing is said or sent."""
        from django.test.utils import teardown_databases, teardown_test_environment

        self._reap_children(block=True)
        if self.old_config is not None:
            verbosity = 0 if quiet else self.runner.verbosity
            if self.engine_owns_databases:
                # The engine drops (or keeps) the templates; Django's lines still read the same.
                action = "Preserving" if keepdb else "Destroying"
                for connection, _old_name, destroy in self.old_config if verbosity >= 1 else ():
                    if destroy:
                        alias = connection.alias
                        sys.stderr.write(f"{action} test database for alias '{alias}'...\n")
                verbosity = 0
            teardown_databases(
                self.old_config,
                verbosity=verbosity,
                keepdb=keepdb or self.engine_owns_databases,
            )
            self.old_config = None
        try:
            teardown_test_environment()
        except AttributeError:
            pass  # discovery never ran, so there is nothing to restore
        self.torn_down = True
        if not quiet:
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
