"""A pytest worker: forked from the main ``pytest --concurrent`` process after collection, it
runs the groups of items the engine hands it through pytest's own runtest protocol, on its
clone of the test databases, and streams each item's reports back as one ``outcome`` event.

Fixture scopes: module and class fixtures run once per group (see groups.py), session
fixtures once per worker, package fixtures once per run of consecutive groups of that package.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from typing import Any

import pytest

from ..messages import Configure, OutcomeEvent
from ..protocol import Channel
from ..worker import Worker
from .db import database_access, enter_worker
from .reports import engine_outcome, report_to_wire, warning_to_wire

#: The main process sends this when pytest ends the session (-x, --maxfail): the worker
#: finishes its current item and runs no more of its group.
STOP_SIGNAL: signal.Signals | None = getattr(signal, "SIGUSR2", None)
_stop = {"asked": False}


def _ask_stop(_signum: int, _frame: Any) -> None:
    _stop["asked"] = True


class _KeepShared:
    """A stand-in "next item" for the last item of a group: tearing down to it ends the
    group's module and class fixtures but keeps the session (and package) ones."""

    def __init__(self, item: pytest.Item) -> None:
        shared = (pytest.Session, pytest.Package, getattr(pytest, "Directory", pytest.Package))
        self._chain: list[Any] = []
        for node in item.listchain():
            if not isinstance(node, shared):
                break
            self._chain.append(node)

    def listchain(self) -> list[Any]:
        return self._chain


class _ItemRecorder:
    """Collects what pytest reports about the item being run (registered in the worker only)."""

    def __init__(self, worker: PytestWorker) -> None:
        self.worker = worker
        self.reports: list[pytest.TestReport] = []
        self.warnings: list[Any] = []

    @pytest.hookimpl
    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self.worker.send_start(nodeid)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports.append(report)

    @pytest.hookimpl
    def pytest_warning_recorded(self, warning_message: Any, when: str, nodeid: str) -> None:
        if when == "runtest":
            self.warnings.append(warning_message)

    def take(self) -> tuple[list[pytest.TestReport], list[Any]]:
        reports, found = self.reports, self.warnings
        self.reports, self.warnings = [], []
        return reports, found


class PytestWorker(Worker):
    def __init__(
        self, channel: Channel, slot: int, session: pytest.Session, groups: list[list[pytest.Item]]
    ) -> None:
        super().__init__(channel, slot, groups=[])
        self.session = session
        self.config = session.config
        self.item_groups = groups
        self.recorder = _ItemRecorder(self)
        self.config.pluginmanager.register(self.recorder, "django-concurrent-test-recorder")
        self.current_index = -1
        self.last: tuple[int, pytest.Item] | None = None

    def configure(self, message: Configure) -> None:
        with database_access(self.config):
            super().configure(message)
        enter_worker()

    def send_start(self, nodeid: str) -> None:
        self.send({"type": "testStart", "classIndex": self.current_index, "test": nodeid})

    def run_class(self, index: int, test_ids: list[str] | None = None) -> None:
        items = self.item_groups[index]
        if test_ids is not None:
            # A part of the group: what a crashed worker left unfinished.
            wanted = set(test_ids)
            items = [item for item in items if item.nodeid in wanted]
        self.current_index = index
        self.send({"type": "classStart", "classIndex": index, "slot": self.slot})
        if items:
            # Package fixtures the new group does not share end now (see _KeepShared).
            self._late_teardown(items[0])
        for position, item in enumerate(items):
            if _stop["asked"]:
                break
            last = position + 1 == len(items)
            self._run_item(index, item, _KeepShared(item) if last else items[position + 1])
        if items:
            self.last = (index, items[-1])
        self.send({"type": "classDone", "classIndex": index, "slot": self.slot})

    def _run_item(self, index: int, item: pytest.Item, nextitem: Any) -> None:
        started = time.perf_counter()
        item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
        reports, found = self.recorder.take()
        self._send_outcome(index, item, reports, found)
        self.send(
            {
                "type": "testStop",
                "classIndex": index,
                "test": item.nodeid,
                "duration": round(time.perf_counter() - started, 6),
            }
        )

    def _send_outcome(
        self, index: int, item: pytest.Item, reports: list[pytest.TestReport], found: list[Any]
    ) -> None:
        outcome, detail = engine_outcome(reports)
        message: OutcomeEvent = {
            "type": "outcome",
            "classIndex": index,
            "test": item.nodeid,
            "description": item.nodeid,
            "outcome": outcome,
            "pytest": {
                "location": list(item.location),
                "reports": [report_to_wire(self.config, r) for r in reports],
                "warnings": [warning_to_wire(w) for w in found],
            },
        }
        if "traceback" in detail:
            message["traceback"] = detail["traceback"]
        if "reason" in detail:
            message["reason"] = detail["reason"]
        self.send(message)

    def _late_teardown(self, nextitem: Any) -> None:
        """Tear down what the last group left set up and ``nextitem`` does not share; a
        failure there is reported, as pytest does, as a teardown error of that last item."""
        if self.last is None:
            return
        index, item = self.last
        call = pytest.CallInfo.from_call(
            lambda: item.session._setupstate.teardown_exact(nextitem), when="teardown"
        )
        if call.excinfo is None:
            return
        report = item.ihook.pytest_runtest_makereport(item=item, call=call)
        self._send_outcome(index, item, [report], [])

    def close_connections(self) -> None:
        # The engine said stop: session fixtures end here, once per worker.
        self._late_teardown(None)
        self.last = None
        with database_access(self.config):
            super().close_connections()


def _prepare_process(config: pytest.Config) -> None:
    """Make the forked process a quiet pytest runner: its own capture files (the inherited
    ones are shared with the main process and the other workers) and no terminal output (the
    main process prints every report)."""
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None and capture.is_globally_capturing():
        capture.stop_global_capturing()
        capture.start_global_capturing()
        capture.suspend_global_capture()
    for name in ("terminalreporter", "stepwiseplugin"):
        plugin = config.pluginmanager.getplugin(name)
        if plugin is not None:
            config.pluginmanager.unregister(plugin)
    # -x/--maxfail and --stepwise are the main process's to decide: a session that should stop
    # would tear down every fixture after each item here.
    config.option.maxfail = 0


def run_forked(
    socket_path: str, slot: int, session: pytest.Session, groups: list[list[pytest.Item]]
) -> None:
    """Body of a forked pytest worker; never returns."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if STOP_SIGNAL is not None:
            signal.signal(STOP_SIGNAL, _ask_stop)
        _prepare_process(session.config)
        PytestWorker(Channel.connect(socket_path), slot, session, groups).serve()
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
