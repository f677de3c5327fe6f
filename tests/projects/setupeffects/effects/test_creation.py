"""What Django's test-database creation changes in the runner's process holds in every worker."""

from unittest import skipUnless

from django.db import connection
from django.test import SimpleTestCase, TestCase


class DeclaredByBackendTests(TestCase):
    """The backend declares these (effects_backend); creation decorates them."""

    def test_skipped_by_backend(self):
        self.fail("the backend declares this test skipped")

    def test_expected_failure_by_backend(self):
        self.fail("the backend declares this test an expected failure")


@skipUnless(connection.vendor == "sqlite", "SQLite's test database is in memory")
class InMemoryTests(SimpleTestCase):
    def test_in_memory_as_in_djangos_runner(self):
        self.assertTrue(connection.is_in_memory_db())
