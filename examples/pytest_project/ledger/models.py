from decimal import Decimal

from django.db import models
from django.db.models import Sum


class Entry(models.Model):
    """Fines and fees, kept in the separate "ledger" database (see shelf.routers)."""

    member = models.CharField(max_length=120)
    amount = models.DecimalField(max_digits=8, decimal_places=2)
    memo = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "entries"

    @classmethod
    def balance(cls, member):
        return cls.objects.filter(member=member).aggregate(total=Sum("amount"))["total"] or Decimal(
            "0"
        )
