"""The run options are declared once (options.py): manage.py test's and pytest's option groups
are that list, the engine's own command line offers the same flags (and nothing manage.py
lacks), and a value manage.py cannot parse is refused as every bad value is: one line, a hint,
exit 2."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest
from _pytest.config.argparsing import Parser

from django_concurrent_test.options import GROUP, RUN_OPTIONS, RunOption, offered_by
from django_concurrent_test.pytest_plugin import pytest_addoption
from helpers import EDGECASES, PYTHON, REPO, run_concurrent

ENGINE = REPO / "python" / "django_concurrent_test" / "_engine" / "cli.mjs"
NODE = shutil.which("node") or "node"

# The flags of manage.py test's parser, and its django-concurrent-test group, as JSON.
MANAGE_PY_PARSER = """
import json, django
from django.conf import settings
settings.configure(TEST_RUNNER="django_concurrent_test.runner.ConcurrentTestRunner")
django.setup()
from django.core.management.commands.test import Command
parser = Command().create_parser("manage.py", "test")
def describe(action):
    choices = list(action.choices) if action.choices else None
    return {"flags": action.option_strings, "help": action.help, "metavar": action.metavar,
            "choices": choices, "nargs": action.nargs}
print(json.dumps({
    "all": [describe(a) for a in parser._actions if a.option_strings],
    "ours": [describe(a) for g in parser._action_groups if g.title == "django-concurrent-test"
             for a in g._group_actions],
}))
"""


def manage_py_parser() -> dict[str, list[dict]]:
    proc = subprocess.run(
        [PYTHON, "-c", MANAGE_PY_PARSER], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def engine_run_options() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Flag -> (its value: "required", "optional" or "none"; choices) from ``run --help``."""
    help_text = subprocess.run(
        [NODE, str(ENGINE), "run", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    options = help_text.split("Options:", 1)[1]
    found = {}
    for entry in re.split(r"\n(?=  -)", options.strip("\n")):
        head = re.match(r"\s*((?:-[\w-]+(?:, )?)+)(?: ([<\[])[^>\]]*[>\]])?", entry)
        assert head, entry
        value = {"<": "required", "[": "optional", None: "none"}[head[2]]
        listed = re.search(r"\(choices: ([^)]*)\)", entry)
        choices = tuple(re.findall(r'"([^"]+)"', listed[1])) if listed else ()
        for flag in head[1].split(", "):
            found[flag] = (value, choices)
    return found


def expected_value(option: RunOption) -> str:
    return "none" if option.kind == "switch" else "required"


def test_the_engine_command_line_offers_every_declared_option_alike() -> None:
    engine = engine_run_options()
    for option in offered_by("engine"):
        assert option.manage_py is not None
        for flag in option.manage_py.flags:
            assert engine.get(flag) == (expected_value(option), option.choices), flag


def test_the_engine_command_line_has_no_option_manage_py_lacks() -> None:
    engine = engine_run_options()
    nargs = {flag: a["nargs"] for a in manage_py_parser()["all"] for flag in a["flags"]}
    # --python: the interpreter the engine spawns (manage.py is already running in one).
    # --durations: Django offers it on Python 3.12+ only.
    engine_only = {"--python"} | ({"--durations"} if sys.version_info < (3, 12) else set())
    value = {0: "none", "?": "optional", None: "required"}
    for flag, (takes, _) in engine.items():
        if flag not in engine_only:
            assert flag in nargs, flag
            assert value.get(nargs[flag]) == takes, flag


def test_manage_py_offers_the_declared_options_with_their_help() -> None:
    ours = manage_py_parser()["ours"]
    declared = [o for o in RUN_OPTIONS if "manage.py" in o.front_ends]
    assert [a["flags"] for a in ours] == [list(o.manage_py.flags) for o in declared]
    for action, option in zip(ours, declared, strict=True):
        assert action["help"] == option.manage_py.help
        assert action["metavar"] == option.metavar
        assert action["choices"] == (list(option.choices) or None)
    assert "Number of worker processes (default: CPU count)." in [a["help"] for a in ours]


def test_pytest_offers_the_declared_options_with_their_help() -> None:
    parser = Parser(_ispytest=True)
    pytest_addoption(parser)
    group = parser.getgroup(GROUP)
    declared = [o for o in RUN_OPTIONS if "pytest" in o.front_ends]
    assert [a.names() for a in group.options] == [list(o.pytest.flags) for o in declared]
    for argument, option in zip(group.options, declared, strict=True):
        assert argument.attrs()["help"] == option.pytest.help
        assert argument.dest == option.pytest.dest
    assert ["--workers", "--concurrent-workers"] in [a.names() for a in group.options]


WHOLE = "must be a whole number of at least 1"
SECONDS = "must be a finite number of seconds above 0"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("args", "refusal"),
    [
        (["--workers", "abc"], f'ConfigError: --workers {WHOLE}, not "abc"'),
        (["--workers", "2.5"], f'ConfigError: --workers {WHOLE}, not "2.5"'),
        (["--timeout", "abc"], f'ConfigError: --timeout {SECONDS}, not "abc"'),
        (
            ["--shard", "abc"],
            'ConfigError: --shard must be i/N with 1 <= i <= N (e.g. 2/4), not "abc"',
        ),
    ],
    ids=["workers", "workers-fraction", "timeout", "shard"],
)
def test_a_bad_value_on_manage_py_is_one_line_and_a_hint(args: list[str], refusal: str) -> None:
    run = run_concurrent(EDGECASES, "edge.tests.OutcomeTests", *args)
    assert run.returncode == 2, run.output[-2000:]
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 2, run.stderr
    assert lines[0] == refusal
    assert lines[1].startswith("Hint: pass ") and args[0] in lines[1]
    assert run.of("classStart") == []
