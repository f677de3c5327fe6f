import math
from decimal import Decimal

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

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sales = analytics.synthetic_sales(12_000)

    def test_prime_sieve_counts_primes_below_half_a_million(self):
        self.assertEqual(len(analytics.primes_up_to(500_000)), 41_538)

    def test_sieve_agrees_with_trial_division(self):
        limit = 40_000
        sieved = analytics.primes_up_to(limit)
        self.assertEqual(sieved, [n for n in range(limit + 1) if analytics.is_prime(n)])

    def test_merge_sort_matches_builtin_sorted(self):
        prices = [cents for _, _, cents in self.sales]
        self.assertEqual(analytics.merge_sort(prices), sorted(prices))

    def test_merge_sort_is_stable(self):
        rows = self.sales[:10_000]
        by_quantity = analytics.merge_sort(rows, key=lambda row: row[1])
        self.assertEqual(by_quantity, sorted(rows, key=lambda row: row[1]))

    def test_top_sellers_are_ranked_by_revenue(self):
        top = analytics.top_sellers(self.sales * 3, n=10)
        revenues = [revenue for _, revenue in top]
        self.assertEqual(revenues, sorted(revenues, reverse=True))
        self.assertEqual(len(top), 10)

    def test_longest_collatz_chain_below_fifty_thousand(self):
        self.assertEqual(analytics.longest_collatz_start(50_000), (35_655, 324))

    def test_moving_average_of_a_ramp(self):
        values = list(range(250_000))
        averages = analytics.moving_average(values, 100)
        self.assertEqual(len(averages), len(values) - 99)
        self.assertEqual(averages[0], 49.5)
        self.assertEqual(averages[-1], 249_949.5)

    def test_revenue_totals_match_a_naive_sum(self):
        totals = analytics.revenue_by_isbn(self.sales * 4)
        self.assertEqual(sum(totals.values()), 4 * sum(q * c for _, q, c in self.sales))
        print(f"\n[reports] {len(totals)} ISBNs, revenue {sum(totals.values()) / 100:.2f}")


@tag("fast")
class ReportHelperTests(SimpleTestCase):
    def test_small_primes(self):
        self.assertEqual(analytics.primes_up_to(20), [2, 3, 5, 7, 11, 13, 17, 19])

    def test_no_primes_below_two(self):
        self.assertEqual(analytics.primes_up_to(1), [])

    def test_percentile_interpolates(self):
        self.assertTrue(math.isclose(analytics.percentile([1, 2, 3, 4], 50), 2.5))

    def test_levenshtein_distance(self):
        self.assertEqual(analytics.levenshtein("kitten", "sitting"), 3)

    def test_cents_to_decimal(self):
        self.assertEqual(analytics.cents_to_decimal(1999), Decimal("19.99"))


class ReportViewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        user = get_user_model().objects.create_user("ivan")
        science = Category.objects.get(slug="science")
        travel = Category.objects.get(slug="travel")
        cosmos = Book.objects.create(title="Cosmos", isbn="9780345331359", category=science,
                                     price="12.00")
        atlas = Book.objects.create(title="Atlas", isbn="9780008320126", category=travel,
                                    price="30.00")
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
