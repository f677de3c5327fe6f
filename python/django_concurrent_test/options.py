"""The run options, declared once: ``manage.py test``'s (the runner's ``add_arguments``) and
``pytest --concurrent``'s (the plugin's ``addoption``) are built from ``RUN_OPTIONS``.

The engine's own command line (``django-concurrent-test run``) offers the manage.py options
under the same flags; tests/test_options_once.py checks its ``--help`` against this list.

A count or a number of seconds that manage.py cannot parse goes to the engine as typed, and
the engine refuses it as it refuses a bad ``DJANGO_TEST_WORKERS``: one line and a hint, exit 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["count", "seconds", "text", "switch", "choice"]
FrontEnd = Literal["manage.py", "engine", "pytest"]
GROUP = "django-concurrent-test"


@dataclass(frozen=True)
class Spelling:
    """How one front end offers an option: its flags and help (pytest's ``dest`` is its own,
    since its flags differ; its switches default to False, as pytest's do)."""

    flags: tuple[str, ...]
    help: str
    dest: str | None = None
    default: bool | None = None


@dataclass(frozen=True)
class RunOption:
    #: The engine's name for the option (its ``runnerOptions`` key); None: not the engine's.
    key: str | None
    kind: Kind
    metavar: str | None = None
    choices: tuple[str, ...] = ()
    #: manage.py test; the engine's command line has the same flags when ``engine`` is true.
    manage_py: Spelling | None = None
    engine: bool = True
    pytest: Spelling | None = None

    @property
    def front_ends(self) -> tuple[FrontEnd, ...]:
        ends: list[FrontEnd] = []
        if self.manage_py is not None:
            ends.append("manage.py")
            if self.engine:
                ends.append("engine")
        if self.pytest is not None:
            ends.append("pytest")
        return tuple(ends)

    @property
    def dest(self) -> str:
        """manage.py's keyword for it (argparse's: ``--start-method`` is ``start_method``)."""
        assert self.manage_py is not None
        return self.manage_py.flags[0].lstrip("-").replace("-", "_")

    @property
    def pytest_dest(self) -> str:
        """pytest's name for it (``config.getoption``)."""
        assert self.pytest is not None and self.pytest.dest is not None
        return self.pytest.dest

    def engine_value(self, value: Any) -> Any:
        """What the engine gets: a switch not given is None (the engine tells it from off)."""
        return (True if value else None) if self.kind == "switch" else value


RUN_OPTIONS: tuple[RunOption, ...] = (
    RunOption(
        None,
        "switch",
        pytest=Spelling(
            ("--concurrent",),
            "Run the tests on several workers, each on its own clone of the "
            "migrated test database (pytest-django projects).",
            dest="concurrent",
            default=False,
        ),
    ),
    RunOption(
        "workers",
        "count",
        metavar="N",
        manage_py=Spelling(("--workers",), "Number of worker processes (default: CPU count)."),
        pytest=Spelling(
            ("--workers", "--concurrent-workers"),
            "With --concurrent: number of workers (default: CPU count).",
            dest="concurrent_workers",
        ),
    ),
    RunOption(
        "benchmark",
        "switch",
        manage_py=Spelling(("--benchmark",), "Print the benchmark summary after the run."),
        pytest=Spelling(
            ("--benchmark",),
            "With --concurrent: print the benchmark summary.",
            dest="concurrent_benchmark",
            default=False,
        ),
    ),
    RunOption(
        "junitxml",
        "text",
        metavar="PATH",
        manage_py=Spelling(("--junitxml",), "Write a JUnit XML report to PATH."),
    ),
    RunOption(
        "html",
        "text",
        metavar="PATH",
        manage_py=Spelling(("--html",), "Write a self-contained HTML report to PATH."),
        pytest=Spelling(
            ("--concurrent-html",),
            "With --concurrent: write the HTML report with a worker timeline.",
            dest="concurrent_html",
        ),
    ),
    RunOption(
        "shard",
        "text",
        metavar="I/N",
        manage_py=Spelling(("--shard",), "Run only part I of N of the suite (CI sharding)."),
    ),
    RunOption(
        "timeout",
        "seconds",
        metavar="SECONDS",
        manage_py=Spelling(
            ("--timeout",),
            "Kill a worker whose test class runs longer than this "
            "(default 300); its running test is reported as WorkerTimeout.",
        ),
        pytest=Spelling(
            ("--concurrent-timeout",),
            "With --concurrent: the longest one group of tests may run on a worker.",
            dest="concurrent_timeout",
        ),
    ),
    RunOption(
        "startMethod",
        "choice",
        choices=("fork", "spawn"),
        manage_py=Spelling(
            ("--start-method",), "How workers start: fork from a warm process, or spawn."
        ),
    ),
    RunOption(
        "rebuildTemplates",
        "switch",
        manage_py=Spelling(
            ("--rebuild-templates",),
            "Migrate the template databases again even when the cache "
            "has a complete one for these migrations.",
        ),
    ),
)


def offered_by(front_end: FrontEnd) -> list[RunOption]:
    return [option for option in RUN_OPTIONS if front_end in option.front_ends]


def _as_typed(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """manage.py: the value parsed, or the text itself for the engine to refuse with a hint."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError:
            return text

    return convert


_STRICT_TYPES: dict[Kind, Callable[[str], Any]] = {"count": int, "seconds": float}


def _argparse_kwargs(option: RunOption, spelling: Spelling, *, strict: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"help": spelling.help, "default": spelling.default}
    if option.kind == "switch":
        kwargs["action"] = "store_true"
    elif option.kind == "choice":
        kwargs["choices"] = list(option.choices)
    elif option.kind in _STRICT_TYPES:
        parse = _STRICT_TYPES[option.kind]
        kwargs["type"] = parse if strict else _as_typed(parse)
    if option.metavar is not None:
        kwargs["metavar"] = option.metavar
    if spelling.dest is not None:
        kwargs["dest"] = spelling.dest
    return kwargs


def add_manage_py_arguments(parser: argparse.ArgumentParser) -> None:
    """The runner's options, in their own group of ``manage.py test --help``."""
    group = parser.add_argument_group(GROUP)
    for option in offered_by("manage.py"):
        assert option.manage_py is not None
        kwargs = _argparse_kwargs(option, option.manage_py, strict=False)
        group.add_argument(*option.manage_py.flags, **kwargs)


def add_pytest_options(group: Any) -> None:
    """The plugin's options, in pytest's ``django-concurrent-test`` group (pytest's own parser
    refuses a value of the wrong type, as it does for every plugin's option)."""
    for option in offered_by("pytest"):
        assert option.pytest is not None
        group.addoption(
            *option.pytest.flags, **_argparse_kwargs(option, option.pytest, strict=True)
        )


def engine_options(values: Iterable[tuple[RunOption, Any]]) -> dict[str, Any]:
    """The engine's runnerOptions entries for the given option values."""
    return {option.key: option.engine_value(value) for option, value in values if option.key}
