"""The adapter's layout: no import cycle between its modules, every module says what it is for,
every folder is a package (so the wheel has it), and the import paths the documentation names
still import."""

from __future__ import annotations

import ast
import json
import subprocess
import tomllib
from pathlib import Path

from helpers import PYTHON, REPO

PACKAGE = REPO / "python" / "django_concurrent_test"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(node: ast.Import | ast.ImportFrom, name: str, is_package: bool) -> list[str]:
    """The modules an import statement names (``from .x import y``: ``x.y`` if it is one)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = name.split(".")
        base = base[: len(base) - node.level + (1 if is_package else 0)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    return [target, *(f"{target}.{alias.name}" for alias in node.names)]


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports, anywhere in its body (an import
    inside a function is still a dependency: it only moves the cycle to run time)."""
    paths = {module_name(path, root): path for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                is_package = path.name == "__init__.py"
                edges |= {m for m in imported(node, name, is_package) if m in paths and m != name}
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_adapter_has_no_import_cycle() -> None:
    assert cycles(import_graph(PACKAGE)) == []


def test_a_cycle_through_a_function_level_or_relative_import_is_found(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from .b import thing\n")
    (package / "a.py").write_text("def f():\n    from .sub import b\n")
    (package / "sub" / "b.py").write_text("from .. import a\nthing = 1\n")
    (package / "c.py").write_text("import pkg.a\n")
    assert cycles(import_graph(package)) == [["pkg.a", "pkg.sub", "pkg.sub.b"]]


def test_every_module_opens_with_a_docstring_saying_what_it_is_for() -> None:
    missing = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if not (ast.get_docstring(ast.parse(path.read_text())) or "").strip()
    ]
    assert missing == []


def test_every_folder_of_modules_is_a_package_the_wheel_carries() -> None:
    folders = {path.parent for path in PACKAGE.rglob("*.py")}
    assert [str(f) for f in sorted(folders) if not (f / "__init__.py").exists()] == []


DOCUMENTED = """
from django_concurrent_test.runner import ConcurrentTestRunner
from django_concurrent_test.middleware import RaceConditionMiddleware
from django_concurrent_test.race import (
    RaceError, RaceResult, Racer, race, race_requests, racer_index, replayable,
)
from django_concurrent_test.exceptions import ConcurrentTestException
import importlib, json, sys
plugin = importlib.import_module(sys.argv[1])
print(json.dumps(sorted(name for name in vars(plugin) if name.startswith("pytest_"))))
"""


def test_the_documented_import_paths_and_the_pytest_entry_point_import() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    entry = project["project"]["entry-points"]["pytest11"]["django_concurrent_test"]
    proc = subprocess.run(
        [PYTHON, "-c", DOCUMENTED, entry], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    hooks = json.loads(proc.stdout)
    assert {"pytest_addoption", "pytest_configure", "pytest_runtestloop"} <= set(hooks)
