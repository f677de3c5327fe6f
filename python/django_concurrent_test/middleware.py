"""``django_concurrent_test.middleware.RaceConditionMiddleware``, the path settings name: the
middleware lives with the rest of the race simulation, in ``race/middleware.py``."""

from __future__ import annotations

from .race.middleware import RaceConditionMiddleware

__all__ = ["RaceConditionMiddleware"]
