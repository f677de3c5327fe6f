"""pytest's own test reports and warnings on the wire between a worker and the main process.

Workers serialize every report with pytest's ``pytest_report_to_serializable`` hook (the
one pytest-xdist uses), so the main process's terminal reporter prints exactly what pytest
prints: the failure sections keep the rewritten assertions, captured output and locals.
The engine sees each item as one ``outcome`` event; the reports ride along in its
``pytest`` field, which the engine hands back to the main process untouched.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Sequence
from typing import Any, TypedDict

import pytest

from ..messages import Outcome

Wire = dict[str, Any]


class OutcomeDetail(TypedDict, total=False):
    """What an ``outcome`` event carries besides the outcome: a traceback or a skip's reason."""

    traceback: str
    reason: str


def report_to_wire(config: pytest.Config, report: pytest.TestReport) -> Wire:
    data: Wire = config.hook.pytest_report_to_serializable(config=config, report=report)
    return data


def _tuples(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def report_from_wire(config: pytest.Config, data: Wire) -> pytest.TestReport:
    # JSON has no tuples; pytest's skip longrepr, location and sections are tuples.
    data = {**data, "location": _tuples(data.get("location"))}
    if isinstance(data.get("longrepr"), list):
        data["longrepr"] = tuple(data["longrepr"])
    for key in ("sections", "user_properties"):
        if isinstance(data.get(key), list):
            data[key] = [_tuples(entry) for entry in data[key]]
    report: pytest.TestReport = config.hook.pytest_report_from_serializable(
        config=config, data=data
    )
    return report


def warning_to_wire(message: warnings.WarningMessage) -> Wire:
    category = message.category
    return {
        "message": str(message.message),
        "category": f"{category.__module__}.{category.__qualname__}",
        "filename": message.filename,
        "lineno": message.lineno,
        "line": message.line,
    }


def _warning_category(dotted: str) -> type[Warning]:
    module, _, name = dotted.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return UserWarning
    return found if isinstance(found, type) and issubclass(found, Warning) else UserWarning


def warning_from_wire(data: Wire) -> warnings.WarningMessage:
    category = _warning_category(str(data["category"]))
    try:
        message: Warning = category(data["message"])
    except Exception:  # a warning class with an unusual constructor
        message = UserWarning(data["message"])
    return warnings.WarningMessage(
        message, category, data["filename"], data["lineno"], line=data.get("line")
    )


def engine_outcome(reports: Sequence[pytest.TestReport]) -> tuple[Outcome, OutcomeDetail]:
    """The engine's outcome for an item (Django's vocabulary) and its traceback or reason.

    pytest counts a non-strict XPASS as passing, so it is a success here too: the engine's
    idea of a failed run must match pytest's exit status."""
    failed = [r for r in reports if r.failed]
    if failed:
        first = failed[0]
        outcome: Outcome = "failure" if all(r.when == "call" for r in failed) else "error"
        return outcome, {"traceback": first.longreprtext}
    skipped = [r for r in reports if r.skipped]
    if skipped:
        report = skipped[0]
        if hasattr(report, "wasxfail"):
            return "expectedFailure", {"traceback": report.longreprtext}
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        return "skip", {"reason": reason.removeprefix("Skipped: ")}
    return "success", {}


def failure_report(
    nodeid: str, location: tuple[str, int | None, str], text: str
) -> pytest.TestReport:
    """A failed report for an item whose worker could not report it (crash, timeout...)."""
    return pytest.TestReport(
        nodeid=nodeid,
        location=location,
        keywords={},
        outcome="failed",
        longrepr=text.rstrip("\n"),
        when="call",
    )
