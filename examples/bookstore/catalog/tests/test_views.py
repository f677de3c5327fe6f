from django.test import TestCase, tag
from django.urls import reverse

from catalog.models import Author

from .factories import make_book


@tag("fast")
class CategoryViewTests(TestCase):
    def test_lists_the_migrated_categories(self):
        response = self.client.get(reverse("catalog:category-list"))
        self.assertEqual(response.status_code, 200)
        slugs = [c["slug"] for c in response.json()["categories"]]
        self.assertEqual(slugs, ["children", "fiction", "history", "science", "travel"])

    def test_post_is_not_allowed(self):
        response = self.client.post(reverse("catalog:category-list"))
        self.assertEqual(response.status_code, 405)


class BookViewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.tolkien = Author.objects.create(name="J. R. R. Tolkien")
        cls.hobbit = make_book(
            "The Hobbit", category="fiction", price="8.99", authors=[cls.tolkien]
        )
        cls.atlas = make_book("World Atlas", category="travel", price="25.00")
        cls.withdrawn = make_book("Old Edition", category="travel", is_available=False)

    def test_book_list_shows_available_books_in_title_order(self):
        response = self.client.get(reverse("catalog:book-list"))
        self.assertEqual(
            [b["title"] for b in response.json()["books"]], ["The Hobbit", "World Atlas"]
        )

    def test_book_list_filters_by_category(self):
        response = self.client.get(reverse("catalog:book-list"), {"category": "travel"})
        self.assertEqual([b["title"] for b in response.json()["books"]], ["World Atlas"])

    def test_book_list_query_count(self):
        with self.assertNumQueries(2):  # books + prefetched authors
            self.client.get(reverse("catalog:book-list"))

    def test_book_detail_includes_authors_and_price(self):
        response = self.client.get(reverse("catalog:book-detail", args=[self.hobbit.isbn]))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["authors"], ["J. R. R. Tolkien"])
        self.assertEqual(response.json()["price"], "8.99")

    def test_unknown_isbn_is_404(self):
        response = self.client.get(reverse("catalog:book-detail", args=["9780000000000"]))
        self.assertEqual(response.status_code, 404)
