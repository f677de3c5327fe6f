"""Tiny helpers that build catalog rows for tests (no third-party factory library)."""

import itertools
from decimal import Decimal

from catalog.models import Author, Book, Category
from catalog.pricing import isbn13_check_digit

_counter = itertools.count(1)


def make_isbn():
    first12 = f"978{next(_counter):09d}"
    return first12 + isbn13_check_digit(first12)


def make_book(title=None, category="fiction", price="9.99", authors=(), **extra):
    if isinstance(category, str):
        category = Category.objects.get(slug=category)
    number = next(_counter)
    book = Book.objects.create(
        title=title or f"Book {number}",
        isbn=extra.pop("isbn", None) or make_isbn(),
        category=category,
        price=Decimal(price),
        **extra,
    )
    if authors:
        book.authors.set(
            [a if isinstance(a, Author) else Author.objects.create(name=a) for a in authors]
        )
    return book
