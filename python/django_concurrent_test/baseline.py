"""The measured sequential baseline for ``--benchmark``.

A sequential run (``--workers=1 --benchmark``: Django's own runner) stores its wall time in
``.django-concurrent-test/sequential.json`` under a key made of the exact test ids it ran; a
later concurrent ``--benchmark`` run of the same tests reports "faster than sequential" against
it ("measured") instead of an estimate. The engine reads the file
(engine/src/reporters/sequential-baseline.ts computes the same key).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BASELINE_FILE = Path(".django-concurrent-test") / "sequential.json"


def selection_key(test_ids: list[str]) -> str:
    """sha256 of the sorted test ids joined by newlines, first 16 hex digits."""
    ordered = sorted(test_ids)
    return hashlib.sha256("\n".join(ordered).encode("utf-8")).hexdigest()[:16]


def wants_benchmark(options: dict[str, Any]) -> bool:
    if options.get("benchmark"):
        return True
    from django.conf import settings

    config = getattr(settings, "CONCURRENT_TEST_CONFIG", None) or {}
    return bool(isinstance(config, dict) and config.get("benchmark"))


def remember_suite(runner: Any, suite: Any) -> None:
    """Keep the ids of the tests about to run (the key the measurement is stored under)."""
    from django.test.utils import iter_test_cases

    runner._dct_test_ids = [test.id() for test in iter_test_cases(suite)]


def record_sequential(runner: Any, seconds: float, project_dir: Path | None = None) -> Path | None:
    """Store the sequential run's wall time; a read-only checkout only loses the baseline."""
    test_ids: list[str] | None = getattr(runner, "_dct_test_ids", None)
    if not test_ids:
        return None
    path = (project_dir or Path.cwd()) / BASELINE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != 1:
            data = {}
    except (OSError, ValueError):
        data = {}
    stored = data.get("selections")
    selections: dict[str, Any] = stored if isinstance(stored, dict) else {}
    selections[selection_key(test_ids)] = {
        "seconds": round(seconds, 3),
        "tests": len(test_ids),
        "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    text = json.dumps({"version": 1, "selections": selections}, indent=1, sort_keys=True) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except OSError:
        Path(temp).unlink(missing_ok=True)
        return None
    sys.stdout.write(
        f"[CONCURRENT] Sequential run: {seconds:.1f}s for {len(test_ids)} tests, stored in "
        f"{BASELINE_FILE} as the baseline for --benchmark\n"
    )
    return path
