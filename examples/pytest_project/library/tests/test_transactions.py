"""django_db(transaction=True): real commits, on_commit hooks, row locks."""

import pytest
from django.db import connection, transaction

from library import services
from library.models import Book, Loan

# serialized_rollback: the flush after each test would empty the genres seeded by the data
# migration; Django restores them from the serialized template.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def clear_notifications():
    services.NOTIFICATIONS.clear()


def test_on_commit_runs_after_a_real_commit(make_book):
    book = make_book(title="The Dispossessed")
    services.lend(book.pk, "ursula")
    assert services.NOTIFICATIONS == ["ursula borrowed The Dispossessed"]


def test_rollback_skips_on_commit(make_book):
    book = make_book(title="Invisible Cities", copies=0)
    with pytest.raises(services.NotAvailable):
        services.lend(book.pk, "marco")
    assert services.NOTIFICATIONS == []
    assert not Loan.objects.exists()


def test_not_inside_an_outer_transaction():
    assert not connection.in_atomic_block


def test_savepoint_rollback_keeps_outer_work(make_book):
    book = make_book()
    with transaction.atomic():
        Loan.objects.create(book=book, member="kept")
        try:
            with transaction.atomic():
                Loan.objects.create(book=book, member="dropped")
                raise RuntimeError("undo the inner block")
        except RuntimeError:
            pass
    assert list(Loan.objects.values_list("member", flat=True)) == ["kept"]


def test_tables_were_flushed_after_previous_transactional_test():
    assert not Book.objects.exists()
    assert not Loan.objects.exists()
