"""Test classes: plain pytest classes with class-scoped fixtures, and Django TestCases."""

import pytest
from django.test import TestCase

from library.models import Author, Book, Genre, Loan
from library.services import NotAvailable, lend
from shelf.testing import count_setup


@pytest.fixture(scope="class")
def catalogue_card():
    """Class-scoped: built once per class that uses it."""
    return {"run": count_setup("catalogue_card"), "stamps": []}


@pytest.mark.django_db
class TestLending:
    def test_lend_one_copy(self, make_book, catalogue_card):
        book = make_book(copies=1)
        loan = lend(book.pk, "grace")
        assert loan.book == book
        catalogue_card["stamps"].append("lend")

    def test_cannot_lend_more_than_copies(self, make_book, catalogue_card):
        book = make_book(copies=1)
        lend(book.pk, "grace")
        with pytest.raises(NotAvailable):
            lend(book.pk, "alan")
        catalogue_card["stamps"].append("refuse")

    def test_class_fixture_is_one_per_class(self, catalogue_card):
        assert set(catalogue_card["stamps"]) <= {"lend", "refuse"}


class TestWithoutDatabase:
    def test_card_is_not_shared_with_other_classes(self, catalogue_card):
        assert "lend" not in catalogue_card["stamps"]

    @pytest.mark.parametrize("member", ["ada", "alan"])
    def test_members(self, member, catalogue_card):
        catalogue_card["stamps"].append(member)
        assert member in catalogue_card["stamps"]


class GenreShelfTests(TestCase):
    """A Django TestCase: setUpTestData runs once for the class."""

    @classmethod
    def setUpTestData(cls):
        cls.author = Author.objects.create(name="Stanislaw Lem", born=1921)
        cls.genre = Genre.objects.get(slug="science")
        cls.book = Book.objects.create(
            title="Solaris", isbn="9780000000017", author=cls.author, genre=cls.genre
        )

    def test_book_in_genre(self):
        self.assertQuerySetEqual(self.genre.books.all(), [self.book])

    def test_loans_start_empty(self):
        self.assertFalse(Loan.objects.exists())
        lend(self.book.pk, "hedy")
        self.assertEqual(self.book.available, 0)

    def test_previous_test_rolled_back(self):
        self.assertEqual(self.book.available, 1)

    def test_data_migration_rows_present(self):
        self.assertEqual(Genre.objects.count(), 5)
