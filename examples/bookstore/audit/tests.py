from django.test import SimpleTestCase, TestCase, tag

from audit.models import AuditEntry, record
from bookstore.routers import AuditRouter
from catalog.models import Category


class AuditEntryTests(TestCase):
    databases = {"other"}

    @classmethod
    def setUpTestData(cls):
        cls.first = AuditEntry.objects.create(
            action=AuditEntry.Action.LOGIN, object_type="auth.user", object_id="7", actor="kim"
        )

    def test_entries_are_saved_on_the_other_database(self):
        self.assertEqual(self.first._state.db, "other")
        self.assertEqual(AuditEntry.objects.using("other").count(), 1)

    def test_record_uses_the_model_label_and_actor_username(self):
        category = Category(pk=42, name="Poetry", slug="poetry")  # never saved on default
        entry = record(AuditEntry.Action.UPDATE, category, actor="lee", message="renamed")
        self.assertEqual((entry.object_type, entry.object_id), ("catalog.category", "42"))
        self.assertEqual(str(entry), "update catalog.category#42 by lee")

    def test_newest_entries_come_first(self):
        second = AuditEntry.objects.create(
            action=AuditEntry.Action.DELETE, object_type="orders.order", object_id="1"
        )
        self.assertEqual(list(AuditEntry.objects.all()), [second, self.first])


@tag("fast")
class AuditRouterTests(SimpleTestCase):
    def setUp(self):
        self.router = AuditRouter()

    def test_audit_models_read_and_write_on_other(self):
        self.assertEqual(self.router.db_for_read(AuditEntry), "other")
        self.assertEqual(self.router.db_for_write(AuditEntry), "other")
        self.assertEqual(self.router.db_for_write(Category), "default")

    def test_migrations_never_run_on_the_replica(self):
        self.assertFalse(self.router.allow_migrate("replica", "catalog"))
        self.assertFalse(self.router.allow_migrate("replica", "audit"))

    def test_each_app_migrates_on_exactly_one_database(self):
        self.assertTrue(self.router.allow_migrate("other", "audit"))
        self.assertFalse(self.router.allow_migrate("default", "audit"))
        self.assertTrue(self.router.allow_migrate("default", "orders"))
        self.assertFalse(self.router.allow_migrate("other", "orders"))
