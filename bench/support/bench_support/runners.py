"""Test runners that record per-test outcomes and durations to the JSON file named by
BENCH_RECORD, so the harness can check every run's outcomes before its time counts.

- ``RecordingRunner``: Django's own DiscoverRunner (sequential and ``--parallel N``); under
  ``--parallel`` each worker sends the test's duration with its other result events.
- ``RecordingConcurrentRunner``: django-concurrent-test's runner. Concurrent runs report through
  the engine's event log; the result class only records when the runner falls back to Django's
  sequential runner, so a fallback is still checked (and labelled as one).
"""

from __future__ import annotations

import json
import os
import time
import unittest
from typing import Any

from django.test.runner import DiscoverRunner, ParallelTestSuite, RemoteTestResult, RemoteTestRunner

RECORD_ENV = "BENCH_RECORD"


class RecordingResult(unittest.TextTestResult):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcomes: dict[str, list[str]] = {}
        self.durations: dict[str, float] = {}
        self._started: dict[str, float] = {}
        self._remote: set[str] = set()
        self.class_spans: dict[str, float] = {}

    def _record(self, test: Any, outcome: str) -> None:
        self.outcomes.setdefault(test.id(), []).append(outcome)

    def startTest(self, test: Any) -> None:
        super().startTest(test)
        self.outcomes.setdefault(test.id(), [])
        self._started[test.id()] = time.perf_counter()

    def stopTest(self, test: Any) -> None:
        super().stopTest(test)
        started = self._started.pop(test.id(), None)
        if started is not None and test.id() not in self._remote:
            self.durations[test.id()] = time.perf_counter() - started

    def addDuration(self, test: Any, elapsed: float) -> None:  # replayed from --parallel workers
        self._remote.add(test.id())
        self.durations[test.id()] = elapsed

    def addClassSpan(self, test: Any, elapsed: float) -> None:  # replayed from --parallel workers
        self.class_spans[test.id().rsplit(".", 1)[0]] = elapsed

    def addSuccess(self, test: Any) -> None:
        super().addSuccess(test)
        self._record(test, "success")

    def addFailure(self, test: Any, err: Any) -> None:
        super().addFailure(test, err)
        self._record(test, "failure")

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        self._record(test, "error")

    def addSkip(self, test: Any, reason: str) -> None:
        super().addSkip(test, reason)
        self._record(test, "skip")

    def addExpectedFailure(self, test: Any, err: Any) -> None:
        super().addExpectedFailure(test, err)
        self._record(test, "expectedFailure")

    def addUnexpectedSuccess(self, test: Any) -> None:
        super().addUnexpectedSuccess(test)
        self._record(test, "unexpectedSuccess")

    def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._record(test, "failure" if issubclass(err[0], test.failureException) else "error")

    def stopTestRun(self) -> None:
        super().stopTestRun()
        path = os.environ.get(RECORD_ENV)
        if path:
            with open(path, "w") as f:
                record = {
                    "outcomes": self.outcomes,
                    "durations": self.durations,
                    "classSpans": self.class_spans,
                }
                json.dump(record, f)


class TimedRemoteResult(RemoteTestResult):
    """Django's worker-side result, plus one ``addDuration`` event per test (Python < 3.12
    does not send it), so the parent learns how long each test took inside its worker."""

    def startTest(self, test: Any) -> None:
        self._bench_started = time.perf_counter()
        super().startTest(test)

    def stopTest(self, test: Any) -> None:
        self.events.append(
            ("addDuration", self.test_index, time.perf_counter() - self._bench_started)
        )
        super().stopTest(test)

    def addDuration(self, test: Any, elapsed: float) -> None:
        """Python 3.12+ calls this too; the duration is already sent from stopTest."""


class TimedRemoteRunner(RemoteTestRunner):
    """Also sends how long the whole class took in the worker (setUpClass, flushes and all)."""

    resultclass = TimedRemoteResult

    def run(self, test: Any) -> Any:
        started = time.perf_counter()
        result = super().run(test)
        result.events.append(("addClassSpan", 0, time.perf_counter() - started))
        return result


class TimedParallelTestSuite(ParallelTestSuite):
    runner_class = TimedRemoteRunner


class RecordingRunner(DiscoverRunner):
    parallel_test_suite = TimedParallelTestSuite

    def get_resultclass(self) -> Any:
        return RecordingResult


try:
    from django_concurrent_test.runner import ConcurrentTestRunner
except ImportError:  # the harness only uses it where the package is installed
    pass
else:

    class RecordingConcurrentRunner(ConcurrentTestRunner):
        def get_resultclass(self) -> Any:
            return RecordingResult
