import math

from django.contrib.auth import get_user_model
from django.test import SimpleTestCase, TestCase, tag
from django.urls import reverse

from catalog.models import Book, Category
from orders.models import Order
from orders.services import place_order
from reports import analytics


@tag("slow")
class ReportComputationTests(SimpleTestCase):
    """CPU-bound report maths: each test burns roughly 30-80 ms in pure Python."""

    WORDS = ["Lord", "Lady", "Queen", "Master", "Children", "Song", "Name", "Shadow"]
    NOUNS = ["Rings", "Flies", "Lake", "Wind", "Night", "Sea", "Rose", "Road", "Storm", "Sun"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sales = analytics.synthetic_sales(20_000)

    def test_prime_sieve_counts_primes_below_550_thousand(self):
        self.assertEqual(len(analytics.primes_up_to(550_000)), 45_322)

    def test_sieve_agrees_with_trial_division(self):
        limit = 55_000
        sieved = analytics.primes_up_to(limit)
        self.assertEqual(sieved, [n for n in range(limit + 1) if analytics.is_prime(n)])

    def test_merge_sort_matches_builtin_sorted(self):
        prices = [cents for _, _, cents in self.sales]
        self.assertEqual(analytics.merge_sort(prices), sorted(prices))

    def test_merge_sort_is_stable(self):
        rows = self.sales
        by_quantity = analytics.merge_sort(rows, key=lambda row: row[1])
        self.assertEqual(by_quantity, sorted(rows, key=lambda row: row[1]))

    def test_top_sellers_are_ranked_by_revenue(self):
        top = analytics.top_sellers(self.sales * 14, n=10)
        revenues = [revenue for _, revenue in top]
        self.assertEqual(revenues, sorted(revenues, reverse=True))
        self.assertEqual(len(top), 10)

    def test_longest_collatz_chain_below_65_thousand(self):
        self.assertEqual(analytics.longest_collatz_start(65_000), (52_527, 340))

    def test_moving_average_of_a_ramp(self):
        values = list(range(250_000))
        averages = analytics.moving_average(values, 100)
        self.assertEqual(len(averages), len(values) - 99)
        self.assertEqual(averages[0], 49.5)
        self.assertEqual(averages[-1], 249_949.5)

    def test_revenue_totals_match_a_naive_sum(self):
        totals = analytics.revenue_by_isbn(self.sales * 14)
        self.assertEqual(sum(totals.values()), 14 * sum(q * c for _, q, c in self.sales))
        print(f"\n[reports] {len(totals)} ISBNs, revenue {sum(totals.values()) / 100:.2f}")

    def test_fuzzy_title_matching_finds_the_closest_titles(self):
        titles = [f"{word} of the {noun}" for word in self.WORDS for noun in self.NOUNS]
        titles += [f"The {noun} and the {word}" for word in self.WORDS for noun in self.NOUNS]
        typos = {
            "Lord of the Rimgs": "Lord of the Rings",
            "Lady of teh Lake": "Lady of the Lake",
            "Song of the See": "Song of the Sea",
            "Shadow of the Wnd": "Shadow of the Wind",
            "Queen of the Nigth": "Queen of the Night",
            "Name of the Rosé": "Name of the Rose",
        }
        for typo, expected in typos.items():
            best = min(titles, key=lambda title, typo=typo: analytics.levenshtein(typo, title))
            self.assertEqual(best, expected, typo)

    def test_basket_value_percentiles(self):
        baskets = [quantity * cents for _, quantity, cents in self.sales] * 12
        p50, p90 = analytics.percentile(baskets, 50), analytics.percentile(baskets, 90)
        self.assertLess(p50, p90)
        self.assertLessEqual(p90, max(baskets))


@tag("fast")
class ReportHelperTests(SimpleTestCase):
    def test_small_primes(self):
        self.assertEqual(analytics.primes_up_to(20), [2, 3, 5, 7, 11, 13, 17, 19])

    def test_percentile_interpolates(self):
        self.assertTrue(math.isclose(analytics.percentile([1, 2, 3, 4], 50), 2.5))

    def test_levenshtein_distance(self):
        self.assertEqual(analytics.levenshtein("kitten", "sitting"), 3)


class ReportViewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        user = get_user_model().objects.create_user("ivan")
        science = Category.objects.get(slug="science")
        travel = Category.objects.get(slug="travel")
        cosmos = Book.objects.create(
            title="Cosmos", isbn="9780345331359", category=science, price="12.00"
        )
        atlas = Book.objects.create(
            title="Atlas", isbn="9780008320126", category=travel, price="30.00"
        )
        place_order(user, {cosmos.isbn: 2, atlas.isbn: 1})
        cancelled = place_order(user, {cosmos.isbn: 5})
        cancelled.cancel()

    def test_sales_summary_ignores_cancelled_orders(self):
        body = self.client.get(reverse("reports:sales-summary")).json()
        self.assertEqual(body["orders"], 1)
        self.assertEqual(body["copies"], 3)
        self.assertEqual(body["by_category"], {"science": 2, "travel": 1})
        self.assertEqual(Order.objects.count(), 2)

    def test_primes_endpoint(self):
        body = self.client.get(reverse("reports:primes"), {"limit": "100"}).json()
        self.assertEqual(body, {"limit": 100, "count": 25, "largest": 97})

    def test_primes_endpoint_rejects_bad_limit(self):
        response = self.client.get(reverse("reports:primes"), {"limit": "lots"})
        self.assertEqual(response.status_code, 400)
