"""Tests that misbehave on purpose; pick them by label (tests/test_supervision.py does). The
bystander classes (Good*, Order*, Slow*) must pass whatever their neighbours do."""

import ctypes
import os
import signal
import time
from pathlib import Path

from django.test import SimpleTestCase, TestCase, TransactionTestCase

from .models import Note


class WholeClass(SimpleTestCase):
    """A class-level fixture of its own keeps a class whole on one worker (never cut into parts
    by test), so a crash mid-class leaves the tests after it unrun, whatever stored timings say."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()


class HangTests(WholeClass):
    def test_a_hangs(self):
        while True:
            time.sleep(3600)  # sleeps forever

    def test_b_never_starts(self):
        pass


class ExitTests(WholeClass):
    def test_a_exits(self):
        os._exit(1)

    def test_b_after_exit(self):
        pass


class SigkillTests(WholeClass):
    def test_a_sigkills_itself(self):
        os.kill(os.getpid(), signal.SIGKILL)

    def test_b_after_sigkill(self):
        pass


class SegfaultTests(SimpleTestCase):
    def test_segfaults(self):
        ctypes.string_at(0)


class FlakyCrashTests(WholeClass):
    """Kills its worker the first time only: the retry on a fresh worker passes."""

    def test_a_passes(self):
        pass

    def test_b_crashes_once(self):
        marker = Path(os.environ["MISBEHAVE_MARKERS"]) / "crashed-once"
        if not marker.exists():
            marker.touch()
            os._exit(1)

    def test_c_passes(self):
        pass


class FreezeTests(SimpleTestCase):
    """The whole worker stops (no heartbeat): frozen, not slow."""

    def test_freezes(self):
        os.kill(os.getpid(), signal.SIGSTOP)


class SlowButAliveTests(SimpleTestCase):
    """Slower than the heartbeat limit, but the worker keeps answering: not killed."""

    def test_slow(self):
        time.sleep(float(os.environ.get("MISBEHAVE_SLOW", "7")))


class DirtyCrashTests(TransactionTestCase):
    """Commits a row, then its worker dies before TransactionTestCase's flush."""

    def test_writes_then_dies(self):
        Note.objects.create(text="left behind")
        os._exit(1)


class BlockerTests(TransactionTestCase):
    """Keeps one worker busy (and is planned first: the most tests) while the other crashes."""

    def test_1(self):
        time.sleep(1.5)

    def test_2(self):
        time.sleep(1.5)

    def test_3(self):
        time.sleep(1.5)


class CleanCheck1Tests(TransactionTestCase):
    def test_clean(self):
        self.assertEqual(Note.objects.count(), 0)


class CleanCheck2Tests(CleanCheck1Tests):
    pass


class CleanCheck3Tests(CleanCheck1Tests):
    pass


class CleanCheck4Tests(CleanCheck1Tests):
    pass


class GoodTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        Note.objects.create(text="fixture")

    def test_one(self):
        self.assertEqual(Note.objects.count(), 1)

    def test_two(self):
        Note.objects.create(text="more")
        self.assertEqual(Note.objects.count(), 2)

    def test_three(self):
        self.assertTrue(Note.objects.filter(text="fixture").exists())


class MoreGoodTests(SimpleTestCase):
    def test_a(self):
        self.assertEqual(1 + 1, 2)

    def test_b(self):
        self.assertIn("a", "abc")


class SlowTests(SimpleTestCase):
    """Slow enough to interrupt mid-run."""

    def test_1(self):
        time.sleep(0.5)

    def test_2(self):
        time.sleep(0.5)

    def test_3(self):
        time.sleep(0.5)

    def test_4(self):
        time.sleep(0.5)


class SlowTests2(SlowTests):
    pass


class SlowTests3(SlowTests):
    pass


class SlowTests4(SlowTests):
    pass


class SlowDbTests(TestCase):
    def test_1(self):
        Note.objects.create(text="slow")
        time.sleep(0.5)

    def test_2(self):
        time.sleep(0.5)


class OrderATests(TestCase):
    def test_a(self):
        pass


class OrderBTests(TestCase):
    def test_b(self):
        pass


class OrderCTests(TransactionTestCase):
    def test_c(self):
        pass


class OrderDTests(SimpleTestCase):
    """No database, no class fixtures: may be split by test."""

    def test_1(self):
        pass

    def test_2(self):
        pass

    def test_3(self):
        pass

    def test_4(self):
        pass

    def test_5(self):
        pass

    def test_6(self):
        pass


class OrderEFixtureTests(SimpleTestCase):
    """Has a setUpClass of its own: stays whole however long it takes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

    def test_1(self):
        pass

    def test_2(self):
        pass
