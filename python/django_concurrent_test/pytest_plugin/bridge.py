"""The bridge with a pytest flavour: the main ``pytest --concurrent`` process serves the engine.

Same protocol and same base class as under ``manage.py test``; what differs is where the
answers come from. Discovery is pytest's collection (already done), split into groups
(groups.py); the test databases are built as pytest-django builds them (its marks decide
the aliases, --no-migrations/--reuse-db/--create-db keep their meaning); workers are forked from
the collected session (worker.py). The engine hands every item's outcome back, and this
process feeds the reports to pytest's own hooks, so the terminal, --junitxml, -x/--maxfail and
the exit status behave as in a plain pytest run.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import pytest

from ..bridge import Bridge
from ..messages import (
    DiscoverRequest,
    FingerprintRequest,
    ForkWorkers,
    OutcomeEvent,
    Received,
    RunnerOptions,
    SetupDatabases,
    Teardown,
)
from ..options import engine_options, offered_by
from ..protocol import Channel
from .db import building_templates, database_access
from .groups import all_databases, group_items, item_databases
from .reports import failure_report, report_from_wire, warning_from_wire


class _RunnerOptions:
    """What the base bridge reads from a Django test runner, with pytest's values."""

    interactive = False
    debug_sql = False
    debug_mode = False
    shuffle_seed = None

    def __init__(self, verbosity: int) -> None:
        self.verbosity = verbosity

    def run_checks(self, databases: Any) -> None:
        """pytest-django runs no system checks; neither does its concurrent flavour."""


def quieter(config: pytest.Config) -> int:
    """Verbosity for Django's and the engine's own messages (creating, cloning, destroying):
    silent at -v, whose lines are pytest's; shown from -vv. Under plain pytest they are
    captured with the first database test's output."""
    return max(int(config.option.verbose) - 1, 0)


def runner_options(config: pytest.Config) -> RunnerOptions:
    """The engine's options for this run (``flavour`` tells it who prints the results)."""
    ours = [(option, config.getoption(option.pytest_dest)) for option in offered_by("pytest")]
    options = cast(RunnerOptions, engine_options(ours))
    options.update(pytest_run_options(config))
    return options


def pytest_run_options(config: pytest.Config) -> RunnerOptions:
    """What pytest's own options (pytest-django's among them) mean for the engine."""
    return {
        "flavour": "pytest",
        "junitxml": None,
        "startMethod": "fork",
        "verbosity": quieter(config),
        # pytest-django's --reuse-db keeps the test databases; --create-db migrates them anew.
        "keepdb": bool(config.getoption("reuse_db", False)),
        "rebuildTemplates": bool(config.getoption("create_db", False)),
        "pdb": bool(config.getoption("usepdb", False) or config.getoption("trace", False)),
    }


def disable_migrations() -> None:
    """--no-migrations: tables come from the models (Django's MIGRATION_MODULES = None)."""
    from django.apps import apps
    from django.conf import settings

    settings.MIGRATION_MODULES = {config.label: None for config in apps.get_app_configs()}


def setup_chain(item: pytest.Item) -> list[Any]:
    """The functions of every fixture that django_db_setup needs for this item (overrides and
    what they request, pytest-django's own included)."""
    manager = item.session._fixturemanager
    seen: set[str] = set()
    todo = ["django_db_setup"]
    functions: list[Any] = []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for fixturedef in manager.getfixturedefs(name, item) or ():
            functions.append(fixturedef.func)
            todo.extend(fixturedef.argnames)
    return functions


@contextmanager
def _setting_up(item: pytest.Item) -> Iterator[None]:
    """The item's nodes as pytest has them while it sets the item up, without running any of
    their setup: session fixtures attach their teardown to the session, which stays set up
    (the bridge's teardown ends it); the narrower nodes leave the stack again."""
    state = item.session._setupstate
    chain = item.listchain()
    pushed = [node for node in chain if node not in state.stack]
    for node in pushed:
        state.stack[node] = ([node.teardown] if node is item.session else [], None)
    try:
        yield
    finally:
        for node in reversed(pushed):
            if node is not item.session:
                del state.stack[node]


def forget_session_teardown(session: pytest.Session) -> None:
    """In a forked worker: the session fixtures the main process set up (the django_db_setup
    chain) stay set up, cached, but are the main process's to tear down, not the worker's."""
    state = session._setupstate
    if session in state.stack:
        state.stack[session] = ([session.teardown], None)


