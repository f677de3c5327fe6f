"""ConcurrentTestRunner: Django's TEST_RUNNER that hands the run to the engine."""

from __future__ import annotations

import sys
from typing import Any

from django.test.runner import DiscoverRunner

from .exceptions import EngineUnavailable
from .launch import exit_unavailable, find_node, run_engine_with_bridge


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
        group = parser.add_argument_group("django-concurrent-test")
        # No --durations of our own: Django offers it on Python 3.12+ only, and refuses it before.
        group.add_argument(
            "--workers",
            type=int,
            metavar="N",
            default=None,
            help="Number of worker processes (default: CPU count).",
        )
        group.add_argument(
            "--benchmark",
            action="store_true",
            default=None,
            help="Print the benchmark summary after the run.",
        )
        group.add_argument(
            "--junitxml", metavar="PATH", default=None, help="Write a JUnit XML report to PATH."
        )
        group.add_argument(
            "--html",
            metavar="PATH",
            default=None,
            help="Write a self-contained HTML report to PATH.",
        )
        group.add_argument(
            "--shard",
            metavar="I/N",
            default=None,
            help="Run only part I of N of the suite (CI sharding).",
        )
        group.add_argument(
            "--timeout",
            type=float,
            metavar="SECONDS",
            default=None,
            help="Kill a worker whose test class runs longer than this "
            "(default 300); its running test is reported as WorkerTimeout.",
        )
        group.add_argument(
            "--start-method",
            choices=["fork", "spawn"],
            default=None,
            help="How workers start: fork from a warm process, or spawn.",
        )
        group.add_argument(
            "--rebuild-templates",
            action="store_true",
            default=None,
            help="Migrate the template databases again even when the cache "
            "has a complete one for these migrations.",
        )

    def __init__(
        self,
        workers: int | None = None,
        benchmark: bool | None = None,
        junitxml: str | None = None,
        start_method: str | None = None,
        html: str | None = None,
        shard: str | None = None,
        timeout: float | None = None,
        rebuild_templates: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.concurrent_options: dict[str, Any] = {
            "workers": workers,
            "benchmark": benchmark,
            "junitxml": junitxml,
            "html": html,
            "shard": shard,
            "startMethod": start_method,
            "rebuildTemplates": rebuild_templates,
            "timeout": timeout,
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
