import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, ProtectedError
from django.test import TestCase, tag

from catalog.models import Author, Book, Category

from .factories import make_book

MIGRATED_CATEGORIES = ["Children", "Fiction", "History", "Science", "Travel"]


@tag("fast")
class CategoryTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.fiction = Category.objects.get(slug="fiction")
        make_book("Dune", category=cls.fiction)
        make_book("Emma", category=cls.fiction)
        make_book("Cosmos", category="science")

    def test_data_migration_created_the_five_categories(self):
        self.assertEqual(list(Category.objects.values_list("name", flat=True)), MIGRATED_CATEGORIES)

    def test_migrated_categories_have_descriptions(self):
        self.assertFalse(Category.objects.filter(description="").exists())

    def test_slug_must_be_unique(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            Category.objects.create(name="Fiction (again)", slug="fiction")

    def test_book_counts_per_category(self):
        counts = dict(Category.objects.annotate(n=Count("books")).values_list("slug", "n"))
        self.assertEqual(counts["fiction"], 2)
        self.assertEqual(counts["science"], 1)
        self.assertEqual(counts["travel"], 0)


class BookModelTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.history = Category.objects.get(slug="history")
        cls.herodotus = Author.objects.create(name="Herodotus", birth_year=484)
        cls.book = make_book(
            "The Histories",
            category=cls.history,
            price="14.00",
            authors=[cls.herodotus],
            published=datetime.date(2003, 1, 30),
            pages=716,
        )

    def test_isbn_must_be_unique(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            make_book("Another", isbn=self.book.isbn)

    def test_title_is_unique_within_a_category(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            make_book("The Histories", category=self.history)

    def test_authors_are_many_to_many(self):
        self.assertQuerySetEqual(self.book.authors.all(), [self.herodotus])
        self.assertQuerySetEqual(self.herodotus.books.all(), [self.book])

    def test_available_queryset_hides_withdrawn_books(self):
        make_book("Withdrawn", category=self.history, is_available=False)
        titles = list(Book.objects.available().values_list("title", flat=True))
        self.assertEqual(titles, ["The Histories"])

    def test_discounted_price_rounds_half_up(self):
        self.assertEqual(self.book.discounted_price(12.5), Decimal("12.25"))
        self.assertEqual(self.book.discounted_price(0), Decimal("14.00"))

    def test_category_with_books_cannot_be_deleted(self):
        with self.assertRaises(ProtectedError):
            self.history.delete()


class AuthorTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.pratchett = Author.objects.create(name="Terry Pratchett", birth_year=1948)
        cls.gaiman = Author.objects.create(name="Neil Gaiman", birth_year=1960)
        make_book("Good Omens", authors=[cls.pratchett, cls.gaiman])

    def test_authors_are_ordered_by_name(self):
        self.assertEqual(
            list(Author.objects.values_list("name", flat=True)), ["Neil Gaiman", "Terry Pratchett"]
        )

    def test_co_authored_book_is_listed_for_both_authors(self):
        self.assertEqual(self.pratchett.books.get(), self.gaiman.books.get())
