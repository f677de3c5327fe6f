"""Charging fines: writes to the ledger database, reads loans from the default one."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from library.models import Loan

from .models import Entry

FINE_PER_DAY = Decimal("0.25")


def charge_overdue(now=None):
    """One ledger entry per overdue loan; returns the entries made."""
    now = now or timezone.now()
    made = []
    with transaction.atomic(using="ledger"):
        for loan in Loan.objects.filter(returned_at__isnull=True).select_related("book"):
            if loan.is_overdue(now):
                days = (now - loan.due).days
                made.append(
                    Entry.objects.create(
                        member=loan.member, amount=FINE_PER_DAY * days, memo=f"{loan.book.title}"
                    )
                )
    return made
