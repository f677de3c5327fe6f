"""Refusing to run when another installed distribution also provides ``django_concurrent_test``
(e.g. the unrelated ``django-concurrent-test`` 1.0.x on PyPI): the two overwrite each other's
files, and a run would mix them. Runs at every start, so it reads only small metadata files."""

from __future__ import annotations

import re
from importlib.metadata import Distribution, distributions

from . import DISTRIBUTION
from .exceptions import EngineUnavailable

PACKAGE = "django_concurrent_test"
# A RECORD line of a file inside the package (not "django_concurrent_testrunner-....dist-info/").
_RECORD_LINE = re.compile(rf"^{PACKAGE}/", re.MULTILINE)


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _provides_package(dist: Distribution) -> bool:
    top_level = dist.read_text("top_level.txt")
    if top_level is not None:
        return PACKAGE in top_level.split()
    record = dist.read_text("RECORD") or dist.read_text("SOURCES.txt") or ""
    return bool(_RECORD_LINE.search(record))


def other_providers() -> list[Distribution]:
    """Installed distributions other than ours that provide the ``django_concurrent_test``
    package."""
    ours = _normalized(DISTRIBUTION)
    # Metadata is parsed only for the few that provide the package (ours among them).
    return [
        dist
        for dist in distributions()
        if _provides_package(dist) and _normalized(dist.metadata["Name"] or "") != ours
    ]


def ensure_single_distribution() -> None:
    """Raises EngineUnavailable naming the other distribution and how to remove it."""
    others = other_providers()
    if not others:
        return
    other = others[0]
    name = other.metadata["Name"]
    raise EngineUnavailable(
        f"another installed distribution also provides {PACKAGE}: {name} {other.version}",
        f"pip uninstall {name}, then pip install --force-reinstall {DISTRIBUTION} "
        "(uninstalling it removes the files the two share)",
    )
