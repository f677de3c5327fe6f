"""Per-test outcomes of a run, read from what each contestant writes, and the check against the
workload's expected outcomes. A run whose outcomes differ does not count."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

Outcomes = dict[str, list[str]]


def from_record(path: Path) -> tuple[Outcomes, dict[str, Any]]:
    """The recording runner's file (Django's runner, or ours when it fell back)."""
    data = json.loads(path.read_text())
    return {k: sorted(v) for k, v in data["outcomes"].items()}, data


def from_event_log(events: list[dict[str, Any]]) -> Outcomes:
    """Our engine's event log (DJANGO_CONCURRENT_TEST_EVENT_LOG)."""
    result: Outcomes = {}
    for event in events:
        if event.get("type") == "testStart":
            result.setdefault(event["test"], [])
        if event.get("type") == "outcome":
            result.setdefault(event.get("parent") or event["test"], []).append(event["outcome"])
    return {k: sorted(v) for k, v in result.items()}


def read_event_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def from_junit(path: Path) -> Outcomes:
    """pytest's --junitxml: classname + name is the unittest id of a TestCase method."""
    result: Outcomes = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        test_id = f"{case.get('classname')}.{case.get('name')}"
        kinds = [child for child in case if child.tag in ("failure", "error", "skipped")]
        if not kinds:
            result.setdefault(test_id, []).append("success")
        for child in kinds:
            if child.tag == "skipped":
                xfail = child.get("type") == "pytest.xfail"
                result.setdefault(test_id, []).append("expectedFailure" if xfail else "skip")
            else:
                result.setdefault(test_id, []).append(child.tag)
    return {k: sorted(v) for k, v in result.items()}


def mismatches(expected: dict[str, dict[str, str]], got: Outcomes) -> list[str]:
    """Lines describing every test whose outcomes differ from the expected ones (empty: equal)."""
    lines = []
    for test_id, want in expected.items():
        have = got.get(test_id)
        if have != [want["outcome"]]:
            lines.append(f"{test_id}: expected {want['outcome']}, got {have or 'nothing'}")
    lines.extend(
        f"{test_id}: not in the workload, got {got[test_id]}"
        for test_id in sorted(set(got) - set(expected))
    )
    return lines
