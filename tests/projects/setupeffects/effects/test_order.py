"""A class that hard-codes primary keys and passes under Django's runner, because no class before
it in Django's order inserts into its table. Expected times put the other two first: the holder
keeps one worker busy until the hard-coded class is done, so the inserting class runs before it on
the other worker (unless the engine keeps Django's order, as it does on MySQL/MariaDB).

The inserting class also leaves ``force_debug_cursor`` on, as Django's own ``test_runner`` tests
do through ``setup_databases(debug_sql=True)``: the class after it must not log its queries."""

import os
import time
from pathlib import Path

from django.db import connection
from django.test import TestCase

from .models import Item

# Set by the test that runs this project: the hard-coded class creates it when it is done.
DONE = os.environ.get("ORDER_DONE_FILE")


class AHardCodedPkTests(TestCase):
    def test_second_row_is_pk_2(self):
        Item.objects.create(name="first")
        Item.objects.create(name="second")
        self.assertEqual(Item.objects.get(pk=2).name, "second")

    def test_queries_not_logged_without_debug(self):
        connection.queries_log.clear()
        Item.objects.count()
        self.assertEqual(len(connection.queries_log), 0)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if DONE:
            Path(DONE).touch()


class BInsertingTests(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        connection.force_debug_cursor = True  # and never turned off again

    def _insert(self):
        Item.objects.bulk_create(Item(name=f"row {i}") for i in range(5))
        time.sleep(0.2)

    def test_1(self):
        self._insert()

    def test_2(self):
        self._insert()

    def test_3(self):
        self._insert()


class CHoldsAWorkerTests(TestCase):
    def test_waits_for_the_hard_coded_class(self):
        deadline = time.monotonic() + 60
        while DONE and not Path(DONE).exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def test_2(self):
        pass

    def test_3(self):
        pass

    def test_4(self):
        pass

    def test_5(self):
        pass
