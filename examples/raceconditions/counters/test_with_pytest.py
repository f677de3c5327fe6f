"""The same race tests in pytest-django style (``pytest --ds=raceconditions.settings``).

Django's test runner imports this module too and finds no TestCase in it.
"""

import pytest
from django.db import connection
from django.db.models import F
from django_concurrent_test.race import race, replayable

from .models import Counter
from .tests import SQLITE_REASON, THREADS

pytestmark = [
    # Racing threads use their own connections: they need committed rows.
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor == "sqlite", reason=SQLITE_REASON),
]


def hit_read_modify_write():
    counter = Counter.objects.get(name="home")
    counter.value += 1
    counter.save(update_fields=["value"])


def hit_f_expression():
    Counter.objects.filter(name="home").update(value=F("value") + 1)


@replayable
@pytest.mark.xfail(strict=True, reason="the read-modify-write bug, caught")
def test_read_modify_write_counts_concurrent_hits():
    Counter.objects.create(name="home")
    race(hit_read_modify_write, threads=THREADS).raise_first()
    assert Counter.objects.get(name="home").value == THREADS


@replayable
def test_f_expression_counts_concurrent_hits():
    Counter.objects.create(name="home")
    result = race(hit_f_expression, threads=THREADS)
    assert result.exceptions == []
    assert Counter.objects.get(name="home").value == THREADS
