import pytest

from library.models import Author, Book, Genre
from shelf.testing import count_setup


@pytest.fixture(scope="package")
def isbn_prefix():
    """A package-scoped fixture: ISBN prefix shared by the library tests."""
    count_setup("isbn_prefix")
    return "978"


@pytest.fixture
def author(db):
    return Author.objects.create(name="Octavia Butler", born=1947)


@pytest.fixture
def make_book(db, author, isbn_prefix):
    counter = iter(range(10_000))

    def make(title="Kindred", genre="fiction", copies=1, **extra):
        return Book.objects.create(
            title=title,
            isbn=f"{isbn_prefix}{next(counter):010d}",
            author=extra.pop("author", author),
            genre=Genre.objects.get(slug=genre),
            copies=copies,
            **extra,
        )

    return make
