"""Function tests on the models: the seeded genres, factories, constraints."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from library.models import Author, Book, Genre, Loan

pytestmark = pytest.mark.django_db


def test_data_migration_seeded_genres():
    assert set(Genre.objects.values_list("slug", flat=True)) == {
        "fiction",
        "science",
        "history",
        "poetry",
        "children",
    }


def test_featured_authors_were_loaded_by_django_db_setup():
    names = set(Author.objects.filter(featured=True).values_list("name", flat=True))
    assert names == {"Ursula K. Le Guin", "Italo Calvino"}


def test_book_factory(make_book):
    book = make_book(title="Parable of the Sower")
    assert book.isbn.startswith("978")
    assert book.author.name == "Octavia Butler"
    assert Book.objects.count() == 1


def test_isbn_is_unique(make_book):
    book = make_book()
    with pytest.raises(IntegrityError), transaction.atomic():
        Book.objects.create(title="Copy", isbn=book.isbn, author=book.author, genre=book.genre)
    assert Book.objects.filter(isbn=book.isbn).count() == 1


def test_rows_from_other_tests_are_rolled_back():
    assert not Book.objects.exists()
    assert not Loan.objects.exists()


@pytest.mark.parametrize("copies, loans, available", [(1, 0, 1), (2, 1, 1), (3, 3, 0)])
def test_availability(make_book, copies, loans, available):
    book = make_book(copies=copies)
    for n in range(loans):
        Loan.objects.create(book=book, member=f"member {n}")
    assert book.available == available


@pytest.mark.parametrize(
    "age_days, returned, overdue",
    [(1, False, False), (30, False, True), (30, True, False)],
    ids=["fresh", "late", "returned"],
)
def test_overdue(make_book, settings, age_days, returned, overdue):
    settings.LOAN_DAYS = 21
    now = timezone.now()
    loan = Loan.objects.create(
        book=make_book(),
        member="ada",
        borrowed_at=now - timedelta(days=age_days),
        returned_at=now if returned else None,
    )
    assert loan.is_overdue(now) is overdue


def test_genre_protects_its_books(make_book):
    from django.db.models import ProtectedError

    book = make_book(genre="poetry")
    with pytest.raises(ProtectedError):
        book.genre.delete()


def test_cascade_from_author(make_book, author):
    make_book(title="Dawn")
    make_book(title="Imago")
    author.delete()
    assert not Book.objects.exists()
