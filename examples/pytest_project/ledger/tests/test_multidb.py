"""A second database: the ledger lives on its own alias, and tests say which aliases they use."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from ledger.models import Entry
from ledger.services import charge_overdue
from library.models import Author, Book, Genre, Loan


def _overdue_loan(member, days_late):
    author = Author.objects.create(name="Clarice Lispector")
    book = Book.objects.create(
        title="The Hour of the Star",
        isbn="9780000000024",
        author=author,
        genre=Genre.objects.get(slug="fiction"),
    )
    borrowed = timezone.now() - timedelta(days=21 + days_late, hours=1)
    return Loan.objects.create(book=book, member=member, borrowed_at=borrowed)


@pytest.mark.django_db(databases=["default", "ledger"])
def test_fines_are_written_to_the_ledger_database():
    _overdue_loan("rosa", days_late=4)
    [entry] = charge_overdue()
    assert entry.amount == Decimal("1.00")
    assert Entry.objects.using("ledger").count() == 1
    assert Entry.balance("rosa") == Decimal("1.00")


@pytest.mark.django_db(databases=["default", "ledger"])
def test_ledger_rolled_back_between_tests():
    assert not Entry.objects.exists()


@pytest.mark.django_db(databases=["ledger"])
def test_ledger_only():
    Entry.objects.create(member="emmy", amount=Decimal("2.50"), memo="lost card")
    Entry.objects.create(member="emmy", amount=Decimal("-1.00"), memo="paid")
    assert Entry.balance("emmy") == Decimal("1.50")


@pytest.mark.django_db(databases=["ledger"])
def test_default_database_is_not_allowed_here():
    with pytest.raises(Exception, match="not allowed"):
        Author.objects.count()


@pytest.mark.django_db(transaction=True, databases=["default", "ledger"], serialized_rollback=True)
def test_transactional_across_both_databases():
    _overdue_loan("ida", days_late=2)
    charge_overdue()
    assert Entry.balance("ida") == Decimal("0.50")
    names = {connections[alias].settings_dict["NAME"] for alias in ("default", "ledger")}
    assert len(names) == 2


@pytest.mark.django_db(databases="__all__")
def test_all_databases():
    assert Genre.objects.count() == 5
    assert Entry.objects.count() == 0
