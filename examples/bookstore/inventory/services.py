from django.db import transaction
from django.db.models import F, Sum

from .models import StockItem


class OutOfStock(Exception):
    def __init__(self, book, wanted, available):
        super().__init__(f"{book}: wanted {wanted}, only {available} in stock")
        self.book = book
        self.wanted = wanted
        self.available = available


def total_stock(book):
    return StockItem.objects.filter(book=book).aggregate(total=Sum("quantity"))["total"] or 0


def reserve(book, quantity):
    """Take ``quantity`` copies of ``book``, largest warehouse first.

    Returns a list of ``(warehouse_code, taken)`` pairs. Raises ``OutOfStock`` and changes
    nothing if there are not enough copies in all warehouses together.
    """
    if quantity < 1:
        raise ValueError("quantity must be positive")
    with transaction.atomic():
        items = list(
            StockItem.objects.select_for_update()
            .filter(book=book, quantity__gt=0)
            .select_related("warehouse")
            .order_by("-quantity", "warehouse__code")
        )
        available = sum(item.quantity for item in items)
        if available < quantity:
            raise OutOfStock(book, quantity, available)
        taken, remaining = [], quantity
        for item in items:
            if remaining == 0:
                break
            take = min(item.quantity, remaining)
            StockItem.objects.filter(pk=item.pk).update(quantity=F("quantity") - take)
            taken.append((item.warehouse.code, take))
            remaining -= take
        return taken


def restock(warehouse, book, quantity):
    item, _ = StockItem.objects.get_or_create(warehouse=warehouse, book=book)
    StockItem.objects.filter(pk=item.pk).update(quantity=F("quantity") + quantity)
    item.refresh_from_db()
    return item


def low_stock(threshold=3):
    return (
        StockItem.objects.filter(quantity__lt=threshold)
        .select_related("book", "warehouse")
        .order_by("quantity", "book__title")
    )
