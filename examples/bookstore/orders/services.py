import uuid

from django.db import transaction

from audit.models import AuditEntry, record
from catalog.models import Book
from inventory import services as inventory

from .models import Order, OrderLine, ShippingMethod


def new_reference():
    return "BK-" + uuid.uuid4().hex[:10].upper()


def place_order(customer, items, shipping_method=None, reserve_stock=False):
    """Create an order for ``items`` (a mapping of ISBN -> quantity).

    Everything on ``default`` happens in one transaction; the audit entry is written on
    ``other`` only once that transaction has committed.
    """
    if not items:
        raise ValueError("an order needs at least one item")
    shipping_method = shipping_method or ShippingMethod.default()
    with transaction.atomic():
        order = Order.objects.create(
            reference=new_reference(), customer=customer, shipping_method=shipping_method
        )
        books = Book.objects.in_bulk(list(items), field_name="isbn")
        for isbn, quantity in items.items():
            if isbn not in books:
                raise Book.DoesNotExist(f"unknown ISBN {isbn}")
            book = books[isbn]
            if reserve_stock:
                inventory.reserve(book, quantity)
            OrderLine.objects.create(
                order=order, book=book, quantity=quantity, unit_price=book.price
            )
        transaction.on_commit(
            lambda: record(AuditEntry.Action.CREATE, order, actor=customer, message="placed")
        )
    return order
