"""Per-connection flags that a class may leave changed for the classes after it on a worker.

Django's own ``test_runner`` tests call ``setup_databases(debug_sql=True)``, which turns on
``force_debug_cursor`` for every connection and never turns it off. Under Django's runner the
classes after it rarely look; under ours a longest-first order can put a class that asserts no
query is logged right after it on the same worker. Each class therefore starts with the flags as
they were when the worker attached its databases (``--debug-sql`` included).
"""

from __future__ import annotations

from typing import Any

FLAGS = ("force_debug_cursor",)


class ConnectionFlags:
    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, object]] = []

    def attach(self, connections: list[Any]) -> None:
        """Remember the flags as the attached databases start them."""
        self._saved = [
            (connection, flag, getattr(connection, flag))
            for connection in connections
            for flag in FLAGS
        ]

    def before_class(self) -> None:
        for connection, flag, value in self._saved:
            if getattr(connection, flag) != value:
                setattr(connection, flag, value)
