"""Classes that need no database (run early, while the template is migrated) and print on every
level a test can: Python's sys.stdout and sys.stderr, and the file descriptors underneath."""

import os
import sys

from django.test import SimpleTestCase, TestCase

from .models import Line


class PrintingTests(SimpleTestCase):
    def test_print(self):
        print("MARKER-print-stdout")

    def test_print_stderr(self):
        print("MARKER-print-stderr", file=sys.stderr)

    def test_fd_write(self):
        os.write(1, b"MARKER-fd-1\n")
        os.write(2, b"MARKER-fd-2\n")


class MorePrintingTests(SimpleTestCase):
    def test_print(self):
        print("MARKER-more-stdout")


class DatabaseTests(TestCase):
    def test_line(self):
        Line.objects.create(text="x")
        print("MARKER-database")
        self.assertEqual(Line.objects.count(), 1)
