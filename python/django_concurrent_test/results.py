"""A unittest result that streams every outcome to the engine as it happens.

Tracebacks travel as text (unittest's own formatting, including --buffer output), so an
exception that cannot be pickled can never break a run.
"""

from __future__ import annotations

import io
import sys
import time
import unittest
from collections.abc import Callable
from typing import Any

from django.test.runner import DebugSQLTextTestResult

from .messages import Outcome, OutcomeEvent, TestStop, WorkerEvent

Emit = Callable[[WorkerEvent], None]
ExcInfo = Any


def _outcome_for(err: ExcInfo, test: Any) -> Outcome:
    failure_exception = getattr(test, "failureException", AssertionError)
    return "failure" if issubclass(err[0], failure_exception) else "error"


def interrupt_traceback(formatted: str) -> str:
    """A KeyboardInterrupt stops Django's runner at the test that raised it; so it does here."""
    return (
        "KeyboardInterrupt: raised by this test; the run stops here, as under Django's runner\n"
        + formatted
    )


def make_result(
    emit: Emit, class_index: int, *, buffer: bool, failfast: bool, debug_sql: bool
) -> unittest.TextTestResult:
    """A worker's streaming result (output silenced); with --debug-sql it captures queries
    like Django's."""
    base: type[unittest.TextTestResult] = (
        DebugSQLTextTestResult if debug_sql else unittest.TextTestResult
    )
    result_class = streaming_result_class(base, emit, lambda _test: class_index)
    result = result_class(unittest.runner._WritelnDecorator(io.StringIO()), True, 0)
    result.buffer = buffer
    result.failfast = failfast
    return result


def streaming_result_class(
    base: type[unittest.TextTestResult], emit: Emit, class_index_of: Callable[[Any], int]
) -> type[unittest.TextTestResult]:
    """``base`` (any unittest result class, e.g. the runner's own) that also streams every
    outcome; ``class_index_of`` names the class a test (or a fixture's error holder) belongs to.
    Constructed as ``base`` is, so a TextTestRunner can build it."""

    class StreamingResult(base):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._started: dict[str, float] = {}
            self._reported: set[str] = set()
            #: The test whose KeyboardInterrupt is ending the run (None: none did).
            self.interrupted_by: str | None = None

        def _send(
            self,
            test: Any,
            outcome: Outcome,
            owner: Any = None,
            *,
            parent: str | None = None,
            traceback: str | None = None,
            reason: str | None = None,
            sql: str | None = None,
        ) -> None:
            message: OutcomeEvent = {
                "type": "outcome",
                "classIndex": class_index_of(owner if owner is not None else test),
                "test": test.id(),
                "description": self.getDescription(test),
                "outcome": outcome,
            }
            if parent is not None:
                message["parent"] = parent
            if traceback is not None:
                message["traceback"] = traceback
            if reason is not None:
                message["reason"] = reason
            if sql is not None:
                message["sql"] = sql
            self._reported.add(message["test"])
            emit(message)

        def _last_entry(self, entries: list[tuple[Any, ...]]) -> tuple[str, str | None]:
            """The traceback (and with --debug-sql the queries) unittest just recorded."""
            entry = entries[-1]
            return entry[1], entry[2] if len(entry) > 2 else None

        def startTest(self, test: Any) -> None:
            super().startTest(test)
            self._started[test.id()] = time.perf_counter()
            emit({"type": "testStart", "classIndex": class_index_of(test), "test": test.id()})

        def stopTest(self, test: Any) -> None:
            self._report_interrupt(test)
            out = getattr(self, "_stdout_buffer", None) if self.buffer else None
            err = getattr(self, "_stderr_buffer", None) if self.buffer else None
            stdout = out.getvalue() if out is not None else ""
            stderr = err.getvalue() if err is not None else ""
            super().stopTest(test)
            started = self._started.pop(test.id(), None)
            duration = time.perf_counter() - started if started is not None else 0.0
            message: TestStop = {
                "type": "testStop",
                "classIndex": class_index_of(test),
                "test": test.id(),
                "duration": round(duration, 6),
            }
            if stdout:
                message["stdout"] = stdout
            if stderr:
                message["stderr"] = stderr
            emit(message)

        def _report_interrupt(self, test: Any) -> None:
            """unittest lets a KeyboardInterrupt through and calls stopTest on its way out
            (no outcome): the test is reported by name as an error, never as passed."""
            interrupt = sys.exc_info()
            if not isinstance(interrupt[1], KeyboardInterrupt) or test.id() in self._reported:
                return
            formatted = self._exc_info_to_string(interrupt, test)
            self._send(test, "error", traceback=interrupt_traceback(formatted))
            self.interrupted_by = test.id()

        def addSuccess(self, test: Any) -> None:
            super().addSuccess(test)
            self._send(test, "success")

        def addFailure(self, test: Any, err: ExcInfo) -> None:
            super().addFailure(test, err)
            traceback, sql = self._last_entry(self.failures)
            self._send(test, "failure", traceback=traceback, sql=sql)

        def addError(self, test: Any, err: ExcInfo) -> None:
            super().addError(test, err)
            traceback, sql = self._last_entry(self.errors)
            self._send(test, "error", traceback=traceback, sql=sql)

        def addSkip(self, test: Any, reason: str) -> None:
            super().addSkip(test, reason)
            self._send(test, "skip", reason=reason)

        def addExpectedFailure(self, test: Any, err: ExcInfo) -> None:
            super().addExpectedFailure(test, err)
            self._send(test, "expectedFailure", traceback=self.expectedFailures[-1][1])

        def addUnexpectedSuccess(self, test: Any) -> None:
            super().addUnexpectedSuccess(test)
            self._send(test, "unexpectedSuccess")

        def addSubTest(self, test: Any, subtest: Any, err: ExcInfo) -> None:
            super().addSubTest(test, subtest, err)
            if err is None:
                return
            outcome = _outcome_for(err, test)
            entries = self.failures if outcome == "failure" else self.errors
            traceback, sql = self._last_entry(entries)
            self._send(subtest, outcome, owner=test, parent=test.id(), traceback=traceback, sql=sql)

    return StreamingResult
