"""Django's own parallel runner, timing how long its worker pool takes to start.

Used by bench/worker_startup.py: records CLOCK_MONOTONIC (system-wide on Linux, so comparable
across processes) when the pool is requested and when each worker finished initialising.
"""

import os
import time

from django.test.runner import DiscoverRunner, ParallelTestSuite, _init_worker

STAMPS_ENV = "WORKER_STARTUP_STAMPS"


def _stamp(kind: str) -> None:
    with open(os.environ[STAMPS_ENV], "a") as f:
        f.write(f"{kind} {time.monotonic()}\n")


def timed_init_worker(*args, **kwargs):
    _init_worker(*args, **kwargs)
    _stamp("ready")


class TimedParallelTestSuite(ParallelTestSuite):
    init_worker = timed_init_worker

    def run(self, result):
        _stamp("requested")
        return super().run(result)


class TimedParallelRunner(DiscoverRunner):
    parallel_test_suite = TimedParallelTestSuite
