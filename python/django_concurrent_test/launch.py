"""Finding Node and the bundled engine, and starting the engine with a bridge channel."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NoReturn

from .bridge import SYS_PATH_ENV, Bridge
from .exceptions import EngineUnavailable
from .protocol import Channel

ENGINE_PATH = Path(__file__).parent / "_engine" / "cli.mjs"
NODE_ENV = "DJANGO_CONCURRENT_TEST_NODE"
MIN_NODE_MAJOR = 20
# The engine's exit status asking the caller to run Django's sequential runner instead.
EXIT_FALLBACK = 3


def find_node() -> str:
    """The Node executable to run the engine with. Raises EngineUnavailable (exit 2, one line
    and a hint) when there is none that works: a run never goes on without the engine."""
    node = os.environ.get(NODE_ENV) or shutil.which("node")
    if not node:
        raise EngineUnavailable(
            "no Node.js runtime found",
            "install Node >= 20 or set DJANGO_CONCURRENT_TEST_NODE to a node executable",
        )
    try:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        major = int(version.lstrip("v").split(".")[0])
    except (OSError, subprocess.SubprocessError, ValueError):
        raise EngineUnavailable(
            f"could not run {node} --version",
            "point DJANGO_CONCURRENT_TEST_NODE at a working node >= 20, or unset it",
        ) from None
    if major < MIN_NODE_MAJOR:
        raise EngineUnavailable(
            f"Node {version} is too old (need >= {MIN_NODE_MAJOR})",
            "install a newer Node or set DJANGO_CONCURRENT_TEST_NODE",
        )
    if not ENGINE_PATH.exists():
        raise EngineUnavailable(
            f"the engine bundle is missing ({ENGINE_PATH})",
            "reinstall the package",
        )
    return node


def exit_unavailable(error: EngineUnavailable) -> NoReturn:
    """One line and a hint on stderr, then exit 2 (before anything was created)."""
    sys.stdout.flush()
    sys.stderr.write(f"{type(error).__name__}: {error}\n")
    if error.hint:
        sys.stderr.write(f"Hint: {error.hint}\n")
    sys.exit(error.exit_code)


def engine_env() -> dict[str, str]:
    env = dict(os.environ)
    env[SYS_PATH_ENV] = json.dumps([p for p in sys.path if p])
    return env


def run_engine_with_bridge(
    node: str,
    runner: Any,
    labels: list[str],
    options: dict[str, Any],
    make_bridge: Callable[[Channel, int], Bridge] | None = None,
    output: IO[bytes] | None = None,
) -> tuple[int, str | None]:
    """Start the engine and serve as its bridge until it is done (``make_bridge``: another
    flavour of bridge, e.g. pytest's; ``output``: where the engine's own output goes instead
    of this process's stdout and stderr).

    Returns the engine's exit status and, when it asks for a sequential run, the reason."""
    ours, theirs = socket.socketpair()
    try:
        process = subprocess.Popen(
            [node, str(ENGINE_PATH), "run", "--bridge-fd", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            env=engine_env(),
            stdout=output,
            stderr=output,
        )
    finally:
        theirs.close()
    if make_bridge is not None:
        bridge = make_bridge(Channel(ours), process.pid)
    else:
        bridge = Bridge(
            Channel(ours),
            runner=runner,
            labels=labels,
            runner_options=options,
            engine_pid=process.pid,
        )
    try:
        bridge.serve()
    finally:
        ours.close()
        # The engine may still be writing its reports: a Ctrl-C now is its to handle too.
        with bridge.forwarding_signals():
            code = process.wait()
    return code, bridge.fallback_reason
