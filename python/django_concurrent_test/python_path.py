"""The ``sys.path`` of the process that launched a run, for the Python processes the engine
spawns (``python -m django_concurrent_test.bridge`` and ``.worker``): they import the project's
modules from the same places."""

from __future__ import annotations

import json
import os
import sys

SYS_PATH_ENV = "DJANGO_CONCURRENT_TEST_SYS_PATH"


def prepare_python_path() -> None:
    """Give spawned Python processes the sys.path of the process that launched the run."""
    extra = os.environ.get(SYS_PATH_ENV)
    if extra:
        for entry in reversed(json.loads(extra)):
            if entry not in sys.path:
                sys.path.insert(0, entry)
