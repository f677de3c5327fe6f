"""Outcomes of every kind, on purpose: the engine must report each exactly as Django does."""

import threading
import unittest

from django.test import SimpleTestCase, TestCase, TransactionTestCase, tag

from .models import Note


class UnpicklableError(Exception):
    """Carries a lock, so pickle (Django's parallel transport) cannot send it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


class OutcomeTests(SimpleTestCase):
    def test_passes(self):
        self.assertTrue(True)

    def test_fails(self):
        self.assertEqual("left", "right")

    def test_errors(self):
        raise ValueError("boom from test_errors")

    def test_unpicklable(self):
        raise UnpicklableError("cannot be pickled")

    @unittest.skip("skipped on purpose")
    def test_skipped(self):
        pass

    @unittest.expectedFailure
    def test_expected_failure(self):
        self.assertEqual(1, 2)

    @unittest.expectedFailure
    def test_unexpected_success(self):
        self.assertEqual(1, 1)

    def test_subtests(self):
        for i in range(4):
            with self.subTest(i=i):
                self.assertLess(i, 3)


class BrokenSetUpClassTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        raise RuntimeError("setUpClass exploded")

    def test_never_runs(self):
        pass


class OutputTests(SimpleTestCase):
    def test_prints_and_passes(self):
        print("PASSING-TEST-OUTPUT")

    def test_prints_and_fails(self):
        print("FAILING-TEST-OUTPUT")
        self.fail("failed after printing")


@tag("db")
class DatabaseTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        Note.objects.create(text="from setUpTestData")

    def test_reads(self):
        self.assertEqual(Note.objects.count(), 1)

    def test_query_then_fail(self):
        list(Note.objects.filter(text="needle-in-sql"))
        self.assertEqual(Note.objects.count(), 99)


@tag("db")
class TransactionTests(TransactionTestCase):
    def test_writes(self):
        Note.objects.create(text="tx")
        self.assertEqual(Note.objects.count(), 1)
