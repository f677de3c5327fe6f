"""A class that prints and then kills its worker: picked by label only (tests/test_output.py)."""

import os

from django.test import SimpleTestCase


class PrintThenCrashTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls):  # a class fixture of its own: always run whole
        super().setUpClass()

    def test_prints_then_crashes(self):
        print("MARKER-crash-stdout", flush=True)
        os.write(2, b"MARKER-crash-fd-2\n")
        os._exit(1)
