"""ConcurrentTestRunner: Django's TEST_RUNNER that hands the run to the engine."""

from __future__ import annotations

import sys
from typing import Any, cast

from django.test.runner import DiscoverRunner

from .exceptions import EngineUnavailable
from .launch import exit_unavailable, find_node, run_engine_with_bridge
from .messages import RunnerOptions
from .options import add_manage_py_arguments, engine_options, offered_by


class ConcurrentTestRunner(DiscoverRunner):  # type: ignore[misc]
    """Runs the suite on many workers, each on its own clone of the migrated test database.

    Every option of Django's ``test`` command keeps its meaning. The engine decides, after its
    safety gate, whether the run is concurrent; when it is not (``--pdb``, one worker, ...), this
    process runs the suite as Django would, as the engine's only worker, and every report is
    still written.
    """

    @classmethod
    def add_arguments(cls, parser: Any) -> None:
        super().add_arguments(parser)
        # No --durations of our own: Django offers it on Python 3.12+ only, and refuses it before.
        add_manage_py_arguments(parser)

    def __init__(self, **kwargs: Any) -> None:
        # Ours (options.py) are taken out; the rest are Django's own.
        ours = [(option, kwargs.pop(option.dest, None)) for option in offered_by("manage.py")]
        super().__init__(**kwargs)
        # The run options come from a data list: typed as the engine reads them, not key by key.
        self.concurrent_options = cast(RunnerOptions, engine_options(ours))
        self.concurrent_options.update(self._django_options(kwargs))

    def _django_options(self, kwargs: dict[str, Any]) -> RunnerOptions:
        """Django's own options, as the engine (discovery, workers, reports) reads them."""
        return {
            "pattern": self.pattern,
            "topLevel": self.top_level,
            "verbosity": self.verbosity,
            "interactive": self.interactive,
            "failfast": self.failfast,
            "keepdb": self.keepdb,
            "reverse": self.reverse,
            "debugMode": self.debug_mode,
            "debugSql": self.debug_sql,
            "parallel": self.parallel,
            "tags": sorted(self.tags),
            "excludeTags": sorted(self.exclude_tags),
            "testNamePatterns": kwargs.get("test_name_patterns"),
            "pdb": self.pdb,
            "buffer": self.buffer,
            "timing": kwargs.get("timing", False),
            "shuffle": self.shuffle,
            "durations": kwargs.get("durations", getattr(self, "durations", None)),
        }

    def run_tests(self, test_labels: list[str], **kwargs: Any) -> int:
        try:
            node = find_node()
            code, _ = run_engine_with_bridge(node, self, list(test_labels), self.concurrent_options)
        except EngineUnavailable as error:
            exit_unavailable(error)
        if code in (0, 1):
            return code
        sys.stdout.flush()
        sys.exit(code)
