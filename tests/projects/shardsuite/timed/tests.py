"""TestCase classes that take known times (sleeps), plus one class with every outcome.

The durations are uneven on purpose, like a real suite: CI shards must balance them.
"""

import time
import unittest

from django.test import TestCase

# Class name -> (seconds the whole class takes, number of tests).
DURATIONS = {
    "AlphaTests": (0.42, 6),
    "BravoTests": (0.36, 4),
    "CharlieTests": (0.30, 5),
    "DeltaTests": (0.26, 3),
    "EchoTests": (0.22, 4),
    "FoxtrotTests": (0.20, 2),
    "GolfTests": (0.16, 3),
    "HotelTests": (0.14, 2),
    "IndiaTests": (0.12, 4),
    "JulietTests": (0.10, 2),
    "KiloTests": (0.08, 3),
    "LimaTests": (0.06, 2),
    "MikeTests": (0.05, 1),
    "NovemberTests": (0.04, 2),
}


def _sleeper(seconds: float):
    def test(self):
        time.sleep(seconds)

    return test


for _name, (_seconds, _count) in DURATIONS.items():
    _attrs = {f"test_{i}": _sleeper(_seconds / _count) for i in range(_count)}
    _attrs["__module__"] = __name__
    globals()[_name] = type(_name, (TestCase,), _attrs)


class OutcomeTests(TestCase):
    def test_passes(self):
        pass

    def test_fails(self):
        self.assertEqual("left", "right")

    def test_errors(self):
        raise ValueError("boom")

    @unittest.skip("not today")
    def test_skipped(self):
        pass

    @unittest.expectedFailure
    def test_expected_failure(self):
        self.assertEqual(1, 2)

    def test_subtests(self):
        for i in range(3):
            with self.subTest(i=i):
                self.assertLess(i, 2)
