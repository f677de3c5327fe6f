"""ConcurrentTestRunner: Django's TEST_RUNNER that hands the run to the engine."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.test.runner import DiscoverRunner

from .baseline import record_sequential, remember_suite, wants_benchmark
from .exceptions import EngineUnavailable
from .launch import EXIT_FALLBACK, exit_unavailable, find_node, run_engine_with_bridge


class ConcurrentTestRunner(DiscoverRunner):  # type: ignore[misc]
    """Runs the suite on many workers, each on its own clone of the migrated test database.

    Every option of Django's ``test`` command keeps its meaning; the engine decides, from the
    resolved configuration, whether the run is concurrent or falls back to this class's parent.
    """

    @classmethod
    def add_arguments(cls, parser: Any) -> None:
        super().add_arguments(parser)
        group = parser.add_argument_group("django-concurrent-test")
        if sys.version_info < (3, 12):
            # Django adds --durations only on 3.12+; the engine measures durations itself.
            group.add_argument(
                "--durations",
                dest="durations",
                type=int,
                default=None,
                metavar="N",
                help="Show the N slowest test cases (N=0 for all).",
            )
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

    def _sequential(self, reason: str, test_labels: list[str], **kwargs: Any) -> int:
        if self.concurrent_options.get("shard"):
            # Django's runner cannot run part of a suite: every shard would run all of it.
            sys.stderr.write(
                f"ConfigError: --shard {self.concurrent_options['shard']} cannot "
                f"run sequentially ({reason})\n"
            )
            sys.exit(2)
        self.log(f"django-concurrent-test: running sequentially: {reason}.")
        self.parallel = 0
        started = time.perf_counter()
        result: int = super().run_tests(test_labels, **kwargs)
        if wants_benchmark(self.concurrent_options):
            record_sequential(self, time.perf_counter() - started)
        return result

    def run_suite(self, suite: Any, **kwargs: Any) -> Any:
        remember_suite(self, suite)
        return super().run_suite(suite, **kwargs)

    def run_tests(self, test_labels: list[str], **kwargs: Any) -> int:
        # --pdb and --debug-mode fall back too, but only after the engine's safety gate.
        try:
            node = find_node()
        except EngineUnavailable as error:
            exit_unavailable(error)
        code, reason = run_engine_with_bridge(
            node, self, list(test_labels), self.concurrent_options
        )
        if code == EXIT_FALLBACK:
            return self._sequential(reason or "the engine asked for it", test_labels, **kwargs)
        if code in (0, 1):
            return code
        sys.stdout.flush()
        sys.exit(code)
