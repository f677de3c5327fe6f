"""Seeded delays: where the race simulation sleeps, and the record of every sleep.

Each thread draws its delays from its own *lane*: a random stream seeded with the run's seed
and the lane's label ("racer-3" for the fourth thread of race(), "main" otherwise). Within one
thread the code path is sequential, so the same seed gives the same delays at the same points
however the threads happen to be scheduled.
"""

from __future__ import annotations

import logging
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from .config import RaceConfig

logger = logging.getLogger("django_concurrent_test.race")

_local = threading.local()
_recorders: list[list[Delay]] = []
_recorders_lock = threading.Lock()
_refused = False


@dataclass(frozen=True)
class Delay:
    """One injected sleep (delay points that drew no sleep are not recorded)."""

    lane: str
    point: str  # "view", "before query" or "after query"
    seconds: float
    detail: str  # the request path or the start of the SQL


class Lane:
    """One thread's stream of delays."""

    def __init__(
        self, seed: int, label: str, *, racer: int | None = None, active: bool = True
    ) -> None:
        self.seed = seed
        self.label = label
        self.racer = racer
        self.active = active
        self.injected: list[Delay] = []
        self.wrapping_queries = False
        self._rng = random.Random(f"{seed}:{label}")

    def pause(self, config: RaceConfig, point: str, detail: str) -> float:
        # Always draw twice so a skipped delay does not shift the rest of the stream.
        chance, fraction = self._rng.random(), self._rng.random()
        if not self.active or chance >= config.probability or config.max_delay <= 0:
            return 0.0
        seconds = fraction * config.max_delay
        delay = Delay(self.label, point, seconds, detail[:80])
        self.injected.append(delay)
        with _recorders_lock:
            for recorder in _recorders:
                recorder.append(delay)
        time.sleep(seconds)
        return seconds


def current_lane(config: RaceConfig) -> Lane | None:
    """This thread's lane: its race() lane, else the "main" lane (None when only race()
    threads get delays)."""
    lane: Lane | None = getattr(_local, "lane", None)
    if lane is not None:
        return lane
    if config.only_in_race:
        return None
    main: Lane | None = getattr(_local, "main", None)
    if main is None or main.seed != config.seed:
        main = _local.main = Lane(config.seed, "main")
    return main


def reset_main_lane() -> None:
    """Start this thread's "main" lane afresh (a test then gets the same delays when it runs
    alone as in a whole suite)."""
    _local.main = None


@contextmanager
def using_lane(lane: Lane) -> Iterator[Lane]:
    previous = getattr(_local, "lane", None)
    _local.lane = lane
    try:
        yield lane
    finally:
        _local.lane = previous


def thread_racer() -> int | None:
    """The index of the race() thread running this code, or None outside race()."""
    lane: Lane | None = getattr(_local, "lane", None)
    return lane.racer if lane is not None else None


class QueryDelays:
    """An execute wrapper (connection.execute_wrapper) sleeping before and after queries:
    the sleep after a SELECT is what widens a read-modify-write window."""

    def __init__(self, lane: Lane, config: RaceConfig) -> None:
        self.lane = lane
        self.config = config

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: Any,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        text = " ".join(str(sql).split())
        self.lane.pause(self.config, "before query", text)
        result = execute(sql, params, many, context)
        self.lane.pause(self.config, "after query", text)
        return result


@contextmanager
def delayed_queries(lane: Lane, config: RaceConfig) -> Iterator[None]:
    """Delay every query this thread makes on any database alias (once per thread, however
    many callers ask)."""
    if lane.wrapping_queries:
        yield
        return
    from django.db import connections

    wrapper = QueryDelays(lane, config)
    with ExitStack() as stack:
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(wrapper))
        lane.wrapping_queries = True
        try:
            yield
        finally:
            lane.wrapping_queries = False


@contextmanager
def recording() -> Iterator[list[Delay]]:
    """Collect every delay injected in any thread while the block runs."""
    delays: list[Delay] = []
    with _recorders_lock:
        _recorders.append(delays)
    try:
        yield delays
    finally:
        with _recorders_lock:
            _recorders.remove(delays)


def in_test_environment() -> bool:
    """Whether Django's test environment is set up (setup_test_environment() ran: every test
    runner, pytest-django and this package's workers call it)."""
    # Never imported means never set up; a production process does not import it for us.
    utils = sys.modules.get("django.test.utils")
    if utils is None:
        return False
    state = getattr(utils, "_TestState", None)
    if state is not None:
        return hasattr(state, "saved_data")
    from django.core import mail

    return hasattr(mail, "outbox")


def refuse_outside_tests(what: str) -> None:
    """Say once per process that the simulation stays off outside tests."""
    global _refused
    if _refused:
        return
    _refused = True
    logger.warning(
        "django-concurrent-test: %s is inactive: Django's test environment is not set up, and "
        "race-condition delays are only ever injected while tests run.",
        what,
    )
