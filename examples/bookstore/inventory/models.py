from django.db import models


class Warehouse(models.Model):
    code = models.CharField(max_length=8, unique=True)
    name = models.CharField(max_length=100)
    city = models.CharField(max_length=80)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} ({self.city})"


class StockItem(models.Model):
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="stock")
    book = models.ForeignKey("catalog.Book", on_delete=models.CASCADE, related_name="stock")
    quantity = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["warehouse__code", "book__title"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "book"], name="inventory_stock_uniq"),
        ]
        indexes = [models.Index(fields=["quantity"], name="inventory_stock_qty_idx")]

    def __str__(self):
        return f"{self.book} @ {self.warehouse.code}: {self.quantity}"
