from decimal import Decimal

from django.test import SimpleTestCase, tag

from catalog import pricing


@tag("fast")
class PricingRulesTests(SimpleTestCase):
    """Pure pricing and ISBN rules: many cheap tests in one class."""

    # --- money -----------------------------------------------------------------

    def test_to_money_rounds_half_up(self):
        self.assertEqual(pricing.to_money("2.345"), Decimal("2.35"))

    def test_to_money_keeps_two_places(self):
        self.assertEqual(str(pricing.to_money(3)), "3.00")

    def test_format_price_in_euros(self):
        self.assertEqual(pricing.format_price(Decimal("9.5")), "€9.50")

    def test_format_price_in_pounds(self):
        self.assertEqual(pricing.format_price(Decimal("12"), "GBP"), "£12.00")

    def test_format_price_groups_thousands(self):
        self.assertEqual(pricing.format_price(Decimal("1234.5"), "USD"), "$1,234.50")

    def test_format_price_rejects_unknown_currency(self):
        with self.assertRaisesMessage(ValueError, "unsupported currency 'JPY'"):
            pricing.format_price(1, "JPY")

    # --- discounts ---------------------------------------------------------------

    def test_apply_discount_ten_percent(self):
        self.assertEqual(pricing.apply_discount("20.00", 10), Decimal("18.00"))

    def test_apply_zero_discount_is_identity(self):
        self.assertEqual(pricing.apply_discount("7.77", 0), Decimal("7.77"))

    def test_apply_full_discount_is_free(self):
        self.assertEqual(pricing.apply_discount("7.77", 100), Decimal("0.00"))

    def test_apply_discount_rejects_negative_percent(self):
        with self.assertRaises(ValueError):
            pricing.apply_discount("10", -5)

    def test_apply_discount_rejects_more_than_full(self):
        with self.assertRaises(ValueError):
            pricing.apply_discount("10", 101)

    def test_no_bulk_discount_below_ten(self):
        self.assertEqual(pricing.bulk_discount_percent(9), Decimal("0"))

    def test_bulk_discount_from_ten_copies(self):
        self.assertEqual(pricing.bulk_discount_percent(10), Decimal("5"))

    def test_bulk_discount_from_twenty_copies(self):
        self.assertEqual(pricing.bulk_discount_percent(25), Decimal("10"))

    def test_bulk_discount_from_fifty_copies(self):
        self.assertEqual(pricing.bulk_discount_percent(50), Decimal("15"))

    def test_bulk_discount_rejects_zero_quantity(self):
        with self.assertRaises(ValueError):
            pricing.bulk_discount_percent(0)

    def test_line_total_applies_bulk_discount(self):
        self.assertEqual(pricing.line_total("10.00", 20), Decimal("180.00"))

    # --- VAT ---------------------------------------------------------------------

    def test_price_with_german_reduced_vat(self):
        self.assertEqual(pricing.price_with_vat("10.00", "DE"), Decimal("10.70"))

    def test_price_with_french_vat_rounds(self):
        self.assertEqual(pricing.price_with_vat("9.99", "fr"), Decimal("10.54"))

    def test_price_with_zero_rated_vat(self):
        self.assertEqual(pricing.price_with_vat("9.99", "GB"), Decimal("9.99"))

    def test_price_with_vat_rejects_unknown_country(self):
        with self.assertRaisesMessage(ValueError, "no VAT rate for 'XX'"):
            pricing.price_with_vat("1", "XX")

    # --- ISBN ----------------------------------------------------------------------

    def test_normalize_isbn_strips_hyphens_and_spaces(self):
        self.assertEqual(pricing.normalize_isbn("978-0 14-143951-8"), "9780141439518")

    def test_valid_isbn10(self):
        self.assertTrue(pricing.isbn10_is_valid("0-306-40615-2"))

    def test_valid_isbn10_with_x_check_digit(self):
        self.assertTrue(pricing.isbn10_is_valid("0-8044-2957-x"))

    def test_invalid_isbn10_checksum(self):
        self.assertFalse(pricing.isbn10_is_valid("0-306-40615-3"))

    def test_valid_isbn13(self):
        self.assertTrue(pricing.isbn13_is_valid("978-0-306-40615-7"))

    def test_isbn13_must_start_with_978_or_979(self):
        self.assertFalse(pricing.isbn13_is_valid("9770306406157"))

    def test_isbn10_to_isbn13(self):
        self.assertEqual(pricing.isbn10_to_isbn13("0306406152"), "9780306406157")

    def test_category_slug(self):
        self.assertEqual(pricing.category_slug("Science & Nature"), "science-nature")

    def test_reading_time_rounds_up(self):
        self.assertEqual(pricing.reading_time_minutes(1), 2)
        self.assertEqual(pricing.reading_time_minutes(0), 0)
