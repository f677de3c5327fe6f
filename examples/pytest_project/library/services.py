"""Lending rules, with the locking and commit hooks a real application has."""

from django.db import transaction
from django.utils import timezone

from .models import Book, Loan

# Members notified of new loans; filled on commit only (see lend()).
NOTIFICATIONS: list[str] = []


class NotAvailable(Exception):
    pass


def lend(book_id, member):
    with transaction.atomic():
        book = Book.objects.select_for_update().get(pk=book_id)
        if book.available < 1:
            raise NotAvailable(f"no copy of {book.title!r} is available")
        loan = Loan.objects.create(book=book, member=member)
        transaction.on_commit(lambda: NOTIFICATIONS.append(f"{member} borrowed {book.title}"))
    return loan


def give_back(loan, when=None):
    loan.returned_at = when or timezone.now()
    loan.save(update_fields=["returned_at"])
    return loan
