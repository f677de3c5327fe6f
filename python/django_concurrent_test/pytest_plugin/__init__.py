"""``pytest --concurrent``: a pytest-django suite on the same engine as ``manage.py test``.

Registered through the ``pytest11`` entry point, so installing the package is enough. Without
``--concurrent`` it only adds its options. With it, pytest collects as usual, then this
process starts the engine and serves as its bridge (bridge.py): one migrated template,
one clone per worker, workers forked from the collected session, every report printed here by
pytest's own terminal reporter.

This package is the plugin (its hooks are here; its options come from options.py); its modules
are the flavour's launch, bridge, groups, db, worker and reports.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from ..options import GROUP, add_pytest_options

EXIT_CONFIG_ERROR = 2
# The engine (after its safety gate) hands the session back to pytest's own loop.
EXIT_HAND_BACK = 3
EXIT_SIGINT = 130
EXIT_SIGTERM = 143
_ENGINE_OUTPUT = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_pytest_options(parser.getgroup(GROUP))


def _active(config: pytest.Config) -> bool:
    # An xdist worker never runs the engine; -n with --concurrent is refused in configure.
    return bool(config.getoption("concurrent", False)) and not hasattr(config, "workerinput")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if not _active(config):
        return
    if config.getoption("numprocesses", None) or config.getoption("dist", "no") != "no":
        raise pytest.UsageError("--concurrent and pytest-xdist's -n/--dist cannot be combined")
    if not config.pluginmanager.has_plugin("django"):
        raise pytest.UsageError("--concurrent needs pytest-django (pip install pytest-django)")
    from . import db

    # Before collection, so every item's fixture closure sees its django_db_setup.
    config.pluginmanager.register(db, "django-concurrent-test-db")
    terminal = config.pluginmanager.getplugin("terminalreporter")
    if terminal is not None:
        # Results arrive in completion order, module after module: no file names on the dots
        # (pytest-xdist does the same); -v lines still name every test.
        terminal.showfspath = False


def _sequential(session: pytest.Session, reason: str) -> None:
    terminal = session.config.pluginmanager.getplugin("terminalreporter")
    line = f"django-concurrent-test: running sequentially: {reason}."
    if terminal is not None:
        terminal.write_line(line)
    else:
        sys.stderr.write(line + "\n")


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> Any:
    """Runs the collected items on the engine's workers; None hands the run back to pytest."""
    config = session.config
    if not _active(config):
        return None
    collection_failed = session.testsfailed and not config.option.continue_on_collection_errors
    if collection_failed or config.option.collectonly or not session.items:
        return None  # pytest's own loop reports these exactly as usual
    from django.conf import settings

    if not settings.configured:
        raise pytest.UsageError(
            "--concurrent needs Django settings: set DJANGO_SETTINGS_MODULE or use --ds"
        )
    from ..exceptions import EngineUnavailable
    from ..launch import find_node, report_unavailable
    from .launch import run_engine

    try:
        run = run_engine(find_node(), session)
    except EngineUnavailable as error:
        report_unavailable(error)
        # pytest.exit, not SystemExit: pytest calls that an internal error (exit 3).
        pytest.exit("django-concurrent-test could not start (see above)", error.exit_code)
    if run.code == EXIT_HAND_BACK:
        _sequential(session, run.fallback or "the engine asked for it")
        return None
    if run.code not in (0, 1) or (run.code == 1 and not session.testsfailed):
        # A refusal, an interrupt or a run error: what the engine said, then pytest's exit.
        sys.stderr.write(run.output)
        sys.stderr.flush()
        if run.code in (EXIT_SIGINT, EXIT_SIGTERM):
            raise KeyboardInterrupt
        pytest.exit(
            "django-concurrent-test stopped the run (see above)",
            returncode=run.code if run.code in (1, EXIT_CONFIG_ERROR) else 1,
        )
    config.stash[_ENGINE_OUTPUT] = run.output
    if session.shouldfail:
        raise session.Failed(session.shouldfail)
    if session.shouldstop:
        raise session.Interrupted(session.shouldstop)
    return True


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """What the engine printed (worker problems, the benchmark summary, report paths)."""
    output = config.stash.get(_ENGINE_OUTPUT, "").strip("\n")
    if output:
        terminalreporter.write_sep("-", "django-concurrent-test")
        terminalreporter.write_line(output)
