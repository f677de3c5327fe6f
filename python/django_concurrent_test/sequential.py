"""A run that cannot be concurrent: the bridge's own process is its only worker.

It does what Django's ``DiscoverRunner.run_tests`` does after ``build_suite`` (setup_databases,
run_checks, run_suite, teardown), in the foreground, so ``--pdb`` and ``--debug-mode`` stay
interactive and Django prints its usual output. The runner's own result class also streams every
outcome to the engine (as a worker's does), which writes the reports from them.
"""

from __future__ import annotations

import contextlib
import re
import signal
import unittest
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from .results import Emit, streaming_result_class

# unittest reports a class or module fixture's error as "setUpClass (module.Class)".
_FIXTURE_ERROR = re.compile(r"\w+ \((?P<label>[^()]+)\)")


class ClassIndexes:
    """Which discovered class a test belongs to (the index the engine knows it by)."""

    def __init__(self, groups: Sequence[unittest.TestSuite], indexes: Sequence[int]) -> None:
        self.by_test = {id(test): i for i in indexes for test in groups[i]}
        self.by_label: dict[str, int] = {}
        for i in indexes:
            first = next(iter(groups[i]))
            self.by_label[f"{type(first).__module__}.{type(first).__qualname__}"] = i
        self.current = indexes[0] if indexes else 0

    def of(self, test: Any) -> int:
        index = self.by_test.get(id(test))
        if index is not None:
            return index
        match = _FIXTURE_ERROR.fullmatch(str(test.id()))
        if match and match["label"] in self.by_label:
            return self.by_label[match["label"]]
        return self.current  # a module fixture's error: the class whose run hit it


class ClassRun(unittest.TestSuite):
    """One discovered class inside the sequential suite: tells the engine when it starts and
    ends. unittest still runs each tearDownClass when the next class begins, as in Django."""

    def __init__(
        self, index: int, group: unittest.TestSuite, emit: Emit, slot: int, classes: ClassIndexes
    ) -> None:
        super().__init__(list(group))
        self.index, self.emit, self.slot, self.classes = index, emit, slot, classes

    def run(self, result: Any, debug: bool = False) -> Any:
        self.classes.current = self.index
        self.emit({"type": "classStart", "classIndex": self.index, "slot": self.slot})
        try:
            return super().run(result, debug)
        finally:
            self.emit({"type": "classDone", "classIndex": self.index, "slot": self.slot})


@contextlib.contextmanager
def own_signals() -> Iterator[None]:
    """Ctrl-C and SIGTERM act as under Django's own runner (the bridge otherwise hands them
    to the engine): the first Ctrl-C stops after the running test, then the databases go."""
    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
        signal.SIGTERM: signal.signal(signal.SIGTERM, signal.SIG_DFL),
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _phase(
    emit: Emit, phase: Literal["template", "tests", "teardown"], edge: Literal["start", "end"]
) -> None:
    emit({"type": "phase", "phase": phase, "edge": edge})


def run_sequential(
    runner: Any,
    groups: Sequence[unittest.TestSuite],
    indexes: Sequence[int],
    databases: dict[str, bool],
    emit: Emit,
    slot: int,
) -> int:
    """Django's run_tests from setup_databases on, over the classes ``indexes`` names; returns
    its suite_result (0: success)."""
    classes = ClassIndexes(groups, indexes)
    suite = unittest.TestSuite([ClassRun(i, groups[i], emit, slot, classes) for i in indexes])
    serialized = {alias for alias, serialize in databases.items() if serialize}
    unittest.installHandler()  # as runner.setup_test_environment() does
    _phase(emit, "template", "start")
    with runner.time_keeper.timed("Total database setup"):
        old_config = runner.setup_databases(aliases=databases, serialized_aliases=serialized)
    _phase(emit, "template", "end")
    run_failed = False
    try:
        runner.run_checks(databases)
        _phase(emit, "tests", "start")
        result = _run_suite(runner, suite, emit, classes)
        _phase(emit, "tests", "end")
    except Exception:
        run_failed = True
        raise
    finally:
        _phase(emit, "teardown", "start")
        try:
            with runner.time_keeper.timed("Total database teardown"):
                runner.teardown_databases(old_config)
            runner.teardown_test_environment()
        except Exception:
            # As Django: a teardown error must not hide the one that stopped the run.
            if not run_failed:
                raise
        _phase(emit, "teardown", "end")
    runner.time_keeper.print_results()
    return int(runner.suite_result(suite, result))


def _run_suite(runner: Any, suite: unittest.TestSuite, emit: Emit, classes: ClassIndexes) -> Any:
    """DiscoverRunner.run_suite, with the runner's result class streaming too."""
    kwargs = runner.get_test_runner_kwargs()
    base: Any = kwargs.get("resultclass") or unittest.TextTestResult
    kwargs["resultclass"] = streaming_result_class(base, emit, classes.of)
    test_runner = runner.test_runner(**kwargs)
    try:
        return test_runner.run(suite)
    finally:
        shuffler = getattr(runner, "_shuffler", None)
        if shuffler is not None:
            runner.log(f"Used shuffle seed: {shuffler.seed_display}")
