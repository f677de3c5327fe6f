import os

from django.test import SimpleTestCase, TestCase

from .models import Item


class ItemTests(TestCase):
    def test_create(self):
        Item.objects.create(name="a")
        self.assertEqual(Item.objects.count(), 1)

    def test_extra_field_when_asked(self):
        """The column exists exactly when the model has it (no stale template)."""
        item = Item.objects.create(name="b")
        if os.environ.get("IDIOM_EXTRA_FIELD"):
            self.assertEqual(Item.objects.get(pk=item.pk).extra, 7)
        else:
            self.assertFalse(hasattr(item, "extra"))


class PlainTests(SimpleTestCase):
    def test_one(self):
        self.assertTrue(True)

    def test_two(self):
        self.assertTrue(True)
