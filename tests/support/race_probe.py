"""Drives RaceConditionMiddleware and race() in a fresh Django process and prints what it saw
as one JSON object (tests/test_race.py runs it; each scenario needs its own process because
settings, the test environment and the warn-once state are per process).

    python race_probe.py SCENARIO '{"race": {...}}'
"""

from __future__ import annotations

import json
import sys
import time
import unittest

import django
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.urls import path


def query_view(request):
    """Two real queries; reports how many execute wrappers were active during the view."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.execute("SELECT 2")
    return JsonResponse({"wrappers": len(connection.execute_wrappers)})


urlpatterns = [path("q/", query_view), path("skip/q/", query_view)]


def configure(race: dict) -> None:
    settings.configure(
        DEBUG=True,
        SECRET_KEY="race-probe",
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["django_concurrent_test.middleware.RaceConditionMiddleware"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=[],
        CONCURRENT_TEST_CONFIG={"race": race},
    )
    django.setup()


def wsgi_get(handler, url: str) -> dict:
    from django.test.client import RequestFactory

    environ = RequestFactory().get(url).environ
    statuses: list[str] = []
    body = b"".join(handler(environ, lambda status, headers: statuses.append(status)))
    return {"status": statuses[0], "body": json.loads(body)}


def outside() -> dict:
    """No test environment: a WSGI app (as runserver or gunicorn builds it), twice."""
    from django.core.handlers.wsgi import WSGIHandler

    from django_concurrent_test.race.delays import recording

    with recording() as delays:
        started = time.monotonic()
        responses = [wsgi_get(WSGIHandler(), "/q/") for _ in range(2)]
        elapsed = time.monotonic() - started
    return {"responses": responses, "delays": len(delays), "elapsed": elapsed}


def inside() -> dict:
    """Django's test environment, requests through the test client (not in race())."""
    from django.test import Client
    from django.test.utils import setup_test_environment

    from django_concurrent_test.race.delays import recording

    setup_test_environment()
    with recording() as delays:
        bodies = [Client().get(url).json() for url in ("/q/", "/skip/q/")]
    return {"bodies": bodies, "delays": [[d.lane, d.point, d.detail] for d in delays]}


def delays_seen() -> dict:
    """The delays of sequential requests ("main" lane) and of a race of 4 requests."""
    from django.test import Client
    from django.test.utils import setup_test_environment

    from django_concurrent_test.race import race_requests
    from django_concurrent_test.race.config import race_config
    from django_concurrent_test.race.delays import recording, reset_main_lane

    setup_test_environment()
    reset_main_lane()
    with recording() as delays:
        for _ in range(3):
            Client().get("/q/")
    result = race_requests("get", "/q/", threads=4)
    result.raise_first()
    return {
        "seed": race_config().seed,
        "seedSource": race_config().seed_source,
        "main": [[d.point, d.seconds, d.detail] for d in delays],
        "racers": [[[d.point, d.seconds, d.detail] for d in r.delays] for r in result.racers],
    }


def failing_test() -> dict:
    """A @replayable test that fails: the seed to replay it must be in the report."""
    from django.test import Client
    from django.test.utils import setup_test_environment

    from django_concurrent_test.race import race_requests, replayable

    setup_test_environment()

    @replayable
    class Racy(unittest.TestCase):
        def test_fails(self):
            race_requests("get", "/q/", threads=2).raise_first()
            Client().get("/q/")
            self.assertEqual(1, 2)

        def test_explicit_seed_fails(self):
            race_requests("get", "/q/", threads=2, seed=1234)
            self.fail("boom")

        def test_passes(self):
            race_requests("get", "/q/", threads=2)

    suite = unittest.defaultTestLoader.loadTestsFromTestCase(Racy)
    result = unittest.TextTestRunner(stream=sys.stderr, verbosity=2).run(suite)
    return {
        "failures": {test.id().rsplit(".", 1)[1]: text for test, text in result.failures},
        "testsRun": result.testsRun,
    }


def race_kinds() -> dict:
    """Delays per racer: requests to a covered and an excluded path, and a plain callable."""
    from django.test.utils import setup_test_environment

    from django_concurrent_test.race import race, race_requests

    setup_test_environment()

    def query() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    def points(result) -> list[list[str]]:
        result.raise_first()
        return [[d.point for d in r.delays] for r in result.racers]

    return {
        "covered": points(race_requests("get", "/q/", threads=2)),
        "excluded": points(race_requests("get", "/skip/q/", threads=2)),
        "callable": points(race(query, threads=2)),
        "switchedOff": points(race(query, threads=2, delays=False)),
    }


def race_in_transaction() -> dict:
    from django.db import transaction
    from django.test.utils import setup_test_environment

    from django_concurrent_test.race import RaceError, race

    setup_test_environment()
    try:
        with transaction.atomic():
            race(lambda: None, threads=2)
    except RaceError as exc:
        return {"error": str(exc)}
    return {"error": None}


def bad_config() -> dict:
    from django.core.exceptions import ImproperlyConfigured
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    try:
        Client().get("/q/")
    except ImproperlyConfigured as exc:
        return {"error": str(exc)}
    return {"error": None}


SCENARIOS = {
    f.__name__: f
    for f in (
        outside,
        inside,
        delays_seen,
        failing_test,
        race_kinds,
        race_in_transaction,
        bad_config,
    )
}

if __name__ == "__main__":
    configure(json.loads(sys.argv[2]))
    print(json.dumps(SCENARIOS[sys.argv[1]]()))
