"""A unittest result that streams every outcome to the engine as it happens.

Tracebacks travel as text (unittest's own formatting, including --buffer output), so an
exception that cannot be pickled can never break a run.
"""

from __future__ import annotations

import io
import time
import unittest
from collections.abc import Callable
from typing import Any

from django.test.runner import DebugSQLTextTestResult

from .protocol import Message

Emit = Callable[[Message], None]
ExcInfo = Any


def _outcome_for(err: ExcInfo, test: Any) -> str:
    failure_exception = getattr(test, "failureException", AssertionError)
    return "failure" if issubclass(err[0], failure_exception) else "error"


def make_result(
    emit: Emit, class_index: int, *, buffer: bool, failfast: bool, debug_sql: bool
) -> unittest.TextTestResult:
    """Build a streaming result; with --debug-sql it captures queries like Django's."""
    base: type[unittest.TextTestResult] = (
        DebugSQLTextTestResult if debug_sql else unittest.TextTestResult
    )

    class StreamingResult(base):  # type: ignore[valid-type,misc]
        def __init__(self) -> None:
            super().__init__(unittest.runner._WritelnDecorator(io.StringIO()), True, 0)
            self.buffer = buffer
            self.failfast = failfast
            self._started: dict[str, float] = {}

        def _send(self, test: Any, outcome: str, **extra: Any) -> None:
            message: Message = {
                "type": "outcome",
                "classIndex": class_index,
                "test": test.id(),
                "description": self.getDescription(test),
                "outcome": outcome,
            }
            message.update({k: v for k, v in extra.items() if v is not None})
            emit(message)

        def _last_entry(self, entries: list[tuple[Any, ...]]) -> dict[str, Any]:
            entry = entries[-1]
            sql = entry[2] if len(entry) > 2 else None
            return {"traceback": entry[1], "sql": sql}

        def startTest(self, test: Any) -> None:
            super().startTest(test)
            self._started[test.id()] = time.perf_counter()
            emit({"type": "testStart", "classIndex": class_index, "test": test.id()})

        def stopTest(self, test: Any) -> None:
            captured: dict[str, str] = {}
            if self.buffer:
                out = getattr(self, "_stdout_buffer", None)
                err = getattr(self, "_stderr_buffer", None)
                if out is not None and out.getvalue():
                    captured["stdout"] = out.getvalue()
                if err is not None and err.getvalue():
                    captured["stderr"] = err.getvalue()
            super().stopTest(test)
            started = self._started.pop(test.id(), None)
            duration = time.perf_counter() - started if started is not None else 0.0
            emit(
                {
                    "type": "testStop",
                    "classIndex": class_index,
                    "test": test.id(),
                    "duration": round(duration, 6),
                    **captured,
                }
            )

        def addSuccess(self, test: Any) -> None:
            super().addSuccess(test)
            self._send(test, "success")

        def addFailure(self, test: Any, err: ExcInfo) -> None:
            super().addFailure(test, err)
            self._send(test, "failure", **self._last_entry(self.failures))

        def addError(self, test: Any, err: ExcInfo) -> None:
            super().addError(test, err)
            self._send(test, "error", **self._last_entry(self.errors))

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
            self._send(subtest, outcome, parent=test.id(), **self._last_entry(entries))

    return StreamingResult()
