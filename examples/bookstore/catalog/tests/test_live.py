import json
from urllib.request import urlopen

from django.test import LiveServerTestCase, tag

from catalog.models import Category

from .factories import make_book


@tag("slow", "integration")
class CatalogLiveServerTests(LiveServerTestCase):
    available_apps = ["catalog"]

    def fetch_json(self, path):
        with urlopen(self.live_server_url + path, timeout=10) as response:
            self.assertEqual(response.status, 200)
            self.assertEqual(response.headers["Content-Type"], "application/json")
            return json.loads(response.read().decode())

    def test_health_endpoint_over_http(self):
        body = self.fetch_json("/")
        self.assertEqual(body["service"], "bookstore")
        self.assertEqual(body["status"], "ok")

    def test_book_created_in_test_is_served_over_http(self):
        travel, _ = Category.objects.get_or_create(slug="travel", defaults={"name": "Travel"})
        book = make_book("Lonely Roads", category=travel, price="19.50")
        body = self.fetch_json(f"/catalog/books/{book.isbn}/")
        self.assertEqual(body["title"], "Lonely Roads")
        self.assertEqual(body["price"], "19.50")
