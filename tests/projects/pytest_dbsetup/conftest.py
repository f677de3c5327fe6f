"""The project shapes its test database the pytest-django way: a session fixture, requested
before pytest-django's django_db_setup, creates the citext extension before the migrations
run; the django_db_setup override then adds a row once the database exists."""

import pytest
from django.db import connections
from django.db.models.signals import pre_migrate


def _create_citext(sender, using="default", **kwargs):
    with connections[using].cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS citext")


@pytest.fixture(scope="session")
def citext_extension():
    pre_migrate.connect(_create_citext, dispatch_uid="tags.citext")
    yield
    pre_migrate.disconnect(dispatch_uid="tags.citext")


@pytest.fixture(scope="session")
def django_db_setup(citext_extension, django_db_setup, django_db_blocker):
    from tags.models import Tag

    with django_db_blocker.unblock():
        Tag.objects.create(name="Seeded")
