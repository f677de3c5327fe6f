"""Running the real engine and Django's own runner on the example projects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BOOKSTORE = REPO / "examples" / "bookstore"
EDGECASES = REPO / "tests" / "projects" / "edgecases"
SUPPORT = REPO / "tests" / "support"
PYTHON = sys.executable

OPT_IN = {"DJANGO_ENABLE_CONCURRENT": "1", "NO_TELEMETRY": "1"}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    events: list[dict[str, Any]] = field(default_factory=list)
    recorded: dict[str, list[str]] | None = None
    order: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def outcomes(self) -> dict[str, list[str]]:
        """Test id -> sorted outcomes (several for subtests or a failing tearDown)."""
        if self.recorded is not None:
            return {k: sorted(v) for k, v in self.recorded.items()}
        result: dict[str, list[str]] = {}
        for event in self.events:
            if event["type"] == "testStart":
                result.setdefault(event["test"], [])
            if event["type"] == "outcome":
                key = event.get("parent") or event["test"]
                result.setdefault(key, []).append(event["outcome"])
        return {k: sorted(v) for k, v in result.items()}

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    @property
    def handed_out(self) -> list[str]:
        return [e["label"] for e in self.of("classStart")]


def _env(db: str, extra: dict[str, str] | None) -> dict[str, str]:
    env = {**os.environ, "EXAMPLE_DB": db, "PYTHONUNBUFFERED": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(extra or {})
    return env


def run_concurrent(
    project: Path,
    *args: str,
    db: str = "sqlite",
    env: dict[str, str] | None = None,
    opt_in: bool = True,
    timeout: float = 300,
) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "events.jsonl"
        full_env = _env(
            db,
            {
                **(OPT_IN if opt_in else {}),
                **(env or {}),
                "DJANGO_CONCURRENT_TEST_EVENT_LOG": str(log),
            },
        )
        proc = subprocess.run(
            [PYTHON, "manage.py", "test", *args],
            cwd=project,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return Run(proc.returncode, proc.stdout, proc.stderr, events)


def run_django(
    project: Path,
    *args: str,
    db: str = "sqlite",
    timeout: float = 300,
    env: dict[str, str] | None = None,
) -> Run:
    """Django's own sequential DiscoverRunner, recording per-test outcomes."""
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "outcomes.json"
        extra = {**(env or {}), "PYTHONPATH": str(SUPPORT), "RECORD_OUTCOMES": str(record)}
        env = _env(db, extra)
        proc = subprocess.run(
            [
                PYTHON,
                "manage.py",
                "test",
                "--testrunner",
                "recording_runner.RecordingRunner",
                *args,
            ],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        data = json.loads(record.read_text()) if record.exists() else {}
    return Run(
        proc.returncode,
        proc.stdout,
        proc.stderr,
        recorded=data.get("outcomes", {}),
        order=data.get("order", []),
    )


def class_order(run: Run) -> list[str]:
    """Classes in the order Django's runner started them (labels as the engine names them)."""
    order: list[str] = []
    for test_id in run.order:
        label = test_id.rsplit(".", 1)[0]
        if label not in order:
            order.append(label)
    return order
