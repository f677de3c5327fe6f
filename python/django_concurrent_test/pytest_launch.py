"""Starting the engine for ``pytest --concurrent``, with this process as a pytest bridge.

The engine's own output (worker problems, the benchmark summary, errors) is collected rather
than interleaved with pytest's progress line; the plugin shows it in pytest's terminal summary.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

import pytest

from .launch import run_engine_with_bridge
from .protocol import Channel
from .pytest_bridge import PytestBridge


@dataclass
class EngineRun:
    code: int
    #: Set when the engine asks for a sequential run: why.
    fallback: str | None
    #: What the engine printed.
    output: str


def run_engine(node: str, session: pytest.Session) -> EngineRun:
    """Runs the session's items on the engine. An error of pytest's own reporting hooks is
    raised once the engine has cleaned up."""
    bridges: list[PytestBridge] = []

    def make_bridge(channel: Channel, engine_pid: int) -> PytestBridge:
        bridges.append(PytestBridge(channel, session, engine_pid))
        return bridges[0]

    with tempfile.TemporaryFile() as output:
        code, fallback = run_engine_with_bridge(
            node, None, [], {}, make_bridge=make_bridge, output=output
        )
        output.seek(0)
        text = output.read().decode("utf-8", errors="replace")
    if bridges and bridges[0].internal_error is not None:
        raise bridges[0].internal_error
    return EngineRun(code, fallback, text)
