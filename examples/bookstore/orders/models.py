from decimal import Decimal

from django.conf import settings
from django.db import models


class ShippingMethod(models.Model):
    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=60, unique=True)
    price = models.DecimalField(max_digits=6, decimal_places=2)
    delivery_days = models.PositiveSmallIntegerField(default=5)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["price", "name"]

    def __str__(self):
        return self.name

    @classmethod
    def default(cls):
        return cls.objects.get(is_default=True)


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        CANCELLED = "cancelled", "Cancelled"

    reference = models.CharField(max_length=20, unique=True)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="orders"
    )
    shipping_method = models.ForeignKey(
        ShippingMethod, on_delete=models.PROTECT, related_name="orders"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="orders_status_created_idx")]

    def __str__(self):
        return self.reference

    @property
    def subtotal(self):
        return sum((line.total for line in self.lines.all()), Decimal("0.00"))

    @property
    def total(self):
        return self.subtotal + self.shipping_method.price

    def mark_paid(self):
        if self.status != self.Status.PENDING:
            raise ValueError(f"cannot pay an order that is {self.status}")
        self.status = self.Status.PAID
        self.save(update_fields=["status"])

    def cancel(self):
        if self.status == self.Status.SHIPPED:
            raise ValueError("a shipped order cannot be cancelled")
        self.status = self.Status.CANCELLED
        self.save(update_fields=["status"])


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    book = models.ForeignKey("catalog.Book", on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=8, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "book"], name="orders_line_book_uniq"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.book}"

    @property
    def total(self):
        return self.unit_price * self.quantity
