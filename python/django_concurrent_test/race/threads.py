"""race() and race_requests(): run one callable (or one request through the test client) from
K threads released together by a barrier, each on its own database connection.

    result = race(lambda: Counter.objects.hit("home"), threads=8)
    result = race_requests("post", "/counters/home/hit/", threads=8)

Use them in TransactionTestCase (or pytest's ``django_db(transaction=True)``): each thread has
its own connection, which cannot see a TestCase's uncommitted transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from ..exceptions import ConcurrentTestException
from .config import race_config
from .delays import (
    Delay,
    Lane,
    delayed_queries,
    in_test_environment,
    refuse_outside_tests,
    thread_racer,
    using_lane,
)
from .replay import add_note, note_seed, replayable

__all__ = ["RaceError", "RaceResult", "Racer", "race", "race_requests", "racer_index", "replayable"]

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")


class RaceError(ConcurrentTestException):
    """race() could not run the race it was asked for (misuse, a racer that never started,
    or racers still running at the timeout)."""


@dataclass(frozen=True)
class Racer:
    """What one thread of a race returned or raised, and the delays injected into it."""

    index: int
    result: Any
    exception: BaseException | None
    delays: tuple[Delay, ...]

    @property
    def ok(self) -> bool:
        return self.exception is None


@dataclass(frozen=True)
class RaceResult:
    seed: int
    racers: tuple[Racer, ...]

    @property
    def results(self) -> list[Any]:
        """Every racer's return value, in racer order (None where it raised)."""
        return [r.result for r in self.racers]

    @property
    def exceptions(self) -> list[BaseException]:
        """Every exception a racer raised, in racer order."""
        return [r.exception for r in self.racers if r.exception is not None]

    def raise_first(self) -> None:
        """Re-raise the first racer's exception (noting which racer and seed), if any."""
        for racer in self.racers:
            if racer.exception is not None:
                add_note(
                    racer.exception,
                    f"raised by racer {racer.index} of {len(self.racers)} (race seed {self.seed})",
                )
                raise racer.exception


def racer_index() -> int | None:
    """The index (0..K-1) of the race() thread running this code; None outside race()."""
    return thread_racer()


def race(
    fn: Callable[[], Any],
    *,
    threads: int = 4,
    seed: int | None = None,
    delays: bool = True,
    databases: Sequence[str] = ("default",),
    timeout: float = 30.0,
) -> RaceResult:
    """Call ``fn()`` from ``threads`` threads at once and return what each returned or raised.

    Each thread connects to ``databases`` before the barrier releases them all (so connecting
    does not stagger the start) and closes its connections afterwards. While the race-condition
    simulation is on (tests running, ``CONCURRENT_TEST_CONFIG["race"]["enabled"]``) and
    ``delays`` is true, every query a racer makes gets seeded delays before and after it;
    ``seed`` defaults to the configured seed.
    """
    return _run_race(fn, threads, seed, delays, databases, timeout, delay_queries=True)


def _run_race(
    fn: Callable[[], Any],
    threads: int,
    seed: int | None,
    delays: bool,
    databases: Sequence[str],
    timeout: float,
    *,
    delay_queries: bool,
) -> RaceResult:
    from django.db import connections

    if threads < 2:
        raise ValueError(f"race() needs at least 2 threads, not {threads}")
    for alias in databases:
        if connections[alias].in_atomic_block:
            raise RaceError(
                f"race() was called inside a transaction on {alias!r}: its threads use their own "
                "connections and cannot see uncommitted rows. Use TransactionTestCase (or "
                "pytest.mark.django_db(transaction=True)) for race tests."
            )
    config = race_config()
    active = delays and config.enabled
    if active and not in_test_environment():
        refuse_outside_tests("race() delay injection")
        active = False
    seed = config.seed if seed is None else seed
    note_seed(seed)

    barrier = threading.Barrier(threads)
    racers: list[Racer | None] = [None] * threads
    start_failures: list[tuple[int, BaseException]] = []

    def run(index: int) -> None:
        lane = Lane(seed, f"racer-{index}", racer=index, active=active)
        value: Any = None
        error: BaseException | None = None
        started = False
        try:
            with using_lane(lane):
                for alias in databases:
                    connections[alias].ensure_connection()
                barrier.wait()
                started = True
                # Requests get their delays from RaceConditionMiddleware (and its path filters).
                wrap = active and delay_queries
                with delayed_queries(lane, config) if wrap else nullcontext():
                    value = fn()
        except BaseException as exc:
            error = exc
            if not started:
                start_failures.append((index, exc))
                barrier.abort()
        finally:
            try:
                connections.close_all()
            except Exception as exc:  # a failing close must not hide this racer's outcome
                error = error or exc
            racers[index] = Racer(index, value, error, tuple(lane.injected))

    workers = [
        threading.Thread(target=run, args=(i,), name=f"racer-{i}", daemon=True)
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + timeout
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    stuck = [i for i, worker in enumerate(workers) if worker.is_alive()]
    if stuck:
        raise RaceError(f"racers {stuck} still running after {timeout:g}s (race seed {seed})")
    real_failures = [
        f for f in start_failures if not isinstance(f[1], threading.BrokenBarrierError)
    ]
    if real_failures:
        index, exc = real_failures[0]
        raise RaceError(f"racer {index} could not start: {type(exc).__name__}: {exc}") from exc
    return RaceResult(seed, tuple(r for r in racers if r is not None))


def race_requests(
    method: str,
    path: str,
    data: Any = None,
    *,
    threads: int = 4,
    client_factory: Callable[[], Any] | None = None,
    seed: int | None = None,
    delays: bool = True,
    timeout: float = 30.0,
    **extra: Any,
) -> RaceResult:
    """Send the same request from ``threads`` test clients at once; the results are the
    responses. ``client_factory`` builds each racer's client (default: django.test.Client),
    e.g. one that has logged in; ``extra`` goes to the client's method (headers=...). The
    requests' delays come from RaceConditionMiddleware, with its path filters."""
    verb = method.lower()
    if verb not in HTTP_METHODS:
        raise ValueError(f"unknown HTTP method {method!r} (use one of {', '.join(HTTP_METHODS)})")
    if client_factory is None:
        from django.test import Client

        client_factory = Client
    # Built up front: the race is the request, not the client set-up.
    senders = [getattr(client_factory(), verb) for _ in range(threads)]

    def send() -> Any:
        index = racer_index()
        assert index is not None
        return senders[index](path, data, **extra)

    return _run_race(send, threads, seed, delays, ("default",), timeout, delay_queries=False)