class PytestBridge(Bridge):
    def __init__(self, channel: Channel, session: pytest.Session, engine_pid: int) -> None:
        config = session.config
        super().__init__(
            channel,
            runner=_RunnerOptions(quieter(config)),
            labels=[],
            runner_options=runner_options(config),
            engine_pid=engine_pid,
        )
        self.session = session
        self.config = config
        self.item_groups: list[list[pytest.Item]] = []
        self.items = {item.nodeid: item for item in session.items}
        self.reported: set[str] = set()
        self.stop_asked = False
        self.workers_announced = False
        #: An exception from pytest's own hooks while reporting, re-raised after the run.
        self.internal_error: BaseException | None = None

    def _dispatch(self, message: Received) -> bool:
        if message["type"] == "pytestOutcome":
            if self.internal_error is None:
                try:
                    self._log_outcome(message["event"])
                except Exception as exc:
                    # pytest's INTERNALERROR, once the engine has cleaned up: it stops the
                    # workers, drops the clones and asks this bridge to tear down as usual.
                    self.internal_error = exc
                    self._interrupt_engine()
            return True
        return super()._dispatch(message)

    def _interrupt_engine(self) -> None:
        if self.engine_pid:
            try:
                os.kill(self.engine_pid, signal.SIGTERM)
            except OSError:
                pass

    def _discover(self, message: DiscoverRequest) -> None:
        if self.config.getoption("nomigrations", False):
            disable_migrations()  # before the template fingerprint, which covers it
        groups = group_items(self.session.items)
        self.item_groups = [group.items for group in groups]
        self.databases = all_databases(groups)
        self.channel.send(
            {
                "type": "discovered",
                "classes": [group.describe(index) for index, group in enumerate(groups)],
                "databases": sorted(self.databases),
                "serializedAliases": sorted(a for a, s in self.databases.items() if s),
                "shuffleSeed": None,
            }
        )

    def _database_item(self) -> pytest.Function | None:
        """An item that uses a database: the project's django_db_setup chain as it sees it."""
        items = (i for i in self.session.items if isinstance(i, pytest.Function))
        return next((item for item in items if item_databases(item)[0]), None)

    def _fingerprint(self, message: FingerprintRequest) -> None:
        from ..fingerprint import code_digests, fingerprint

        # The project's fixtures that shape the test database are part of the template.
        item = self._database_item()
        chain = code_digests(setup_chain(item)) if item is not None else {}
        groups = fingerprint(message["aliases"], extra={"pytestDatabaseSetup": chain})
        self.channel.send({"type": "fingerprinted", "groups": groups})

    def _setup_databases(self, message: SetupDatabases) -> None:
        # pytest-django: --reuse-db keeps the databases, --create-db rebuilds them anyway.
        message = {
            **message,
            "keepdb": bool(message.get("keepdb")) and not self.config.getoption("create_db", False),
        }
        built: list[bool] = []

        def build() -> None:
            Bridge._setup_databases(self, message)
            built.append(True)

        item = self._database_item()
        if item is not None:
            # The project's django_db_setup chain, in this process, as pytest-django would run
            # it for this item: the templates are built at its bottom (db.py).
            with building_templates(build), _setting_up(item):
                item._request.getfixturevalue("django_db_setup")
        if not built:
            # An override that never requests pytest-django's django_db_setup: its body ran,
            # and the templates are built after it, as before any project fixture.
            with database_access(self.config):
                build()
        from django.db import connections

        # The engine clones the templates next: no connection of this process may stay open.
        connections.close_all()

    def _fork_workers(self, message: ForkWorkers) -> None:
        from .worker import run_forked

        if not self.workers_announced:
            self.workers_announced = True
            self._announce(len(message["slots"]))
        sys.stdout.flush()
        sys.stderr.flush()
        for slot in message["slots"]:
            pid = os.fork()
            if pid == 0:
                self.channel.close()
                forget_session_teardown(self.session)
                run_forked(message["socketPath"], int(slot), self.session, self.item_groups)
            self.children[pid] = int(slot)
            self.channel.send({"type": "forked", "slot": slot, "pid": pid})

    def _teardown(self, message: Teardown) -> None:
        # The chain's own teardown first (what follows the overrides' yield, then pytest-django's
        # test environment), as pytest-django runs it before destroying the test databases.
        try:
            self.session._setupstate.teardown_exact(None)
        finally:
            with database_access(self.config):
                super()._teardown(message)

    def _announce(self, workers: int) -> None:
        terminal = self.config.pluginmanager.getplugin("terminalreporter")
        if terminal is None or self.config.option.verbose < 0:
            return
        databases = "databases" if len(self.databases) > 1 else "database"
        terminal.write_line(
            f"django-concurrent-test: {workers} worker{'s' if workers != 1 else ''}, "
            f"each on its own clone of the test {databases}"
        )
        terminal.write_line("")

    def _log_outcome(self, event: OutcomeEvent) -> None:
        """One item's result, through pytest's own reporting hooks."""
        nodeid = str(event["test"])
        payload = event.get("pytest")
        hook = self.config.hook
        if payload:
            location = tuple(payload["location"])
            reports = [report_from_wire(self.config, data) for data in payload["reports"]]
            found = [warning_from_wire(data) for data in payload.get("warnings", [])]
        else:
            # The worker could not report it (crashed, timed out, never ran it).
            item = self.items.get(nodeid)
            location = item.location if item else (nodeid.split("::")[0], None, nodeid)
            text = event.get("traceback") or f"{event['outcome']}: no report from the worker"
            reports = [failure_report(nodeid, location, text)]
            found = []
        first = nodeid not in self.reported
        self.reported.add(nodeid)
        if first:
            hook.pytest_runtest_logstart(nodeid=nodeid, location=location)
        for report in reports:
            hook.pytest_runtest_logreport(report=report)
        for warning in found:
            hook.pytest_warning_recorded.call_historic(
                kwargs={
                    "warning_message": warning,
                    "when": "runtest",
                    "nodeid": nodeid,
                    "location": None,
                }
            )
        if first:
            hook.pytest_runtest_logfinish(nodeid=nodeid, location=location)
        self._stop_if_asked()

    def _stop_if_asked(self) -> None:
        """-x/--maxfail (or a plugin) ended the session: the engine hands out no more work."""
        reason = self.session.shouldfail or self.session.shouldstop
        if reason and not self.stop_asked:
            self.stop_asked = True
            self.channel.send({"type": "stopWork", "reason": str(reason)})
            # Busy workers finish their current item and leave the rest of their group.
            from .worker import STOP_SIGNAL

            if STOP_SIGNAL is None:
                return
            for pid in list(self.children):
                try:
                    os.kill(pid, STOP_SIGNAL)
                except OSError:
                    pass
