"""Race-condition simulation for tests: ``race()`` and ``race_requests()`` run one callable (or
one request) from several threads at once, ``RaceConditionMiddleware`` injects seeded delays
around a request's queries, and ``@replayable`` names the seed that replays a failing test.

    from django_concurrent_test.race import race, race_requests, replayable

The modules: ``threads`` (race(), race_requests()), ``delays`` (the seeded per-thread delays),
``middleware`` (also importable as ``django_concurrent_test.middleware``), ``replay``
(@replayable) and ``config`` (``CONCURRENT_TEST_CONFIG["race"]``, checked).
"""

from __future__ import annotations

from .threads import RaceError, Racer, RaceResult, race, race_requests, racer_index, replayable

__all__ = ["RaceError", "RaceResult", "Racer", "race", "race_requests", "racer_index", "replayable"]
