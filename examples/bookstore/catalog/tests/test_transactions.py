from django.db import transaction
from django.test import TransactionTestCase, tag

from catalog.models import Category

from .test_models import MIGRATED_CATEGORIES


@tag("slow")
class CategorySerializedRollbackTests(TransactionTestCase):
    """Data created by migrations is restored before each test via serialized rollback."""

    serialized_rollback = True

    def test_migrated_categories_are_present(self):
        self.assertEqual(list(Category.objects.values_list("name", flat=True)), MIGRATED_CATEGORIES)

    def test_committed_category_is_visible_after_commit(self):
        with transaction.atomic():
            Category.objects.create(name="Poetry", slug="poetry")
        self.assertTrue(Category.objects.filter(slug="poetry").exists())
        self.assertEqual(Category.objects.count(), 6)

    def test_rolled_back_category_is_gone(self):
        try:
            with transaction.atomic():
                Category.objects.create(name="Cookery", slug="cookery")
                raise RuntimeError("abort")
        except RuntimeError:
            pass
        self.assertFalse(Category.objects.filter(slug="cookery").exists())
