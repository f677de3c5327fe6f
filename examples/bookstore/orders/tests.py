import json
from decimal import Decimal
from unittest import expectedFailure

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.test import TestCase, TransactionTestCase, tag
from django.urls import reverse

from audit.models import AuditEntry
from catalog.models import Book, Category
from catalog.pricing import isbn13_check_digit
from orders.models import Order, OrderLine, ShippingMethod
from orders.services import place_order

User = get_user_model()


def create_book(title, price, category_slug="fiction", number=1):
    category, _ = Category.objects.get_or_create(
        slug=category_slug, defaults={"name": category_slug.title()}
    )
    first12 = f"9781{number:08d}"
    return Book.objects.create(
        title=title, isbn=first12 + isbn13_check_digit(first12), category=category, price=price
    )


@tag("fast")
class ShippingMethodTests(TestCase):
    def test_standard_shipping_method_created_by_migration(self):
        standard = ShippingMethod.objects.get(code="standard")
        self.assertEqual(standard.name, "Standard")
        self.assertEqual(standard.price, Decimal("4.99"))

    def test_default_shipping_method_is_standard(self):
        self.assertEqual(ShippingMethod.default().code, "standard")

    def test_shipping_methods_endpoint(self):
        response = self.client.get(reverse("orders:shipping-methods"))
        self.assertEqual([m["code"] for m in response.json()["methods"]], ["standard", "express"])


class OrderModelTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.alice = User.objects.create_user("alice", password="pw-alice-123")
        cls.book = create_book("Middlemarch", Decimal("11.50"), number=1)
        cls.other_book = create_book("Persuasion", Decimal("6.25"), number=2)
        cls.order = place_order(cls.alice, {cls.book.isbn: 2, cls.other_book.isbn: 1})

    def test_subtotal_sums_lines(self):
        self.assertEqual(self.order.subtotal, Decimal("29.25"))

    def test_total_includes_default_shipping(self):
        self.assertEqual(self.order.total, Decimal("34.24"))

    def test_reference_is_unique(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            Order.objects.create(
                reference=self.order.reference,
                customer=self.alice,
                shipping_method=self.order.shipping_method,
            )

    def test_one_line_per_book_per_order(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            OrderLine.objects.create(order=self.order, book=self.book, unit_price=Decimal("1"))

    def test_mark_paid_then_cannot_pay_twice(self):
        self.order.mark_paid()
        self.order.refresh_from_db()
        self.assertEqual(self.order.status, Order.Status.PAID)
        with self.assertRaises(ValueError):
            self.order.mark_paid()

    def test_shipped_order_cannot_be_cancelled(self):
        self.order.status = Order.Status.SHIPPED
        self.order.save()
        with self.assertRaisesMessage(ValueError, "shipped order cannot be cancelled"):
            self.order.cancel()

    @expectedFailure
    def test_discount_codes_stack_with_bulk_discount(self):
        # Known gap: orders do not apply discount codes yet, so the total is unchanged.
        self.order.notes = "code: SPRING10"
        self.assertEqual(self.order.total, Decimal("30.82"))


class OrderViewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.bob = User.objects.create_user("bob", password="pw-bob-123")
        cls.carol = User.objects.create_user("carol", password="pw-carol-123")
        cls.book = create_book("Ulysses", Decimal("15.00"), number=3)
        cls.bobs_order = place_order(cls.bob, {cls.book.isbn: 1})
        cls.carols_order = place_order(cls.carol, {cls.book.isbn: 3})

    def post_json(self, url, payload):
        return self.client.post(url, json.dumps(payload), content_type="application/json")

    def test_order_list_requires_login(self):
        response = self.client.get(reverse("orders:order-list"))
        self.assertEqual(response.status_code, 401)

    def test_order_list_shows_only_own_orders(self):
        self.client.force_login(self.bob)
        response = self.client.get(reverse("orders:order-list"))
        refs = [o["reference"] for o in response.json()["orders"]]
        self.assertEqual(refs, [self.bobs_order.reference])

    def test_other_customers_order_is_404(self):
        self.client.force_login(self.bob)
        url = reverse("orders:order-detail", args=[self.carols_order.reference])
        self.assertEqual(self.client.get(url).status_code, 404)

    def test_create_order_with_express_shipping(self):
        self.client.force_login(self.carol)
        response = self.post_json(
            reverse("orders:order-create"), {"items": {self.book.isbn: 2}, "shipping": "express"}
        )
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json()["total"], "42.50")
        self.assertEqual(Order.objects.filter(customer=self.carol).count(), 2)

    def test_create_order_with_unknown_book_changes_nothing(self):
        self.client.force_login(self.carol)
        response = self.post_json(reverse("orders:order-create"), {"items": {"9780000000000": 1}})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(Order.objects.filter(customer=self.carol).count(), 1)


@tag("slow")
class OrderPlacementTransactionTests(TransactionTestCase):
    """Commits really happen here, so on_commit hooks run without being captured."""

    databases = {"default", "other"}
    available_apps = [
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "accounts",
        "audit",
        "catalog",
        "inventory",
        "orders",
    ]

    def setUp(self):
        # The table may have been flushed by an earlier TransactionTestCase.
        self.shipping, _ = ShippingMethod.objects.get_or_create(
            code="standard",
            defaults={"name": "Standard", "price": Decimal("4.99"), "is_default": True},
        )
        self.user = User.objects.create_user("dave", password="pw-dave-123")
        self.book = create_book("Beloved", Decimal("10.00"), number=4)

    def test_audit_entry_is_written_after_commit(self):
        order = place_order(self.user, {self.book.isbn: 1}, shipping_method=self.shipping)
        entry = AuditEntry.objects.get(object_id=str(order.pk))
        self.assertEqual(entry.actor, "dave")
        self.assertEqual(entry.object_type, "orders.order")

    def test_failed_placement_rolls_back_the_whole_order(self):
        with self.assertRaises(Book.DoesNotExist):
            place_order(self.user, {self.book.isbn: 1, "9780000000000": 1})
        self.assertFalse(Order.objects.exists())
        self.assertFalse(OrderLine.objects.exists())
        self.assertFalse(AuditEntry.objects.exists())


class OrderAuditMultiDatabaseTests(TestCase):
    databases = {"default", "other"}

    @classmethod
    def setUpTestData(cls):
        cls.erin = User.objects.create_user("erin", password="pw-erin-123")
        cls.book = create_book("Dracula", Decimal("7.00"), number=5)

    def test_placing_an_order_audits_it_on_the_other_database(self):
        """An order on 'default' is audited on 'other' once its transaction commits.

        TestCase never really commits, so the on_commit hook is run by
        captureOnCommitCallbacks(execute=True).
        """
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            order = place_order(self.erin, {self.book.isbn: 1})
        self.assertEqual(len(callbacks), 1)
        self.assertTrue(Order.objects.using("default").filter(pk=order.pk).exists())
        entry = AuditEntry.objects.using("other").get(object_id=str(order.pk))
        self.assertEqual(entry.action, AuditEntry.Action.CREATE)
        self.assertEqual(entry.actor, "erin")

    def test_audit_rows_are_routed_to_other(self):
        with self.captureOnCommitCallbacks(execute=True):
            place_order(self.erin, {self.book.isbn: 2})
        self.assertEqual(AuditEntry.objects.db, "other")
        self.assertEqual(AuditEntry.objects.using("other").count(), 1)
        self.assertEqual(Order.objects.db, "default")
