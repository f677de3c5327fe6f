"""``django-concurrent-test``: the engine's command line, installed with the Python package.

Runs the bundled engine with this interpreter as the Python it drives, so
``django-concurrent-test --settings=mysite.settings`` works from a project root.
"""

from __future__ import annotations

import os
import sys

from .exceptions import EngineUnavailable
from .launch import ENGINE_PATH, engine_env, exit_unavailable, find_node


def main() -> None:
    try:
        node = find_node()
    except EngineUnavailable as error:
        exit_unavailable(error)
    env = engine_env()
    # The engine drives the Python this command was installed with (unless --python says).
    env.setdefault("DJANGO_CONCURRENT_TEST_PYTHON", sys.executable)
    os.execve(node, [node, str(ENGINE_PATH), *sys.argv[1:]], env)


if __name__ == "__main__":
    main()
