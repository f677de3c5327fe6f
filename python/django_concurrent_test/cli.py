"""``django-concurrent-test``: the engine's command line, installed with the Python package.

Runs the bundled engine with this interpreter as the Python it drives, so
``django-concurrent-test --settings=mysite.settings`` works from a project root.
"""

from __future__ import annotations

import os
import subprocess
import sys

from . import DISTRIBUTION, __version__
from .exceptions import EngineUnavailable
from .launch import engine_env, exit_unavailable
from .runtime import ENGINE_PATH, find_node

VERSION_FLAGS = ("--version", "-V")


def version_line(node: str) -> str:
    """``django-concurrent-testrunner 0.2.0 (engine 0.2.0, Node v22.1.0)``: the engine's version
    is the one built into the bundle, so a stale bundle shows here."""
    engine = _output([node, str(ENGINE_PATH), "--version"])
    runtime = _output([node, "--version"])
    return f"{DISTRIBUTION} {__version__} (engine {engine}, Node {runtime})"


def _output(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def main() -> None:
    try:
        node = find_node()
    except EngineUnavailable as error:
        exit_unavailable(error)
    if sys.argv[1:] and sys.argv[1] in VERSION_FLAGS:
        print(version_line(node))
        return
    env = engine_env()
    # The engine drives the Python this command was installed with (unless --python says).
    env.setdefault("DJANGO_CONCURRENT_TEST_PYTHON", sys.executable)
    os.execve(node, [node, str(ENGINE_PATH), *sys.argv[1:]], env)


if __name__ == "__main__":
    main()
