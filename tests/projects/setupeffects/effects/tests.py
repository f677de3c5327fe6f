"""Handed out in this (discovery) order with two workers, one held by the first class, the
Step classes run one after another on the other worker: the earlier ones advance the counters
the later ones hard-code or insert after."""

import os
import time
from pathlib import Path

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.test import TestCase, TransactionTestCase

from .models import Item

# Set by the test that runs this project: the last Step class creates it.
DONE = os.environ.get("EFFECTS_DONE_FILE")


class HoldsTheOtherWorkerTests(TestCase):
    def test_waits_for_the_steps(self):
        deadline = time.monotonic() + 120
        while DONE and not Path(DONE).exists():
            self.assertLess(time.monotonic(), deadline, "the Step classes never finished")
            time.sleep(0.05)


class Step1InsertingTests(TestCase):
    def test_inserts_rows(self):
        Item.objects.bulk_create(Item(name=f"row {i}") for i in range(5))
        self.assertEqual(Item.objects.count(), 5)


class Step2HardCodedPkTests(TestCase):
    def test_second_row_is_pk_2(self):
        Item.objects.create(name="first")
        Item.objects.create(name="second")
        self.assertEqual(Item.objects.get(pk=2).name, "second")


class Step3CommittingTests(TransactionTestCase):
    """Flushed afterwards: post_migrate re-creates content types and permissions, new ids."""

    def test_commits_rows(self):
        Item.objects.create(name="committed")
        self.assertEqual(Item.objects.get().pk, 1)


class Step4AfterFlushTests(TransactionTestCase):
    def test_new_permission_gets_a_free_id(self):
        content_type = ContentType.objects.get_for_model(Item)
        Permission.objects.create(name="Can x", codename="x_item", content_type=content_type)
        self.assertEqual(Permission.objects.filter(codename="x_item").count(), 1)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if DONE:
            Path(DONE).touch()
