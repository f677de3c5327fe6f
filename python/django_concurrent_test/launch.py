"""Starting the engine with a bridge channel (``runtime.find_node`` finds what it runs on)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from typing import IO, Any, NoReturn

from .bridge import Bridge
from .exceptions import EngineUnavailable
from .messages import RunnerOptions
from .protocol import Channel
from .python_path import SYS_PATH_ENV
from .runtime import ENGINE_PATH, REINSTALL_HINT
from .runtime import find_node as find_node  # where the runner, plugin and CLI import it

# The engine's own refusals (one line and a hint, printed by it) exit with this status.
EXIT_REFUSED = 2
# Loads the bundle so that one that cannot load (a damaged or mismatched install) says so in one
# line and exits 2 instead of a Node stack trace; argv stays that of `node cli.mjs ...`.
_LOADER = (
    "import(require('node:url').pathToFileURL(process.argv[1]).href).catch((e) => {"
    " const why = String((e && e.message) || e).split('\\n')[0];"
    " process.stderr.write('EngineUnavailable: the engine cannot load ('"
    " + ((e && e.name) || 'Error') + ': ' + why + ')\\nHint: ' + HINT + '\\n');"
    " process.exit(2); });"
).replace("HINT", json.dumps(REINSTALL_HINT))


def engine_command(node: str, *args: str) -> list[str]:
    """The command line that runs the bundled engine with ``args``."""
    return [node, "-e", _LOADER, str(ENGINE_PATH), *args]


def exit_unavailable(error: EngineUnavailable) -> NoReturn:
    """One line and a hint on stderr, then exit 2 (before anything was created)."""
    report_unavailable(error)
    sys.exit(error.exit_code)


def report_unavailable(error: EngineUnavailable) -> None:
    """The one line and the hint, on stderr."""
    sys.stdout.flush()
    sys.stderr.write(f"{type(error).__name__}: {error}\n")
    if error.hint:
        sys.stderr.write(f"Hint: {error.hint}\n")
    sys.stderr.flush()


def engine_env() -> dict[str, str]:
    env = dict(os.environ)
    env[SYS_PATH_ENV] = json.dumps([p for p in sys.path if p])
    return env


def run_engine_with_bridge(
    node: str,
    runner: Any,
    labels: list[str],
    options: RunnerOptions,
    make_bridge: Callable[[Channel, int], Bridge] | None = None,
    output: IO[bytes] | None = None,
) -> tuple[int, str | None]:
    """Start the engine and serve as its bridge until it is done (``make_bridge``: another
    flavour of bridge, e.g. pytest's; ``output``: where the engine's own output goes instead
    of this process's stdout and stderr).

    Returns the engine's exit status and, when it hands a pytest run back to pytest's loop, the
    reason. Raises EngineUnavailable when the engine ended before it said anything (it never
    started: nothing was created)."""
    ours, theirs = socket.socketpair()
    try:
        process = subprocess.Popen(
            engine_command(node, "run", "--bridge-fd", str(theirs.fileno())),
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
    if not bridge.engine_spoke and code != EXIT_REFUSED:
        raise EngineUnavailable(
            f"the engine ended before it started ({_status(code)})", REINSTALL_HINT
        )
    return code, bridge.fallback_reason


def _status(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"exit status {code}"
