"""RaceConditionMiddleware: seeded delays before the view and around every database query of
a request, so concurrency bugs (lost updates, check-then-act) show up in tests reliably.

Active only while Django's test environment is set up; anywhere else it removes itself from the
middleware chain (MiddlewareNotUsed) and says so once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import MiddlewareNotUsed

from .config import race_config
from .delays import current_lane, delayed_queries, in_test_environment, refuse_outside_tests

NAME = "RaceConditionMiddleware"


class RaceConditionMiddleware:
    """Configured by ``CONCURRENT_TEST_CONFIG["race"]`` (see docs/race-conditions.md)."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        if not in_test_environment():
            refuse_outside_tests(NAME)
            raise MiddlewareNotUsed(f"{NAME} only runs while tests run")
        race_config()  # a configuration error shows when the middleware loads
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        config = race_config()
        # Checked per request too: a handler can outlive teardown_test_environment().
        if not config.enabled or not in_test_environment() or not config.covers(request.path_info):
            return self.get_response(request)
        lane = current_lane(config)
        if lane is None:
            return self.get_response(request)
        with delayed_queries(lane, config):
            lane.pause(config, "view", request.path)
            return self.get_response(request)
