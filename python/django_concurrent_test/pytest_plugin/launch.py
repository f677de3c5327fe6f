"""Starting the engine for ``pytest --concurrent``, with this process as a pytest bridge.

The engine's own output (worker problems, the benchmark summary, errors) is collected rather
than interleaved with pytest's progress line; the plugin shows it in pytest's terminal summary.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import IO

import pytest

from ..exceptions import EngineUnavailable
from ..launch import run_engine_with_bridge
from ..protocol import Channel
from .bridge import PytestBridge


@dataclass
class EngineRun:
    code: int
    #: Set when the engine hands the session back to pytest's own loop: why.
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
        try:
            code, fallback = run_engine_with_bridge(
                node, None, [], {}, make_bridge=make_bridge, output=output
            )
        except EngineUnavailable as error:
            raise EngineUnavailable(_with_first_line(str(error), output), error.hint) from None
        text = _read(output)
    if bridges and bridges[0].internal_error is not None:
        raise bridges[0].internal_error
    return EngineRun(code, fallback, text)


def _read(output: IO[bytes]) -> str:
    output.seek(0)
    return output.read().decode("utf-8", errors="replace")


def _with_first_line(message: str, output: IO[bytes]) -> str:
    """The message, with the first line the engine printed (say, Node's error) in brackets."""
    lines = [line.strip() for line in _read(output).splitlines() if line.strip()]
    return f"{message}: {lines[0]}" if lines else message
