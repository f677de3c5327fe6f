"""A test that raises KeyboardInterrupt, as a test interrupted by Ctrl-C in a debugger or a
library that re-raises it does; run only when named."""

from django.test import SimpleTestCase, TestCase


class BeforeTests(SimpleTestCase):
    def test_before(self):
        self.assertTrue(True)


class InterruptTests(TestCase):
    def test_first(self):
        self.assertTrue(True)

    def test_interrupts(self):
        raise KeyboardInterrupt

    def test_zlast(self):
        self.assertTrue(True)
