"""Pure pricing and ISBN helpers (no database access)."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.text import slugify

CENT = Decimal("0.01")
VAT_RATES = {"GB": Decimal("0"), "DE": Decimal("7"), "FR": Decimal("5.5"), "US": Decimal("0")}
BULK_TIERS = ((50, Decimal("15")), (20, Decimal("10")), (10, Decimal("5")))


def to_money(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_price(amount, currency="EUR"):
    symbols = {"EUR": "€", "USD": "$", "GBP": "£"}
    if currency not in symbols:
        raise ValueError(f"unsupported currency {currency!r}")
    return f"{symbols[currency]}{to_money(amount):,.2f}"


def apply_discount(price, percent):
    if not 0 <= Decimal(percent) <= 100:
        raise ValueError("discount must be between 0 and 100 percent")
    return to_money(Decimal(price) * (Decimal(100) - Decimal(percent)) / Decimal(100))


def bulk_discount_percent(quantity):
    if quantity < 1:
        raise ValueError("quantity must be positive")
    for threshold, percent in BULK_TIERS:
        if quantity >= threshold:
            return percent
    return Decimal("0")


def line_total(unit_price, quantity):
    gross = Decimal(unit_price) * quantity
    return apply_discount(gross, bulk_discount_percent(quantity))


def price_with_vat(net, country):
    try:
        rate = VAT_RATES[country.upper()]
    except KeyError:
        raise ValueError(f"no VAT rate for {country!r}") from None
    return to_money(Decimal(net) * (Decimal(100) + rate) / Decimal(100))


def normalize_isbn(raw):
    """Strip spaces and hyphens; uppercase a trailing ISBN-10 'x'."""
    return raw.replace("-", "").replace(" ", "").upper()


def isbn10_is_valid(raw):
    isbn = normalize_isbn(raw)
    if len(isbn) != 10 or not isbn[:9].isdigit() or not (isbn[9].isdigit() or isbn[9] == "X"):
        return False
    digits = [int(c) for c in isbn[:9]] + [10 if isbn[9] == "X" else int(isbn[9])]
    return sum((10 - i) * d for i, d in enumerate(digits)) % 11 == 0


def isbn13_check_digit(first12):
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError("need exactly 12 digits")
    total = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(first12))
    return str((10 - total % 10) % 10)


def isbn13_is_valid(raw):
    isbn = normalize_isbn(raw)
    if len(isbn) != 13 or not isbn.isdigit() or not isbn.startswith(("978", "979")):
        return False
    return isbn13_check_digit(isbn[:12]) == isbn[12]


def isbn10_to_isbn13(raw):
    isbn = normalize_isbn(raw)
    if not isbn10_is_valid(isbn):
        raise ValueError(f"invalid ISBN-10 {raw!r}")
    first12 = "978" + isbn[:9]
    return first12 + isbn13_check_digit(first12)


def category_slug(name):
    slug = slugify(name)
    if not slug:
        raise ValueError("a category name needs at least one letter or digit")
    return slug


def reading_time_minutes(pages, words_per_page=275, words_per_minute=250):
    if pages < 0:
        raise ValueError("pages cannot be negative")
    words = pages * words_per_page
    return -(-words // words_per_minute)  # ceiling division
